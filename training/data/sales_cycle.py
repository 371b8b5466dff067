"""How long won leads took, told at import time: with sales cycles of 3-9 months, a 90-day horizon
labels a lead's early snapshots not-won although it was won later. The import says so before anyone
trains (training counts the exact snapshots: ``training.features.labels.late_positives``). Likewise
for won or lost leads without a close date, which training leaves out."""

from __future__ import annotations

import numpy as np

from training.data.contract import CLOSED_AT, CREATED_AT, LEAD_ID, STATUS, LeadDataset, Outcome

#: The training config's default horizon for the ``won`` target (``training.features.targets``).
DEFAULT_WON_HORIZON_DAYS = 90


def late_win_warning(dataset: LeadDataset, horizon_days: int = DEFAULT_WON_HORIZON_DAYS) -> str | None:
    """A warning naming how many won leads closed more than ``horizon_days`` after creation, or None."""
    outcomes = dataset.outcomes
    if CLOSED_AT not in outcomes.columns or dataset.leads[CREATED_AT].isna().all():
        return None
    created = dataset.leads.set_index(LEAD_ID)[CREATED_AT]
    won = outcomes[(outcomes[STATUS].astype(str) == str(Outcome.WON)) & outcomes[CLOSED_AT].notna()]
    days = (won[CLOSED_AT] - won[LEAD_ID].map(created)).dt.total_seconds().to_numpy() / 86_400
    days = days[np.isfinite(days)]
    late = int((days > horizon_days).sum())
    if late == 0:
        return None
    return (
        f"{late:,} of {len(days):,} won leads closed more than {horizon_days} days after they were created "
        f"(median {np.median(days):.0f} days): with the default {horizon_days}-day horizon, their snapshots "
        "earlier than that before the win are labelled not-won; train with a longer horizon_days, or with "
        'target = "opportunity" / "accepted" (map their dates as opportunity_at / accepted_at)'
    )


def undated_close_warning(dataset: LeadDataset) -> str | None:
    """A warning naming the won and lost leads without ``closed_at`` (training leaves them out), or None.

    Row-order exports need no close dates (one snapshot per lead, nothing to place in time)."""
    outcomes = dataset.outcomes
    if CLOSED_AT not in outcomes.columns or dataset.leads[CREATED_AT].isna().all():
        return None
    undated = outcomes[CLOSED_AT].isna()
    status = outcomes[STATUS].astype(str)
    counts = {kind: int((undated & (status == str(kind))).sum()) for kind in (Outcome.WON, Outcome.LOST)}
    if not any(counts.values()):
        return None
    which = " and ".join(f"{count:,} {kind}" for kind, count in counts.items() if count)
    share = sum(counts.values()) / max(len(dataset.leads), 1)
    return (
        f"{which} leads ({share:.0%} of the leads) have no {CLOSED_AT}: training leaves them out, since a "
        "close cannot be placed in time without its date; map a date for them in closed_at (a lost date, "
        "or when the stage last changed) or map those stages as open"
    )

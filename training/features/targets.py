"""Training targets: what a snapshot's label says happened within the horizon after its cutoff.

With sales cycles of 3-9 months, "won within 90 days" labels many eventual wins as not-won at their
early snapshots. A run can therefore learn an earlier milestone of the same funnel instead:

``won``          the lead was won, dated by ``closed_at`` (the default; today's behaviour);
``opportunity``  an opportunity was created for it, dated by the outcome column ``opportunity_at``;
``accepted``     sales accepted the lead, dated by the outcome column ``accepted_at``.

Each target has its own default horizon (``DEFAULT_HORIZON_DAYS``): acceptance follows a handover
within days, an opportunity within weeks, a win within months. A target whose date column is absent
or empty is refused before training (``check_target_available``), naming the file and the column.
The labels themselves are computed in ``training.features.labels``.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd

from training.data.contract import ACCEPTED_AT, CLOSED_AT, OPPORTUNITY_AT, LeadDataset, TimeBasis

TargetKind = Literal["won", "opportunity", "accepted"]
TARGET_KINDS: tuple[TargetKind, ...] = ("won", "opportunity", "accepted")

#: The outcome column that dates each target's event.
TARGET_DATE_COLUMN: dict[TargetKind, str] = {
    "won": CLOSED_AT,
    "opportunity": OPPORTUNITY_AT,
    "accepted": ACCEPTED_AT,
}

#: Horizon in days when the config gives none: a win may take a quarter, an opportunity is opened
#: within weeks of a good handover, and sales accepts or rejects a lead within days.
DEFAULT_HORIZON_DAYS: dict[TargetKind, int] = {"won": 90, "opportunity": 60, "accepted": 30}

#: How each target's event is named in sentences ("37 leads won after the 90-day horizon ...").
TARGET_PHRASE: dict[TargetKind, str] = {
    "won": "won",
    "opportunity": "turned into an opportunity",
    "accepted": "accepted by sales",
}


class TargetUnavailableError(ValueError):
    """The chosen target cannot be learnt from this dataset (its date column is absent or empty)."""


def describe_target(kind: TargetKind, horizon_days: int) -> str:
    """The target in words, e.g. ``opportunity within 60 days (opportunity_at)``."""
    return f"{kind} within {horizon_days} days ({TARGET_DATE_COLUMN[kind]})"


def check_target_available(dataset: LeadDataset, kind: TargetKind, outcomes_file: str = "outcomes") -> None:
    """Refuse a target the dataset cannot label, naming ``outcomes_file`` and the column.

    ``won`` needs only the status (a missing ``closed_at`` is the data contract's business). The other
    targets need their date column with at least one date, and timestamps: a row-order export has no
    time axis for a horizon.
    """
    if kind == "won":
        return
    column = TARGET_DATE_COLUMN[kind]
    how = (
        f"add a '{column}' column to {outcomes_file} (an imported export: map it with "
        f"'{column} = \"...\"' in the mapping's [outcome] section), or train the target 'won'"
    )
    if dataset.metadata.time_basis == TimeBasis.ROW_ORDER:
        raise TargetUnavailableError(
            f"target '{kind}' needs timestamps, but the dataset {dataset.metadata.name!r} has time_basis "
            "'row_order' (no horizon can be checked); train the target 'won'"
        )
    if column not in dataset.outcomes.columns:
        raise TargetUnavailableError(
            f"target '{kind}' is learnt from the outcome column '{column}', which {outcomes_file} does "
            f"not have; {how}"
        )
    if not pd.Series(dataset.outcomes[column]).notna().any():
        raise TargetUnavailableError(
            f"target '{kind}' is learnt from the outcome column '{column}', which is empty in "
            f"{outcomes_file} (no lead has a date there); {how}"
        )


def late_note(kind: TargetKind, horizon_days: int, late_leads: int, late_snapshots: int) -> str | None:
    """The run's note about leads that reached the target only after the horizon, or None.

    Their snapshots are labelled "not reached" (that is what the horizon means), which a user should
    know rather than discover: with long sales cycles it may call for a longer horizon or an earlier
    target.
    """
    if late_leads == 0:
        return None
    suggestion = "consider a longer horizon" + (' or target = "opportunity"' if kind == "won" else "")
    return (
        f"{late_leads:,} leads {TARGET_PHRASE[kind]} after the {horizon_days}-day horizon were labelled "
        f"not-{kind} at {late_snapshots:,} of their snapshots; {suggestion}"
    )


def label_notes(kind: TargetKind, horizon_days: int, counts: dict[str, int]) -> list[str]:
    """What a user should know about the labels of a snapshot build with these ``counts``."""
    notes = [
        late_note(
            kind, horizon_days, counts.get("late_positive_leads", 0), counts.get("late_positive_snapshots", 0)
        ),
        unplaced_note(counts),
        undated_note(kind, counts.get("won_without_target_date", 0)) if kind != "won" else None,
    ]
    return [note for note in notes if note is not None]


def unplaced_note(counts: dict[str, int]) -> str | None:
    """The run's note about won or lost leads without ``closed_at``, left out of training, or None.

    Without the date a close cannot be placed in time (which snapshots came before it), so training
    leaves these leads out, won and lost alike. CRMs that date only wins (a HubSpot "Close Date") leave
    every lost lead out this way, and the training data then looks readier than it is.
    """
    unplaced = counts.get("closed_without_closed_at", 0)
    if unplaced == 0:
        return None
    leads = counts.get("leads", 0)
    share = f" ({unplaced / leads:.0%} of the leads)" if leads else ""
    return (
        f"{unplaced:,} won or lost leads{share} have no {CLOSED_AT} and were left out "
        f"of training; map a date for them in closed_at (a lost date, or the date the stage last changed), "
        "or map those stages as open"
    )


def undated_note(kind: TargetKind, undated: int) -> str | None:
    """The run's note about won leads without the target's date, or None when there are none."""
    if undated == 0:
        return None
    return (
        f"{undated:,} won leads have no {TARGET_DATE_COLUMN[kind]}: their snapshots are labelled as never "
        f"{TARGET_PHRASE[kind]}; check the export's dates"
    )

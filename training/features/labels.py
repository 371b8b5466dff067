"""Labels: what a snapshot is learned as, from its lead's outcome and the end of observation.

Labels: 1 when the lead was won with ``closed_at`` in ``(cutoff, cutoff + horizon]``, else 0. A
snapshot whose horizon ends after ``observed_until`` while its lead has not closed by
``observed_until`` is censored: left out and counted. A lead that closed by ``observed_until`` has a
known label at every cutoff, even if the horizon runs past the end of the data. A close stamped after
``observed_until`` is not trusted (nothing after it is known), so such a lead counts as still open.

Other targets (``training.features.targets``: ``opportunity``, ``accepted``): 1 when the lead's target
date lies in ``(cutoff, cutoff + horizon]``. A snapshot at or after that date is left out (the lead has
reached the target; counted as ``after_target``). Censored: the horizon ends after ``observed_until``
while the lead has neither reached the target nor closed by then (a closed lead reaches no milestone
later). A date after ``observed_until`` is not trusted, as for closes.

Late arrivals: a snapshot labelled 0 whose lead reached the target after its horizon is counted
(``late_positives``): with long sales cycles these are many, and the run says so.

Row-order datasets (no timestamps): label = (status == won); open leads are censored (their outcome is
unknown). Only the ``won`` target applies to them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.data.contract import (
    CLOSED_AT,
    CREATED_AT,
    HANDED_OVER_AT,
    LEAD_ID,
    OCCURRED_AT,
    STATUS,
    LeadDataset,
    Outcome,
)
from training.features.targets import TARGET_DATE_COLUMN, TargetKind
from training.features.timestamps import NAT_NS, timestamps_ns


def outcomes_for_leads(dataset: LeadDataset, extra_dates: tuple[str, ...] = ()) -> tuple[pd.DataFrame, int]:
    """Outcome rows aligned to the leads table, and how many leads had no outcome row (-> open).

    ``extra_dates``: further outcome date columns to align (a target's date), as int64 nanoseconds.
    """
    outcomes = dataset.outcomes
    position = pd.Index(outcomes[LEAD_ID]).get_indexer(dataset.leads[LEAD_ID])
    found = position >= 0
    status = np.full(len(position), str(Outcome.OPEN), dtype=object)
    status[found] = outcomes[STATUS].astype(str).to_numpy()[position[found]]
    aligned = {STATUS: status}
    for column in dict.fromkeys((HANDED_OVER_AT, CLOSED_AT, *extra_dates)):
        stamps = np.full(len(position), NAT_NS, dtype=np.int64)
        if column in outcomes.columns:
            stamps[found] = timestamps_ns(outcomes[column])[position[found]]
        aligned[column] = stamps
    return pd.DataFrame(aligned), int((~found).sum())


def observed_until_ns(dataset: LeadDataset) -> int:
    """``metadata.observed_until``, else the latest timestamp anywhere in the dataset."""
    if dataset.metadata.observed_until is not None:
        return int(timestamps_ns([dataset.metadata.observed_until])[0])
    latest = [timestamps_ns(dataset.leads[CREATED_AT])]
    if dataset.has_events:
        latest.append(timestamps_ns(dataset.events[OCCURRED_AT]))
    for column in (HANDED_OVER_AT, CLOSED_AT):
        if column in dataset.outcomes.columns:
            latest.append(timestamps_ns(dataset.outcomes[column]))
    stacked = np.concatenate(latest)
    stacked = stacked[stacked != NAT_NS]
    if len(stacked) == 0:
        raise ValueError(
            "dataset has no timestamps at all: cannot infer observed_until; set it in the metadata"
        )
    return int(stacked.max())


def known_closes(
    usable: np.ndarray, status: np.ndarray, closed: np.ndarray, observed_until: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per lead: whether it is won, and whether its close is known by ``observed_until``.

    A close stamped after ``observed_until`` is beyond what we know: the lead counts as open then.
    """
    is_won = status == str(Outcome.WON)
    is_closed = is_won | (status == str(Outcome.LOST))
    return is_won, usable & is_closed & (closed != NAT_NS) & (closed <= observed_until)


def horizon_labels(
    cutoff: np.ndarray,
    lead_closed: np.ndarray,
    lead_closed_at: np.ndarray,
    lead_won: np.ndarray,
    horizon: int,
    observed_until: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Per snapshot (all int64 ns; ``lead_*`` are the snapshot's lead's values): the label (won with the
    close in ``(cutoff, cutoff + horizon]``) and whether the snapshot is censored (horizon past the end
    of observation while the lead had not closed)."""
    censored = (cutoff + horizon > observed_until) & ~lead_closed
    label = (
        lead_closed & lead_won & (lead_closed_at > cutoff) & (lead_closed_at <= cutoff + horizon)
    ).astype(np.int8)
    return label, censored


def milestone_labels(
    cutoff: np.ndarray,
    reached_at: np.ndarray,
    lead_closed: np.ndarray,
    horizon: int,
    observed_until: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per snapshot (int64 ns; ``reached_at`` is the lead's target date, NaT when none, and
    ``lead_closed`` whether its close is known): the label (target date in ``(cutoff, cutoff +
    horizon]``), whether it is censored, and whether the lead had already reached the target at the
    cutoff (such snapshots are left out)."""
    reached = (reached_at != NAT_NS) & (reached_at <= observed_until)
    after = reached & (reached_at <= cutoff)
    censored = (cutoff + horizon > observed_until) & ~reached & ~lead_closed
    label = (reached & (reached_at > cutoff) & (reached_at <= cutoff + horizon)).astype(np.int8)
    return label, censored, after


def target_labels(
    target: TargetKind,
    outcomes: pd.DataFrame,
    lead_idx: np.ndarray,
    cutoff: np.ndarray,
    close_known: np.ndarray,
    is_won: np.ndarray,
    horizon: int,
    observed_until: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per snapshot (``lead_idx`` positions into the per-lead arrays and the aligned ``outcomes``):
    label, censored, already reached at the cutoff, and the lead's target date (NaT: not reached).

    ``won`` keeps ``horizon_labels`` exactly (no snapshot reaches a win before its cutoff: cutoffs stop
    before the close); the other targets use ``milestone_labels`` on their date column.
    """
    if target == "won":
        closed = outcomes[CLOSED_AT].to_numpy()
        label, censored = horizon_labels(
            cutoff, close_known[lead_idx], closed[lead_idx], is_won[lead_idx], horizon, observed_until
        )
        reached_at = np.where(is_won & close_known, closed, NAT_NS)[lead_idx]
        return label, censored, np.zeros(len(lead_idx), dtype=bool), reached_at
    reached_at = outcomes[TARGET_DATE_COLUMN[target]].to_numpy()[lead_idx]
    label, censored, after = milestone_labels(
        cutoff, reached_at, close_known[lead_idx], horizon, observed_until
    )
    return label, censored, after, reached_at


def undated_wins(target: TargetKind, outcomes: pd.DataFrame, won_known: np.ndarray) -> int:
    """Won leads (known by the end of observation) without a date for ``target``: the export lacks
    the date, since a won deal was accepted and had an opportunity."""
    return int((won_known & (outcomes[TARGET_DATE_COLUMN[target]].to_numpy() == NAT_NS)).sum())


def late_positives(
    label: np.ndarray, reached_at: np.ndarray, cutoff: np.ndarray, horizon: int, observed_until: int
) -> np.ndarray:
    """Snapshots labelled 0 whose lead reached the target (known by ``observed_until``) only after the
    horizon: labelled "not reached" by the horizon's definition, though the lead got there later."""
    return (
        (label == 0)
        & (reached_at != NAT_NS)
        & (reached_at <= observed_until)
        & (reached_at > cutoff + horizon)
    )


def row_order_labels(status: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For row-order data: which leads have a known outcome, and their labels (won = 1)."""
    known = status != str(Outcome.OPEN)
    return known, (status[known] == str(Outcome.WON)).astype(np.int8)

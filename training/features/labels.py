"""Labels: what a snapshot is learned as, from its lead's outcome and the end of observation.

Labels: 1 when the lead was won with ``closed_at`` in ``(cutoff, cutoff + horizon]``, else 0. A
snapshot whose horizon ends after ``observed_until`` while its lead has not closed by
``observed_until`` is censored: left out and counted. A lead that closed by ``observed_until`` has a
known label at every cutoff, even if the horizon runs past the end of the data. A close stamped after
``observed_until`` is not trusted (nothing after it is known), so such a lead counts as still open.

Row-order datasets (no timestamps): label = (status == won); open leads are censored (their outcome is
unknown).
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
from training.features.timestamps import NAT_NS, timestamps_ns


def outcomes_for_leads(dataset: LeadDataset) -> tuple[pd.DataFrame, int]:
    """Outcome rows aligned to the leads table, and how many leads had no outcome row (-> open)."""
    outcomes = dataset.outcomes
    position = pd.Index(outcomes[LEAD_ID]).get_indexer(dataset.leads[LEAD_ID])
    found = position >= 0
    status = np.full(len(position), str(Outcome.OPEN), dtype=object)
    status[found] = outcomes[STATUS].astype(str).to_numpy()[position[found]]
    aligned = {STATUS: status}
    for column in (HANDED_OVER_AT, CLOSED_AT):
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


def row_order_labels(status: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For row-order data: which leads have a known outcome, and their labels (won = 1)."""
    known = status != str(Outcome.OPEN)
    return known, (status[known] == str(Outcome.WON)).astype(np.int8)

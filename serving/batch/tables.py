"""A whole dataset's leads and events as arrays, events grouped by lead, cut into scoring chunks.

Batch scoring sees a lead exactly as the API would if the CRM sent it with all its events and an
``as_of``: one snapshot per lead at ``as_of``, built as ``SnapshotArrays`` (the input of
``LeadFeatures.transform_arrays``, the one feature definition) from validated tables. Events at or
after ``as_of`` stay in the arrays and the features ignore them (point in time), so one set of tables
serves every ``as_of`` of a backfill.

Which leads are scored at ``as_of``: those created at or before it (a lead that does not exist yet has
nothing to score, and the API refuses ``as_of`` before ``created_at`` too), and, unless every lead is
asked for, only the open ones: not closed by ``as_of`` (``closed_at`` after it or unknown while the
status is open). A won or lost lead without ``closed_at`` cannot be placed in time: it counts as closed.
Nor a lead already handed over by ``as_of`` (``handed_over_at`` at or before it): it is with sales, and
a verdict on whether to hand it over would be noise in the CRM. Every lead left out is counted by
reason (``Selection``), never dropped silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from training.data.contract import (
    CLOSED_AT,
    CREATED_AT,
    HANDED_OVER_AT,
    LEAD_ID,
    STATUS,
    LeadDataset,
    Outcome,
)
from training.features.snapshot_arrays import (
    NAT_NS,
    Coded,
    SnapshotArrays,
    codes_of,
    event_columns,
    lead_codes,
)
from training.features.timestamps import timestamps_ns


class MissingProfileColumnsError(ValueError):
    """The model reads profile columns the leads table does not have."""


@dataclass(frozen=True)
class Selection:
    """The leads scored at one ``as_of`` (positions in the leads table) and the ones left out, by reason."""

    positions: np.ndarray
    not_yet_created: int
    closed: int
    handed_over: int = 0


@dataclass(frozen=True)
class ScoringTables:
    """Leads (one row each, in table order) and their events sorted by lead (see the module docstring).

    ``event_offsets[i]:event_offsets[i + 1]`` are lead ``i``'s events in ``event_ns`` / ``event_type_codes``.
    """

    lead_ids: np.ndarray  # object array of str
    created_ns: np.ndarray
    closed_ns: np.ndarray  # NaT: not closed (or closed without a time, see ``closed_untimed``)
    closed_untimed: np.ndarray  # bool: won or lost without closed_at
    handed_over_ns: np.ndarray  # NaT: not handed over (or not known)
    numeric: dict[str, np.ndarray]
    categorical: dict[str, Coded]
    event_offsets: np.ndarray
    event_ns: np.ndarray
    event_type_codes: np.ndarray
    event_type_names: Sequence[object]

    def __len__(self) -> int:
        return len(self.lead_ids)

    @property
    def n_events(self) -> int:
        return len(self.event_ns)

    @classmethod
    def from_dataset(
        cls,
        dataset: LeadDataset,
        categorical_columns: Sequence[str],
        numeric_columns: Sequence[str],
    ) -> ScoringTables:
        """The arrays of a validated dataset, with the profile columns the model reads.

        Raises ``MissingProfileColumnsError`` naming the columns the leads table lacks: scoring them as
        missing would silently give every lead the same answer on that field.
        """
        leads = dataset.leads
        missing = [c for c in (*categorical_columns, *numeric_columns) if c not in leads.columns]
        if missing:
            raise MissingProfileColumnsError(
                f"the leads table lacks the profile column(s) {', '.join(missing)} that the model reads"
            )
        n = len(leads)
        positions = _outcome_positions(dataset)
        closed_ns, closed_untimed = _closing(dataset, positions)
        handed_over_ns = _outcome_times(dataset, HANDED_OVER_AT, positions)
        created = (
            timestamps_ns(leads[CREATED_AT])
            if CREATED_AT in leads.columns
            else np.full(n, NAT_NS, dtype=np.int64)
        )
        event_leads, event_types, event_ns = event_columns(dataset.events)
        _, event_codes, _ = lead_codes(leads[LEAD_ID], event_leads)
        # Events grouped by lead with a stable sort, so each lead's events keep their table order.
        known = event_codes >= 0
        order = np.flatnonzero(known)[np.argsort(event_codes[known], kind="stable")]
        counts = np.bincount(event_codes[known], minlength=n)
        type_codes, type_names = codes_of(event_types) if len(event_ns) else (np.zeros(0, np.int64), [])
        return cls(
            lead_ids=leads[LEAD_ID].astype(str).to_numpy(dtype=object),
            created_ns=created,
            closed_ns=closed_ns,
            closed_untimed=closed_untimed,
            handed_over_ns=handed_over_ns,
            numeric={c: _float_column(leads[c]) for c in numeric_columns},
            categorical={c: codes_of(leads[c]) for c in categorical_columns},
            event_offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
            event_ns=event_ns[order],
            event_type_codes=np.asarray(type_codes, dtype=np.int64)[order],
            event_type_names=list(type_names),
        )

    def select(self, as_of_ns: int, *, include_closed: bool = False) -> Selection:
        """The leads scored at ``as_of`` (see the module docstring)."""
        created = (self.created_ns == NAT_NS) | (self.created_ns <= as_of_ns)
        closed = self.closed_untimed | ((self.closed_ns != NAT_NS) & (self.closed_ns <= as_of_ns))
        handed = (self.handed_over_ns != NAT_NS) & (self.handed_over_ns <= as_of_ns) & ~closed
        keep = created if include_closed else created & ~closed & ~handed
        return Selection(
            positions=np.flatnonzero(keep),
            not_yet_created=int((~created).sum()),
            closed=0 if include_closed else int((created & closed).sum()),
            handed_over=0 if include_closed else int((created & handed).sum()),
        )

    def arrays(self, positions: np.ndarray, as_of_ns: int) -> SnapshotArrays:
        """One snapshot per lead at ``positions``, at ``as_of``, with all of its events."""
        n = len(positions)
        starts = self.event_offsets[positions]
        counts = self.event_offsets[positions + 1] - starts
        total = int(counts.sum())
        # Positions of each lead's events in the sorted arrays: its start plus 0..count-1.
        first = np.cumsum(counts) - counts
        index = np.repeat(starts - first, counts) + np.arange(total, dtype=np.int64)
        return SnapshotArrays(
            lead_codes=np.arange(n, dtype=np.int64),
            n_leads=n,
            cutoff_ns=np.full(n, as_of_ns, dtype=np.int64),
            created_ns=self.created_ns[positions],
            event_lead_codes=np.repeat(np.arange(n, dtype=np.int64), counts),
            event_ns=self.event_ns[index],
            event_types=(self.event_type_codes[index], self.event_type_names),
            numeric={column: values[positions] for column, values in self.numeric.items()},
            categorical={
                column: (codes[positions], distinct) for column, (codes, distinct) in self.categorical.items()
            },
        )


def _outcome_positions(dataset: LeadDataset) -> np.ndarray:
    """Per outcome row: its lead's position in the leads table (-1: a lead the table lacks)."""
    if LEAD_ID not in dataset.outcomes.columns:
        return np.zeros(0, dtype=np.int64)  # no outcome table: nothing to place
    return pd.Index(dataset.leads[LEAD_ID].astype(str)).get_indexer(
        pd.Index(dataset.outcomes[LEAD_ID].astype(str))
    )


def _closing(dataset: LeadDataset, position: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per lead (in leads order): when it closed (NaT if not, or unknown) and whether it is won/lost
    without a ``closed_at``; ``position``: ``_outcome_positions``."""
    n = len(dataset.leads)
    outcomes = dataset.outcomes
    if not len(outcomes) or STATUS not in outcomes.columns:
        return np.full(n, NAT_NS, dtype=np.int64), np.zeros(n, dtype=bool)
    found = position >= 0
    closed_ns = _outcome_times(dataset, CLOSED_AT, position)
    status = outcomes[STATUS].astype(str).to_numpy()
    finished = (status == Outcome.WON.value) | (status == Outcome.LOST.value)
    untimed = np.zeros(n, dtype=bool)
    # Where the table has no closed_at, every won or lost lead is untimed (closed_ns is all NaT).
    untimed[position[found]] = finished[found] & (closed_ns[position[found]] == NAT_NS)
    return closed_ns, untimed


def _outcome_times(dataset: LeadDataset, column: str, position: np.ndarray) -> np.ndarray:
    """Per lead (in leads order): the outcome table's ``column`` (NaT where absent or unknown)."""
    times = np.full(len(dataset.leads), NAT_NS, dtype=np.int64)
    outcomes = dataset.outcomes
    if not len(outcomes) or column not in outcomes.columns:
        return times
    found = position >= 0
    times[position[found]] = timestamps_ns(outcomes[column])[found]
    return times


def _float_column(values: pd.Series) -> np.ndarray:
    return values.to_numpy(dtype=np.float64, na_value=np.nan)

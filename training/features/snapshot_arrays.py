"""``SnapshotArrays``: what ``LeadFeatures`` reads from a ``SnapshotBatch``, as plain numpy arrays.

Training and the MLflow model build it from a batch (``SnapshotArrays.from_batch``); the API builds it
straight from its parsed request models (``training.data.live_arrays``), so scoring a lead touches no
pandas frame at all: building two small frames and their columns cost more than the features
themselves (~4 ms of a ~9 ms single-lead answer). Both roads end in the same
``LeadFeatures.transform_arrays``, so there is still only one feature definition.

Conventions: leads are integer codes shared by snapshots and events (``0..n_leads-1``; an event whose
lead has no snapshot has code -1); times are int64 nanoseconds since the epoch (UTC), NaT as
``int64.min``; event types and categorical profile values are ``(codes, distinct values)`` pairs as
``pd.factorize`` returns them, -1 meaning missing. The distinct values may repeat (the counterfactuals
append names); lookups go by value, so that does no harm.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from training.data.contract import CREATED_AT, EVENT_TYPE, LEAD_ID, OCCURRED_AT
from training.features.profile import numeric_values
from training.features.snapshots import CUTOFF, SnapshotBatch, timestamps_ns

NAT_NS = np.iinfo(np.int64).min

#: ``(codes, distinct values)``: ``values[codes[i]]`` is row ``i``'s value, code -1 a missing one.
Coded = tuple[np.ndarray, Sequence[Any] | pd.Index | np.ndarray]


@dataclass(frozen=True)
class SnapshotArrays:
    """Snapshots (one per row) and the events of their leads, as arrays (see the module docstring)."""

    lead_codes: np.ndarray  # int64 per snapshot
    n_leads: int
    cutoff_ns: np.ndarray  # int64 per snapshot
    created_ns: np.ndarray  # int64 per snapshot (NaT: unknown)
    event_lead_codes: np.ndarray  # int64 per event
    event_ns: np.ndarray  # int64 per event
    event_types: Coded
    numeric: Mapping[str, np.ndarray]  # float64 per snapshot
    categorical: Mapping[str, Coded]

    def __len__(self) -> int:
        return len(self.cutoff_ns)

    def lead_age_days(self) -> np.ndarray:
        """Days from each lead's creation to its cutoff (float64; NaN where the creation is unknown)."""
        known = self.created_ns != NAT_NS
        age = np.full(len(self), np.nan)
        age[known] = (self.cutoff_ns[known] - self.created_ns[known]) / 86_400e9
        return age

    def with_earlier_looks(self, offsets_ns: int | Sequence[int]) -> SnapshotArrays:
        """These snapshots, then the same leads ``offsets_ns`` earlier, one copy per offset in order (same
        lead codes, same events), so that one feature transform computes every look."""
        offsets = [offsets_ns] if isinstance(offsets_ns, int) else list(offsets_ns)
        return self._looks([0, *offsets])

    def at_earlier_looks(self, offsets_ns: Sequence[int]) -> SnapshotArrays:
        """Only the earlier copies of ``with_earlier_looks``: the same leads ``offsets_ns`` earlier, one copy
        per offset in order."""
        return self._looks(list(offsets_ns))

    def _looks(self, offsets: list[int]) -> SnapshotArrays:
        copies = len(offsets)

        def repeat(values: np.ndarray) -> np.ndarray:
            return np.concatenate([values] * copies)

        return SnapshotArrays(
            lead_codes=repeat(self.lead_codes),
            n_leads=self.n_leads,
            cutoff_ns=np.concatenate([self.cutoff_ns - offset for offset in offsets]),
            created_ns=repeat(self.created_ns),
            event_lead_codes=self.event_lead_codes,
            event_ns=self.event_ns,
            event_types=self.event_types,
            numeric={name: repeat(values) for name, values in self.numeric.items()},
            categorical={name: (repeat(codes), names) for name, (codes, names) in self.categorical.items()},
        )

    def select(self, rows: np.ndarray) -> SnapshotArrays:
        """The snapshots at positions ``rows`` (in that order) with their leads' events only, leads coded
        afresh (``0..k-1`` in order of first appearance). Each snapshot's features are the same as in the
        whole batch: a feature reads its own lead's events only."""
        snapshot_leads = self.lead_codes[rows]
        known = snapshot_leads >= 0
        kept_leads, first = np.unique(snapshot_leads[known], return_index=True)
        kept_leads = kept_leads[np.argsort(first, kind="stable")]  # in order of first appearance
        new_code = np.full(self.n_leads + 1, -1, dtype=np.int64)  # the last entry maps code -1
        new_code[kept_leads] = np.arange(len(kept_leads), dtype=np.int64)
        event_codes = new_code[self.event_lead_codes]
        events = np.flatnonzero(event_codes >= 0)
        type_codes, type_names = self.event_types
        return SnapshotArrays(
            lead_codes=new_code[snapshot_leads],
            n_leads=len(kept_leads),
            cutoff_ns=self.cutoff_ns[rows],
            created_ns=self.created_ns[rows],
            event_lead_codes=event_codes[events],
            event_ns=self.event_ns[events],
            event_types=(np.asarray(type_codes)[events], type_names),
            numeric={name: values[rows] for name, values in self.numeric.items()},
            categorical={name: (codes[rows], names) for name, (codes, names) in self.categorical.items()},
        )

    def followed_by(self, other: SnapshotArrays) -> SnapshotArrays:
        """These snapshots, then ``other``'s, as one batch: ``other``'s leads get codes after these (its
        events stay its own), its codes into distinct values are shifted past these (a value may then
        appear twice: lookups go by value). Lets one feature transform compute both."""
        return SnapshotArrays(
            lead_codes=np.concatenate([self.lead_codes, other.lead_codes + self.n_leads]),
            n_leads=self.n_leads + other.n_leads,
            cutoff_ns=np.concatenate([self.cutoff_ns, other.cutoff_ns]),
            created_ns=np.concatenate([self.created_ns, other.created_ns]),
            event_lead_codes=np.concatenate(
                [
                    self.event_lead_codes,
                    np.where(other.event_lead_codes >= 0, other.event_lead_codes + self.n_leads, -1),
                ]
            ),
            event_ns=np.concatenate([self.event_ns, other.event_ns]),
            event_types=_joined(self.event_types, other.event_types),
            numeric={
                name: np.concatenate([values, other.numeric[name]]) for name, values in self.numeric.items()
            },
            categorical={
                name: _joined(coded, other.categorical[name]) for name, coded in self.categorical.items()
            },
        )

    @classmethod
    def from_batch(
        cls, batch: SnapshotBatch, categorical_columns: Sequence[str], numeric_columns: Sequence[str]
    ) -> SnapshotArrays:
        """The arrays of ``batch``, with the named profile columns (a clear error if one is missing)."""
        snapshots = batch.snapshots
        missing = [c for c in (*categorical_columns, *numeric_columns) if c not in snapshots.columns]
        if missing:
            raise ValueError(f"snapshots lack the profile columns {missing} (the feature step reads them)")
        event_leads, event_types, event_ns = event_columns(batch.events)
        snapshot_codes, event_codes, n_leads = lead_codes(snapshots[LEAD_ID], event_leads)
        created = (
            timestamps_ns(snapshots[CREATED_AT])
            if CREATED_AT in snapshots.columns
            else np.full(len(snapshots), NAT_NS, dtype=np.int64)
        )
        return cls(
            lead_codes=snapshot_codes,
            n_leads=n_leads,
            cutoff_ns=timestamps_ns(snapshots[CUTOFF]),
            created_ns=created,
            event_lead_codes=event_codes,
            event_ns=event_ns,
            event_types=codes_of(event_types),
            numeric={column: numeric_values(snapshots, column) for column in numeric_columns},
            categorical={column: codes_of(snapshots[column]) for column in categorical_columns},
        )


def _joined(first: Coded, second: Coded) -> Coded:
    """Two coded columns as one: ``second``'s codes shifted past ``first``'s distinct values (kept as they
    are when both share the same distinct values)."""
    (codes, distinct), (more_codes, more_distinct) = first, second
    if more_distinct is distinct:
        return np.concatenate([codes, more_codes]), distinct
    shifted = np.where(more_codes >= 0, more_codes + len(distinct), -1)
    return np.concatenate([codes, shifted]), [*distinct, *more_distinct]


def codes_of(values: pd.Series) -> Coded:
    """``(codes, distinct values)`` of a column; categoricals reuse their codes (no hashing)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy().astype(np.int64), values.cat.categories
    codes, distinct = pd.factorize(values)
    return codes.astype(np.int64), distinct


def lead_codes(snapshot_leads: pd.Series, event_leads: pd.Series) -> tuple[np.ndarray, np.ndarray, int]:
    """Integer codes shared by snapshots and events; events of leads without a snapshot get -1.

    Ids are compared as strings. Each distinct event lead id is hashed once (categorical events only
    hash their categories); the per-event work is one integer gather.
    """
    snapshot_codes, uniques = pd.factorize(snapshot_leads)
    index = pd.Index(uniques).astype(str)
    arrow_ids = _arrow_text(event_leads)
    if arrow_ids is not None:
        # Arrow's hash lookup straight from the text: ~3x faster than factorising tens of millions of
        # event ids first; missing ids and ids without a snapshot give null, i.e. -1.
        found = pc.index_in(arrow_ids, value_set=pa.array(index, type=pa.large_string()))
        event_codes = found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        return snapshot_codes.astype(np.int64), event_codes, len(uniques)
    raw, distinct = codes_of(event_leads)
    lookup = index.get_indexer(pd.Index(distinct).astype(str)) if len(distinct) else np.zeros(0, np.int64)
    return snapshot_codes.astype(np.int64), gather(lookup.astype(np.int64), raw), len(uniques)


def _arrow_text(values: pd.Series) -> pa.Array | None:
    """Text ids (a string dtype, or an object column holding only str) as one Arrow array; None for
    anything else (categoricals, numbers, mixed objects), which go through ``codes_of``."""
    if not (isinstance(values.dtype, pd.StringDtype) or values.dtype == object):
        return None
    try:
        array = pa.array(values, type=pa.large_string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def gather(lookup: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``lookup[codes]``, with code -1 (missing) giving -1: one pass, no masking."""
    return np.append(lookup, np.array(-1, dtype=lookup.dtype))[codes]


def event_columns(events: pd.DataFrame) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """The events table's lead ids, types and times (int64 ns)."""
    if len(events) == 0:
        empty = pd.Series([], dtype="str")
        return empty, empty, np.zeros(0, dtype=np.int64)
    missing = [c for c in (LEAD_ID, OCCURRED_AT, EVENT_TYPE) if c not in events.columns]
    if missing:
        raise ValueError(f"events table lacks columns {missing}")
    return events[LEAD_ID], events[EVENT_TYPE], timestamps_ns(events[OCCURRED_AT])

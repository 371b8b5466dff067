"""Point-in-time queries over event logs, vectorised: the hot path of ``training.features``.

``EventTimeline`` holds the events of one ``SnapshotBatch`` grouped by event-type slot and sorted by
(lead, time) as one int64 key ``lead_code * span + time``. A question such as "how many events of slot
``s`` did this snapshot's lead have in ``[cutoff - w, cutoff)``" is then two ``np.searchsorted`` calls
for all snapshots at once; no loop over leads or snapshots.

Exponentially decayed counts (``decayed``: the sum over the lead's events before the cutoff of
``0.5 ** (age / half_life)``) use a per-event prefix ``D_i``, the decayed count just after event ``i`` of
its lead; the value at a cutoff is ``D_k * 0.5 ** ((cutoff - t_k) / half_life)`` with ``k`` the lead's last
event before the cutoff. ``D`` is computed by a segmented doubling scan (``decayed_prefix``) whose numbers
never exceed the lead's event count, so it neither overflows nor loses precision however long the history.

Times are integers in a unit chosen per batch (nanoseconds when ``n_leads * time range`` fits into an
int64 key, else microseconds, milliseconds, ...). Both event times and cutoffs are floored to that unit,
so an event is counted only if ``floor(occurred_at) < floor(cutoff)``: never at or after the cutoff
(point in time holds at any unit); at coarse units an event less than one unit before the cutoff is
ignored, which only ever leaves information out.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from training.contract import EVENT_TYPE, LEAD_ID, OCCURRED_AT
from training.snapshots import timestamps_ns

DAY_NS = 86_400 * 10**9
_NAT_NS = np.iinfo(np.int64).min
# Units tried in order, finest first; keys must stay below 2**62 to leave head room for the arithmetic.
_UNITS_NS = (1, 10**3, 10**6, 10**9, 60 * 10**9, 3_600 * 10**9)
_KEY_LIMIT = 2**62


def lead_codes(snapshot_leads: pd.Series, event_leads: pd.Series) -> tuple[np.ndarray, np.ndarray, int]:
    """Integer codes shared by snapshots and events; events of leads without a snapshot get -1.

    Ids are compared as strings. Each distinct event lead id is hashed once (categorical events only
    hash their categories); the per-event work is one integer gather.
    """
    snapshot_codes, uniques = pd.factorize(snapshot_leads)
    index = pd.Index(uniques).astype(str)
    if isinstance(event_leads.dtype, pd.CategoricalDtype):
        raw = event_leads.cat.codes.to_numpy()
        distinct = pd.Index(event_leads.cat.categories)
    else:
        raw, distinct_values = pd.factorize(event_leads)
        distinct = pd.Index(distinct_values)
    return (
        snapshot_codes.astype(np.int64),
        _gather(index.get_indexer(distinct.astype(str)), raw),
        len(uniques),
    )


def type_slots(event_types: pd.Series, slot_of_type: Mapping[str, int]) -> np.ndarray:
    """Slot per event (int16); types missing from ``slot_of_type`` get -1 (ignored)."""
    if isinstance(event_types.dtype, pd.CategoricalDtype):
        raw, distinct = event_types.cat.codes.to_numpy(), event_types.cat.categories
    else:
        raw, distinct = pd.factorize(event_types)
    lookup = np.array([slot_of_type.get(str(t), -1) for t in distinct], dtype=np.int16)
    return _gather(lookup, raw)


def _gather(lookup: np.ndarray, codes: np.ndarray) -> np.ndarray:
    # codes == -1 (missing) picks the appended -1: one pass, no masking.
    return np.append(lookup, np.array(-1, dtype=lookup.dtype))[codes]


class EventTimeline:
    """Events grouped by slot and sorted by (lead, time), with snapshot queries ready to run.

    ``cutoff_ns`` holds each snapshot's cutoff (int64 ns, NaT as int64.min); snapshots with NaT
    cutoffs get NaN from every query. ``max_lookback_ns`` is the longest window that will be asked for.
    """

    def __init__(
        self,
        snapshot_codes: np.ndarray,
        cutoff_ns: np.ndarray,
        event_codes: np.ndarray,
        event_slots: np.ndarray,  # int16
        event_ns: np.ndarray,
        n_leads: int,
        n_slots: int,
        max_lookback_ns: int,
    ) -> None:
        self.valid = cutoff_ns != _NAT_NS
        self.n_snapshots = len(cutoff_ns)
        keep = (event_codes >= 0) & (event_slots >= 0) & (event_ns != _NAT_NS)
        if not keep.all():
            event_codes, event_slots, event_ns = event_codes[keep], event_slots[keep], event_ns[keep]
        valid_cutoffs = cutoff_ns[self.valid]
        lows: list[int] = []
        highs: list[int] = []
        if len(event_ns):
            lows.append(int(event_ns.min()))
            highs.append(int(event_ns.max()))
        if len(valid_cutoffs):
            lows.append(int(valid_cutoffs.min()) - max_lookback_ns)
            highs.append(int(valid_cutoffs.max()))
        self.base = int(min(lows)) if lows else 0
        top = int(max(highs)) - self.base if highs else 0
        unit = next((u for u in _UNITS_NS if (n_leads + 1) * (top // u + 2) < _KEY_LIMIT), None)
        if unit is None:
            raise ValueError(
                f"time range of {top / DAY_NS:.0f} days over {n_leads} leads is too large to index"
            )
        self.unit: int = unit
        self.span = top // unit + 2
        self.cutoff_ns = np.where(self.valid, cutoff_ns, self.base + max_lookback_ns)

        # Group events by slot (a stable sort on int16 is a linear radix sort), then sort each slot's keys.
        keys = event_codes * self.span + self._time(event_ns)
        order = np.argsort(event_slots, kind="stable")
        keys = keys[order]
        bounds = np.r_[0, np.cumsum(np.bincount(event_slots, minlength=n_slots))]
        self._slot_keys = [np.sort(keys[bounds[s] : bounds[s + 1]]) for s in range(n_slots)]

        # Queries are run in key order (cache-friendly searchsorted) and scattered back.
        lead_base = snapshot_codes * self.span
        self._query_order = np.argsort(lead_base + self._time(self.cutoff_ns))
        self._sorted_lead_base = lead_base[self._query_order]
        self._sorted_cutoff_ns = self.cutoff_ns[self._query_order]
        self._targets: dict[int | None, np.ndarray] = {}
        self._positions: dict[int | None, np.ndarray] = {}
        self._positions_slot = -1
        self._gaps_slot = -1
        self._same_lead = np.zeros(0, dtype=bool)
        self._gaps_ns = np.zeros(0)

    def _time(self, ns: np.ndarray) -> np.ndarray:
        shifted = ns - self.base
        return shifted if self.unit == 1 else shifted // self.unit

    def _unsort(self, values: np.ndarray) -> np.ndarray:
        out = np.empty_like(values)
        out[self._query_order] = values
        return out

    def _position(self, slot: int, back_ns: int | None) -> np.ndarray:
        """Per (sorted) query: first position in the slot at/after ``cutoff - back`` within the query's
        lead (``back=None``: the lead's first event). Cached per slot, as features go slot by slot."""
        if slot != self._positions_slot:
            self._positions, self._positions_slot = {}, slot
        if back_ns not in self._positions:
            if back_ns not in self._targets:
                offset = 0 if back_ns is None else self._time(self._sorted_cutoff_ns - back_ns)
                self._targets[back_ns] = self._sorted_lead_base + offset
            self._positions[back_ns] = np.searchsorted(self._slot_keys[slot], self._targets[back_ns])
        return self._positions[back_ns]

    def count(self, slot: int, lookback_ns: int | None = None, skip_ns: int = 0) -> np.ndarray:
        """Events of ``slot`` in ``[cutoff - lookback, cutoff - skip)`` per snapshot (all before the cutoff
        when ``lookback`` is None); float64, NaN for NaT cutoffs."""
        end = self._position(slot, skip_ns)
        start = self._position(slot, lookback_ns)
        return self._finish(np.maximum(end - start, 0).astype(np.float64))

    def days_since_last(self, slot: int) -> np.ndarray:
        """Days from the slot's last event before the cutoff to the cutoff; NaN if none (or NaT cutoff)."""
        start, end = self._position(slot, None), self._position(slot, 0)
        return self._days_since(self._slot_keys[slot], end - 1, end > start)

    def days_since_first(self, slot: int) -> np.ndarray:
        """Days from the slot's first event (before the cutoff) to the cutoff; NaN if none."""
        start, end = self._position(slot, None), self._position(slot, 0)
        return self._days_since(self._slot_keys[slot], start, end > start)

    def decayed(self, slot: int, half_life_ns: int) -> np.ndarray:
        """Sum over the slot's events before the cutoff of ``0.5 ** (age / half_life)`` per snapshot;
        0 without events, NaN for NaT cutoffs."""
        keys = self._slot_keys[slot]
        start, end = self._position(slot, None), self._position(slot, 0)
        found = end > start
        if not len(keys):
            return self._finish(np.zeros(self.n_snapshots))
        if self._gaps_slot != slot:  # shared by every half-life of the slot
            leads = keys // self.span
            self._same_lead = leads[1:] == leads[:-1]
            self._gaps_ns = np.diff(keys).astype(np.float64) * self.unit
            self._gaps_slot = slot
        prefix = decayed_prefix(self._same_lead, self._gaps_ns / half_life_ns)
        last = np.where(found, end - 1, 0)
        event_ns = self.base + (keys[last] - self._sorted_lead_base) * self.unit
        age = (self._sorted_cutoff_ns - event_ns) / half_life_ns
        return self._finish(np.where(found, prefix[last] * np.exp2(-np.where(found, age, 0.0)), 0.0))

    def _days_since(self, keys: np.ndarray, position: np.ndarray, found: np.ndarray) -> np.ndarray:
        event_time = keys[np.where(found, position, 0)] - self._sorted_lead_base if len(keys) else 0
        elapsed = self._sorted_cutoff_ns - (self.base + event_time * self.unit)
        days = np.where(found, elapsed / DAY_NS, np.nan)
        return self._finish(days)

    def _finish(self, sorted_values: np.ndarray) -> np.ndarray:
        values = self._unsort(sorted_values)
        values[~self.valid] = np.nan
        return values


def decayed_prefix(same_lead: np.ndarray, gap_half_lives: np.ndarray) -> np.ndarray:
    """``D_i = 1 + 0.5 ** gap_i * D_{i-1}`` (restarting at 1 where ``same_lead`` is False), for sorted events.

    ``same_lead[i - 1]`` / ``gap_half_lives[i - 1]`` say whether event ``i`` belongs to the lead of event
    ``i - 1`` and how many half-lives lie between them. Vectorised as a Hillis-Steele scan: after the pass
    with offset ``d``, ``D_i`` covers the ``2 d`` events ending at ``i`` and ``factor_i`` is the decay over
    them (0 once the span reaches back past the lead's first event). Every value stays in ``[1, count]``.
    Passes run on whole contiguous slices while most positions are unfinished, then only on the unfinished
    ones, so a few very long leads do not make every pass cost the whole array.
    """
    n = len(same_lead) + 1
    prefix = np.ones(n)
    factor = np.zeros(n)
    factor[1:] = np.exp2(-np.where(same_lead, gap_half_lives, np.inf))  # a new lead starts from nothing
    offset = 1
    while offset < n and np.count_nonzero(factor[offset:]) > n // 4:
        # Slices: the right-hand sides are evaluated from the old values before the in-place writes.
        prefix[offset:] += factor[offset:] * prefix[:-offset]
        factor[offset:] = factor[offset:] * factor[:-offset]
        offset *= 2
    active = np.flatnonzero(factor[offset:]) + offset
    while offset < n and active.size:
        previous = active - offset  # >= 0: a positive factor means the span stays inside one lead
        prefix[active] += factor[active] * prefix[previous]
        new_factor = factor[active] * factor[previous]
        factor[active] = new_factor
        active = active[new_factor > 0]
        offset *= 2
    return prefix


def event_arrays(events: pd.DataFrame) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """The events table's lead ids, types and times (int64 ns) as the timeline needs them."""
    if len(events) == 0:
        empty = pd.Series([], dtype="str")
        return empty, empty, np.zeros(0, dtype=np.int64)
    missing = [c for c in (LEAD_ID, OCCURRED_AT, EVENT_TYPE) if c not in events.columns]
    if missing:
        raise ValueError(f"events table lacks columns {missing}")
    return events[LEAD_ID], events[EVENT_TYPE], timestamps_ns(events[OCCURRED_AT])

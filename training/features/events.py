"""Point-in-time queries over event logs, vectorised: the hot path of ``training.features.transformer``.

``EventTimeline`` holds the events of one batch sorted by (slot, lead, time) as one int64 key
``(slot * n_leads + lead_code) * span + time``, ``slot`` being the event type's feature slot. A question
such as "how many events of each slot did this snapshot's lead have in ``[cutoff - w, cutoff)``" is then
one ``np.searchsorted`` over a (slots x snapshots) matrix of targets; no loop over leads or snapshots.

Queries run on chunks of slots (``chunks``) as ``(k, n_snapshots)`` matrices: a small batch (the API's
few leads) takes all slots in one chunk, so its cost is a few dozen numpy calls whatever the number of
event types; a large batch (training) takes a slot or a few at a time, so that its working memory stays
bounded (``max_cells``). Every value depends only on its (slot, snapshot), never on the chunking.

Exponentially decayed counts (``decayed``: the sum over the lead's events before the cutoff of
``0.5 ** (age / half_life)``) use a per-event prefix ``D_i``, the decayed count just after event ``i`` of
its (slot, lead); the value at a cutoff is ``D_k * 0.5 ** ((cutoff - t_k) / half_life)`` with ``k`` the
last such event before the cutoff. ``D`` is computed by a segmented doubling scan (``decayed_prefix``)
whose numbers never exceed the lead's event count, so it neither overflows nor loses precision however
long the history.

Times are integers in a unit chosen per batch (nanoseconds when ``n_slots * n_leads * time range`` fits
into an int64 key, else microseconds, milliseconds, ...). Both event times and cutoffs are floored to
that unit, so an event is counted only if ``floor(occurred_at) < floor(cutoff)``: never at or after the
cutoff (point in time holds at any unit); at coarse units an event less than one unit before the cutoff
is ignored, which only ever leaves information out.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from training.features.snapshot_arrays import NAT_NS, gather

DAY_NS = 86_400 * 10**9
# Units tried in order, finest first; keys must stay below 2**62 to leave head room for the arithmetic.
_UNITS_NS = (1, 10**3, 10**6, 10**9, 60 * 10**9, 3_600 * 10**9)
_KEY_LIMIT = 2**62
#: Default bound on the cells (slots x snapshots) of one chunk's query matrices.
MAX_CELLS = 2**16
#: Chunks with more events than this run the decay scan slot by slot: a scan makes as many passes as
#: its busiest (slot, lead) needs, over all its events, so mixing a busy slot with quiet ones costs.
ONE_SCAN_EVENTS = 2**16


def type_slots(
    codes: np.ndarray, distinct: Sequence[Any] | pd.Index | np.ndarray, slot_of_type: Mapping[str, int]
) -> np.ndarray:
    """Slot per event (int64) from event-type codes; types missing from ``slot_of_type`` get -1 (ignored)."""
    lookup = np.fromiter((slot_of_type.get(str(t), -1) for t in distinct), np.int64, len(distinct))
    return gather(lookup, codes)


class EventTimeline:
    """Events sorted by (slot, lead, time), with snapshot queries ready to run on chunks of slots.

    ``cutoff_ns`` holds each snapshot's cutoff (int64 ns, NaT as int64.min); snapshots with NaT
    cutoffs get NaN from every query. ``max_lookback_ns`` is the longest window that will be asked for.
    Queries take a chunk (a ``slice`` of slots, from ``chunks``) and return ``(k, n_snapshots)`` arrays.
    """

    def __init__(
        self,
        snapshot_codes: np.ndarray,
        cutoff_ns: np.ndarray,
        event_codes: np.ndarray,
        event_slots: np.ndarray,
        event_ns: np.ndarray,
        n_leads: int,
        n_slots: int,
        max_lookback_ns: int,
        max_cells: int = MAX_CELLS,
    ) -> None:
        self.valid = cutoff_ns != NAT_NS
        self._all_valid = bool(self.valid.all())  # the usual case: no NaT cutoff to blank out
        self.n_snapshots = len(cutoff_ns)
        keep = (event_codes >= 0) & (event_slots >= 0) & (event_ns != NAT_NS)
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
        groups = max(n_slots, 1) * n_leads  # distinct (slot, lead) pairs
        unit = next((u for u in _UNITS_NS if (groups + 1) * (top // u + 2) < _KEY_LIMIT), None)
        if unit is None:
            raise ValueError(
                f"time range of {top / DAY_NS:.0f} days over {n_leads} leads and {n_slots} event slots "
                "is too large to index"
            )
        self.unit: int = unit
        self.span = top // unit + 2
        self._slot_span = n_leads * self.span  # key distance from one slot to the next
        self.cutoff_ns = np.where(self.valid, cutoff_ns, self.base + max_lookback_ns)

        # In place where possible: on a large batch each fresh temporary of 8 bytes per event costs more
        # in page faults than the arithmetic on it.
        keys = event_slots.astype(np.int64)  # a copy, then (slot * n_leads + lead) * span + time
        keys *= n_leads
        keys += event_codes
        keys *= self.span
        keys += self._time(event_ns)
        keys.sort()
        self._keys = keys
        self._slot_bounds = np.searchsorted(
            self._keys, np.arange(n_slots + 1, dtype=np.int64) * self._slot_span
        )

        # Queries are run in key order (cache-friendly searchsorted) and gathered back (``_finish``).
        lead_base = snapshot_codes * self.span
        self._query_order = np.argsort(lead_base + self._time(self.cutoff_ns), kind="stable")
        self._snapshot_order = np.empty_like(self._query_order)  # the inverse permutation
        self._snapshot_order[self._query_order] = np.arange(len(self._query_order))
        self._sorted_lead_base = lead_base[self._query_order]
        self._sorted_cutoff_ns = self.cutoff_ns[self._query_order]
        per_chunk = max(1, min(n_slots, max_cells // max(self.n_snapshots, 1)))
        self.chunks = [slice(s, min(s + per_chunk, n_slots)) for s in range(0, n_slots, per_chunk)]
        self._targets: dict[int | None, np.ndarray] = {}
        self._positions: dict[int | None, np.ndarray] = {}
        self._positions_chunk: slice | None = None
        self._slot_offsets = np.zeros((0, 1), dtype=np.int64)
        self._gaps_chunk: slice | None = None
        self._same_group = np.zeros(0, dtype=bool)
        self._gaps_ns = np.zeros(0)

    def _time(self, ns: np.ndarray) -> np.ndarray:
        shifted = ns - self.base
        if self.unit != 1:
            shifted //= self.unit
        return shifted

    def _use_chunk(self, chunk: slice) -> None:
        """Make ``chunk`` the one the per-chunk caches (positions, slot offsets) hold."""
        if chunk != self._positions_chunk:
            self._positions, self._positions_chunk = {}, chunk
            # (k, 1): each slot's key offset, shared by every query of the chunk
            self._slot_offsets = np.arange(chunk.start, chunk.stop, dtype=np.int64)[:, None] * self._slot_span

    def _position(self, chunk: slice, back_ns: int | None) -> np.ndarray:
        """Per slot of the chunk and (sorted) query: first key position at/after ``cutoff - back`` within
        the query's (slot, lead) (``back=None``: its first event). Cached per chunk, as features go chunk by
        chunk."""
        self._use_chunk(chunk)
        if back_ns not in self._positions:
            if back_ns not in self._targets:
                offset = 0 if back_ns is None else self._time(self._sorted_cutoff_ns - back_ns)
                self._targets[back_ns] = self._sorted_lead_base + offset
            targets = self._slot_offsets + self._targets[back_ns][None, :]
            # Searching the chunk's own keys only: a far smaller array than all events when chunks are
            # single slots (training), the same when a chunk holds every slot (the API).
            low, high = int(self._slot_bounds[chunk.start]), int(self._slot_bounds[chunk.stop])
            self._positions[back_ns] = low + np.searchsorted(self._keys[low:high], targets)
        return self._positions[back_ns]

    def count(self, chunk: slice, lookback_ns: int | None = None, skip_ns: int = 0) -> np.ndarray:
        """Events per slot in ``[cutoff - lookback, cutoff - skip)`` per snapshot (all before the cutoff
        when ``lookback`` is None); float64, NaN for NaT cutoffs."""
        end = self._position(chunk, skip_ns)
        start = self._position(chunk, lookback_ns)
        return self._finish(np.maximum(end - start, 0).astype(np.float64))

    def days_since_last(self, chunk: slice) -> np.ndarray:
        """Days from the slot's last event before the cutoff to the cutoff; NaN if none (or NaT cutoff)."""
        start, end = self._position(chunk, None), self._position(chunk, 0)
        return self._days_since(chunk, end - 1, end > start)

    def days_since_first(self, chunk: slice) -> np.ndarray:
        """Days from the slot's first event (before the cutoff) to the cutoff; NaN if none."""
        start, end = self._position(chunk, None), self._position(chunk, 0)
        return self._days_since(chunk, start, end > start)

    def decayed(self, chunk: slice, half_life_ns: int | Sequence[int]) -> np.ndarray:
        """Sum over the slot's events before the cutoff of ``0.5 ** (age / half_life)`` per snapshot;
        0 without events, NaN for NaT cutoffs. Several half-lives at once give ``(h, k, n_snapshots)``:
        one scan over a row per half-life, the same values as one call per half-life (elementwise the
        same operations in the same order), in a fraction of the numpy calls."""
        several = not isinstance(half_life_ns, int | np.integer)
        half_lives = np.asarray(half_life_ns if several else [half_life_ns], dtype=np.float64)[:, None]
        low, high = int(self._slot_bounds[chunk.start]), int(self._slot_bounds[chunk.stop])
        shape = (len(half_lives), chunk.stop - chunk.start, self.n_snapshots)
        if high == low:
            values = self._finish(np.zeros(shape))
            return values if several else values[0]
        if self._gaps_chunk != chunk:  # shared by every half-life of the chunk
            keys = self._keys[low:high]
            groups = keys // self.span
            self._same_group = groups[1:] == groups[:-1]
            self._gaps_ns = np.diff(keys).astype(np.float64) * self.unit
            self._gaps_chunk = chunk
        gap_half_lives = self._gaps_ns[None, :] / half_lives
        if high - low <= ONE_SCAN_EVENTS:
            prefix = decayed_prefix(self._same_group, gap_half_lives)
        else:  # the same values, slot by slot (see ONE_SCAN_EVENTS)
            bounds = self._slot_bounds[chunk.start : chunk.stop + 1] - low
            prefix = np.concatenate(
                [
                    decayed_prefix(self._same_group[a : b - 1], gap_half_lives[:, a : b - 1])
                    for a, b in itertools.pairwise(bounds)
                    if b > a
                ],
                axis=1,
            )
        start, end = self._position(chunk, None), self._position(chunk, 0)
        found = end > start
        last = np.where(found, end - 1, low)
        age = (self._sorted_cutoff_ns - self._event_ns(chunk, last))[None] / half_lives[:, :, None]
        decay = np.exp2(-np.where(found, age, 0.0))
        values = self._finish(np.where(found, prefix[:, last - low] * decay, 0.0))
        return values if several else values[0]

    def _event_ns(self, chunk: slice, positions: np.ndarray) -> np.ndarray:
        """Times of the events at ``positions`` (per slot of the chunk and sorted query); meaningful
        only where the event belongs to the query's (slot, lead), which callers mask for."""
        self._use_chunk(chunk)
        return self.base + (self._keys[positions] - self._slot_offsets - self._sorted_lead_base) * self.unit

    def _days_since(self, chunk: slice, position: np.ndarray, found: np.ndarray) -> np.ndarray:
        if len(self._keys):
            elapsed = self._sorted_cutoff_ns - self._event_ns(chunk, np.where(found, position, 0))
            return self._finish(np.where(found, elapsed / DAY_NS, np.nan))
        return self._finish(np.full(found.shape, np.nan))

    def _finish(self, sorted_values: np.ndarray) -> np.ndarray:
        values = sorted_values[..., self._snapshot_order]  # back to snapshot order (one gather)
        if not self._all_valid:
            values[..., ~self.valid] = np.nan
        return values


def decayed_prefix(same_lead: np.ndarray, gap_half_lives: np.ndarray) -> np.ndarray:
    """``D_i = 1 + 0.5 ** gap_i * D_{i-1}`` (restarting at 1 where ``same_lead`` is False), for sorted events.

    ``same_lead[i - 1]`` / ``gap_half_lives[i - 1]`` say whether event ``i`` belongs to the lead of event
    ``i - 1`` and how many half-lives lie between them; ``gap_half_lives`` may have a leading axis (one
    row per half-life, scanned together). Vectorised as a Hillis-Steele scan: after the pass
    with offset ``d``, ``D_i`` covers the ``2 d`` events ending at ``i`` and ``factor_i`` is the decay over
    them (0 once the span reaches back past the lead's first event). Every value stays in ``[1, count]``.
    Passes run on whole contiguous slices while most positions are unfinished, then only on the unfinished
    ones, so a few very long leads do not make every pass cost the whole array. Which positions a pass
    touches never changes a value: a finished position has factor 0 and adds exactly 0.
    """
    gaps = np.atleast_2d(gap_half_lives)
    rows, n = gaps.shape[0], len(same_lead) + 1
    prefix = np.ones((rows, n))
    factor = np.zeros((rows, n))
    factor[:, 1:] = np.exp2(-np.where(same_lead, gaps, np.inf))  # a new lead starts from nothing
    offset = 1
    while offset < n and np.count_nonzero(factor[:, offset:]) > rows * n // 4:
        # Slices: the right-hand sides are evaluated from the old values before the in-place writes.
        prefix[:, offset:] += factor[:, offset:] * prefix[:, :-offset]
        factor[:, offset:] = factor[:, offset:] * factor[:, :-offset]
        offset *= 2
    active = np.flatnonzero(factor[:, offset:].any(axis=0)) + offset
    while offset < n and active.size:
        previous = active - offset  # >= 0: a positive factor means the span stays inside one lead
        prefix[:, active] += factor[:, active] * prefix[:, previous]
        new_factor = factor[:, active] * factor[:, previous]
        factor[:, active] = new_factor
        active = active[new_factor.any(axis=0)]
        offset *= 2
    return prefix if np.ndim(gap_half_lives) > 1 else prefix[0]

"""The event features of ``LeadFeatures``, computed from an ``EventTimeline`` into the output block.

Rows of the output block are found by ``FeatureSpec`` (``spec_key``), never by name: per-slot features
by their variant (kind, window, half-life) with one row per slot, the overall ones by kind and scope.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from training.features.events import DAY_NS, EventTimeline
from training.features.snapshot_arrays import NAT_NS, SnapshotArrays
from training.features.specs import FeatureKind, FeatureScope, FeatureSpec

#: (kind, scope, window_days, half_life_days) as plain values (enum members hash in Python, and this runs
#: per request); scope is None for per-slot features (any event slot).
SpecKey = tuple[str, str | None, int | None, float | None]
Write = Callable[[int | np.ndarray, np.ndarray], None]
_SLOT_SCOPES = (FeatureScope.EVENT_TYPE, FeatureScope.POOLED_EVENTS)
K, S = FeatureKind, FeatureScope

_COUNT, _RECENCY, _TREND, _DECAYED = (k.value for k in (K.COUNT, K.RECENCY, K.TREND, K.DECAYED))
_BREADTH, _AGE, _FIRST, _FLAG = (k.value for k in (K.BREADTH, K.AGE, K.MILESTONE_DAYS, K.MILESTONE_FLAG))
_ALL, _LEAD, _HIGH_INTENT = S.ALL_EVENTS.value, S.LEAD.value, S.HIGH_INTENT.value


def spec_key(spec: FeatureSpec) -> SpecKey:
    """The key under which ``EventRows`` keeps the spec's row(s)."""
    scope = None if spec.scope in _SLOT_SCOPES else spec.scope.value
    return spec.kind.value, scope, spec.window_days, spec.half_life_days


@dataclass(frozen=True)
class EventRows:
    """Output block rows of the event features: per-slot keys -> one row per slot (in slot order),
    overall keys -> one row."""

    slots: Mapping[SpecKey, np.ndarray]
    overall: Mapping[SpecKey, int]

    @classmethod
    def of(cls, specs: Sequence[FeatureSpec], rows: Mapping[str, int]) -> EventRows:
        slots: dict[SpecKey, list[int]] = {}
        overall: dict[SpecKey, int] = {}
        for spec in specs:  # specs come slot by slot, so each key's rows are in slot order
            if spec.scope in _SLOT_SCOPES:
                slots.setdefault(spec_key(spec), []).append(rows[spec.name])
            elif spec.scope is not S.PROFILE:
                overall[spec_key(spec)] = rows[spec.name]
        return cls({key: np.array(r, dtype=np.intp) for key, r in slots.items()}, overall)


def write_event_features(
    arrays: SnapshotArrays,
    timeline: EventTimeline,
    write: Write,
    rows: EventRows,
    windows_days: Sequence[int],
    trend_days: tuple[int, int] | None,
    half_lives_days: Sequence[float],
    n_slots: int,
    high_intent_slots: Sequence[int],
) -> None:
    """Compute every event feature of ``arrays`` (one snapshot per row) and ``write`` it to its rows."""
    slot_rows, overall = rows.slots, rows.overall
    n = len(arrays)
    window_totals = {w: np.zeros(n) for w in windows_days}
    distinct = {w: np.zeros(n) for w in windows_days}
    total = np.zeros(n)
    recent_total, prior_total = np.zeros(n), np.zeros(n)
    half_lives = {float(h): round(float(h) * DAY_NS) for h in half_lives_days}
    decayed_totals = {h: np.zeros(n) for h in half_lives}
    last_any = np.full(n, np.nan)
    first_high_intent = np.full(n, np.nan)
    is_high_intent = np.zeros(n_slots, dtype=bool)
    is_high_intent[list(high_intent_slots)] = True
    for chunk in timeline.chunks:  # (slots of the chunk, snapshots) at a time
        window_counts = {w: timeline.count(chunk, w * DAY_NS) for w in windows_days}
        for w, counts in window_counts.items():
            write(slot_rows[(_COUNT, None, w, None)][chunk], counts)
            window_totals[w] += counts.sum(axis=0)  # whole numbers: exact in any order
            distinct[w] += (counts > 0).sum(axis=0)
        last = timeline.days_since_last(chunk)
        write(slot_rows[(_RECENCY, None, None, None)][chunk], last)
        last_any = np.fmin(last_any, np.fmin.reduce(last, axis=0))
        total += timeline.count(chunk).sum(axis=0)
        if trend_days is not None:
            recent_days, baseline_days = trend_days
            recent = window_counts.get(recent_days)
            if recent is None:
                recent = timeline.count(chunk, recent_days * DAY_NS)
            prior = timeline.count(chunk, baseline_days * DAY_NS, skip_ns=recent_days * DAY_NS)
            write(slot_rows[(_TREND, None, recent_days, None)][chunk], trend(recent, prior, *trend_days))
            recent_total += recent.sum(axis=0)
            prior_total += prior.sum(axis=0)
        if half_lives:  # every half-life in one scan
            every_decayed = timeline.decayed(chunk, list(half_lives.values()))
            for h, decayed in zip(half_lives, every_decayed, strict=True):
                write(slot_rows[(_DECAYED, None, None, h)][chunk], decayed)
                # Slot by slot, in one call: ``add.accumulate`` adds the rows in order onto the running
                # total, the same float sums however slots are chunked.
                running = np.concatenate([decayed_totals[h][None, :], decayed])
                decayed_totals[h] = np.add.accumulate(running, axis=0)[-1]
        high_intent = is_high_intent[chunk]
        if high_intent.any():
            first = np.fmax.reduce(timeline.days_since_first(chunk)[high_intent], axis=0)
            first_high_intent = np.fmax(first_high_intent, first)
    invalid = None if timeline.valid.all() else ~timeline.valid
    for w in windows_days:
        write(overall[(_COUNT, _ALL, w, None)], _nan_where(window_totals[w], invalid))
        write(overall[(_BREADTH, _ALL, w, None)], _nan_where(distinct[w], invalid))
    write(overall[(_COUNT, _ALL, None, None)], _nan_where(total, invalid))
    if trend_days is not None:
        engagement = trend(recent_total, prior_total, *trend_days)
        write(overall[(_TREND, _ALL, trend_days[0], None)], _nan_where(engagement, invalid))
    for h, values in decayed_totals.items():
        # NaN cutoffs are NaN in every slot already
        write(overall[(_DECAYED, _ALL, None, h)], values)
    write(overall[(_RECENCY, _ALL, None, None)], last_any)
    write(overall[(_AGE, _LEAD, None, None)], lead_age_days(arrays))
    write(overall[(_FIRST, _HIGH_INTENT, None, None)], first_high_intent)
    has_high_intent = _nan_where(np.isfinite(first_high_intent).astype(np.float64), invalid)
    write(overall[(_FLAG, _HIGH_INTENT, None, None)], has_high_intent)


def trend(recent: np.ndarray, prior: np.ndarray, recent_days: int, baseline_days: int) -> np.ndarray:
    """``log1p(recent) - log1p(prior * r / (b - r))``: > 0 when the recent days are busier."""
    # Compare rates per day on a log scale, +1 smoothing so that quiet leads sit at 0, not at +-inf.
    expected_recent = prior * recent_days / (baseline_days - recent_days)
    return np.log1p(recent) - np.log1p(expected_recent)


def _nan_where(values: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """``values`` with NaN where ``mask`` (None: nothing to blank out, the usual case)."""
    return values if mask is None else np.where(mask, np.nan, values)


def lead_age_days(arrays: SnapshotArrays) -> np.ndarray:
    """Days from ``created_at`` to the cutoff; NaN where either is unknown."""
    unknown = (arrays.cutoff_ns == NAT_NS) | (arrays.created_ns == NAT_NS)
    elapsed = np.where(unknown, 0, arrays.cutoff_ns) - np.where(unknown, 0, arrays.created_ns)
    return np.where(unknown, np.nan, elapsed / DAY_NS)

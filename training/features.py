"""``LeadFeatures``: the one feature definition of leadripe, used by training and serving alike.

A scikit-learn transformer from a ``SnapshotBatch`` to a feature frame. Every event feature is computed
strictly from events with ``occurred_at < cutoff`` (point in time). Output (``transform``):

* a ``pd.DataFrame`` with index ``0..n-1`` (snapshot order) and columns ``get_feature_names_out()``;
* numeric features have dtype ``float_dtype`` (default ``float64``; NaN = unknown / never happened);
* categorical profile features are pandas ``category`` with fixed categories (learned levels, then
  ``"other"``, then ``"missing"``), listed in ``categorical_features_``; LightGBM uses them natively.

Features (``<type>`` is the event type, sanitised to ``[a-z0-9_]``; rare types are pooled as
``other_event``; ``w`` runs over ``windows_days``, ``r, b = trend_days``):

=========================================  ===========================================================
``<type>_count_<w>d``                      events of the type in ``[cutoff - w days, cutoff)``
``<type>_days_since_last``                 days since the type's last event before the cutoff; NaN if never
``<type>_trend_<r>d_vs_prior_<b-r>d``      ``log1p(n_recent) - log1p(n_prior * r / (b - r))``: > 0 when the
                                           last ``r`` days are busier than the ``b - r`` days before them
``<type>_decayed_<h>d``                    sum over the type's events before the cutoff of
                                           ``0.5 ** (age_days / h)``, ``h`` in ``decay_half_lives_days``:
                                           recent engagement counts fully, older engagement fades
``events_count_<w>d``, ``total_events``    all (known) events in the window / ever before the cutoff
``engagement_trend_<r>d_vs_prior_<b-r>d``  the trend over all events
``engagement_decayed_<h>d``                the decayed count over all (known) events
``distinct_event_types_<w>d``              number of event types seen in the window
``days_since_last_engagement``             days since the last event of any type; NaN if none
``lead_age_days``                          days from ``created_at`` to the cutoff (NaN if unknown)
``days_since_first_high_intent``           days since the first high-intent event; NaN if none yet
``has_high_intent``                        1 if any high-intent event before the cutoff, else 0
profile columns, under their own names     numerics incl. activity columns, then categoricals (last)
=========================================  ===========================================================

The event-type vocabulary is counted over all events of the training batch's leads (only which types
exist and how common they are is learned, never any timing). Event and time features exist only when
the training batch has events (``uses_events_``): row-order and event-less exports get profile features
only. Snapshots with a NaT cutoff get NaN for time features.
Event types unseen in training are ignored at transform (``unknown_event_types`` lists them, so that
serving can warn).

High-intent types (``high_intent_event_types_``): the ``high_intent_event_types`` parameter if given;
else, when ``fit`` gets labels, the (at most ``max_high_intent_types``) frequent types whose presence
before the cutoff raises the positive rate by at least ``high_intent_min_lift`` times the base rate;
else (no labels, or no type qualifies) the types whose name suggests buying intent
(pricing/demo/trial/contact/quote/meeting/proposal/...).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from training.contract import CREATED_AT, LEAD_ID
from training.features_events import DAY_NS, EventTimeline, event_arrays, lead_codes, type_slots
from training.features_profile import encode_categories, learn_levels, numeric_values
from training.snapshots import CUTOFF, SnapshotBatch, timestamps_ns

OTHER_EVENT = "other_event"
#: ``feature_groups_`` value of features about all events together.
ENGAGEMENT_GROUP = "engagement"
HIGH_INTENT_GROUP = "high_intent"
LEAD_AGE_GROUP = "lead_age"
HIGH_INTENT_NAME_PATTERN = re.compile(
    r"pricing|price|demo|trial|contact|quote|meeting|proposal|call|purchase|buy|sales|request", re.IGNORECASE
)


class LeadFeatures(TransformerMixin, BaseEstimator):
    """Point-in-time engagement and profile features of lead snapshots (see the module docstring).

    Parameters
    ----------
    windows_days: lengths of the count windows ending at the cutoff.
    trend_days: ``(recent, baseline)``: compare the last ``recent`` days with the ``baseline - recent``
        days before them; None for no trend features.
    min_event_type_count: event types with fewer events (of the training leads) are pooled as
        ``other_event``.
    min_category_frequency: categorical levels rarer than this in training become ``"other"``.
    high_intent_event_types: event types that signal buying intent; None to learn them (see above).
    high_intent_min_lift, max_high_intent_types: how they are learned from labels.
    decay_half_lives_days: half-lives of the decayed counts (empty for none).
    float_dtype: dtype of the numeric output columns.
    """

    def __init__(
        self,
        windows_days: Sequence[int] = (7, 30, 90),
        trend_days: tuple[int, int] | None = (30, 90),
        min_event_type_count: int = 20,
        min_category_frequency: int = 20,
        high_intent_event_types: Sequence[str] | None = None,
        high_intent_min_lift: float = 1.5,
        max_high_intent_types: int = 3,
        decay_half_lives_days: Sequence[float] = (14, 45),
        float_dtype: str = "float64",
    ) -> None:
        self.windows_days = windows_days
        self.trend_days = trend_days
        self.min_event_type_count = min_event_type_count
        self.min_category_frequency = min_category_frequency
        self.high_intent_event_types = high_intent_event_types
        self.high_intent_min_lift = high_intent_min_lift
        self.max_high_intent_types = max_high_intent_types
        self.decay_half_lives_days = decay_half_lives_days
        self.float_dtype = float_dtype

    # ------------------------------------------------------------------------------------------ fit

    def fit(self, batch: SnapshotBatch, y: Any = None) -> LeadFeatures:
        """Learn the event-type vocabulary, high-intent types, categorical levels and the output columns."""
        self._fit(batch, y)
        return self

    def fit_transform(self, batch: SnapshotBatch, y: Any = None, **fit_params: Any) -> pd.DataFrame:
        """``fit(batch, y).transform(batch)``, indexing the events only once."""
        if fit_params:
            raise TypeError(f"LeadFeatures.fit_transform takes no fit parameters, got {sorted(fit_params)}")
        timeline = self._fit(batch, y)
        return self._transform(batch, timeline)

    def _fit(self, batch: SnapshotBatch, y: Any) -> EventTimeline | None:
        """Fit; returns the event timeline of ``batch`` when learning built one (for ``fit_transform``)."""
        _check_batch(batch, "fit")
        self._check_params()
        leads, types, _ = event_arrays(batch.events)
        _, event_codes, _ = lead_codes(batch.snapshots[LEAD_ID], leads)
        self.event_type_counts_ = _type_counts(types, event_codes >= 0)
        frequent = sorted(t for t, n in self.event_type_counts_.items() if n >= self.min_event_type_count)
        rare = sorted(set(self.event_type_counts_) - set(frequent))
        self.event_types_ = tuple(frequent)
        self.rare_event_types_ = tuple(rare)
        has_cutoffs = bool(batch.snapshots[CUTOFF].notna().any())
        self.uses_events_ = bool(self.event_type_counts_) and has_cutoffs

        self.categorical_columns_ = tuple(batch.categorical_columns)
        self.numeric_columns_ = tuple(batch.numeric_columns)
        self.category_levels_ = {
            c: learn_levels(batch.snapshots[c], self.min_category_frequency)
            for c in self.categorical_columns_
        }
        self._name_slots()
        self.high_intent_event_types_, timeline = self._choose_high_intent(batch, y)
        self._name_features()
        return timeline

    def _check_params(self) -> None:
        windows = list(self.windows_days)
        if not windows or any(int(w) != w or w <= 0 for w in windows) or len(set(windows)) != len(windows):
            raise ValueError(f"windows_days must be distinct positive whole days, got {self.windows_days!r}")
        if self.trend_days is not None:
            recent, baseline = self.trend_days
            if not 0 < recent < baseline:
                raise ValueError(
                    f"trend_days must be (recent, baseline), 0 < recent < baseline; got {self.trend_days!r}"
                )
        half_lives = list(self.decay_half_lives_days)
        if any(not h > 0 for h in half_lives) or len(set(self._decay_labels())) != len(half_lives):
            raise ValueError(
                "decay_half_lives_days must be distinct positive numbers of days, "
                f"got {self.decay_half_lives_days!r}"
            )

    def _name_slots(self) -> None:
        """Readable, unique column stems per slot; slot ``len(event_types_)`` pools the rare types.

        A stem whose feature names would clash with a profile column, an overall feature, the pooled
        ``other_event`` or an earlier stem gets a numeric suffix (``events`` -> ``events_2``).
        """
        taken = {*self.categorical_columns_, *self.numeric_columns_, *(n for n, _ in self._overall_names())}
        taken |= set(self._slot_feature_names(OTHER_EVENT))
        stems: list[str] = []
        for event_type in self.event_types_:
            stem = re.sub(r"[^0-9a-z]+", "_", event_type.lower()).strip("_") or "event"
            candidate, n = stem, 1
            while taken & set(self._slot_feature_names(candidate)):
                n += 1
                candidate = f"{stem}_{n}"
            stems.append(candidate)
            taken |= set(self._slot_feature_names(candidate))
        self.slot_of_type_ = {t: i for i, t in enumerate(self.event_types_)}
        if self.rare_event_types_:
            stems.append(OTHER_EVENT)
            self.slot_of_type_.update({t: len(self.event_types_) for t in self.rare_event_types_})
        self.slot_names_ = tuple(stems)
        self.slot_groups_ = (*self.event_types_, *([OTHER_EVENT] if self.rare_event_types_ else []))

    def _slot_feature_names(self, stem: str) -> list[str]:
        trend = self._trend_suffix()
        counts = [f"{stem}_count_{w}d" for w in self.windows_days]
        decayed = [f"{stem}_decayed_{label}" for label in self._decay_labels()]
        return [*counts, f"{stem}_days_since_last", *([f"{stem}_{trend}"] if trend else []), *decayed]

    def _decay_labels(self) -> list[str]:
        # "14d", "7.5d": the half-life as written, so that names stay short and readable.
        return [f"{float(h):g}d" for h in self.decay_half_lives_days]

    def _overall_names(self) -> list[tuple[str, str]]:
        """(name, group) of the features about all events together, in output order."""
        trend = self._trend_suffix()
        return [
            *((f"events_count_{w}d", ENGAGEMENT_GROUP) for w in self.windows_days),
            ("total_events", ENGAGEMENT_GROUP),
            *([(f"engagement_{trend}", ENGAGEMENT_GROUP)] if trend else []),
            *((f"engagement_decayed_{label}", ENGAGEMENT_GROUP) for label in self._decay_labels()),
            *((f"distinct_event_types_{w}d", ENGAGEMENT_GROUP) for w in self.windows_days),
            ("days_since_last_engagement", ENGAGEMENT_GROUP),
            ("lead_age_days", LEAD_AGE_GROUP),
            ("days_since_first_high_intent", HIGH_INTENT_GROUP),
            ("has_high_intent", HIGH_INTENT_GROUP),
        ]

    def _choose_high_intent(
        self, batch: SnapshotBatch, y: Any
    ) -> tuple[tuple[str, ...], EventTimeline | None]:
        """The high-intent types, and the timeline built to learn them (None if none was needed)."""
        if self.high_intent_event_types is not None:
            given = (
                t for t in self.high_intent_event_types if t in self.slot_of_type_ and t in self.event_types_
            )
            return tuple(given), None
        timeline = None
        if y is not None and self.uses_events_ and self.event_types_:
            labels = np.asarray(y, dtype=np.float64)
            if len(labels) != len(batch):
                raise ValueError(f"fit: y has {len(labels)} labels for {len(batch)} snapshots")
            timeline = self._timeline(batch)
            learned = self._high_intent_by_lift(timeline, labels)
            if learned:
                return learned, timeline
        return tuple(t for t in self.event_types_ if HIGH_INTENT_NAME_PATTERN.search(t)), timeline

    def _high_intent_by_lift(self, timeline: EventTimeline, y: np.ndarray) -> tuple[str, ...]:
        base_rate = float(np.mean(y[timeline.valid])) if timeline.valid.any() else 0.0
        if base_rate <= 0.0:
            return ()
        lifts: list[tuple[float, str]] = []
        for slot, event_type in enumerate(self.event_types_):
            has = timeline.count(slot) > 0
            if has.sum() >= self.min_event_type_count:
                lift = float(y[has].mean()) / base_rate
                if lift >= self.high_intent_min_lift:
                    lifts.append((lift, event_type))
        lifts.sort(key=lambda item: (-item[0], item[1]))
        return tuple(sorted(t for _, t in lifts[: self.max_high_intent_types]))

    def _name_features(self) -> None:
        names: list[str] = []
        groups: dict[str, str] = {}

        def add(name: str, group: str) -> None:
            names.append(name)
            groups[name] = group

        if self.uses_events_:
            for stem, group in zip(self.slot_names_, self.slot_groups_, strict=True):
                for name in self._slot_feature_names(stem):
                    add(name, group)
            for name, group in self._overall_names():
                add(name, group)
        for column in (*self.numeric_columns_, *self.categorical_columns_):
            if column in groups:
                raise ValueError(
                    f"profile column '{column}' has the name of an engineered feature; rename it"
                )
            add(column, column)
        self.feature_names_ = tuple(names)
        self.feature_groups_ = groups
        self.categorical_features_ = list(self.categorical_columns_)

    def _trend_suffix(self) -> str:
        if self.trend_days is None:
            return ""
        recent, baseline = self.trend_days
        return f"trend_{recent}d_vs_prior_{baseline - recent}d"

    # ------------------------------------------------------------------------------------ transform

    def transform(self, batch: SnapshotBatch) -> pd.DataFrame:
        """Features of every snapshot, in snapshot order; columns as ``get_feature_names_out()``."""
        return self._transform(batch, None)

    def _transform(self, batch: SnapshotBatch, timeline: EventTimeline | None) -> pd.DataFrame:
        check_is_fitted(self, "feature_names_")
        _check_batch(batch, "transform")
        missing = [
            c for c in (*self.categorical_columns_, *self.numeric_columns_) if c not in batch.snapshots
        ]
        if missing:
            raise ValueError(f"transform: snapshots lack profile columns seen in fit: {missing}")
        # Numeric features are written straight into one 2-D block that becomes the frame without a copy;
        # categoricals come last (see _name_features), so no column reordering copies it either.
        n_numeric = len(self.feature_names_) - len(self.categorical_columns_)
        block = np.empty((n_numeric, len(batch)), dtype=self.float_dtype)
        row_of = {name: i for i, name in enumerate(self.feature_names_[:n_numeric])}

        written: set[str] = set()

        def put(name: str, values: np.ndarray) -> None:
            block[row_of[name]] = values
            written.add(name)

        if self.uses_events_:
            self._event_features(batch, put, timeline or self._timeline(batch))
        for column in self.numeric_columns_:
            put(column, numeric_values(batch.snapshots, column))
        if len(written) != n_numeric:  # a feature named in fit but never computed: a bug, never garbage
            raise RuntimeError(f"features not computed: {sorted(set(row_of) - written)}")
        frame = pd.DataFrame(block.T, columns=list(self.feature_names_[:n_numeric]), copy=False)
        for column in self.categorical_columns_:
            frame[column] = encode_categories(batch.snapshots[column], self.category_levels_[column])
        return frame

    def _timeline(self, batch: SnapshotBatch) -> EventTimeline:
        leads, types, times = event_arrays(batch.events)
        snapshot_codes, event_codes, n_leads = lead_codes(batch.snapshots[LEAD_ID], leads)
        slots = type_slots(types, self.slot_of_type_)
        lookback = max(*self.windows_days, *(self.trend_days or ())) * DAY_NS
        cutoff_ns = timestamps_ns(batch.snapshots[CUTOFF])
        return EventTimeline(
            snapshot_codes, cutoff_ns, event_codes, slots, times, n_leads, len(self.slot_names_), lookback
        )

    def _event_features(
        self, batch: SnapshotBatch, put: Callable[[str, np.ndarray], None], timeline: EventTimeline
    ) -> None:
        n = len(batch)
        trend = self._trend_suffix()
        window_totals = {w: np.zeros(n) for w in self.windows_days}
        distinct = {w: np.zeros(n) for w in self.windows_days}
        total = np.zeros(n)
        recent_total, prior_total = np.zeros(n), np.zeros(n)
        half_lives = {
            label: round(float(h) * DAY_NS)
            for label, h in zip(self._decay_labels(), self.decay_half_lives_days, strict=True)
        }
        decayed_totals = {label: np.zeros(n) for label in half_lives}
        last_any = np.full(n, np.nan)
        first_high_intent = np.full(n, np.nan)
        high_intent_slots = {self.slot_of_type_[t] for t in self.high_intent_event_types_}
        for slot, stem in enumerate(self.slot_names_):
            window_counts = {w: timeline.count(slot, w * DAY_NS) for w in self.windows_days}
            for w, counts in window_counts.items():
                put(f"{stem}_count_{w}d", counts)
                window_totals[w] += counts
                distinct[w] += counts > 0
            last = timeline.days_since_last(slot)
            put(f"{stem}_days_since_last", last)
            last_any = np.fmin(last_any, last)
            total += timeline.count(slot)
            if self.trend_days is not None:
                recent_days, baseline_days = self.trend_days
                recent = window_counts.get(recent_days)
                if recent is None:
                    recent = timeline.count(slot, recent_days * DAY_NS)
                prior = timeline.count(slot, baseline_days * DAY_NS, skip_ns=recent_days * DAY_NS)
                put(f"{stem}_{trend}", _trend(recent, prior, recent_days, baseline_days))
                recent_total += recent
                prior_total += prior
            for label, half_life_ns in half_lives.items():
                decayed = timeline.decayed(slot, half_life_ns)
                put(f"{stem}_decayed_{label}", decayed)
                decayed_totals[label] += decayed
            if slot in high_intent_slots:
                first_high_intent = np.fmax(first_high_intent, timeline.days_since_first(slot))
        invalid = ~timeline.valid
        for w in self.windows_days:
            put(f"events_count_{w}d", _nan_where(window_totals[w], invalid))
            put(f"distinct_event_types_{w}d", _nan_where(distinct[w], invalid))
        put("total_events", _nan_where(total, invalid))
        if self.trend_days is not None:
            recent_days, baseline_days = self.trend_days
            engagement = _trend(recent_total, prior_total, recent_days, baseline_days)
            put(f"engagement_{trend}", _nan_where(engagement, invalid))
        for label, values in decayed_totals.items():
            put(f"engagement_decayed_{label}", values)  # NaN cutoffs are NaN in every slot already
        put("days_since_last_engagement", last_any)
        put("lead_age_days", _lead_age_days(batch.snapshots))
        put("days_since_first_high_intent", first_high_intent)
        has_high_intent = _nan_where(np.isfinite(first_high_intent).astype(np.float64), invalid)
        put("has_high_intent", has_high_intent)

    # -------------------------------------------------------------------------------- introspection

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the ``transform`` output columns, in order."""
        check_is_fitted(self, "feature_names_")
        return np.asarray(self.feature_names_, dtype=object)

    def unknown_event_types(self, batch: SnapshotBatch) -> set[str]:
        """Event types in ``batch`` never seen in training (their events are ignored by ``transform``)."""
        check_is_fitted(self, "feature_names_")
        _, types, _ = event_arrays(batch.events)
        present = {str(t) for t in pd.unique(types.dropna())} if len(types) else set()
        return present - set(self.event_type_counts_)


def _type_counts(types: pd.Series, own: np.ndarray) -> dict[str, int]:
    """Events per type among the events of the batch's own leads (counted on integer codes)."""
    if isinstance(types.dtype, pd.CategoricalDtype):
        codes, distinct = types.cat.codes.to_numpy(), types.cat.categories
    else:
        codes, distinct = pd.factorize(types)
    per_code = np.bincount(codes[own & (codes >= 0)], minlength=len(distinct))
    totals: dict[str, int] = {}
    for value, n in zip(distinct, per_code, strict=True):
        if n:  # categories without events are not part of the vocabulary
            totals[str(value)] = totals.get(str(value), 0) + int(n)
    return totals


def _check_batch(batch: Any, where: str) -> None:
    if not isinstance(batch, SnapshotBatch):
        raise TypeError(f"LeadFeatures.{where} expects a SnapshotBatch, got {type(batch).__name__}")
    missing = [c for c in (LEAD_ID, CUTOFF) if c not in batch.snapshots.columns]
    if missing:
        raise ValueError(f"LeadFeatures.{where}: snapshots lack columns {missing}")


def _trend(recent: np.ndarray, prior: np.ndarray, recent_days: int, baseline_days: int) -> np.ndarray:
    # Compare rates per day on a log scale, +1 smoothing so that quiet leads sit at 0, not at +-inf.
    expected_recent = prior * recent_days / (baseline_days - recent_days)
    return np.log1p(recent) - np.log1p(expected_recent)


def _nan_where(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return np.where(mask, np.nan, values)


def _lead_age_days(snapshots: pd.DataFrame) -> np.ndarray:
    if CREATED_AT not in snapshots.columns:
        return np.full(len(snapshots), np.nan)
    cutoff = timestamps_ns(snapshots[CUTOFF])
    created = timestamps_ns(snapshots[CREATED_AT])
    nat = np.iinfo(np.int64).min
    unknown = (cutoff == nat) | (created == nat)
    elapsed = np.where(unknown, 0, cutoff) - np.where(unknown, 0, created)
    return np.where(unknown, np.nan, elapsed / DAY_NS)

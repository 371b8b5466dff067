"""``LeadFeatures``: the one feature definition of leadripe, used by training and serving alike.

A scikit-learn transformer from a ``SnapshotBatch`` to a feature frame. Every event feature is computed
strictly from events with ``occurred_at < cutoff`` (point in time). Output (``transform``):

* a ``pd.DataFrame`` with index ``0..n-1`` (snapshot order) and columns ``get_feature_names_out()``;
* numeric features have dtype ``float_dtype`` (default ``float64``; NaN = unknown / never happened);
* categorical profile features are pandas ``category`` with fixed categories (learned levels, then
  ``"other"``, then ``"missing"``), listed in ``categorical_features_``; LightGBM uses them natively.

``transform_arrays`` computes the same values from ``SnapshotArrays`` into a ``FeatureMatrix`` (numeric
block and category codes, no frame): the API's path, which skips pandas; ``transform`` is
``transform_arrays(SnapshotArrays.from_batch(batch)).to_frame()``.

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
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from training.data.contract import LEAD_ID
from training.features.events import DAY_NS, EventTimeline, type_slots
from training.features.matrix import FeatureMatrix
from training.features.profile import cached_category_dtype, category_codes, learn_levels
from training.features.snapshot_arrays import NAT_NS, Coded, SnapshotArrays, event_columns
from training.features.snapshots import CUTOFF, SnapshotBatch
from training.layout_cache import LayoutCached

OTHER_EVENT = "other_event"
#: ``feature_groups_`` value of features about all events together.
ENGAGEMENT_GROUP = "engagement"
HIGH_INTENT_GROUP = "high_intent"
LEAD_AGE_GROUP = "lead_age"
HIGH_INTENT_NAME_PATTERN = re.compile(
    r"pricing|price|demo|trial|contact|quote|meeting|proposal|call|purchase|buy|sales|request", re.IGNORECASE
)


class LeadFeatures(LayoutCached, TransformerMixin, BaseEstimator):
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
        arrays, timeline = self._fit(batch, y)
        return self._transform_arrays(arrays, timeline).to_frame()

    def _fit(self, batch: SnapshotBatch, y: Any) -> tuple[SnapshotArrays, EventTimeline | None]:
        """Fit; returns ``batch`` as arrays and, when learning built one, its event timeline (both reused
        by ``fit_transform``)."""
        _check_batch(batch, "fit")
        self._check_params()
        arrays = SnapshotArrays.from_batch(batch, batch.categorical_columns, batch.numeric_columns)
        self.event_type_counts_ = _type_counts(arrays.event_types, arrays.event_lead_codes >= 0)
        frequent = sorted(t for t, n in self.event_type_counts_.items() if n >= self.min_event_type_count)
        rare = sorted(set(self.event_type_counts_) - set(frequent))
        self.event_types_ = tuple(frequent)
        self.rare_event_types_ = tuple(rare)
        has_cutoffs = bool((arrays.cutoff_ns != NAT_NS).any())
        self.uses_events_ = bool(self.event_type_counts_) and has_cutoffs

        self.categorical_columns_ = tuple(batch.categorical_columns)
        self.numeric_columns_ = tuple(batch.numeric_columns)
        self.category_levels_ = {
            c: learn_levels(batch.snapshots[c], self.min_category_frequency)
            for c in self.categorical_columns_
        }
        self._name_slots()
        self.high_intent_event_types_, timeline = self._choose_high_intent(arrays, y)
        self._name_features()
        return arrays, timeline

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
        self, arrays: SnapshotArrays, y: Any
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
            if len(labels) != len(arrays):
                raise ValueError(f"fit: y has {len(labels)} labels for {len(arrays)} snapshots")
            timeline = self._timeline(arrays)
            learned = self._high_intent_by_lift(timeline, labels)
            if learned:
                return learned, timeline
        return tuple(t for t in self.event_types_ if HIGH_INTENT_NAME_PATTERN.search(t)), timeline

    def _high_intent_by_lift(self, timeline: EventTimeline, y: np.ndarray) -> tuple[str, ...]:
        base_rate = float(np.mean(y[timeline.valid])) if timeline.valid.any() else 0.0
        if base_rate <= 0.0:
            return ()
        lifts: list[tuple[float, str]] = []
        for chunk in timeline.chunks:
            for slot, has_events in zip(
                range(chunk.start, chunk.stop), timeline.count(chunk) > 0, strict=True
            ):
                if slot >= len(self.event_types_):  # the pooled rare types are no candidate
                    continue
                if has_events.sum() >= self.min_event_type_count:
                    lift = float(y[has_events].mean()) / base_rate
                    if lift >= self.high_intent_min_lift:
                        lifts.append((lift, self.event_types_[slot]))
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
        check_is_fitted(self, "feature_names_")
        _check_batch(batch, "transform")
        arrays = SnapshotArrays.from_batch(batch, self.categorical_columns_, self.numeric_columns_)
        return self._transform_arrays(arrays, None).to_frame()

    def transform_arrays(self, arrays: SnapshotArrays) -> FeatureMatrix:
        """``transform`` of snapshots given as arrays, as arrays: what the API uses to skip pandas."""
        check_is_fitted(self, "feature_names_")
        missing = [c for c in self.numeric_columns_ if c not in arrays.numeric]
        missing += [c for c in self.categorical_columns_ if c not in arrays.categorical]
        if missing:
            raise ValueError(f"transform: snapshots lack profile columns seen in fit: {missing}")
        return self._transform_arrays(arrays, None)

    def _transform_arrays(self, arrays: SnapshotArrays, timeline: EventTimeline | None) -> FeatureMatrix:
        layout = self._layout()
        n = len(arrays)
        # Numeric features are written as rows of one block that becomes the frame without a copy.
        block = np.empty((len(layout.numeric_names), n), dtype=self.float_dtype)
        written = np.zeros(len(layout.numeric_names), dtype=bool)

        def write(rows: int | np.ndarray, values: np.ndarray) -> None:
            block[rows] = values
            written[rows] = True

        if self.uses_events_:
            self._event_features(arrays, write, timeline or self._timeline(arrays))
        for column in self.numeric_columns_:
            write(layout.rows[column], arrays.numeric[column])
        if not written.all():  # a feature named in fit but never computed: a bug, never garbage
            raise RuntimeError(
                f"features not computed: {[layout.numeric_names[i] for i in np.flatnonzero(~written)]}"
            )
        codes = np.empty((len(self.categorical_columns_), n), dtype=np.int32)
        for k, column in enumerate(self.categorical_columns_):
            codes[k] = category_codes(*arrays.categorical[column], self.category_levels_[column])
        return FeatureMatrix(
            layout.numeric_names, block, layout.rows, self.categorical_columns_, codes, layout.dtypes
        )

    def _layout(self) -> _Layout:
        """Output rows of every feature (see ``_Layout``); cached per fitted transformer, never pickled."""

        def build() -> _Layout:
            numeric_names = self.feature_names_[: len(self.feature_names_) - len(self.categorical_columns_)]
            rows = {name: i for i, name in enumerate(numeric_names)}
            slot_rows: dict[str, np.ndarray] = {}
            if self.uses_events_:
                for kind, suffix in self._slot_kinds().items():
                    slot_rows[kind] = np.array(
                        [rows[f"{stem}_{suffix}"] for stem in self.slot_names_], dtype=np.intp
                    )
            dtypes = {
                column: cached_category_dtype(tuple(self.category_levels_[column]))
                for column in self.categorical_columns_
            }
            return _Layout(self.feature_names_, tuple(numeric_names), rows, slot_rows, dtypes)

        return self.cached_layout(self.feature_names_, build)

    def _slot_kinds(self) -> dict[str, str]:
        """Per-slot feature kinds and the suffix of their names after the slot's stem."""
        kinds = {f"count_{w}d": f"count_{w}d" for w in self.windows_days}
        kinds["days_since_last"] = "days_since_last"
        if self.trend_days is not None:
            kinds["trend"] = self._trend_suffix()
        kinds.update({f"decayed_{label}": f"decayed_{label}" for label in self._decay_labels()})
        return kinds

    def _timeline(self, arrays: SnapshotArrays) -> EventTimeline:
        slots = type_slots(*arrays.event_types, self.slot_of_type_)
        lookback = max(*self.windows_days, *(self.trend_days or ())) * DAY_NS
        return EventTimeline(
            arrays.lead_codes,
            arrays.cutoff_ns,
            arrays.event_lead_codes,
            slots,
            arrays.event_ns,
            arrays.n_leads,
            len(self.slot_names_),
            lookback,
        )

    def _event_features(
        self,
        arrays: SnapshotArrays,
        write: Callable[[int | np.ndarray, np.ndarray], None],
        timeline: EventTimeline,
    ) -> None:
        layout = self._layout()
        slot_rows, rows = layout.slot_rows, layout.rows
        n = len(arrays)
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
        is_high_intent = np.zeros(len(self.slot_names_), dtype=bool)
        is_high_intent[[self.slot_of_type_[t] for t in self.high_intent_event_types_]] = True
        for chunk in timeline.chunks:  # (slots of the chunk, snapshots) at a time
            window_counts = {w: timeline.count(chunk, w * DAY_NS) for w in self.windows_days}
            for w, counts in window_counts.items():
                write(slot_rows[f"count_{w}d"][chunk], counts)
                window_totals[w] += counts.sum(axis=0)  # whole numbers: exact in any order
                distinct[w] += (counts > 0).sum(axis=0)
            last = timeline.days_since_last(chunk)
            write(slot_rows["days_since_last"][chunk], last)
            last_any = np.fmin(last_any, np.fmin.reduce(last, axis=0))
            total += timeline.count(chunk).sum(axis=0)
            if self.trend_days is not None:
                recent_days, baseline_days = self.trend_days
                recent = window_counts.get(recent_days)
                if recent is None:
                    recent = timeline.count(chunk, recent_days * DAY_NS)
                prior = timeline.count(chunk, baseline_days * DAY_NS, skip_ns=recent_days * DAY_NS)
                write(slot_rows["trend"][chunk], _trend(recent, prior, recent_days, baseline_days))
                recent_total += recent.sum(axis=0)
                prior_total += prior.sum(axis=0)
            for label, half_life_ns in half_lives.items():
                decayed = timeline.decayed(chunk, half_life_ns)
                write(slot_rows[f"decayed_{label}"][chunk], decayed)
                for slot_values in decayed:  # slot by slot: the same float sums however slots are chunked
                    decayed_totals[label] += slot_values
            high_intent = is_high_intent[chunk]
            if high_intent.any():
                first = np.fmax.reduce(timeline.days_since_first(chunk)[high_intent], axis=0)
                first_high_intent = np.fmax(first_high_intent, first)
        invalid = ~timeline.valid
        trend = self._trend_suffix()
        for w in self.windows_days:
            write(rows[f"events_count_{w}d"], _nan_where(window_totals[w], invalid))
            write(rows[f"distinct_event_types_{w}d"], _nan_where(distinct[w], invalid))
        write(rows["total_events"], _nan_where(total, invalid))
        if self.trend_days is not None:
            recent_days, baseline_days = self.trend_days
            engagement = _trend(recent_total, prior_total, recent_days, baseline_days)
            write(rows[f"engagement_{trend}"], _nan_where(engagement, invalid))
        for label, values in decayed_totals.items():
            write(rows[f"engagement_decayed_{label}"], values)  # NaN cutoffs are NaN in every slot already
        write(rows["days_since_last_engagement"], last_any)
        write(rows["lead_age_days"], _lead_age_days(arrays))
        write(rows["days_since_first_high_intent"], first_high_intent)
        has_high_intent = _nan_where(np.isfinite(first_high_intent).astype(np.float64), invalid)
        write(rows["has_high_intent"], has_high_intent)

    # -------------------------------------------------------------------------------- introspection

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the ``transform`` output columns, in order."""
        check_is_fitted(self, "feature_names_")
        return np.asarray(self.feature_names_, dtype=object)

    def unknown_event_types(self, batch: SnapshotBatch) -> set[str]:
        """Event types in ``batch`` never seen in training (their events are ignored by ``transform``)."""
        check_is_fitted(self, "feature_names_")
        _, types, _ = event_columns(batch.events)
        present = {str(t) for t in pd.unique(types.dropna())} if len(types) else set()
        return present - set(self.event_type_counts_)


def _type_counts(types: Coded, own: np.ndarray) -> dict[str, int]:
    """Events per type among the events of the batch's own leads (counted on integer codes)."""
    codes, distinct = types
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


def _lead_age_days(arrays: SnapshotArrays) -> np.ndarray:
    unknown = (arrays.cutoff_ns == NAT_NS) | (arrays.created_ns == NAT_NS)
    elapsed = np.where(unknown, 0, arrays.cutoff_ns) - np.where(unknown, 0, arrays.created_ns)
    return np.where(unknown, np.nan, elapsed / DAY_NS)


@dataclass(frozen=True)
class _Layout:
    """Where each feature goes in the output, computed once per fitted transformer (not per call)."""

    names: tuple[str, ...]  # the feature_names_ it was computed from
    numeric_names: tuple[str, ...]
    rows: dict[str, int]  # numeric feature -> row of the numeric block
    slot_rows: dict[str, np.ndarray]  # per-slot feature kind -> its block row for each slot
    dtypes: dict[str, pd.CategoricalDtype]

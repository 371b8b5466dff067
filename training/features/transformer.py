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

``feature_specs()`` describes every output column for programs (``training.features.specs``): its kind,
scope, business signal, event type, window, half-life and unit; readers use it, never the name.

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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from training.data.contract import LEAD_ID
from training.features.event_features import EventRows, write_event_features
from training.features.events import DAY_NS, EventTimeline, type_slots
from training.features.high_intent import HIGH_INTENT_NAME_PATTERN, high_intent_by_lift
from training.features.matrix import FeatureMatrix
from training.features.profile import cached_category_dtype, category_codes, learn_levels, numeric_ranges
from training.features.snapshot_arrays import NAT_NS, Coded, SnapshotArrays, event_columns
from training.features.snapshots import CUTOFF, SnapshotBatch
from training.features.specs import (
    OTHER_EVENT,
    FeatureScope,
    FeatureSpec,
    event_specs,
    feature_specs,
    half_life_label,
    overall_specs,
)
from training.layout_cache import LayoutCached


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
        # What training saw of each numeric profile column: serving warns about values outside it.
        self.numeric_ranges_ = numeric_ranges(arrays.numeric)
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
        labels = {half_life_label(h) for h in half_lives if h > 0}
        if any(not h > 0 for h in half_lives) or len(labels) != len(half_lives):
            raise ValueError(
                "decay_half_lives_days must be distinct positive numbers of days, "
                f"got {self.decay_half_lives_days!r}"
            )

    def _name_slots(self) -> None:
        """Readable, unique column stems per slot; slot ``len(event_types_)`` pools the rare types.

        A stem whose feature names would clash with a profile column, an overall feature, the pooled
        ``other_event`` or an earlier stem gets a numeric suffix (``events`` -> ``events_2``).
        """
        overall = overall_specs(self.windows_days, self.trend_days, self.decay_half_lives_days)
        taken = {*self.categorical_columns_, *self.numeric_columns_, *(spec.name for spec in overall)}
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
        specs = event_specs(
            stem,
            stem,
            FeatureScope.POOLED_EVENTS,
            self.windows_days,
            self.trend_days,
            self.decay_half_lives_days,
        )
        return [spec.name for spec in specs]

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
            learned = high_intent_by_lift(
                timeline,
                labels,
                self.event_types_,
                min_count=self.min_event_type_count,
                min_lift=self.high_intent_min_lift,
                max_types=self.max_high_intent_types,
            )
            if learned:
                return learned, timeline
        return tuple(t for t in self.event_types_ if HIGH_INTENT_NAME_PATTERN.search(t)), timeline

    def _name_features(self) -> None:
        scopes = [FeatureScope.EVENT_TYPE] * len(self.event_types_)
        scopes += [FeatureScope.POOLED_EVENTS] * (len(self.slot_names_) - len(self.event_types_))
        self.feature_specs_ = feature_specs(
            list(zip(self.slot_names_, self.slot_groups_, scopes, strict=True)),
            self.windows_days,
            self.trend_days,
            self.decay_half_lives_days,
            self.numeric_columns_,
            self.categorical_columns_,
            uses_events=self.uses_events_,
        )
        self.feature_names_ = tuple(spec.name for spec in self.feature_specs_)
        self.feature_groups_ = {spec.name: spec.signal for spec in self.feature_specs_}
        self.categorical_features_ = list(self.categorical_columns_)

    # ------------------------------------------------------------------------------------ transform

    def transform(self, batch: SnapshotBatch) -> pd.DataFrame:
        """Features of every snapshot, in snapshot order; columns as ``get_feature_names_out()``."""
        self.require_fitted("feature_names_")
        _check_batch(batch, "transform")
        arrays = SnapshotArrays.from_batch(batch, self.categorical_columns_, self.numeric_columns_)
        return self._transform_arrays(arrays, None).to_frame()

    def transform_arrays(self, arrays: SnapshotArrays) -> FeatureMatrix:
        """``transform`` of snapshots given as arrays, as arrays: what the API uses to skip pandas."""
        self.require_fitted("feature_names_")
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
            write_event_features(
                arrays,
                timeline or self._timeline(arrays),
                write,
                layout.event_rows,
                self.windows_days,
                self.trend_days,
                self.decay_half_lives_days,
                len(self.slot_names_),
                [self.slot_of_type_[t] for t in self.high_intent_event_types_],
            )
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
            dtypes = {
                column: cached_category_dtype(tuple(self.category_levels_[column]))
                for column in self.categorical_columns_
            }
            event_rows = EventRows.of(self.feature_specs_, rows)
            return _Layout(self.feature_names_, tuple(numeric_names), rows, event_rows, dtypes)

        return self.cached_layout(self.feature_names_, build)

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

    # -------------------------------------------------------------------------------- introspection

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the ``transform`` output columns, in order."""
        self.require_fitted("feature_names_")
        return np.asarray(self.feature_names_, dtype=object)

    def feature_specs(self) -> tuple[FeatureSpec, ...]:
        """What each output column is (kind, signal, event type, window, half-life, unit), aligned with
        ``get_feature_names_out()``: read these rather than parsing names."""
        self.require_fitted("feature_specs_")
        return self.feature_specs_

    def unknown_event_types(self, batch: SnapshotBatch) -> set[str]:
        """Event types in ``batch`` never seen in training (their events are ignored by ``transform``)."""
        self.require_fitted("feature_names_")
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


@dataclass(frozen=True)
class _Layout:
    """Where each feature goes in the output, computed once per fitted transformer (not per call)."""

    names: tuple[str, ...]  # the feature_names_ it was computed from
    numeric_names: tuple[str, ...]
    rows: dict[str, int]  # numeric feature -> row of the numeric block
    event_rows: EventRows  # rows of the event features, by spec
    dtypes: dict[str, pd.CategoricalDtype]

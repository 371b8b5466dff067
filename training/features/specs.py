"""What each feature is: ``FeatureSpec``, published by ``LeadFeatures.feature_specs()`` for every output.

The feature transformer names its outputs (``webinar_attended_count_30d``) for people; programs read
the spec instead: its kind (a count, a recency, a trend, ...), what it is about (one event type, the
pooled rare types, all events, high-intent events, the lead, a profile field), the business signal it
belongs to, its window, half-life and unit. Reasons, insights, the report, the serving statistics and
the gone-cold rule look features up by spec, never by parsing a name, so a profile column that happens
to end in ``_count_30d`` is never mistaken for an event count.

``feature_specs`` builds the specs (and thereby the names) for a configuration; the transformer calls
it in ``fit`` and tests call it to get the specs of known features without fitting anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

#: Signal of the features about all events together.
ENGAGEMENT_SIGNAL = "engagement"
#: Signal of the high-intent milestone features.
HIGH_INTENT_SIGNAL = "high_intent"
#: Signal of the lead's age.
LEAD_AGE_SIGNAL = "lead_age"
#: Stem and signal of the event types too rare to get features of their own, pooled together.
OTHER_EVENT = "other_event"


class FeatureKind(StrEnum):
    """What a feature measures."""

    COUNT = "count"  # events in a window before the cutoff (window_days None: ever)
    RECENCY = "recency"  # days since the last event before the cutoff; NaN if none
    TREND = "trend"  # log rate of the last window_days vs the prior_days before them; > 0 rising
    DECAYED = "decayed"  # events weighted by 0.5 ** (age / half_life_days)
    BREADTH = "breadth"  # distinct event types in a window
    AGE = "age"  # days since the lead was created
    MILESTONE_DAYS = "milestone_days"  # days since the first high-intent event; NaN if none
    MILESTONE_FLAG = "milestone_flag"  # 1 if any high-intent event before the cutoff, else 0
    PROFILE_NUMERIC = "profile_numeric"  # a numeric profile field as it is
    PROFILE_CATEGORICAL = "profile_categorical"  # a categorical profile field (pandas category)


#: Kinds that grow with the time elapsed since an event or the lead's creation: a lead scored after the
#: training period reaches values no training lead had, by time passing alone.
ELAPSED_TIME_KINDS = frozenset({FeatureKind.RECENCY, FeatureKind.AGE, FeatureKind.MILESTONE_DAYS})


class FeatureScope(StrEnum):
    """Which data a feature is computed from."""

    EVENT_TYPE = "event_type"  # the events of one event type
    POOLED_EVENTS = "pooled_events"  # the events of the rare types, pooled
    ALL_EVENTS = "all_events"  # every event of the lead
    HIGH_INTENT = "high_intent"  # the events of the high-intent types
    LEAD = "lead"  # the lead record itself
    PROFILE = "profile"  # one profile field


class FeatureUnit(StrEnum):
    EVENTS = "events"
    DAYS = "days"
    LOG_RATIO = "log_ratio"
    EVENT_TYPES = "event_types"
    FLAG = "flag"
    CATEGORY = "category"
    VALUE = "value"  # a profile number in its own unit


class FeatureSpec(BaseModel):
    """One output feature of ``LeadFeatures``, described for programs (see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    kind: FeatureKind
    scope: FeatureScope
    #: the business signal: the event type (as in the data), the profile field, or a derived group
    signal: str
    unit: FeatureUnit
    #: the event type as in the data, for EVENT_TYPE features only
    event_type: str | None = None
    #: COUNT / BREADTH: the window; TREND: the recent window
    window_days: int | None = None
    #: TREND: the prior window the recent one is compared with
    prior_days: int | None = None
    #: DECAYED: days after which an event counts half
    half_life_days: float | None = None

    @property
    def is_event_type(self) -> bool:
        """About one event type that a lead can show (not the pooled rare types)."""
        return self.scope is FeatureScope.EVENT_TYPE

    @property
    def is_profile(self) -> bool:
        return self.scope is FeatureScope.PROFILE

    @property
    def variant(self) -> tuple[FeatureKind, int | None, float | None]:
        """What tells the features of one event type apart: the same for every event type's counterpart."""
        return self.kind, self.window_days, self.half_life_days


def half_life_label(half_life_days: float) -> str:
    """ "14", "7.5": the half-life as written, so that names stay short and readable."""
    return f"{float(half_life_days):g}"


def _spec(name: str, kind: FeatureKind, unit: FeatureUnit, of: _Of, **where: float | None) -> FeatureSpec:
    scope, signal, event_type = of
    return FeatureSpec.model_validate(
        {
            "name": name,
            "kind": kind,
            "unit": unit,
            "scope": scope,
            "signal": signal,
            "event_type": event_type,
            **where,
        }
    )


#: (scope, signal, event type) of a group of features.
_Of = tuple[FeatureScope, str, str | None]


def _counts(stem: str, of: _Of, windows_days: Sequence[int]) -> list[FeatureSpec]:
    return [
        _spec(f"{stem}_count_{w}d", FeatureKind.COUNT, FeatureUnit.EVENTS, of, window_days=w)
        for w in windows_days
    ]


def _trend(stem: str, of: _Of, trend_days: tuple[int, int] | None) -> list[FeatureSpec]:
    if trend_days is None:
        return []
    recent, prior = trend_days[0], trend_days[1] - trend_days[0]
    name = f"{stem}_trend_{recent}d_vs_prior_{prior}d"
    return [_spec(name, FeatureKind.TREND, FeatureUnit.LOG_RATIO, of, window_days=recent, prior_days=prior)]


def _decayed(stem: str, of: _Of, half_lives_days: Sequence[float]) -> list[FeatureSpec]:
    return [
        _spec(
            f"{stem}_decayed_{half_life_label(h)}d",
            FeatureKind.DECAYED,
            FeatureUnit.EVENTS,
            of,
            half_life_days=float(h),
        )
        for h in half_lives_days
    ]


def event_specs(
    stem: str,
    signal: str,
    scope: FeatureScope,
    windows_days: Sequence[int],
    trend_days: tuple[int, int] | None,
    half_lives_days: Sequence[float],
) -> list[FeatureSpec]:
    """The features of one event slot (an event type or the pooled rare types), in output order."""
    of = (scope, signal, signal if scope is FeatureScope.EVENT_TYPE else None)
    return [
        *_counts(stem, of, windows_days),
        _spec(f"{stem}_days_since_last", FeatureKind.RECENCY, FeatureUnit.DAYS, of),
        *_trend(stem, of, trend_days),
        *_decayed(stem, of, half_lives_days),
    ]


def overall_specs(
    windows_days: Sequence[int], trend_days: tuple[int, int] | None, half_lives_days: Sequence[float]
) -> list[FeatureSpec]:
    """The features about all events, the lead's age and high intent, in output order."""
    every: _Of = (FeatureScope.ALL_EVENTS, ENGAGEMENT_SIGNAL, None)
    high_intent: _Of = (FeatureScope.HIGH_INTENT, HIGH_INTENT_SIGNAL, None)
    return [
        *_counts("events", every, windows_days),
        _spec("total_events", FeatureKind.COUNT, FeatureUnit.EVENTS, every),
        *_trend("engagement", every, trend_days),
        *_decayed("engagement", every, half_lives_days),
        *(
            _spec(
                f"distinct_event_types_{w}d",
                FeatureKind.BREADTH,
                FeatureUnit.EVENT_TYPES,
                every,
                window_days=w,
            )
            for w in windows_days
        ),
        _spec("days_since_last_engagement", FeatureKind.RECENCY, FeatureUnit.DAYS, every),
        _spec("lead_age_days", FeatureKind.AGE, FeatureUnit.DAYS, (FeatureScope.LEAD, LEAD_AGE_SIGNAL, None)),
        _spec("days_since_first_high_intent", FeatureKind.MILESTONE_DAYS, FeatureUnit.DAYS, high_intent),
        _spec("has_high_intent", FeatureKind.MILESTONE_FLAG, FeatureUnit.FLAG, high_intent),
    ]


def profile_specs(numeric_columns: Iterable[str], categorical_columns: Iterable[str]) -> list[FeatureSpec]:
    """Profile fields under their own names: numerics, then categoricals (the output order)."""
    numeric, categorical = FeatureKind.PROFILE_NUMERIC, FeatureKind.PROFILE_CATEGORICAL
    return [
        *(_spec(c, numeric, FeatureUnit.VALUE, (FeatureScope.PROFILE, c, None)) for c in numeric_columns),
        *(
            _spec(c, categorical, FeatureUnit.CATEGORY, (FeatureScope.PROFILE, c, None))
            for c in categorical_columns
        ),
    ]


def feature_specs(
    slots: Sequence[tuple[str, str, FeatureScope]],
    windows_days: Sequence[int],
    trend_days: tuple[int, int] | None,
    half_lives_days: Sequence[float],
    numeric_columns: Sequence[str],
    categorical_columns: Sequence[str],
    *,
    uses_events: bool = True,
) -> tuple[FeatureSpec, ...]:
    """Every output feature in order: per event slot ``(stem, signal, scope)``, then the overall ones
    (only when ``uses_events``), then the profile fields. Raises when a profile column has the name of
    an engineered feature."""
    specs: list[FeatureSpec] = []
    if uses_events:
        for stem, signal, scope in slots:
            specs += event_specs(stem, signal, scope, windows_days, trend_days, half_lives_days)
        specs += overall_specs(windows_days, trend_days, half_lives_days)
    engineered = {spec.name for spec in specs}
    for column in (*numeric_columns, *categorical_columns):
        if column in engineered:
            raise ValueError(f"profile column '{column}' has the name of an engineered feature; rename it")
    return (*specs, *profile_specs(numeric_columns, categorical_columns))


class FeatureCatalog:
    """Specs by name, and the lookups their readers share (a read-only view of a spec sequence)."""

    def __init__(self, specs: Iterable[FeatureSpec]) -> None:
        self.specs: tuple[FeatureSpec, ...] = tuple(specs)
        self._by_name: Mapping[str, FeatureSpec] = {spec.name: spec for spec in self.specs}

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __getitem__(self, name: str) -> FeatureSpec:
        spec = self._by_name.get(name)
        if spec is None:
            raise KeyError(f"no feature named '{name}'")
        return spec

    def __iter__(self) -> Iterator[FeatureSpec]:
        return iter(self.specs)

    def __len__(self) -> int:
        return len(self.specs)

    def get(self, name: str) -> FeatureSpec | None:
        return self._by_name.get(name)

    @property
    def names(self) -> list[str]:
        return [spec.name for spec in self.specs]

    def groups(self) -> dict[str, str]:
        """feature -> business signal."""
        return {spec.name: spec.signal for spec in self.specs}

    def signal_of(self, name: str) -> str:
        """The feature's signal; a name without a spec is its own signal."""
        spec = self._by_name.get(name)
        return spec.signal if spec is not None else name

    def elapsed_time_features(self) -> tuple[str, ...]:
        """The features that count days elapsed (``ELAPSED_TIME_KINDS``), in output order."""
        return tuple(spec.name for spec in self.specs if spec.kind in ELAPSED_TIME_KINDS)

    def find(self, kind: FeatureKind, scope: FeatureScope) -> FeatureSpec | None:
        """The first feature of this kind and scope (e.g. the inactivity: RECENCY of ALL_EVENTS)."""
        return next((s for s in self.specs if s.kind is kind and s.scope is scope), None)

    def inactivity(self) -> FeatureSpec | None:
        """Days since the lead's last event of any kind, if the features have it."""
        return self.find(FeatureKind.RECENCY, FeatureScope.ALL_EVENTS)

    def lead_age(self) -> FeatureSpec | None:
        return self.find(FeatureKind.AGE, FeatureScope.LEAD)

    def window_counts(self, scopes: Iterable[FeatureScope], preferred_days: int) -> dict[str, FeatureSpec]:
        """signal -> its COUNT feature whose window is the preferred one, else the closest to it, for the
        signals of ``scopes`` (e.g. event types and the pooled rare types)."""
        wanted = set(scopes)
        by_signal: dict[str, list[FeatureSpec]] = {}
        for spec in self.specs:
            if spec.kind is FeatureKind.COUNT and spec.scope in wanted and spec.window_days is not None:
                by_signal.setdefault(spec.signal, []).append(spec)
        return {
            signal: min(specs, key=lambda s: (abs(int(s.window_days or 0) - preferred_days), s.window_days))
            for signal, specs in by_signal.items()
        }


def as_catalog(specs: Iterable[FeatureSpec]) -> FeatureCatalog:
    """``specs`` as a ``FeatureCatalog`` (itself if it is one)."""
    return specs if isinstance(specs, FeatureCatalog) else FeatureCatalog(specs)

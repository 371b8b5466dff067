"""What serving knows about the training population: typed statistics with the lookups serving needs.

``ServingStats`` is stored once per model, in ``ModelCard.serving``; ``training.model.serving_stats``
builds it from the training (test-period) snapshots. Each section answers one question about a live
lead without the training data:

- ``Percentiles.of``: where a readiness falls in the training population (0-100);
- ``GradeEdges.grade`` / ``grades``: its grade A-D;
- ``GoneColdRule.is_cold``: whether a lead below the threshold is too inactive to ripen by waiting;
- ``signals``: historical win rates of each business signal, for the evidence half of a reason;
- ``ripe_profile``: the high-intent events ripe leads typically show (counterfactuals);
- ``Ripening.band`` / ``days_to_ripeness``: how long similar leads took to cross the threshold.

All models are frozen and refuse unknown fields, so a card written by another version of leadripe
fails to load with the name of the field, instead of being half-understood.
"""

from __future__ import annotations

import functools
import itertools
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from training.features.matrix import FeatureMatrix


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


_GRADE_LETTERS = np.array(["D", "C", "B", "A"])


@functools.lru_cache(maxsize=16)
def _ranks(n: int) -> np.ndarray:
    """``n`` evenly spaced ranks from 0 to 100 (read-only, shared: built once, not per request)."""
    ranks = np.linspace(0, 100, n)
    ranks.flags.writeable = False
    return ranks


class Percentiles(_Frozen):
    """The 0th..100th percentiles of the training population's readiness (101 values, non-decreasing)."""

    quantiles: list[float]

    @field_validator("quantiles")
    @classmethod
    def _monotone(cls, quantiles: list[float]) -> list[float]:
        if len(quantiles) < 2 or any(b < a for a, b in itertools.pairwise(quantiles)):
            raise ValueError("needs at least two non-decreasing readiness quantiles")
        return quantiles

    @functools.cached_property
    def _curves(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The quantiles, the negated quantiles reversed, and the ranks, as arrays: built once per card,
        not per request (a cached property is not a field: equality and dumps ignore it)."""
        q = np.asarray(self.quantiles, dtype=float)
        return q, np.ascontiguousarray(-q[::-1]), _ranks(len(q))

    def of(self, readiness: np.ndarray) -> np.ndarray:
        """Percentile (0-100, one decimal) of each readiness among the training population."""
        q, negated, ranks = self._curves
        r = np.asarray(readiness, dtype=float)
        # Ties (flat stretches of the quantile curve) get the middle of their rank range, not its start.
        lower = np.interp(r, q, ranks, left=0.0, right=100.0)
        upper = 100.0 - np.interp(-r, negated, ranks, left=0.0, right=100.0)
        # np.round(x, 1) is rint(x * 10) / 10; the ufuncs skip its dispatch (a single lead on the API).
        return np.rint((lower + upper) * 5.0) / 10.0

    def percentile(self, readiness: float) -> float:
        """``of`` for one readiness."""
        return float(self.of(np.array([readiness]))[0])


class GradeEdges(_Frozen):
    """Lower readiness edges of grades A (the handover threshold), B and C; D is everything below C."""

    a: float
    b: float
    c: float

    @model_validator(mode="after")
    def _ordered(self) -> GradeEdges:
        if not self.c <= self.b <= self.a:
            raise ValueError(f"grade edges must satisfy C <= B <= A, got A={self.a}, B={self.b}, C={self.c}")
        return self

    @functools.cached_property
    def _edges(self) -> np.ndarray:
        return np.array([self.c, self.b, self.a])  # built once per card (not a field)

    def grades(self, readiness: np.ndarray) -> np.ndarray:
        """Grade letter (A-D) of each readiness."""
        r = np.asarray(readiness, dtype=float)
        # How many edges (C, B, A: non-decreasing) the readiness reaches; NaN reaches none: D.
        reached = np.searchsorted(self._edges, r, side="right")
        return _GRADE_LETTERS[np.where(np.isnan(r), 0, reached)]

    def grade(self, readiness: float) -> str:
        """``grades`` for one readiness."""
        return str(self.grades(np.array([readiness]))[0])


class InactivityPoint(_Frozen):
    """How often below-threshold snapshots inactive for at least ``min_days_inactive`` days ripened."""

    min_days_inactive: int
    n: int
    ripen_rate: float | None


class GoneColdRule(_Frozen):
    """The inactivity beyond which below-threshold leads rarely ripened (``serving_stats.gone_cold_rule``).

    ``inactivity_feature`` is the features' days since the last engagement; ``fallback_feature`` (the
    lead's age) stands in where a lead never engaged. ``rule`` says it in a sentence either way.
    """

    available: bool
    inactivity_feature: str | None
    min_days_inactive: int | None
    ripen_rate_beyond: float | None
    ripen_rate_below_threshold: float | None
    n_beyond: int
    max_rate: float
    relative_rate: float
    min_support: int
    curve: list[InactivityPoint]
    rule: str
    fallback_feature: str | None

    @model_validator(mode="after")
    def _complete(self) -> GoneColdRule:
        if self.available and (self.min_days_inactive is None or self.inactivity_feature is None):
            raise ValueError("an available gone-cold rule needs min_days_inactive and inactivity_feature")
        return self

    def days_inactive(self, features: FeatureMatrix) -> np.ndarray:
        """Days without engagement per row (the lead's age where it never engaged); NaN if unknown."""
        if self.inactivity_feature is None:
            return np.full(len(features), np.nan)
        return inactivity_days(features, self.inactivity_feature, self.fallback_feature)

    def is_cold(self, days_inactive: np.ndarray) -> np.ndarray:
        """Whether each row is inactive long enough to be gone cold (False where the rule is unavailable
        or the inactivity unknown; the caller applies it below the threshold only)."""
        if not self.available or self.min_days_inactive is None:
            return np.zeros(len(days_inactive), dtype=bool)
        with np.errstate(invalid="ignore"):
            return np.asarray(days_inactive >= float(self.min_days_inactive))


def inactivity_days(features: pd.DataFrame | FeatureMatrix, feature: str, fallback: str | None) -> np.ndarray:
    """Days without engagement per row: ``feature`` (days since the last event), or where the lead never
    engaged, ``fallback`` (its age: inactive since creation). NaN where neither is known."""
    days = np.asarray(features[feature], dtype=float)
    if fallback is not None and fallback in features:
        days = np.where(np.isnan(days), np.asarray(features[fallback], dtype=float), days)
    return days


class EventSignalStats(_Frozen):
    """Win rate of snapshots with vs without an event of the signal in its recent window."""

    kind: Literal["event_type"] = "event_type"
    feature: str
    window_days: int | None
    n_with: int
    win_rate_with: float | None
    win_rate_without: float | None
    lift: float | None
    overall_win_rate: float


class LevelStats(_Frozen):
    n: int
    win_rate: float
    lift: float | None


class CategoricalSignalStats(_Frozen):
    """Win rate per level of a categorical profile field."""

    kind: Literal["categorical"] = "categorical"
    feature: str
    overall_win_rate: float
    levels: dict[str, LevelStats]

    def level(self, value: str) -> LevelStats | None:
        return self.levels.get(value)


class NumericBin(_Frozen):
    lower: float
    upper: float
    n: int
    win_rate: float
    lift: float | None


class NumericSignalStats(_Frozen):
    """Win rate per quartile of a numeric field (right-closed bins, the first one closed on both ends)."""

    kind: Literal["numeric"] = "numeric"
    feature: str
    overall_win_rate: float
    bins: list[NumericBin]

    def bin_of(self, value: float) -> NumericBin | None:
        """The first bin holding ``value``, or None."""
        return next((b for b in self.bins if b.lower <= value <= b.upper), None)


SignalStats = Annotated[
    EventSignalStats | CategoricalSignalStats | NumericSignalStats, Field(discriminator="kind")
]


class RipeSignal(_Frozen):
    """A high-intent event type that ripe snapshots typically show, and how many of it in the window."""

    signal: str
    event_type: str
    feature: str
    window_days: int
    typical_count: int
    share_of_ripe: float
    lift: float


class RipeningBand(_Frozen):
    """Below-threshold snapshots with readiness in ``[lower, upper)`` and how many later crossed it."""

    lower: float
    upper: float
    n_below: int
    n_ripened: int
    ripen_rate: float | None
    median_days: float | None
    p25_days: float | None
    p75_days: float | None
    estimate_available: bool

    @property
    def estimated_days(self) -> float | None:
        """Median days to the threshold when the band supports an estimate, else None."""
        return self.median_days if self.estimate_available else None


class Ripening(_Frozen):
    """Days to ripeness by score band (``serving_stats.ripening_trajectories``)."""

    min_support: int
    min_ripen_rate: float
    bands: list[RipeningBand]

    def bands_of(self, readiness: np.ndarray) -> list[RipeningBand | None]:
        """The band each readiness falls into, or None."""
        r = np.asarray(readiness, dtype=float)
        if not self.bands:
            return [None] * len(r)
        lower = np.array([band.lower for band in self.bands])
        upper = np.array([band.upper for band in self.bands])
        inside: np.ndarray = (r[:, None] >= lower) & (r[:, None] < upper)
        # The last band that holds the readiness (bands are disjoint when built; later ones win if not).
        last = len(self.bands) - 1 - np.argmax(inside[:, ::-1], axis=1)
        last[~inside.any(axis=1)] = -1
        return [self.bands[k] if k >= 0 else None for k in last.tolist()]

    def band(self, readiness: float) -> RipeningBand | None:
        return self.bands_of(np.array([readiness]))[0]

    def days_to_ripeness(self, readiness: np.ndarray) -> list[float | None]:
        """Median historical days to ripeness per readiness, or None where the data cannot support one."""
        return [None if band is None else band.estimated_days for band in self.bands_of(readiness)]


class ServingStats(_Frozen):
    """Everything serving needs to explain a lead, computed once at training time (module docstring).

    The handover threshold and horizon are not repeated here: the card holds them once.
    """

    n_snapshots: int
    base_win_rate: float
    percentiles: Percentiles
    grades: GradeEdges
    gone_cold: GoneColdRule
    signals: dict[str, SignalStats]
    ripe_profile: list[RipeSignal]
    ripening: Ripening

    def grade(self, readiness: float) -> str:
        """Grade A-D of one readiness."""
        return self.grades.grade(readiness)

    def percentile(self, readiness: float) -> float:
        """Percentile (0-100) of one readiness in the training population."""
        return self.percentiles.percentile(readiness)

    def signal(self, name: str) -> SignalStats | None:
        """Historical statistics of one business signal, if the training data had any."""
        return self.signals.get(name)

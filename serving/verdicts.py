"""The scorer's decision step: both looks at a lead and the verdict, grade and percentile of each row.

``LeadScorer`` (``serving.scorer``) and batch scoring (``serving.batch``) both call ``looks`` and
``decide_rows``, and the verdict itself comes from the pure functions of ``training.model.decision``, so
the API and batch scoring give the same answer for the same lead and ``as_of``.

The gone-cold hysteresis needs the lead's gone-cold state a lookback (7 days) before ``as_of``, carried
over a few looks further back (``GoneCold.earlier_looks``). It is recomputed from the request's own
events, so the API stays stateless: the leads' snapshot arrays are repeated (each copy a lookback
earlier than the one before), go through one feature transform, and the earlier looks are scored without
contributions (only their readiness is needed). Batch scoring defers the earlier looks to the rows whose
verdict depends on them (``EarlierLooks.deferred``): the same values for a fraction of the work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from training.features.matrix import FeatureMatrix
from training.features.snapshot_arrays import NAT_NS, SnapshotArrays
from training.features.transformer import LeadFeatures
from training.model.decision import (
    cold_at_earlier_looks,
    contact_flags,
    decide,
    needs_earlier_look,
    readiness_and_chance,
)
from training.model.decision_policy import DecisionPolicy
from training.model.readiness import ReadinessModel
from training.model.serving_types import ServingStats

_DAY_NS = 86_400 * 10**9


class EarlierLooks:
    """The features of the same leads at each earlier look, ``lookbacks`` (ns, nearest first) before
    ``as_of``; read only for the rows whose verdict depends on them (``of_rows``).

    Either computed with the leads in one transform call (``computed``: the API, whose cost per lead is
    almost all fixed) or deferred (``deferred``: batch scoring, where the earlier looks would cost four
    times the leads' own features and ~5-10% of the rows need them): then each row's looks are computed
    the first time a row is asked for, with those rows' events only, and kept for later calls (``decide``
    runs more than once per batch). A snapshot's features read its own lead's events only, so both ways
    give the same values."""

    def __init__(
        self,
        lookbacks: tuple[int, ...],
        n_rows: int,
        features: FeatureMatrix | None = None,
        transform: Callable[[np.ndarray], FeatureMatrix] | None = None,
    ) -> None:
        self.lookbacks = lookbacks
        self._n_rows = n_rows
        self._features = features
        self._transform = transform
        # Deferred: position in self._features of each (look, row) computed so far; -1: not yet.
        self._position = None if transform is None else np.full((len(lookbacks), n_rows), -1, dtype=np.int64)
        self._readiness: np.ndarray | None = None  # deferred: each (look, row)'s readiness once scored

    @classmethod
    def computed(cls, features: FeatureMatrix, lookbacks: tuple[int, ...], n_rows: int) -> EarlierLooks:
        """Looks already computed for every row: ``features`` holds ``len(lookbacks) * n_rows`` rows,
        nearest look first."""
        return cls(lookbacks, n_rows, features=features)

    @classmethod
    def deferred(
        cls, features: LeadFeatures, arrays: SnapshotArrays, lookbacks: tuple[int, ...]
    ) -> EarlierLooks:
        """Looks of ``arrays``' rows computed on demand (see the class docstring)."""

        def transform(rows: np.ndarray) -> FeatureMatrix:
            return features.transform_arrays(arrays.select(rows).at_earlier_looks(lookbacks))

        return cls(lookbacks, len(arrays), transform=transform)

    def readiness_of_rows(
        self, rows: np.ndarray, features: FeatureMatrix, model: ReadinessModel
    ) -> np.ndarray:
        """The model's readiness of ``of_rows(rows)`` (``features``), flat in the same order. Deferred looks
        keep each row's readiness for later calls (batch scoring decides a chunk three times)."""
        if self._position is None:
            return np.asarray(model.readiness(features), dtype=float)
        if self._readiness is None:
            self._readiness = np.full(self._position.shape, np.nan)
        known = self._readiness[:, rows]
        missing = np.flatnonzero(np.isnan(known[0]))
        if len(missing):
            looks = len(self.lookbacks)
            positions = (np.arange(looks)[:, None] * len(rows) + missing[None, :]).ravel()
            scored = np.asarray(model.readiness(features.take(positions)), dtype=float)
            known[:, missing] = scored.reshape(looks, len(missing))
            self._readiness[:, rows[missing]] = known[:, missing]
        return known.ravel()

    @property
    def rows_computed(self) -> int:
        """How many rows have their looks computed (all of them unless deferred)."""
        return self._n_rows if self._position is None else int((self._position[0] >= 0).sum())

    def of_rows(self, rows: np.ndarray) -> FeatureMatrix:
        """The features of ``rows`` at each look: ``len(lookbacks) * len(rows)`` rows, nearest look first."""
        looks = len(self.lookbacks)
        if self._position is None or self._transform is None:  # computed with the leads, look by look
            assert self._features is not None
            return self._features.take((np.arange(looks)[:, None] * self._n_rows + rows[None, :]).ravel())
        missing = np.unique(rows[self._position[0, rows] < 0])
        if len(missing):
            added = self._transform(missing)
            start = 0 if self._features is None else len(self._features)
            self._position[:, missing] = (
                start + np.arange(looks, dtype=np.int64)[:, None] * len(missing) + np.arange(len(missing))
            )
            self._features = added if self._features is None else self._features.followed_by(added)
        assert self._features is not None
        return self._features.take(self._position[:, rows].ravel())


@dataclass(frozen=True)
class Decisions:
    """The vectorised part of the answers for a batch of scored snapshots, aligned by row: what the API
    answers per lead and batch scoring writes as columns."""

    readiness: np.ndarray  # after the hand-raiser slice calibration (``DecisionPolicy``)
    chance: np.ndarray  # estimated chance of a win within the horizon if handed over now
    handover: np.ndarray  # bool
    verdicts: np.ndarray  # "ripe" / "too_green" / "gone_cold"
    sources: np.ndarray  # "model" / "rule"
    contact_requested: np.ndarray  # bool
    grades: np.ndarray  # "A".."D"
    percentiles: np.ndarray  # 0-100 in the training population
    days_inactive: np.ndarray  # NaN when unknown
    cold_before: np.ndarray | None  # bool per row: cold a lookback earlier; None without hysteresis
    looked_back: np.ndarray | None  # bool per row: cold_before was computed (the verdict depends on it)
    outside_overlap: np.ndarray  # bool: greener than (almost) any lead ever handed over


def lookback_ns(policy: DecisionPolicy) -> tuple[int, ...] | None:
    """How far back each earlier look is (nanoseconds, nearest first), or None when the policy has no
    gone-cold hysteresis."""
    cold = policy.gone_cold
    if not cold.available or cold.readiness_level is None:
        return None  # the band is on the readiness level: without one, the earlier looks change nothing
    step = int(cold.lookback_days * _DAY_NS)
    return tuple(step * k for k in range(1, cold.earlier_looks + 1))


@dataclass(frozen=True)
class Looks:
    """The features of one transform call: the leads at ``as_of``, their earlier looks (None without
    lookbacks) and the extra snapshots asked for (None without)."""

    now: FeatureMatrix
    earlier: EarlierLooks | None
    extra: FeatureMatrix | None


def transform_looks(
    features: LeadFeatures,
    arrays: SnapshotArrays,
    lookbacks: tuple[int, ...] | None,
    extra: SnapshotArrays | None = None,
    *,
    defer_earlier: bool = False,
) -> Looks:
    """The features at ``as_of``, at each earlier look (with lookbacks) and of ``extra`` snapshots (the
    counterfactuals), in one transform call: for a single lead its cost is almost all fixed.
    ``defer_earlier``: the earlier looks are computed later, only for the rows that need them
    (``EarlierLooks.deferred``; batch scoring)."""
    n = len(arrays)
    stack_looks = lookbacks is not None and not defer_earlier
    stacked = arrays.with_earlier_looks(lookbacks) if stack_looks and lookbacks is not None else arrays
    if extra is not None:
        stacked = stacked.followed_by(extra)
    n_earlier = n * len(lookbacks) if stack_looks and lookbacks is not None else 0
    now, earlier_part, rest = features.transform_arrays(stacked).parts(n, n_earlier)
    earlier = None
    if lookbacks is not None:
        earlier = (
            EarlierLooks.deferred(features, arrays, lookbacks)
            if defer_earlier
            else EarlierLooks.computed(earlier_part, lookbacks, n)
        )
    return Looks(now, earlier, None if extra is None else rest)


def cold_earlier(
    policy: DecisionPolicy,
    stats: ServingStats,
    model: ReadinessModel,
    arrays: SnapshotArrays,
    earlier: EarlierLooks,
    rows: np.ndarray,
) -> np.ndarray:
    """Per row of ``rows``: gone cold a lookback before ``as_of``, the state carried over the earlier looks
    (scored for these rows only, readiness without contributions). A lead younger than a look has no
    readiness there (+inf: warm). The hand-raiser rule does not act on them (it speaks about now)."""
    looks = len(earlier.lookbacks)
    features = earlier.of_rows(rows)
    readiness = earlier.readiness_of_rows(rows, features, model).reshape(looks, len(rows))
    days = np.asarray(stats.gone_cold.days_inactive(features), dtype=float).reshape(looks, len(rows))
    offsets = np.asarray(earlier.lookbacks, dtype=np.int64)[:, None]
    created = arrays.created_ns[rows]
    existed = (created == NAT_NS) | (arrays.cutoff_ns[rows] - offsets >= created)
    readiness = np.where(existed, readiness, np.inf)
    days = np.where(existed, days, np.nan)
    return cold_at_earlier_looks(policy, readiness, days)


def decide_rows(
    policy: DecisionPolicy,
    stats: ServingStats,
    arrays: SnapshotArrays,
    features: FeatureMatrix,
    readiness: np.ndarray,
    fit: np.ndarray | None,
    cold_before_of: Callable[[np.ndarray], np.ndarray] | None,
) -> Decisions:
    """Chance, verdict, source, grade, percentile and days inactive of every row (``fit``: fit grades
    A-D, needed only when the hand-raiser rule is on). ``cold_before_of(rows)``: whether those rows were
    gone cold a lookback earlier (``cold_earlier``), asked only for the rows whose verdict depends on it
    (``needs_earlier_look``); None without hysteresis."""
    readiness = np.asarray(readiness, dtype=float)
    days_inactive = stats.gone_cold.days_inactive(features)
    contact = contact_flags(arrays, policy.hand_raisers)
    calibrated = readiness_and_chance(policy, readiness, contact)
    verdicts = decide(
        policy,
        readiness=readiness,
        days_inactive=days_inactive,
        contact=contact,
        fit=fit,
        calibrated=calibrated,
    )
    cold_before = looked_back = None
    if cold_before_of is not None:
        looked_back = needs_earlier_look(policy, verdicts)
        cold_before = np.zeros(len(readiness), dtype=bool)
        if looked_back.any():  # only these verdicts can change: decide again with the earlier state
            cold_before[looked_back] = cold_before_of(np.flatnonzero(looked_back))
            verdicts = decide(
                policy,
                readiness=readiness,
                days_inactive=days_inactive,
                contact=contact,
                fit=fit,
                cold_before=cold_before,
                calibrated=calibrated,
            )
    # From here on the readiness is the answer's: after the hand-raiser slice calibration.
    readiness = verdicts.readiness
    edges = policy.grade_edges
    grades = edges.grades(verdicts.chance) if edges is not None else stats.grades.grades(readiness)
    return Decisions(
        readiness=readiness,
        chance=verdicts.chance,
        handover=verdicts.handover,
        verdicts=verdicts.verdict,
        sources=verdicts.source,
        contact_requested=verdicts.contact_requested,
        grades=grades,
        percentiles=stats.percentiles.of(readiness),
        days_inactive=days_inactive,
        cold_before=cold_before,
        looked_back=looked_back,
        outside_overlap=policy.estimate.outside_overlap(readiness),
    )

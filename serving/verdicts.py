"""The scorer's decision step: both looks at a lead and the verdict, grade and percentile of each row.

``LeadScorer`` (``serving.scorer``) and batch scoring (``serving.batch``) both call ``looks`` and
``decide_rows``, and the verdict itself comes from the pure functions of ``training.model.decision``, so
the API and batch scoring give the same answer for the same lead and ``as_of``.

The gone-cold hysteresis needs the lead's gone-cold state a lookback (7 days) before ``as_of``, carried
over a few looks further back (``GoneCold.earlier_looks``). It is recomputed from the request's own
events, so the API stays stateless: the leads' snapshot arrays are repeated (each copy a lookback
earlier than the one before), go through one feature transform, and the earlier looks are scored without
contributions (only their readiness is needed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from training.features.matrix import FeatureMatrix
from training.features.snapshot_arrays import NAT_NS, SnapshotArrays
from training.features.transformer import LeadFeatures
from training.model.decision import cold_at_earlier_looks, contact_flags, decide
from training.model.decision_policy import DecisionPolicy
from training.model.readiness import ReadinessModel
from training.model.serving_types import ServingStats

_DAY_NS = 86_400 * 10**9


@dataclass(frozen=True)
class EarlierLook:
    """The same leads a lookback before ``as_of``: readiness (+inf where the lead did not exist yet, so
    it is never under a level then), days inactive (NaN there), and whether each was gone cold then (the
    state carried over the earlier looks, ``training.model.decision.carried_cold``)."""

    readiness: np.ndarray
    days_inactive: np.ndarray
    cold: np.ndarray


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
    outside_overlap: np.ndarray  # bool: greener than (almost) any lead ever handed over


def lookback_ns(policy: DecisionPolicy) -> tuple[int, ...] | None:
    """How far back each earlier look is (nanoseconds, nearest first), or None when the policy has no
    gone-cold hysteresis."""
    cold = policy.gone_cold
    if not cold.available or cold.readiness_level is None:
        return None  # the band is on the readiness level: without one, the earlier looks change nothing
    step = int(cold.lookback_days * _DAY_NS)
    return tuple(step * k for k in range(1, cold.earlier_looks + 1))


def transform_looks(
    features: LeadFeatures, arrays: SnapshotArrays, lookbacks: tuple[int, ...] | None
) -> tuple[FeatureMatrix, FeatureMatrix | None]:
    """The features at ``as_of`` and, with lookbacks, at each earlier look (stacked, nearest look first):
    one transform call."""
    if lookbacks is None:
        return features.transform_arrays(arrays), None
    every = features.transform_arrays(arrays.with_earlier_looks(lookbacks))
    return every.split(len(arrays))


def earlier_look(
    policy: DecisionPolicy,
    stats: ServingStats,
    model: ReadinessModel,
    arrays: SnapshotArrays,
    earlier: FeatureMatrix,
    lookbacks: tuple[int, ...],
) -> EarlierLook:
    """Score the earlier looks (readiness only) and carry the gone-cold state to the nearest of them.
    A lead younger than a look has no readiness there (+inf: warm). The hand-raiser rule does not act on
    them (it speaks about now)."""
    n = len(arrays)
    readiness = np.asarray(model.readiness(earlier), dtype=float).reshape(len(lookbacks), n)
    days = np.asarray(stats.gone_cold.days_inactive(earlier), dtype=float).reshape(len(lookbacks), n)
    offsets = np.asarray(lookbacks, dtype=np.int64)[:, None]
    existed = (arrays.created_ns == NAT_NS) | (arrays.cutoff_ns - offsets >= arrays.created_ns)
    readiness = np.where(existed, readiness, np.inf)
    days = np.where(existed, days, np.nan)
    return EarlierLook(
        readiness=readiness[0],
        days_inactive=days[0],
        cold=cold_at_earlier_looks(policy, readiness, days),
    )


def decide_rows(
    policy: DecisionPolicy,
    stats: ServingStats,
    arrays: SnapshotArrays,
    features: FeatureMatrix,
    readiness: np.ndarray,
    fit: np.ndarray | None,
    before: EarlierLook | None,
) -> Decisions:
    """Chance, verdict, source, grade, percentile and days inactive of every row (``fit``: fit grades
    A-D, needed only when the hand-raiser rule is on)."""
    readiness = np.asarray(readiness, dtype=float)
    days_inactive = stats.gone_cold.days_inactive(features)
    contact = contact_flags(arrays, policy.hand_raisers)
    verdicts = decide(
        policy,
        readiness=readiness,
        days_inactive=days_inactive,
        contact=contact,
        fit=fit,
        cold_before=None if before is None else before.cold,
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
        cold_before=None if before is None else before.cold,
        outside_overlap=policy.estimate.outside_overlap(readiness),
    )

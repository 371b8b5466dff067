"""Statistics computed once at training time so that serving can explain a lead without training data.

``build_serving_stats`` returns a ``ServingStats`` (``training.model.serving_types``, with the lookups
serving uses) stored in ``ModelCard.serving``. Its sections:

``percentiles``
    101 quantiles (0, 1, ..., 100 %) of the training population's readiness; a lead's percentile is
    read off them by interpolation.
``grades``
    readiness edges of grades A-D. A: at or above the handover threshold (ripe); B: top quarter of the
    training snapshots below the threshold; C: the next quarter (down to their median); D: the rest.
``gone_cold``
    the inactivity rule, derived from the data. Among training snapshots *below* the threshold, a
    snapshot "ripened" if its lead crossed the threshold at a later snapshot within the horizon or was
    won within the horizon (its label). For each candidate inactivity ``d`` (days since the last
    engagement) we measure the ripening rate of below-threshold snapshots inactive for at least ``d``
    days. The rule's ``min_days_inactive`` is the smallest ``d`` whose ripening rate is below
    ``max_rate`` (absolute) and below ``relative_rate`` times the ripening rate of all below-threshold
    snapshots, with at least ``min_support`` snapshots behind it, and such that every band of inactivity
    beyond ``d`` (between consecutive candidates; bands with ``min_support`` snapshots) ripens below that
    rate as well, so that a long quiet tail cannot hide leads that still ripen. If no ``d`` qualifies
    (or there is no inactivity feature), the rule is unavailable and no lead is called gone cold.
``signals`` (``training.model.signal_stats``)
    per business signal, for plain-language reasons. Event types: win rate of snapshots with vs
    without such an event in the recent window (``lift`` = with / without). Categorical profile
    fields: win rate per level vs overall. Numeric profile fields: win rate per quartile.
``ripe_profile``
    high-intent event types (lift above ``min_lift``) that most ripe snapshots (readiness at or above
    the threshold) show in the recent window, with their typical count there. Serving builds
    counterfactuals from it: "if this lead showed that, its score would be ...".
``ripening`` (``training.model.trajectories``)
    trajectories: for each below-threshold snapshot, the days until its lead's first later snapshot at
    or above the threshold, by score band. Serving estimates days to ripeness from the band's median,
    or says "unknown" when fewer than ``min_support`` leads in the band ever ripened.

Features are found by their ``FeatureSpec`` (``training.features.specs``): an event type's count over
the recent window, the days since the last engagement of any kind, the lead's age, the profile fields.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from training.features.specs import FeatureCatalog, FeatureSpec
from training.model.serving_types import (
    GoneColdRule,
    GradeEdges,
    Percentiles,
    ServingStats,
    inactivity_days,
)
from training.model.signal_stats import event_type_count_columns, ripe_profile, signal_stats, value_features
from training.model.trajectories import ripened_later, ripening_trajectories

#: Candidate inactivity thresholds (days) for the gone-cold rule.
INACTIVITY_GRID = (7, 14, 21, 30, 45, 60, 75, 90, 120, 150, 180, 240, 365)


def build_serving_stats(
    features: pd.DataFrame,
    y: np.ndarray,
    readiness: np.ndarray,
    snapshots: pd.DataFrame,
    specs: Iterable[FeatureSpec],
    threshold: float,
    horizon_days: int,
    *,
    max_rate: float = 0.05,
    relative_rate: float = 0.5,
    min_support: int = 30,
    min_lift: float = 1.2,
    max_ripe_signals: int = 5,
) -> ServingStats:
    """Summarise the training snapshots into what serving needs to explain a lead (see module doc).

    ``features``, ``y``, ``readiness`` and ``snapshots`` (``lead_id``, ``cutoff``) are aligned row by
    row. ``specs`` describe the features (``LeadFeatures.feature_specs()``): the inactivity feature is the
    recency of all events, its fallback for leads that never engaged the lead's age.
    """
    n = len(features)
    if not (len(y) == len(readiness) == len(snapshots) == n):
        raise ValueError(
            f"build_serving_stats: features ({n}), y ({len(y)}), readiness ({len(readiness)}) and "
            f"snapshots ({len(snapshots)}) must have the same number of rows"
        )
    if n == 0:
        raise ValueError("build_serving_stats: no training snapshots")
    y = np.asarray(y, dtype=float)
    readiness = np.asarray(readiness, dtype=float)
    features = features.reset_index(drop=True)
    snapshots = snapshots.reset_index(drop=True)
    catalog = FeatureCatalog(spec for spec in specs if spec.name in features.columns)
    inactivity_spec, age_spec = catalog.inactivity(), catalog.lead_age()
    inactivity = inactivity_spec.name if inactivity_spec is not None else None
    fallback = age_spec.name if inactivity and age_spec is not None else None
    ripened = ripened_later(snapshots, readiness, threshold, horizon_days) | (y > 0)
    cold = gone_cold_rule(
        inactivity_days(features, inactivity, fallback) if inactivity else None,
        readiness,
        threshold,
        ripened,
        inactivity_feature=inactivity,
        fallback_feature=fallback,
        max_rate=max_rate,
        relative_rate=relative_rate,
        min_support=min_support,
    )
    return ServingStats(
        n_snapshots=n,
        base_win_rate=float(y.mean()),
        percentiles=Percentiles(quantiles=readiness_percentiles(readiness)),
        grades=grade_edges(readiness, threshold),
        gone_cold=cold,
        signals=signal_stats(features, y, value_features(catalog), event_type_count_columns(catalog)),
        ripe_profile=ripe_profile(
            features, y, readiness, threshold, catalog, min_lift=min_lift, max_signals=max_ripe_signals
        ),
        ripening=ripening_trajectories(snapshots, readiness, threshold, min_support=min_support),
    )


def readiness_percentiles(readiness: np.ndarray) -> list[float]:
    """The 0th..100th percentiles of the training readiness (101 values, non-decreasing)."""
    return [float(v) for v in np.quantile(np.asarray(readiness, dtype=float), np.linspace(0, 1, 101))]


def grade_edges(readiness: np.ndarray, threshold: float) -> GradeEdges:
    """Lower readiness edges of grades A (the threshold), B and C (D is everything below C)."""
    below = readiness[readiness < threshold]
    if len(below) == 0:
        b_edge, c_edge = threshold, threshold
    else:
        b_edge, c_edge = float(np.quantile(below, 0.75)), float(np.quantile(below, 0.5))
    b = min(b_edge, float(threshold))
    return GradeEdges(a=float(threshold), b=b, c=min(c_edge, b))


def gone_cold_rule(
    inactivity_days: np.ndarray | None,
    readiness: np.ndarray,
    threshold: float,
    ripened: np.ndarray,
    *,
    inactivity_feature: str | None,
    fallback_feature: str | None = None,
    max_rate: float = 0.05,
    relative_rate: float = 0.5,
    min_support: int = 30,
) -> GoneColdRule:
    """Derive the inactivity beyond which below-threshold leads rarely ripened (see module doc)."""
    # Assembled as a dict while the curve is walked, validated into the typed rule at the end.
    rule: dict[str, Any] = {
        "available": False,
        "inactivity_feature": inactivity_feature,
        "min_days_inactive": None,
        "ripen_rate_beyond": None,
        "ripen_rate_below_threshold": None,
        "n_beyond": 0,
        "max_rate": max_rate,
        "relative_rate": relative_rate,
        "min_support": min_support,
        "curve": [],
        "fallback_feature": fallback_feature,
    }
    below = readiness < threshold
    if inactivity_days is None or not below.any():
        rule["rule"] = (
            "No inactivity feature or no snapshot below the threshold: no lead is called gone cold."
        )
        return GoneColdRule.model_validate(rule)
    known = below & ~np.isnan(inactivity_days)
    days = inactivity_days[known]
    ripe = ripened[known].astype(float)
    if not len(days):
        rule["rule"] = (
            "Inactivity is unknown for every snapshot below the threshold: no lead is called gone cold."
        )
        return GoneColdRule.model_validate(rule)
    overall = float(ripe.mean())
    rule["ripen_rate_below_threshold"] = overall
    limit = min(max_rate, relative_rate * overall)
    edges = [*INACTIVITY_GRID, math.inf]
    # Ripening rate within each inactivity band [d_k, d_k+1): a rule "inactive >= d" must hold at every
    # inactivity beyond d, not only on average over a long quiet tail.
    band_rates = []
    for low, high in itertools.pairwise(edges):
        in_band = (days >= low) & (days < high)
        band_rates.append((int(in_band.sum()), float(ripe[in_band].mean()) if in_band.any() else math.nan))
    for k, d in enumerate(INACTIVITY_GRID):
        mask = days >= d
        support = int(mask.sum())
        rate = float(ripe[mask].mean()) if support else math.nan
        rule["curve"].append({"min_days_inactive": d, "n": support, "ripen_rate": _json_float(rate)})
        if rule["available"] or support < min_support or not rate < limit:
            continue
        later_ok = all(n < min_support or r < limit for n, r in band_rates[k:])
        if later_ok:
            rule.update(available=True, min_days_inactive=d, ripen_rate_beyond=rate, n_beyond=support)
    if rule["available"]:
        rule["rule"] = (
            "A lead below the handover threshold with no engagement for at least "
            f"{rule['min_days_inactive']} days is gone cold: of {rule['n_beyond']} such historical snapshots "
            f"only {rule['ripen_rate_beyond']:.1%} crossed the threshold or were won within the horizon, "
            f"against {overall:.1%} of all below-threshold snapshots."
        )
    else:
        rule["rule"] = (
            "No inactivity in the training data made below-threshold leads rarely ripen "
            f"(ripening rate under {limit:.1%} with at least {min_support} snapshots): "
            "no lead is called gone cold."
        )
    return GoneColdRule.model_validate(rule)


def _json_float(value: float) -> float | None:
    """Floats as JSON allows them: NaN/inf become None."""
    return None if value is None or not math.isfinite(value) else float(value)

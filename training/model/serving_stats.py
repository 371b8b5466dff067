"""Statistics computed once at training time so that serving can explain a lead without training data.

``build_serving_stats`` returns a JSON-able dict stored in ``ModelCard.serving``. Its sections:

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
``signals``
    per business signal, for plain-language reasons. Event types: win rate of snapshots with vs
    without such an event in the recent window (``lift`` = with / without). Categorical profile
    fields: win rate per level vs overall. Numeric profile fields: win rate per quartile.
``ripe_profile``
    high-intent event types (lift above ``min_lift``) that most ripe snapshots (readiness at or above
    the threshold) show in the recent window, with their typical count there. Serving builds
    counterfactuals from it: "if this lead showed that, its score would be ...".
``ripening``
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

from training.features.matrix import FeatureMatrix
from training.features.specs import OTHER_EVENT, FeatureCatalog, FeatureKind, FeatureScope, FeatureSpec

#: Candidate inactivity thresholds (days) for the gone-cold rule.
INACTIVITY_GRID = (7, 14, 21, 30, 45, 60, 75, 90, 120, 150, 180, 240, 365)
#: The window (days) that counts as "recent" for an event type, when the features have it.
PREFERRED_WINDOW_DAYS = 30
#: Pools rare event types in ``training.features.transformer``; not an event anybody can add to a lead.
POOLED_EVENT_SIGNAL = OTHER_EVENT


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
) -> dict[str, Any]:
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
    event_windows = event_type_count_columns(catalog)
    inactivity_spec, age_spec = catalog.inactivity(), catalog.lead_age()
    inactivity = inactivity_spec.name if inactivity_spec is not None else None
    ripened_later = _ripened_later(snapshots, readiness, threshold, horizon_days)
    fallback = age_spec.name if inactivity and age_spec is not None else None
    cold = gone_cold_rule(
        inactivity_days(features, inactivity, fallback) if inactivity else None,
        readiness,
        threshold,
        (ripened_later | (y > 0)),
        inactivity_feature=inactivity,
        max_rate=max_rate,
        relative_rate=relative_rate,
        min_support=min_support,
    )
    cold["fallback_feature"] = fallback
    return {
        "threshold": float(threshold),
        "horizon_days": int(horizon_days),
        "n_snapshots": n,
        "base_win_rate": float(y.mean()),
        "percentiles": readiness_percentiles(readiness),
        "grades": grade_edges(readiness, threshold),
        "gone_cold": cold,
        "signals": signal_stats(features, y, value_features(catalog), event_windows),
        "ripe_profile": ripe_profile(
            features, y, readiness, threshold, event_windows, min_lift=min_lift, max_signals=max_ripe_signals
        ),
        "ripening": ripening_trajectories(snapshots, readiness, threshold, min_support=min_support),
    }


def inactivity_days(features: pd.DataFrame | FeatureMatrix, feature: str, fallback: str | None) -> np.ndarray:
    """Days without engagement per row: ``feature`` (days since the last event), or where the lead never
    engaged, ``fallback`` (its age: inactive since creation). NaN where neither is known."""
    days = np.asarray(features[feature], dtype=float)
    if fallback is not None and fallback in features:
        days = np.where(np.isnan(days), np.asarray(features[fallback], dtype=float), days)
    return days


def readiness_percentiles(readiness: np.ndarray) -> list[float]:
    """The 0th..100th percentiles of the training readiness (101 values, non-decreasing)."""
    return [float(v) for v in np.quantile(np.asarray(readiness, dtype=float), np.linspace(0, 1, 101))]


def percentile_of(readiness: np.ndarray, percentiles: list[float]) -> np.ndarray:
    """Percentile (0-100) of each readiness among the training population, by interpolation."""
    q = np.asarray(percentiles, dtype=float)
    ranks = np.linspace(0, 100, len(q))
    # Ties (flat stretches of the quantile curve) get the middle of their rank range, not its start.
    lower = np.interp(readiness, q, ranks, left=0.0, right=100.0)
    upper = 100.0 - np.interp(-np.asarray(readiness, dtype=float), -q[::-1], ranks, left=0.0, right=100.0)
    return np.round((lower + upper) / 2, 1)


def grade_edges(readiness: np.ndarray, threshold: float) -> dict[str, float]:
    """Lower readiness edges of grades A, B, C (D is everything below C)."""
    below = readiness[readiness < threshold]
    if len(below) == 0:
        b_edge, c_edge = threshold, threshold
    else:
        b_edge, c_edge = float(np.quantile(below, 0.75)), float(np.quantile(below, 0.5))
    return {"A": float(threshold), "B": min(b_edge, float(threshold)), "C": min(c_edge, b_edge, threshold)}


def grade_of(readiness: np.ndarray, edges: dict[str, float]) -> np.ndarray:
    """Grade letter (A-D) of each readiness, from ``grade_edges``."""
    r = np.asarray(readiness, dtype=float)
    return np.select([r >= edges["A"], r >= edges["B"], r >= edges["C"]], ["A", "B", "C"], default="D")


def gone_cold_rule(
    inactivity_days: np.ndarray | None,
    readiness: np.ndarray,
    threshold: float,
    ripened: np.ndarray,
    *,
    inactivity_feature: str | None,
    max_rate: float = 0.05,
    relative_rate: float = 0.5,
    min_support: int = 30,
) -> dict[str, Any]:
    """Derive the inactivity beyond which below-threshold leads rarely ripened (see module doc)."""
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
    }
    below = readiness < threshold
    if inactivity_days is None or not below.any():
        rule["rule"] = (
            "No inactivity feature or no snapshot below the threshold: no lead is called gone cold."
        )
        return rule
    known = below & ~np.isnan(inactivity_days)
    days = inactivity_days[known]
    ripe = ripened[known].astype(float)
    if not len(days):
        rule["rule"] = (
            "Inactivity is unknown for every snapshot below the threshold: no lead is called gone cold."
        )
        return rule
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
    return rule


def signal_stats(
    features: pd.DataFrame,
    y: np.ndarray,
    value_specs: dict[str, FeatureSpec],
    event_windows: dict[str, tuple[str, int | None]],
) -> dict[str, dict[str, Any]]:
    """Per business signal: win rates with/without a recent event (``event_windows``: signal -> its
    presence column and window), per level or per quartile (``value_specs``: signal -> its one feature,
    levels for categorical profile fields, quartiles for numbers)."""
    overall = float(np.mean(y))
    stats: dict[str, dict[str, Any]] = {}
    for signal, (column, window) in event_windows.items():
        has = features[column].to_numpy(dtype=float) > 0
        with_rate = float(y[has].mean()) if has.any() else math.nan
        without_rate = float(y[~has].mean()) if (~has).any() else math.nan
        stats[signal] = {
            "kind": "event_type",
            "feature": column,
            "window_days": window,
            "n_with": int(has.sum()),
            "win_rate_with": _json_float(with_rate),
            "win_rate_without": _json_float(without_rate),
            "lift": _json_float(_ratio(with_rate, without_rate)),
            "overall_win_rate": overall,
        }
    for signal, spec in value_specs.items():
        if signal in event_windows:
            continue
        if spec.kind is FeatureKind.PROFILE_CATEGORICAL:
            stats[signal] = _level_stats(spec.name, features[spec.name].astype("string"), y, overall)
        else:
            stats[signal] = _quartile_stats(spec.name, features[spec.name].to_numpy(dtype=float), y, overall)
    return stats


def ripe_profile(
    features: pd.DataFrame,
    y: np.ndarray,
    readiness: np.ndarray,
    threshold: float,
    event_windows: dict[str, tuple[str, int | None]],
    *,
    min_lift: float = 1.2,
    min_share: float = 0.3,
    max_signals: int = 5,
) -> list[dict[str, Any]]:
    """High-intent event types that ripe snapshots typically show, strongest lift first (at most
    ``max_signals``: each becomes a counterfactual that serving scores for every too-green lead)."""
    ripe = readiness >= threshold
    if not ripe.any():
        return []
    profile: list[dict[str, Any]] = []
    for signal, (column, window) in event_windows.items():
        if signal == POOLED_EVENT_SIGNAL:
            continue
        counts = features[column].to_numpy(dtype=float)
        has = counts > 0
        lift = _ratio(
            float(y[has].mean()) if has.any() else math.nan,
            float(y[~has].mean()) if (~has).any() else math.nan,
        )
        ripe_counts = counts[ripe]
        share = float((ripe_counts > 0).mean())
        if not (lift >= min_lift) or share < min_share:
            continue
        profile.append(
            {
                "signal": signal,
                "feature": column,
                "window_days": window,
                # Typical count among ripe snapshots that show the signal at all; at least one event.
                "typical_count": max(1, math.ceil(float(np.median(ripe_counts[ripe_counts > 0])))),
                "share_of_ripe": share,
                "lift": float(lift),
            }
        )
    profile.sort(key=lambda entry: -entry["lift"])
    return profile[:max_signals]


def ripening_trajectories(
    snapshots: pd.DataFrame,
    readiness: np.ndarray,
    threshold: float,
    *,
    min_support: int = 30,
    min_ripen_rate: float = 0.1,
    band_fractions: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0),
) -> dict[str, Any]:
    """Days from a below-threshold snapshot to its lead's first later snapshot above it, by score band.

    Bands are fractions of the threshold (e.g. 0-25 % of it, ..., 75-100 %). A band gives an estimate
    (median days among those that ripened) only when at least ``min_support`` of its snapshots ripened
    later and they are at least ``min_ripen_rate`` of the band: a median over the rare few that ripened
    would promise a typical lead of the band far too much.
    """
    days = _days_to_first_crossing(snapshots, readiness, threshold)
    below = readiness < threshold
    bands = []
    for low, high in itertools.pairwise(band_fractions):
        lower, upper = low * threshold, high * threshold
        in_band = below & (readiness >= lower) & (readiness < upper)
        ripened = days[in_band]
        ripened = ripened[~np.isnan(ripened)]
        band: dict[str, Any] = {
            "lower": float(lower),
            "upper": float(upper),
            "n_below": int(in_band.sum()),
            "n_ripened": len(ripened),
            "ripen_rate": _json_float(len(ripened) / in_band.sum() if in_band.any() else math.nan),
            "median_days": None,
            "p25_days": None,
            "p75_days": None,
            "estimate_available": bool(
                len(ripened) >= min_support and len(ripened) >= min_ripen_rate * max(int(in_band.sum()), 1)
            ),
        }
        if len(ripened):
            p25, median, p75 = np.quantile(ripened, [0.25, 0.5, 0.75])
            band.update(median_days=float(median), p25_days=float(p25), p75_days=float(p75))
        bands.append(band)
    return {"min_support": min_support, "min_ripen_rate": min_ripen_rate, "bands": bands}


def ripening_band_of(readiness: np.ndarray, ripening: dict[str, Any]) -> list[dict[str, Any] | None]:
    """The trajectory band (see ``ripening_trajectories``) each readiness falls into, or None."""
    out: list[dict[str, Any] | None] = [None] * len(readiness)
    r = np.asarray(readiness, dtype=float)
    for band in ripening.get("bands", []):
        for i in np.flatnonzero((r >= band["lower"]) & (r < band["upper"])):
            out[i] = band
    return out


def days_to_ripeness(readiness: np.ndarray, ripening: dict[str, Any]) -> list[float | None]:
    """Median historical days to ripeness for each readiness, or None where the data cannot support one."""
    return [
        band["median_days"] if band is not None and band.get("estimate_available") else None
        for band in ripening_band_of(readiness, ripening)
    ]


# --- helpers -------------------------------------------------------------------------------------


def event_type_count_columns(catalog: FeatureCatalog) -> dict[str, tuple[str, int | None]]:
    """event type (and the pooled rare types) -> (its count feature for the "recent" window, window days):
    the preferred window if the features have it, else the closest one."""
    scopes = (FeatureScope.EVENT_TYPE, FeatureScope.POOLED_EVENTS)
    chosen = catalog.window_counts(scopes, PREFERRED_WINDOW_DAYS)
    return {signal: (spec.name, spec.window_days) for signal, spec in chosen.items()}


def value_features(catalog: FeatureCatalog) -> dict[str, FeatureSpec]:
    """Signals summarised by the values of one feature: each profile field, and the lead's age."""
    return {spec.signal: spec for spec in catalog if spec.is_profile or spec.kind is FeatureKind.AGE}


def _level_stats(column: str, values: pd.Series, y: np.ndarray, overall: float) -> dict[str, Any]:
    frame = pd.DataFrame({"level": values.fillna("(missing)").to_numpy(), "y": y})
    grouped = frame.groupby("level", sort=True)["y"].agg(["size", "mean"])
    levels = {
        str(level): {
            "n": int(row["size"]),
            "win_rate": float(row["mean"]),
            "lift": _json_float(_ratio(row["mean"], overall)),
        }
        for level, row in grouped.iterrows()
    }
    return {"kind": "categorical", "feature": column, "overall_win_rate": overall, "levels": levels}


def _quartile_stats(column: str, values: np.ndarray, y: np.ndarray, overall: float) -> dict[str, Any]:
    known = ~np.isnan(values)
    result: dict[str, Any] = {"kind": "numeric", "feature": column, "overall_win_rate": overall, "bins": []}
    if not known.any():
        return result
    edges = np.unique(np.quantile(values[known], [0, 0.25, 0.5, 0.75, 1.0]))
    # Right-closed bins, the first one including its lower edge.
    positions = np.clip(np.searchsorted(edges, values[known], side="left") - 1, 0, max(len(edges) - 2, 0))
    for b in range(max(len(edges) - 1, 1)):
        mask = positions == b
        if not mask.any():
            continue
        rate = float(y[known][mask].mean())
        result["bins"].append(
            {
                "lower": float(edges[b]),
                "upper": float(edges[min(b + 1, len(edges) - 1)]),
                "n": int(mask.sum()),
                "win_rate": rate,
                "lift": _json_float(_ratio(rate, overall)),
            }
        )
    return result


def _ripened_later(
    snapshots: pd.DataFrame, readiness: np.ndarray, threshold: float, horizon_days: int
) -> np.ndarray:
    """For each snapshot: does its lead have a later snapshot at/above the threshold within the horizon?"""
    days = _days_to_first_crossing(snapshots, readiness, threshold)
    return ~np.isnan(days) & (days <= horizon_days)


def _days_to_first_crossing(snapshots: pd.DataFrame, readiness: np.ndarray, threshold: float) -> np.ndarray:
    """Days from each snapshot to the first later snapshot of the same lead at/above the threshold.

    NaN where the lead never crossed later (or cutoffs are unknown, as in row-order datasets).
    """
    t_days = _as_days(snapshots["cutoff"])
    frame = pd.DataFrame(
        {
            "lead": snapshots["lead_id"].to_numpy(),
            "t": t_days,
            "above_t": np.where(np.asarray(readiness) >= threshold, t_days, np.inf),
            "pos": np.arange(len(snapshots)),
        }
    )
    frame["above_t"] = frame["above_t"].fillna(np.inf)
    frame = frame.sort_values(["lead", "t"], kind="stable")
    # Within each lead (sorted by time): shift up one row so only *later* snapshots count, then take a
    # running minimum from the end backwards.
    later = frame.groupby("lead", sort=False)["above_t"].shift(-1).fillna(np.inf)
    earliest = later.iloc[::-1].groupby(frame["lead"].iloc[::-1], sort=False).cummin().iloc[::-1]
    delta = earliest.to_numpy() - frame["t"].to_numpy()
    delta[~np.isfinite(delta)] = np.nan
    out = np.full(len(snapshots), np.nan)
    out[frame["pos"].to_numpy()] = delta
    return out


def _as_days(values: pd.Series) -> np.ndarray:
    """Timestamps as float days since the epoch, missing as NaN."""
    stamps = pd.to_datetime(values, utc=True)
    out = np.full(len(stamps), np.nan)
    known = stamps.notna().to_numpy()
    out[known] = stamps[known].dt.as_unit("s").astype("int64").to_numpy() / 86_400.0
    return out


def _ratio(a: float, b: float) -> float:
    if b is None or a is None or math.isnan(a) or math.isnan(b) or b <= 0:
        return math.nan
    return float(a / b)


def _json_float(value: float) -> float | None:
    """Floats as JSON allows them: NaN/inf become None."""
    return None if value is None or not math.isfinite(value) else float(value)

"""Per business signal, what it meant historically: win rates with vs without, per level, per quartile.

``signal_stats`` feeds the evidence half of a reason ("leads who had one in the last 30 days were won
2.4x as often") and the report's win-rate table; ``ripe_profile`` lists the high-intent event types
that ripe snapshots typically show, for the counterfactuals. Features are found by their
``FeatureSpec``: an event type's count over the recent window, each profile field, the lead's age.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from training.features.specs import FeatureCatalog, FeatureKind, FeatureScope, FeatureSpec
from training.model.serving_types import (
    CategoricalSignalStats,
    EventSignalStats,
    LevelStats,
    NumericBin,
    NumericSignalStats,
    RipeSignal,
    SignalStats,
)

#: The window (days) that counts as "recent" for an event type, when the features have it.
PREFERRED_WINDOW_DAYS = 30
#: Presence columns of the signals compared with vs without: signal -> (feature, window days or None).
EventWindows = dict[str, tuple[str, int | None]]


def signal_stats(
    features: pd.DataFrame,
    y: np.ndarray,
    value_specs: dict[str, FeatureSpec],
    event_windows: EventWindows,
) -> dict[str, SignalStats]:
    """Per business signal: win rates with/without a recent event (``event_windows``: signal -> its
    presence column and window), per level or per quartile (``value_specs``: signal -> its one feature,
    levels for categorical profile fields, quartiles for numbers)."""
    overall = float(np.mean(y))
    stats: dict[str, SignalStats] = {}
    for signal, (column, window) in event_windows.items():
        has = features[column].to_numpy(dtype=float) > 0
        with_rate = float(y[has].mean()) if has.any() else math.nan
        without_rate = float(y[~has].mean()) if (~has).any() else math.nan
        stats[signal] = EventSignalStats(
            feature=column,
            window_days=window,
            n_with=int(has.sum()),
            win_rate_with=_json_float(with_rate),
            win_rate_without=_json_float(without_rate),
            lift=_json_float(_ratio(with_rate, without_rate)),
            overall_win_rate=overall,
        )
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
    catalog: FeatureCatalog,
    *,
    min_lift: float = 1.2,
    min_share: float = 0.3,
    max_signals: int = 5,
) -> list[RipeSignal]:
    """High-intent event types that ripe snapshots typically show, strongest lift first (at most
    ``max_signals``: each becomes a counterfactual that serving scores for every too-green lead). Only
    real event types qualify (events of them can be added to a lead), never the pooled rare ones."""
    ripe = readiness >= threshold
    if not ripe.any():
        return []
    profile: list[RipeSignal] = []
    for signal, spec in catalog.window_counts([FeatureScope.EVENT_TYPE], PREFERRED_WINDOW_DAYS).items():
        counts = features[spec.name].to_numpy(dtype=float)
        has = counts > 0
        lift = _ratio(
            float(y[has].mean()) if has.any() else math.nan,
            float(y[~has].mean()) if (~has).any() else math.nan,
        )
        ripe_counts = counts[ripe]
        share = float((ripe_counts > 0).mean())
        if not (lift >= min_lift) or share < min_share or spec.event_type is None or spec.window_days is None:
            continue
        profile.append(
            RipeSignal(
                signal=signal,
                event_type=spec.event_type,
                feature=spec.name,
                window_days=spec.window_days,
                # Typical count among ripe snapshots that show the signal at all; at least one event.
                typical_count=max(1, math.ceil(float(np.median(ripe_counts[ripe_counts > 0])))),
                share_of_ripe=share,
                lift=float(lift),
            )
        )
    profile.sort(key=lambda entry: -entry.lift)
    return profile[:max_signals]


def event_type_count_columns(catalog: FeatureCatalog) -> EventWindows:
    """event type (and the pooled rare types) -> (its count feature for the "recent" window, window days):
    the preferred window if the features have it, else the closest one."""
    scopes = (FeatureScope.EVENT_TYPE, FeatureScope.POOLED_EVENTS)
    chosen = catalog.window_counts(scopes, PREFERRED_WINDOW_DAYS)
    return {signal: (spec.name, spec.window_days) for signal, spec in chosen.items()}


def value_features(catalog: FeatureCatalog) -> dict[str, FeatureSpec]:
    """Signals summarised by the values of one feature: each profile field, and the lead's age."""
    return {spec.signal: spec for spec in catalog if spec.is_profile or spec.kind is FeatureKind.AGE}


def _level_stats(column: str, values: pd.Series, y: np.ndarray, overall: float) -> CategoricalSignalStats:
    frame = pd.DataFrame({"level": values.fillna("(missing)").to_numpy(), "y": y})
    grouped = frame.groupby("level", sort=True)["y"].agg(["size", "mean"])
    levels = {
        str(level): LevelStats(
            n=int(row["size"]), win_rate=float(row["mean"]), lift=_json_float(_ratio(row["mean"], overall))
        )
        for level, row in grouped.iterrows()
    }
    return CategoricalSignalStats(feature=column, overall_win_rate=overall, levels=levels)


def _quartile_stats(column: str, values: np.ndarray, y: np.ndarray, overall: float) -> NumericSignalStats:
    known = ~np.isnan(values)
    bins: list[NumericBin] = []
    if known.any():
        edges = np.unique(np.quantile(values[known], [0, 0.25, 0.5, 0.75, 1.0]))
        # Right-closed bins, the first one including its lower edge.
        positions = np.clip(np.searchsorted(edges, values[known], side="left") - 1, 0, max(len(edges) - 2, 0))
        for b in range(max(len(edges) - 1, 1)):
            mask = positions == b
            if not mask.any():
                continue
            rate = float(y[known][mask].mean())
            bins.append(
                NumericBin(
                    lower=float(edges[b]),
                    upper=float(edges[min(b + 1, len(edges) - 1)]),
                    n=int(mask.sum()),
                    win_rate=rate,
                    lift=_json_float(_ratio(rate, overall)),
                )
            )
    return NumericSignalStats(feature=column, overall_win_rate=overall, bins=bins)


def _ratio(a: float, b: float) -> float:
    if b is None or a is None or math.isnan(a) or math.isnan(b) or b <= 0:
        return math.nan
    return float(a / b)


def _json_float(value: float) -> float | None:
    """Floats as JSON allows them: NaN/inf become None."""
    return None if value is None or not math.isfinite(value) else float(value)

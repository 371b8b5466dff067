"""Which business signals drive readiness: grouped permutation and contribution importances.

- ``permutation_importance_by_signal``: the drop in ROC-AUC when all features of one signal are
  shuffled together across snapshots, repeated ``n_repeats`` times (mean and spread).
- ``contribution_importance_by_signal``: the mean absolute summed TreeSHAP contribution of the
  signal's features (log-odds), with a percentile bootstrap interval over snapshots.

Signals and their kinds come from the features' specs (``training.report.signals``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from training.features.specs import FeatureSpec, as_catalog
from training.model.ranking import roc_auc
from training.model.readiness import BASE_VALUE, ReadinessModel
from training.report.signals import group_columns, signal_kinds, signal_label, signals_of


def subsample(n: int, max_rows: int | None, rng: np.random.Generator) -> np.ndarray:
    """Sorted positions of at most ``max_rows`` of ``n`` rows (all of them when ``max_rows`` is None)."""
    if max_rows is None or n <= max_rows:
        return np.arange(n)
    return np.sort(rng.choice(n, size=max_rows, replace=False))


def permutation_importance_by_signal(
    model: ReadinessModel,
    X: pd.DataFrame,
    y: Any,
    specs: Iterable[FeatureSpec],
    *,
    n_repeats: int = 5,
    max_rows: int | None = 4000,
    seed: int = 0,
) -> pd.DataFrame:
    """Drop in ROC-AUC when one signal's features are shuffled together (rows of ``X``, e.g. the test period).

    Uses at most ``max_rows`` snapshots (a random subsample; ``None`` for all). Returns one row per signal
    (``signal``, ``label``, ``kind``, ``n_features``, ``auc_drop`` (mean over repeats), ``auc_drop_std``,
    ``auc_drop_min``, ``auc_drop_max``, ``n_rows``, ``base_auc``), largest drop first.
    """
    if n_repeats < 1:
        raise ValueError(f"n_repeats must be at least 1, got {n_repeats}")
    labels = np.asarray(y).astype(bool)
    if len(labels) != len(X):
        raise ValueError(f"y has {len(labels)} values but X has {len(X)} rows")
    if labels.all() or not labels.any():
        raise ValueError("permutation importance needs won and not-won snapshots in y")
    rng = np.random.default_rng(seed)
    rows = subsample(len(X), max_rows, rng)
    sample, positive = X.iloc[rows].reset_index(drop=True), labels[rows]
    base = roc_auc(positive, model.raw_score(sample))  # AUC is rank-based: the raw margin suffices
    catalog = as_catalog(specs)
    groups = group_columns(sample.columns, catalog)
    kinds = signal_kinds(catalog)
    records = []
    for signal, positions in groups.items():  # a few dozen signals, each scored n_repeats times
        drops = np.empty(n_repeats)
        for repeat in range(n_repeats):
            shuffled = sample.copy()
            order = rng.permutation(len(sample))
            # One permutation for the whole group keeps its features consistent with each other.
            for position in positions:
                shuffled.isetitem(position, sample.iloc[order, position].to_numpy())
            drops[repeat] = base - roc_auc(positive, model.raw_score(shuffled))
        records.append(
            {
                "signal": signal,
                "label": signal_label(signal),
                "kind": kinds.get(signal, "profile"),
                "n_features": len(positions),
                "auc_drop": float(drops.mean()),
                "auc_drop_std": float(drops.std(ddof=1)) if n_repeats > 1 else 0.0,
                "auc_drop_min": float(drops.min()),
                "auc_drop_max": float(drops.max()),
            }
        )
    frame = pd.DataFrame(records).sort_values("auc_drop", ascending=False, kind="stable")
    frame["n_rows"] = len(sample)
    frame["base_auc"] = base
    return frame.reset_index(drop=True)


def contributions_by_signal(contributions: pd.DataFrame, specs: Iterable[FeatureSpec]) -> pd.DataFrame:
    """Per-snapshot contributions summed within each signal (columns: signals; ``base_value`` dropped)."""
    values = contributions.drop(columns=[BASE_VALUE], errors="ignore")
    signals = signals_of(values.columns, as_catalog(specs))
    return values.T.groupby(np.asarray(signals), sort=False).sum().T


def contribution_importance_by_signal(
    contributions: pd.DataFrame,
    specs: Iterable[FeatureSpec],
    *,
    n_bootstrap: int = 200,
    seed: int = 0,
    ci_level: float = 0.95,
) -> pd.DataFrame:
    """Mean |summed contribution| of each signal's features, with a bootstrap interval over snapshots.

    ``contributions`` is ``ReadinessModel.explain(X).frame()`` (log-odds). Returns ``signal``, ``label``,
    ``kind``, ``mean_abs_contribution``, ``ci_low``, ``ci_high``, ``share`` (of the sum over signals),
    ``n_rows``; largest first.
    """
    catalog = as_catalog(specs)
    by_signal = contributions_by_signal(contributions, catalog)
    magnitude = np.abs(by_signal.to_numpy(dtype=np.float64))
    n = magnitude.shape[0]
    if n == 0:
        raise ValueError("contribution importance needs at least one snapshot")
    mean = magnitude.mean(axis=0)
    low = high = np.full_like(mean, np.nan)
    if n_bootstrap > 0:
        rng = np.random.default_rng(seed)
        # Resampling counts per snapshot (one bincount per replicate batch, no loop over rows).
        draws = rng.integers(0, n, size=(n_bootstrap, n))
        counts = np.bincount(
            (draws + (np.arange(n_bootstrap) * n)[:, None]).ravel(), minlength=n_bootstrap * n
        )
        replicates = counts.reshape(n_bootstrap, n).astype(np.float64) @ magnitude / n
        tail = (1.0 - ci_level) / 2.0 * 100.0
        low, high = np.percentile(replicates, [tail, 100.0 - tail], axis=0)
    kinds = signal_kinds(catalog)
    signals = [str(s) for s in by_signal.columns]
    frame = pd.DataFrame(
        {
            "signal": signals,
            "label": [signal_label(s) for s in signals],
            "kind": [kinds.get(s, "profile") for s in signals],
            "mean_abs_contribution": mean,
            "ci_low": low,
            "ci_high": high,
            "share": mean / mean.sum() if mean.sum() > 0 else np.zeros_like(mean),
        }
    )
    frame["n_rows"] = n
    return frame.sort_values("mean_abs_contribution", ascending=False, kind="stable").reset_index(drop=True)


def strongest_feature_per_signal(contributions: pd.DataFrame, specs: Iterable[FeatureSpec]) -> dict[str, str]:
    """signal -> its feature with the largest mean |contribution| (the one worth plotting an effect for)."""
    values = contributions.drop(columns=[BASE_VALUE], errors="ignore").abs().mean()
    catalog = as_catalog(specs)
    best: dict[str, str] = {}
    for feature in values.sort_values(ascending=False, kind="stable").index:
        best.setdefault(catalog.signal_of(str(feature)), str(feature))
    return best

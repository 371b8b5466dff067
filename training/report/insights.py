"""What drives readiness, beyond importances: effects of one feature, ripening over age.

Library functions behind the marketing report (``training.report.build``) and notebook 03. They take a
fitted ``ReadinessModel`` (or a ``ModelBundle``), a feature frame and labels, and return tidy frames;
they log and plot nothing (``training.report.plots`` draws them). Grouped importances live in
``training.report.importance``, win rates in ``training.report.win_rates``, the backtest in
``training.report.backtest``; signals are named by ``training.report.signals``.

- ``partial_dependence``: the average readiness (0-100) when every snapshot gets one value of a feature.
- ``ripening_curves``: average readiness by lead age, for leads later won vs lost.

A snapshot's reasons, as the API gives them: ``serving.snapshot_reasons.explain_snapshots``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from training.data.contract import CREATED_AT, LEAD_ID, STATUS, Outcome
from training.features.snapshots import CUTOFF
from training.model.readiness import ReadinessModel
from training.report.importance import subsample


# ------------------------------------------------------------------------------------------ effects
def partial_dependence(
    model: ReadinessModel,
    X: pd.DataFrame,
    feature: str,
    *,
    grid_size: int = 20,
    max_rows: int | None = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Average readiness (0-100) when every sampled snapshot gets the same value of ``feature``.

    Numeric features: up to ``grid_size`` values between the 2nd and 98th percentile of the known
    values, plus (if the feature is ever missing, e.g. "never had one") a row with ``missing=True``.
    Categorical features: one row per level. Columns ``value``, ``missing``, ``mean_score``, ``share``
    (share of the snapshots with that value or bin: how typical the value is).
    """
    if feature not in X.columns:
        raise ValueError(
            f"partial_dependence: {feature!r} is not a feature; features: {list(X.columns)[:10]}..."
        )
    rng = np.random.default_rng(seed)
    sample = X.iloc[subsample(len(X), max_rows, rng)].reset_index(drop=True)
    column = X[feature]
    categorical = isinstance(column.dtype, pd.CategoricalDtype)
    if categorical:
        counts = column.value_counts(normalize=True)
        values: list[Any] = [level for level in column.cat.categories if counts.get(level, 0) > 0]
        shares = [float(counts[level]) for level in values]
        missing_flags = [False] * len(values)
    else:
        known = column.to_numpy(dtype=np.float64, na_value=np.nan)
        known = known[~np.isnan(known)]
        if known.size == 0:
            values, shares, missing_flags = [], [], []
        else:
            distinct = np.unique(known)
            grid = (
                distinct
                if distinct.size <= grid_size
                else np.unique(np.quantile(known, np.linspace(0.02, 0.98, grid_size)))
            )
            values = [float(v) for v in grid]
            edges = np.r_[-np.inf, (grid[1:] + grid[:-1]) / 2, np.inf]
            shares = list(np.histogram(known, edges)[0] / len(column))
            missing_flags = [False] * len(values)
        missing_share = float(column.isna().mean())
        if missing_share > 0:
            values.append(np.nan)
            shares.append(missing_share)
            missing_flags.append(True)
    if not values:
        return pd.DataFrame(columns=["value", "missing", "mean_score", "share"])
    # All grid points in one frame, one prediction call: len(values) copies of the sample.
    stacked = pd.concat([sample] * len(values), ignore_index=True)
    repeated = np.repeat(np.arange(len(values)), len(sample))
    if categorical:
        levels = pd.Series(np.asarray(values, dtype=object)[repeated])
        stacked[feature] = levels.astype(column.dtype).to_numpy()
    else:
        stacked[feature] = np.asarray(values, dtype=np.float64)[repeated]
    readiness = model.readiness(stacked)
    means = np.bincount(repeated, readiness, minlength=len(values)) / len(sample) * 100.0
    return pd.DataFrame({"value": values, "missing": missing_flags, "mean_score": means, "share": shares})


# ----------------------------------------------------------------------------------------- ripening
def ripening_curves(
    snapshots: pd.DataFrame,
    readiness: Any,
    outcomes: pd.DataFrame,
    *,
    bin_days: int = 7,
    max_age_days: int | None = None,
    min_leads: int = 20,
) -> pd.DataFrame:
    """Average readiness (0-100) by lead age, for leads that were later won vs lost.

    ``snapshots`` (``lead_id``, ``cutoff``, ``created_at``) align with ``readiness``; ``outcomes`` is the
    dataset's outcomes table (open leads are left out). Ages are binned by ``bin_days``; bins with fewer
    than ``min_leads`` snapshots are dropped. Columns: ``outcome`` (won/lost), ``age_days`` (bin start),
    ``mean_score``, ``p25_score``, ``p75_score``, ``n``.
    """
    columns = ["outcome", "age_days", "mean_score", "p25_score", "p75_score", "n"]
    score = np.asarray(readiness, dtype=np.float64) * 100.0
    if len(score) != len(snapshots):
        raise ValueError(f"readiness has {len(score)} values but snapshots has {len(snapshots)} rows")
    if CUTOFF not in snapshots or CREATED_AT not in snapshots or snapshots[CUTOFF].isna().all():
        return pd.DataFrame(columns=columns)
    status = outcomes.set_index(LEAD_ID)[STATUS].astype(str)
    final = snapshots[LEAD_ID].map(status).to_numpy()
    age = (snapshots[CUTOFF] - snapshots[CREATED_AT]).dt.total_seconds().to_numpy() / 86_400.0
    frame = pd.DataFrame({"outcome": final, "age_days": np.floor(age / bin_days) * bin_days, "score": score})
    frame = frame[frame["outcome"].isin([str(Outcome.WON), str(Outcome.LOST)]) & np.isfinite(age)]
    if max_age_days is not None:
        frame = frame[frame["age_days"] <= max_age_days]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    grouped = frame.groupby(["outcome", "age_days"], sort=True)["score"]
    table = grouped.agg(mean_score="mean", n="size").reset_index()
    table["p25_score"] = grouped.quantile(0.25).to_numpy()
    table["p75_score"] = grouped.quantile(0.75).to_numpy()
    return table[table["n"] >= min_leads][columns].reset_index(drop=True)

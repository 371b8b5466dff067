"""The trees of ``ReadinessModel``: the LightGBM classifier it trains, and the refit on every training row.

Early stopping and Platt scaling need leads the trees did not see (the latest ~20%, held out). Once they
have chosen the number of trees and the calibration, the trees are grown again on every training row
with that number of trees, as the linear candidate refits with its chosen L2 strength: the held-out
leads are the latest, the most like the leads scored next, and on small exports with a rising base rate
they hold most of the wins (Olist's last training period: 33 of 43 won snapshots), so trees that never
see them learn from a handful of wins. Measured in bench/bench_models.py (BENCHMARKS.md, Model families).
"""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np


def lightgbm_classifier(params: Any, n_estimators: int) -> lgb.LGBMClassifier:
    """An unfitted LightGBM classifier with a ``ReadinessModel``'s tree parameters and ``n_estimators``."""
    return lgb.LGBMClassifier(
        n_estimators=n_estimators,
        learning_rate=params.learning_rate,
        num_leaves=params.num_leaves,
        min_child_samples=params.min_child_samples,
        max_depth=params.max_depth,
        subsample=params.subsample,
        subsample_freq=params.subsample_freq,
        colsample_bytree=params.colsample_bytree,
        reg_lambda=params.reg_lambda,
        min_data_per_group=params.min_data_per_group,
        cat_smooth=params.cat_smooth,
        random_state=params.random_state,
        n_jobs=params.n_jobs,
        deterministic=True,
        force_row_wise=True,
        verbose=-1,
    )


def generic_feature_names(n_features: int) -> list[str]:
    """``f0, f1, ...``: LightGBM refuses some characters; the real names live in ``feature_names_in_``."""
    return [f"f{i}" for i in range(n_features)]


def refit_on_every_row(
    params: Any,
    matrix: np.ndarray,
    positive: np.ndarray,
    fit_rows: np.ndarray,
    categorical_idx: list[int],
) -> tuple[lgb.Booster, float]:
    """Trees grown on every row of ``matrix`` with ``params.n_iterations_`` trees, and the offset that puts
    the first trees' margins (grown on ``fit_rows``) on the new trees' scale.

    LightGBM starts boosting from the training rows' log-odds. The first trees started from the earlier
    rows' base rate, the refit from all rows': moving Platt's intercept by ``-slope x offset`` keeps the
    calibration fitted on the held-out leads for the trees' own part of the margin.
    """
    refitted = lightgbm_classifier(params, params.n_iterations_)
    refitted.fit(
        matrix,
        positive.astype(np.int8),
        feature_name=generic_feature_names(matrix.shape[1]),
        categorical_feature=categorical_idx or "auto",
    )
    offset = _log_odds(float(positive.mean())) - _log_odds(float(positive[fit_rows].mean()))
    return refitted.booster_, offset


def _log_odds(rate: float) -> float:
    rate = float(np.clip(rate, 1e-12, 1.0 - 1e-12))
    return float(np.log(rate / (1.0 - rate)))

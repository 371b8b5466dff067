"""Early stopping for the readiness model's trees on the held-out (time-latest) leads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import lightgbm as lgb


def stop_when_every_metric_is_stale(patience: int) -> Callable[[Any], None]:
    """Early stopping on the held-out leads that waits for *both* log-loss and ROC-AUC to stop improving
    for ``patience`` rounds, and keeps the later of their best iterations.

    Log-loss alone stops at the first trees when the base rate drifts over time (the held-out leads
    are the latest ones; CRM conversion rates often move), AUC alone peaks early and noisily on a
    stable base rate. Calibration to the base rate is Platt's job afterwards, so the trees only need to
    have finished learning what either metric still rewards.
    """
    best: dict[str, tuple[float, int]] = {}

    def callback(env: Any) -> None:
        for _, metric, value, higher_is_better in env.evaluation_result_list:
            score = value if higher_is_better else -value
            if metric not in best or score > best[metric][0]:
                best[metric] = (score, env.iteration)
        latest_best = max(iteration for _, iteration in best.values())
        if env.iteration - latest_best >= patience:
            raise lgb.callback.EarlyStopException(latest_best, env.evaluation_result_list)

    callback.order = 30  # type: ignore[attr-defined]  # run where LightGBM's own early stopping runs
    return callback

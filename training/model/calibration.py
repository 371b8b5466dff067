"""Platt scaling: a strictly increasing logistic map from a model's raw margin to a calibrated probability.

Used by the readiness model (on the trees' margin) and by the points baseline (on its points).
"""

from __future__ import annotations

import numpy as np

# Keep the calibration strictly increasing even when the margin carries no signal on the calibration slice.
_MIN_PLATT_SLOPE = 1e-6


def _smoothed_targets(y: np.ndarray, fit: str) -> np.ndarray:
    """Platt's smoothed targets: (N+ + 1) / (N+ + 2) for positives, 1 / (N- + 2) for negatives."""
    positive = np.asarray(y).astype(bool)
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"{fit} needs both outcomes, got {n_pos} positive and {n_neg} negative samples")
    return np.where(positive, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))


def fit_platt(raw: np.ndarray, y: np.ndarray, max_iter: int = 100) -> tuple[float, float]:
    """Fit Platt scaling ``p = 1 / (1 + exp(-(slope * raw + intercept)))`` by Newton's method.

    Uses Platt's smoothed targets ((N+ + 1) / (N+ + 2) for positives, 1 / (N- + 2) for negatives) so the
    fit stays finite on perfectly separated data. The slope is forced to be at least a tiny positive
    number, so the mapping is always strictly increasing in ``raw``.
    """
    raw = np.asarray(raw, dtype=np.float64)
    target = _smoothed_targets(y, "Platt calibration")
    # Standardise the margin so that Newton's method is well conditioned whatever its scale.
    centre = float(raw.mean())
    scale = float(raw.std()) or 1.0
    z = (raw - centre) / scale
    mean_target = float(target.mean())
    a, b = 0.0, float(np.log(mean_target / (1.0 - mean_target)))

    def loss(a_: float, b_: float) -> float:
        m = a_ * z + b_
        # log(1 + exp(m)) - target * m, the logistic loss on soft targets, computed stably.
        return float(np.sum(np.logaddexp(0.0, m) - target * m))

    current = loss(a, b)
    for _ in range(max_iter):
        p = 1.0 / (1.0 + np.exp(-(a * z + b)))
        residual = p - target
        gradient = np.array([residual @ z, residual.sum()])
        w = p * (1.0 - p)
        hessian = np.array([[w @ (z * z), w @ z], [w @ z, w.sum()]]) + 1e-9 * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        size = 1.0
        # Backtracking keeps every step a descent step.
        while size > 1e-8:
            a_new, b_new = a - size * step[0], b - size * step[1]
            new = loss(a_new, b_new)
            if new <= current:
                break
            size /= 2.0
        else:
            break
        a, b = a_new, b_new
        done = current - new < 1e-12 * max(1.0, abs(current))
        current = new
        if done:
            break
    slope = a / scale
    intercept = b - slope * centre
    if slope < _MIN_PLATT_SLOPE:
        # No usable ranking signal on this slice: predict its base rate, but keep the mapping increasing.
        slope = _MIN_PLATT_SLOPE
        intercept = float(np.log(mean_target / (1.0 - mean_target))) - slope * centre
    return float(slope), float(intercept)


def platt_ranks(slope: float) -> bool:
    """Whether ``fit_platt`` found a ranking signal: its slope is above the floor it forces otherwise."""
    return slope > _MIN_PLATT_SLOPE


def fit_intercept_shift(raw: np.ndarray, y: np.ndarray, max_iter: int = 100) -> float:
    """The intercept ``b`` of ``p = 1 / (1 + exp(-(raw + b)))`` that fits ``y``: the slope stays 1.

    Recalibration in the large: for a margin that is already a log-odds on its own scale (a logistic
    model's), only its level is moved to the slice's base rate. Platt's smoothed targets as in
    ``fit_platt``; Newton's method in one dimension (the loss is convex in ``b``).
    """
    raw = np.asarray(raw, dtype=np.float64)
    target = _smoothed_targets(y, "An intercept shift")
    mean_target = float(target.mean())
    # Start where the slice's base rate meets the margin's median: close for any scale of the margin.
    b = float(np.log(mean_target / (1.0 - mean_target)) - np.median(raw))
    for _ in range(max_iter):
        p = 1.0 / (1.0 + np.exp(-(raw + b)))
        gradient = float(np.sum(p - target))
        hessian = float(np.sum(p * (1.0 - p))) + 1e-12
        step = gradient / hessian
        b -= float(np.clip(step, -5.0, 5.0))  # bounded steps: Newton may overshoot on a flat loss
        if abs(step) < 1e-10:
            break
    return b


def platt_probability(raw: np.ndarray, slope: float, intercept: float) -> np.ndarray:
    """The Platt mapping of a raw margin to a probability (vectorised, overflow-safe)."""
    margin = slope * np.asarray(raw, dtype=np.float64) + intercept
    return np.exp(-np.logaddexp(0.0, -margin))

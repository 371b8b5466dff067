"""Prior-shift correction: re-weight calibrated probabilities to a new base rate, estimated without labels.

CRM conversion rates drift (a campaign, a season, a new sales team): a model calibrated on a period
that won 6% is mis-calibrated on one that wins 26%, although it ranks just as well. When the classes'
profiles stay the same and only their shares change (label shift), Bayes' rule gives the corrected
probability ``p' = p w1 / (p w1 + (1 - p) w0)`` with ``w1 = pi' / pi`` and ``w0 = (1 - pi') / (1 - pi)``,
and the new base rate ``pi'`` is found from the unlabelled scores alone by expectation-maximisation
(Saerens, Latinne & Decaestecker 2002): start at ``pi``, correct, take the mean corrected probability
as the new ``pi'``, repeat. No outcome of the new period is used.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_EPSILON = 1e-6


def prior_shift_correction(
    proba: Any, train_prior: float, *, max_iter: int = 200, tol: float = 1e-7
) -> tuple[np.ndarray, float]:
    """Corrected probabilities and the estimated new base rate (see the module docstring).

    ``proba``: calibrated probabilities on the new period; ``train_prior``: the base rate the model is
    calibrated to (e.g. its mean probability on its own training period).
    """
    if not 0.0 < train_prior < 1.0:
        raise ValueError(f"train_prior must be strictly between 0 and 1, got {train_prior}")
    p = np.clip(np.asarray(proba, dtype=np.float64), _EPSILON, 1.0 - _EPSILON)
    prior = float(train_prior)
    corrected = p
    for _ in range(max_iter):
        w1, w0 = prior / train_prior, (1.0 - prior) / (1.0 - train_prior)
        corrected = p * w1 / (p * w1 + (1.0 - p) * w0)
        new = float(corrected.mean())
        if abs(new - prior) < tol:
            prior = new
            break
        prior = min(max(new, _EPSILON), 1.0 - _EPSILON)
    return corrected, prior


def base_rates_shifted(train_rate: float, test_rate: float, factor: float = 2.0) -> bool:
    """Whether two base rates differ by more than ``factor`` (either way)."""
    if train_rate <= 0 or test_rate <= 0:
        return train_rate != test_rate
    return max(train_rate / test_rate, test_rate / train_rate) > factor


def shift_note(train_rate: float, y_test: Any, test_proba: Any, train_prior: float) -> str | None:
    """A run note when the test base rate differs from the training one by more than 2x: both rates,
    the calibration error as measured, and after the label-free prior-shift correction."""
    from training.model.evaluation import expected_calibration_error

    positive = np.asarray(y_test).astype(bool)
    test_rate = float(positive.mean()) if positive.size else float("nan")
    if not positive.size or not base_rates_shifted(train_rate, test_rate):
        return None
    corrected, estimated = prior_shift_correction(test_proba, train_prior)
    return (
        f"Base rate shift: {train_rate:.1%} won in training, {test_rate:.1%} in the test period. Calibration "
        f"error {expected_calibration_error(positive, test_proba):.3f} as trained; after a prior-shift "
        f"correction that estimates the new base rate from the unlabelled test scores ({estimated:.1%}), "
        f"{expected_calibration_error(positive, corrected):.3f}. Retrain on recent data, or recalibrate when "
        "the base rate moves."
    )

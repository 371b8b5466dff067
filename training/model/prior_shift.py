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

from dataclasses import dataclass
from typing import Any

import numpy as np

_EPSILON = 1e-6
#: An estimate this close to 0 or 1 is EM running off, not a base rate.
_EDGE = 1e-3


@dataclass(frozen=True)
class PriorShift:
    """The corrected probabilities, the estimated new base rate, and whether EM settled on it.

    ``settled`` is False when EM did not stop moving within its iterations or ran to the edge of
    (0, 1): the scores' distribution moved in a way a change of base rate alone cannot explain (a weak
    ranking, columns that left their training range), and the corrected figures mean nothing.
    """

    corrected: np.ndarray
    estimated: float
    settled: bool


def estimate_prior_shift(
    proba: Any, train_prior: float, *, max_iter: int = 200, tol: float = 1e-7
) -> PriorShift:
    """Saerens et al.'s EM (see the module docstring) with its convergence recorded.

    ``proba``: calibrated probabilities on the new period; ``train_prior``: the base rate the model is
    calibrated to (e.g. its mean probability on its own training period).
    """
    if not 0.0 < train_prior < 1.0:
        raise ValueError(f"train_prior must be strictly between 0 and 1, got {train_prior}")
    p = np.clip(np.asarray(proba, dtype=np.float64), _EPSILON, 1.0 - _EPSILON)
    prior = float(train_prior)
    corrected = p
    converged = False
    for _ in range(max_iter):
        w1, w0 = prior / train_prior, (1.0 - prior) / (1.0 - train_prior)
        corrected = p * w1 / (p * w1 + (1.0 - p) * w0)
        new = float(corrected.mean())
        if abs(new - prior) < tol:
            prior, converged = new, True
            break
        prior = min(max(new, _EPSILON), 1.0 - _EPSILON)
    inside = _EDGE < prior < 1.0 - _EDGE
    return PriorShift(corrected, prior, converged and inside)


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
    shift = estimate_prior_shift(test_proba, train_prior)
    as_trained = expected_calibration_error(positive, test_proba)
    head = (
        f"Base rate shift: {train_rate:.1%} won in training, {test_rate:.1%} in the test period. Calibration "
        f"error {as_trained:.3f} as trained; "
    )
    advice = "Retrain on recent data, or recalibrate when the base rate moves."
    if not shift.settled:
        return (
            head + f"a prior-shift correction that estimates the new base rate from the unlabelled test "
            f"scores did not settle (its estimate reached {shift.estimated:.1%} and kept moving or hit "
            "the edge): the scores moved in a way a change of base rate alone does not explain "
            "(columns outside their training range, or too weak a ranking), so no corrected figure is "
            "given. " + advice
        )
    return (
        head + f"after a prior-shift correction that estimates the new base rate from the unlabelled test "
        f"scores ({shift.estimated:.1%}), {expected_calibration_error(positive, shift.corrected):.3f}. "
        + advice
    )

"""Prior-shift correction recovers a changed base rate from unlabelled scores and restores calibration."""

from __future__ import annotations

import numpy as np
import pytest

from training.model.evaluation import expected_calibration_error
from training.model.prior_shift import (
    base_rates_shifted,
    estimate_prior_shift,
    shift_note,
)


def calibrated_scores(n: int, prior: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Labels with base rate ``prior`` and a score feature whose class profiles never change; the
    probabilities are the exact posterior for a model calibrated at base rate 0.06."""
    y = rng.random(n) < prior
    x = rng.normal(np.where(y, 1.2, 0.0), 1.0)
    likelihood_ratio = np.exp(1.2 * x - 0.72)
    odds = likelihood_ratio * 0.06 / 0.94
    return odds / (1.0 + odds), y


def test_correction_finds_the_new_base_rate_without_labels() -> None:
    rng = np.random.default_rng(0)
    proba, y = calibrated_scores(20_000, prior=0.26, rng=rng)
    before = expected_calibration_error(y, proba)
    shift = estimate_prior_shift(proba, train_prior=0.06)
    corrected, estimated = shift.corrected, shift.estimated
    assert estimated == pytest.approx(0.26, abs=0.02)
    assert expected_calibration_error(y, corrected) < 0.02 < before
    # Ranking is unchanged: the correction is strictly increasing.
    order = np.argsort(proba)
    assert np.all(np.diff(corrected[order]) >= 0)


def test_no_shift_leaves_probabilities_alone() -> None:
    rng = np.random.default_rng(1)
    proba, _ = calibrated_scores(20_000, prior=0.06, rng=rng)
    shift = estimate_prior_shift(proba, train_prior=0.06)
    corrected, estimated = shift.corrected, shift.estimated
    assert estimated == pytest.approx(0.06, abs=0.01)
    assert np.max(np.abs(corrected - proba)) < 0.03


def test_shift_factor() -> None:
    assert base_rates_shifted(0.06, 0.26) and base_rates_shifted(0.3, 0.1)
    assert not base_rates_shifted(0.1, 0.15)
    with pytest.raises(ValueError):
        estimate_prior_shift([0.5], train_prior=0.0)


def test_shift_note_reports_rates_and_corrected_error() -> None:
    rng = np.random.default_rng(2)
    proba, y = calibrated_scores(5_000, prior=0.26, rng=rng)
    note = shift_note(0.06, y, proba, train_prior=0.06)
    assert note is not None and "6.0% won in training" in note and "prior-shift correction" in note
    assert shift_note(0.25, y, proba, train_prior=0.06) is None


def test_em_that_runs_off_gives_no_corrected_figure() -> None:
    """Scores that barely rank (0.3-0.5 for everyone) from a model calibrated at 5%: no base rate
    explains them, EM runs to the edge of (0, 1), and the note says so instead of a corrected error."""
    rng = np.random.default_rng(3)
    proba = rng.uniform(0.3, 0.5, 5_000)
    y = rng.random(5_000) < 0.2
    shift = estimate_prior_shift(proba, train_prior=0.05)
    assert not shift.settled and shift.estimated > 0.99
    note = shift_note(0.05, y, proba, train_prior=0.05)
    assert note is not None and "did not settle" in note and "no corrected figure" in note
    assert "after a prior-shift correction" not in note
    # A shift that a base rate does explain settles.
    calibrated, _ = calibrated_scores(20_000, prior=0.26, rng=rng)
    assert estimate_prior_shift(calibrated, train_prior=0.06).settled

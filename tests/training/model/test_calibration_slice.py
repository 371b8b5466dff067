"""The slice calibration: shrinkage toward no correction with few rows, recovery with many, a no-op when
the slice is empty or too small, and the correction acting on the slice's rows only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.model.calibration_slice import (
    MIN_SLICE_LEADS,
    PRIOR_FLOOR,
    SliceCalibration,
    fit_slice_calibration,
)
from training.model.decision import decide
from training.model.decision_fit import fit_hand_raiser_calibration
from training.model.decision_learn import slice_evidence
from training.model.decision_policy import DecisionPolicy, HandRaisers
from training.model.selection import OutOfFold


def logit(p: np.ndarray | float) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    return np.log(p / (1 - p))


def miscalibrated(n_leads: int, shift: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One row per lead whose true log-odds are the readiness's plus ``shift``."""
    rng = np.random.default_rng(seed)
    readiness = 1 / (1 + np.exp(-rng.normal(-2.0, 1.0, n_leads)))
    truth = 1 / (1 + np.exp(-(logit(readiness) + shift)))
    won = (rng.random(n_leads) < truth).astype(float)
    return readiness, won, np.arange(n_leads).astype(str)


def test_many_rows_recover_the_miscalibration() -> None:
    readiness, won, leads = miscalibrated(20_000, shift=1.0)
    fitted = fit_slice_calibration(readiness, won, leads)
    assert fitted.available
    assert abs(fitted.intercept + (fitted.slope - 1) * 0.0 - 1.0) < 0.15
    assert abs(fitted.slope - 1.0) < 0.1
    corrected = fitted.apply(readiness, np.ones(len(readiness), bool))
    assert abs(corrected.mean() - won.mean()) < 0.1 * won.mean()


def test_few_rows_cannot_produce_a_wild_fit() -> None:
    # 12 leads at a readiness of 5%, 3 of them won: the plain fit would move the slice to 25% (a shift of
    # 1.84 in log-odds); the prior keeps it well short of that.
    readiness = np.full(12, 0.05)
    won = np.array([1, 1, 1] + [0] * 9, dtype=float)
    fitted = fit_slice_calibration(readiness, won, np.arange(12))
    shift = float(logit(fitted.apply(readiness, np.ones(12, bool)))[0] - logit(0.05))
    plain = float(logit(0.25) - logit(0.05))
    assert 0 < shift < 0.75 * plain
    # Almost without a prior the same rows give the plain fit: the shrinkage is the prior's doing.
    loose = fit_slice_calibration(readiness, won, np.arange(12), prior_sd_intercept=100.0)
    assert abs(float(logit(loose.apply(readiness[:1], np.array([True])))[0] - logit(0.05)) - plain) < 0.01
    # Every one of them won (the plain fit runs off to infinity): still a finite, increasing map.
    extreme = fit_slice_calibration(np.linspace(0.01, 0.1, 12), np.ones(12), np.arange(12))
    assert np.isfinite(extreme.intercept) and 0.5 < extreme.slope < 1.5


def test_the_correction_grows_with_the_evidence() -> None:
    shifts = []
    for n in (15, 60, 240, 2_000):
        readiness, won, leads = miscalibrated(n, shift=1.2, seed=n)
        fitted = fit_slice_calibration(readiness, won, leads)
        at = 0.1
        shifts.append(float(logit(fitted.apply(np.array([at]), np.array([True])))[0] - logit(at)))
    assert shifts[0] < shifts[-1]
    assert abs(shifts[-1] - 1.2) < 0.35


def test_the_evidence_counts_leads_not_snapshots() -> None:
    # One lead seen 200 times is one lead: too few to learn from.
    fitted = fit_slice_calibration(np.full(200, 0.05), np.ones(200), np.zeros(200))
    assert not fitted.available and fitted.n_leads == 1 and fitted.n_rows == 200
    assert str(MIN_SLICE_LEADS) in fitted.basis
    readiness = np.array([0.05, 0.3])
    assert np.array_equal(fitted.apply(readiness, np.array([True, True])), readiness)


def test_only_the_slice_rows_move() -> None:
    calibration = SliceCalibration(available=True, intercept=1.0, slope=1.0)
    readiness = np.array([0.1, 0.1, 0.5])
    out = calibration.apply(readiness, np.array([True, False, False]))
    assert out[1] == 0.1 and out[2] == 0.5
    assert out[0] == np.float64(1 / (1 + np.exp(-(1.0 + logit(0.1)))))
    assert np.array_equal(calibration.apply(readiness, np.zeros(3, bool)), readiness)


def test_no_hand_raisers_in_the_data_is_a_no_op_that_says_so() -> None:
    n = 300
    readiness, won, leads = miscalibrated(n, shift=1.0)
    fitted = fit_hand_raiser_calibration(
        readiness, np.zeros(n, bool), won, np.ones(n, bool), leads, HandRaisers(event_types=["demo_request"])
    )
    assert not fitted.available
    assert "no training snapshot has a hand-raising event (demo_request)" in fitted.basis


def test_hand_raiser_calibration_learns_on_held_out_hand_raisers_only() -> None:
    n = 4_000
    readiness, won, leads = miscalibrated(n, shift=1.5)
    contact = np.arange(n) % 2 == 0
    held_out = np.arange(n) % 4 < 2  # half the hand-raisers are held out
    # The rows the trees fitted say the opposite: they must not count.
    won = np.where(held_out, won, 0.0)
    fitted = fit_hand_raiser_calibration(readiness, contact, won, held_out, leads, HandRaisers())
    assert fitted.available and fitted.n_rows == int((contact & held_out).sum())
    assert fitted.intercept > 0.8


def test_fold_scores_add_evidence_where_the_served_model_has_none() -> None:
    # Rows 0-5: 0-1 held out by the served model, 2-5 in a selection fold's validation block (1 and 2
    # in both: the served model's own held-out readiness wins), 6-7 in neither.
    readiness = np.array([0.1, 0.2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    held_out = np.array([True, True, False, False, False, False, False, False])
    folds = OutOfFold(rows=np.array([1, 2, 3, 4, 5]), readiness=np.array([0.9, 0.3, 0.4, 0.5, 0.6]), n_rows=8)
    values, has_evidence, from_folds = slice_evidence(readiness, held_out, folds)
    np.testing.assert_allclose(values, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.0, 0.0])
    assert has_evidence.tolist() == [True] * 6 + [False] * 2
    assert from_folds.tolist() == [False, False, True, True, True, True, False, False]
    # Without fold scores: the held-out rows alone, untouched.
    alone, only_held, none_from_folds = slice_evidence(readiness, held_out, None)
    np.testing.assert_array_equal(alone, readiness)
    assert only_held.tolist() == held_out.tolist() and not none_from_folds.any()
    # Scores of another set of training rows are refused, not attached to the wrong snapshots.
    with pytest.raises(ValueError, match="for 9 training rows, not 8"):
        slice_evidence(readiness, held_out, OutOfFold(folds.rows, folds.readiness, n_rows=9))
    with pytest.raises(ValueError, match="positions in the 5 training rows"):
        OutOfFold(folds.rows, folds.readiness, n_rows=5)


def test_hand_raiser_calibration_counts_and_names_the_fold_scored_rows() -> None:
    n = 4_000
    readiness, won, leads = miscalibrated(n, shift=1.5)
    contact = np.arange(n) % 2 == 0
    held_out = np.arange(n) % 8 < 2
    from_folds = (np.arange(n) % 8 >= 2) & (np.arange(n) % 8 < 4)
    evidence = held_out | from_folds
    # Rows with no out-of-sample readiness say the opposite: they must not count.
    won = np.where(evidence, won, 0.0)
    fitted = fit_hand_raiser_calibration(
        readiness, contact, won, evidence, leads, HandRaisers(), from_folds=from_folds
    )
    assert fitted.available and fitted.n_rows == int((contact & evidence).sum())
    assert fitted.intercept > 0.8
    assert f"Of those snapshots, {int((contact & from_folds).sum())} were scored by" in fitted.basis


def test_decide_applies_the_calibration_to_contact_requests_only() -> None:
    calibration = SliceCalibration(available=True, intercept=2.0, slope=1.0)
    policy = DecisionPolicy(threshold=0.3, hand_raiser_calibration=calibration)
    readiness = np.array([0.1, 0.1])
    verdicts = decide(
        policy,
        readiness=readiness,
        days_inactive=np.full(2, np.nan),
        contact=np.array([True, False]),
        fit=None,
    )
    assert verdicts.readiness[1] == 0.1
    assert verdicts.readiness[0] > 0.4 and verdicts.verdict.tolist() == ["ripe", "too_green"]
    assert verdicts.chance[0] == verdicts.readiness[0]  # no handover correction: chance = readiness
    # The typed card round-trips it.
    again = DecisionPolicy.model_validate_json(policy.model_dump_json())
    assert again.hand_raiser_calibration == calibration
    assert pd.isna(DecisionPolicy(threshold=0.3).hand_raiser_calibration.readiness_before)


def test_a_floor_in_the_slice_is_learnt_where_one_line_cannot_reach() -> None:
    # Hand-raisers that win 8% of the time whatever their readiness, on top of what readiness says.
    rng = np.random.default_rng(3)
    n = 20_000
    readiness = 1 / (1 + np.exp(-rng.normal(-3.0, 1.5, n)))
    won = (rng.random(n) < 0.08 + 0.92 * readiness).astype(float)
    fitted = fit_slice_calibration(readiness, won, np.arange(n).astype(str))
    assert 0.05 < fitted.floor < 0.11
    low = readiness < np.quantile(readiness, 0.2)  # the low end: readiness ~1%, wins ~9%
    corrected = fitted.apply(readiness, np.ones(n, bool))
    assert abs(corrected[low].mean() - won[low].mean()) < 0.2 * won[low].mean()
    assert np.all(np.diff(corrected[np.argsort(readiness)]) >= 0)  # still increasing in readiness


def test_cards_written_before_the_floor_read_as_no_floor() -> None:
    old = SliceCalibration.model_validate({"available": True, "intercept": 0.5, "slope": 0.9})
    assert old.floor == 0.0
    readiness = np.array([0.02, 0.3])
    expected = 1 / (1 + np.exp(-(0.5 + 0.9 * logit(readiness))))
    np.testing.assert_allclose(old.apply(readiness, np.ones(2, bool)), expected, rtol=1e-15)


def test_the_floor_prior_is_centred_on_the_base_rate() -> None:
    # 40 leads, readiness ~1%, no wins at all: little evidence, so the prior decides how high the floor
    # may stay. Centred on a 10% base rate the floor stays well above where a 0.5% one puts it.
    rng = np.random.default_rng(4)
    readiness = 1 / (1 + np.exp(-rng.normal(-4.5, 0.3, 40)))
    won, leads = np.zeros(40), np.arange(40).astype(str)
    common = fit_slice_calibration(readiness, won, leads, floor_prior=0.10)
    rare = fit_slice_calibration(readiness, won, leads, floor_prior=0.005)
    assert common.prior_floor == 0.10 and rare.prior_floor == 0.005
    assert common.floor > 3 * rare.floor
    assert "log-odds around 0.100" in common.basis
    # A base rate of 0 has no log-odds: the centre is bounded, the fit stays finite.
    zero = fit_slice_calibration(readiness, won, leads, floor_prior=0.0)
    assert zero.prior_floor == 1e-4 and np.isfinite([zero.intercept, zero.slope, zero.floor]).all()


def test_hand_raiser_calibration_centres_the_floor_on_the_training_base_rate() -> None:
    readiness, won, leads = miscalibrated(400, shift=0.5)
    contact = np.ones(400, bool)
    fitted = fit_hand_raiser_calibration(
        readiness, contact, won, contact, leads, HandRaisers(), base_rate=0.04
    )
    assert fitted.prior_floor == 0.04
    # Cards written before the centre followed the base rate read with the fixed ~0.7% it had.
    assert SliceCalibration.model_validate({"available": True}).prior_floor == PRIOR_FLOOR

"""The verdict against the simulator's truth, on a small simulation (directional checks, not targets:
the benchmark ``bench/bench_verdicts.py`` measures the issue's targets on larger data)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from training.config import TrainConfig
from training.features.specs import FeatureCatalog
from training.model.decision import GONE_COLD, TOO_GREEN, decide
from training.model.decision_learn import batch_contact, days_inactive, verdicts_with_hysteresis
from training.model.oracle import match_ground_truth
from training.pipeline import MODEL, TrainingOutcome, fit_and_evaluate
from training.simulation.model import JourneyModel
from training.simulation.simulator import LATENT_STATE, P_WIN_IF_HANDED_OVER, SimulationResult, simulate
from training.simulation.truth import crossing_probability


@pytest.fixture(scope="module")
def trained() -> tuple[SimulationResult, TrainingOutcome]:
    result = simulate(2500, seed=11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outcome = fit_and_evaluate(
            result.dataset, TrainConfig(n_bootstrap=10), ground_truth=result.ground_truth
        )
    return result, outcome


def test_the_policy_is_learnt_and_stored_with_the_model(
    trained: tuple[SimulationResult, TrainingOutcome],
) -> None:
    _, outcome = trained
    policy = outcome.bundle.card.decision
    assert policy is not None and policy == outcome.decision
    assert policy.threshold == outcome.bundle.card.threshold_value()
    assert policy.estimate.available and policy.estimate.n_handovers > 0
    cold = policy.gone_cold
    assert cold.available
    # At least two snapshot spacings: one quiet week is no reason to call a lead cold.
    assert cold.min_days_inactive is None or cold.min_days_inactive >= 14
    figures = outcome.bundle.card.metrics["decision"]
    assert 0 < figures["ripe_share"] < 1 and "hand_raiser_below_win_rate" in figures
    # The hand-raiser slice calibration, learnt on out-of-sample training snapshots that asked for
    # contact: held-out leads and the selection folds' validation blocks (the run chose among candidates).
    calibration = policy.hand_raiser_calibration
    assert calibration.available and calibration.n_leads >= 10 and "out-of-sample" in calibration.basis
    assert outcome.selection is not None and outcome.selection.out_of_fold is not None
    assert "were scored by the model-selection folds' models" in calibration.basis
    # The floor's prior is centred on the training snapshots' base rate.
    split = outcome.split
    assert split.train_positives is not None
    assert calibration.prior_floor == pytest.approx(split.train_positives / split.n_train, rel=1e-12)
    assert calibration.slope > 0 and "hand_raiser_below_model_readiness" in figures


def test_ripe_rests_on_the_chance_if_handed_over_now(
    trained: tuple[SimulationResult, TrainingOutcome],
) -> None:
    result, outcome = trained
    truth = match_ground_truth(outcome.test_batch.snapshots, result.ground_truth, P_WIN_IF_HANDED_OVER)
    policy = outcome.decision
    assert policy is not None
    contact = batch_contact(outcome.test_batch, policy)
    chance = policy.estimate.chance(outcome.test_scores[MODEL], contact)
    truly_ripe = truth >= policy.threshold
    assert roc_auc_score(truly_ripe, chance) > 0.9
    called = chance >= policy.threshold
    precision = (called & truly_ripe).sum() / called.sum()
    assert precision > 3 * truly_ripe.mean()


def test_gone_cold_leads_rarely_ripen_and_hysteresis_steadies_verdicts(
    trained: tuple[SimulationResult, TrainingOutcome],
) -> None:
    result, outcome = trained
    policy = outcome.decision
    assert policy is not None
    batch = outcome.test_batch
    pipeline = outcome.bundle.pipeline
    catalog = FeatureCatalog(pipeline[0].feature_specs())
    verdicts, readiness = verdicts_with_hysteresis(policy, pipeline[0], pipeline[-1], batch, catalog)
    days = days_inactive(pipeline[0].transform(batch), catalog)
    assert days is not None
    plain = decide(
        policy, readiness=readiness, days_inactive=days, contact=verdicts.contact_requested, fit=None
    )
    state = match_ground_truth(batch.snapshots, result.ground_truth, LATENT_STATE).astype(int)
    crossing = crossing_probability(JourneyModel(), policy.threshold, policy.horizon_days)[state]
    cold = verdicts.verdict == GONE_COLD
    green = verdicts.verdict == TOO_GREEN
    assert cold.any() and green.any()
    assert crossing[cold].mean() < 0.10
    assert crossing[cold].mean() < crossing[green].mean()

    def switches(verdict: np.ndarray) -> float:
        periodic = ~batch.snapshots["at_handover"].to_numpy()
        frame = pd.DataFrame(
            {"lead": batch.snapshots["lead_id"], "t": batch.snapshots["cutoff"], "v": verdict}
        )
        frame = frame[periodic].sort_values(["lead", "t"])
        same = frame["lead"].to_numpy()[1:] == frame["lead"].to_numpy()[:-1]
        a, b = frame["v"].to_numpy()[:-1][same], frame["v"].to_numpy()[1:][same]
        return float((((a == TOO_GREEN) & (b == GONE_COLD)) | ((a == GONE_COLD) & (b == TOO_GREEN))).mean())

    assert switches(verdicts.verdict) < switches(plain.verdict)

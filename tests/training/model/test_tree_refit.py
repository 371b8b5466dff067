"""The readiness trees are grown again on every training row once early stopping and Platt are done."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.model.blend import BlendedReadinessModel
from training.model.calibration import fit_platt
from training.model.readiness import ReadinessModel

FAST = {"n_estimators": 100, "learning_rate": 0.1, "min_child_samples": 20, "n_jobs": 1, "refit": True}


def late_level_problem(seed: int = 3) -> tuple[pd.DataFrame, np.ndarray, pd.Series, np.ndarray]:
    """Leads over time; the level ``new`` of ``channel`` appears only among the latest leads (the
    held-out slice) and wins far more often than the others, as a new campaign on a small export does."""
    rng = np.random.default_rng(seed)
    n_leads, per_lead = 1500, 2
    lead = np.repeat(np.arange(n_leads), per_lead)
    start = np.repeat(np.arange(n_leads), per_lead)  # lead i starts on day i
    time_key = pd.Series(pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(start, "D"))
    late = start >= int(0.85 * n_leads)
    channel = np.where(late & (rng.random(lead.size) < 0.5), "new", rng.choice(["web", "mail"], lead.size))
    x = rng.normal(size=lead.size)
    logit = -2.0 + 0.8 * x + 2.5 * (channel == "new")
    y = (rng.random(lead.size) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    X = pd.DataFrame({"x": x, "channel": pd.Categorical(channel, categories=["web", "mail", "new"])})
    return X, y, time_key, lead


@pytest.fixture(scope="module")
def problem() -> tuple[pd.DataFrame, np.ndarray, pd.Series, np.ndarray]:
    return late_level_problem()


@pytest.fixture(scope="module")
def models(problem) -> tuple[ReadinessModel, ReadinessModel]:
    """The same trees with and without the refit."""
    X, y, time_key, lead = problem
    refitted = ReadinessModel(**FAST).fit(X, y, time_key=time_key, groups=lead)
    first_only = ReadinessModel(**{**FAST, "refit": False}).fit(X, y, time_key=time_key, groups=lead)
    return refitted, first_only


def test_refitted_trees_learn_from_the_held_out_leads(models) -> None:
    refitted, first_only = models
    channel = pd.Categorical(["new", "web"], categories=["web", "mail", "new"])
    probe = pd.DataFrame({"x": [0.0, 0.0], "channel": channel})
    # Only the held-out (latest) leads show the new channel: trees that never saw them cannot tell it
    # apart; the refitted ones rank it far above the old channel.
    refit_gap = np.diff(refitted.raw_score(probe)[::-1])[0]
    first_gap = np.diff(first_only.raw_score(probe)[::-1])[0]
    assert first_gap == pytest.approx(0.0, abs=0.05)
    assert refit_gap > 1.0
    assert refitted.booster_.num_trees() == refitted.n_iterations_
    assert first_only.held_out_booster_ is None


def test_held_out_readiness_is_the_first_trees_on_the_same_calibration(problem, models) -> None:
    X = problem[0]
    refitted, first_only = models
    # The same first trees and Platt mapping: what is learnt on the held-out leads is unchanged.
    np.testing.assert_allclose(refitted.held_out_readiness(X), first_only.readiness(X), rtol=1e-9)
    np.testing.assert_allclose(first_only.held_out_readiness(X), first_only.readiness(X))
    assert not np.allclose(refitted.readiness(X), first_only.readiness(X))


def test_refit_keeps_the_calibrated_level_of_the_held_out_leads() -> None:
    # The base rate rises over time: the first trees start from the earlier rows' log-odds, the refit
    # from all rows'. With Platt's intercept moved by the difference, a feature without signal still
    # reads the held-out leads' level; without the move it would read higher.
    rng = np.random.default_rng(5)
    n = 3000
    time_key = pd.Series(pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC"))
    late = np.arange(n) >= int(0.8 * n)
    y = (rng.random(n) < np.where(late, 0.5, 0.1)).astype(int)
    X = pd.DataFrame({"x": rng.normal(size=n)})
    model = ReadinessModel(**FAST).fit(X, y, time_key=time_key)
    assert model.held_out_offset_ > 0.3
    assert model.readiness(X).mean() == pytest.approx(0.5, abs=0.07)
    uncorrected = model.calibrate(model.raw_score(X) + model.held_out_offset_)
    assert uncorrected.mean() > model.readiness(X).mean() + 0.05


def test_blend_is_calibrated_on_the_trees_that_did_not_see_the_held_out_leads(problem) -> None:
    X, y, time_key, lead = problem
    blend = BlendedReadinessModel(trees=ReadinessModel(**FAST)).fit(X, y, time_key=time_key, groups=lead)
    _, held_out = blend.held_out_split(len(X), time_key, lead)
    matrix = blend.encoder().encode(X.iloc[held_out])
    expected = fit_platt(blend._held_out_raw_from_matrix(matrix), y[held_out] == 1)
    assert (blend.calibration_slope_, blend.calibration_intercept_) == pytest.approx(expected)
    assert blend.held_out_readiness(X).shape == (len(X),)


def test_refit_is_set_from_the_model_section_of_the_training_config() -> None:
    from training.config import TrainConfig
    from training.model.selection import build_candidate

    assert ReadinessModel().refit is False
    config = TrainConfig.model_validate({"model": {"refit": True}})
    assert config.model.estimator_kwargs() == {"refit": True}
    trees = build_candidate("trees", config.model.estimator_kwargs())
    assert isinstance(trees, ReadinessModel) and trees.refit is True

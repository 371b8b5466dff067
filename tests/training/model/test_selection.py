"""Candidate models (linear, trees, blend) and their selection on rolling time folds."""

from __future__ import annotations

import json
import pickle
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from training.config import SelectionConfig
from training.model.blend import BlendedReadinessModel
from training.model.calibration import fit_platt, platt_probability
from training.model.linear import LinearReadinessModel
from training.model.ranking import roc_auc
from training.model.readiness import BASE_VALUE, ReadinessModel
from training.model.selection import (
    BLEND,
    LINEAR,
    TREES,
    _out_of_fold,
    build_candidate,
    rolling_folds,
    select_model,
    tree_capacity,
)

FAST_TREES: dict[str, Any] = {"n_estimators": 150, "learning_rate": 0.1}


def problem(n: int, seed: int, *, interaction: bool) -> tuple[pd.DataFrame, np.ndarray, pd.Series, pd.Series]:
    """Leads with a numeric, a skewed count with missing values and a categorical; the signal is additive
    (a linear model suffices) or an XOR interaction (only trees can learn it). Rows are in time order."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1, 1, n)
    b = rng.uniform(-1, 1, n)
    visits = rng.poisson(2.0, n).astype(float)
    source = rng.choice(["web", "event", "referral", "rare"], n, p=[0.45, 0.3, 0.245, 0.005])
    signal = 3.0 * np.sign(a) * np.sign(b) if interaction else 1.5 * a + 0.4 * visits
    logit = signal + 1.0 * (source == "referral") - 1.5
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    visits[::17] = np.nan
    X = pd.DataFrame(
        {
            "a": a,
            "b": b,
            "visits": visits,
            "lead_source": pd.Categorical(source, categories=["web", "event", "referral", "rare"]),
        }
    )
    lead = pd.Series([f"lead-{i // 2}" for i in range(n)])  # two snapshots per lead
    time_key = pd.Series(pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(np.arange(n) // 10, "D"))
    return X, y, time_key, lead


def contributions_of(model: ReadinessModel, X: pd.DataFrame) -> pd.DataFrame:
    """Contributions as a frame indexed like ``X`` (one column per feature, then ``base_value``)."""
    return model.explain(X).frame(X.index)


@pytest.fixture(scope="module")
def additive() -> tuple[pd.DataFrame, np.ndarray, pd.Series, pd.Series]:
    return problem(4000, seed=1, interaction=False)


@pytest.mark.parametrize("name", [LINEAR, BLEND])
def test_contributions_are_exact_and_additive(name: str, additive) -> None:
    X, y, time_key, lead = additive
    model = build_candidate(name, FAST_TREES).fit(X, y, time_key=time_key, groups=lead)
    contributions = model.explain(X.iloc[:300]).frame()
    raw = model.raw_score(X.iloc[:300])
    np.testing.assert_allclose(contributions.sum(axis=1), raw, atol=1e-9)
    explanation = model.explain(X.iloc[:300])
    np.testing.assert_allclose(explanation.raw, raw, atol=1e-9)
    np.testing.assert_allclose(explanation.readiness, model.readiness(X.iloc[:300]))
    assert explanation.contributions.shape == (300, X.shape[1])
    assert set(contributions.columns) == {*X.columns, BASE_VALUE}
    assert model.feature_importances_.sum() == pytest.approx(1.0)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.raw_score(X.iloc[:50]), raw[:50])


def test_linear_contribution_is_coefficient_times_distance_from_reference(additive) -> None:
    X, y, time_key, lead = additive
    model = LinearReadinessModel().fit(X, y, time_key=time_key, groups=lead)
    row = X.iloc[[0]].copy()
    moved = row.copy()
    moved["a"] = row["a"] + 0.1  # inside the training range, between the same knots: linear in a
    before, after = contributions_of(model, row), contributions_of(model, moved)
    # Only a's contribution changes, and by exactly the change of the raw score.
    changed = (after - before).abs().drop(columns=["a"]).to_numpy()
    assert np.all(changed < 1e-12)
    assert after["a"].iloc[0] - before["a"].iloc[0] == pytest.approx(
        model.raw_score(moved)[0] - model.raw_score(row)[0]
    )
    # A positive effect is learnt as such, and the reference (training mean) contributes zero on average.
    assert after["a"].iloc[0] > before["a"].iloc[0]
    assert abs(contributions_of(model, X)["a"].mean()) < 1e-9


def test_linear_pools_rare_and_unseen_levels(additive) -> None:
    X, y, time_key, lead = additive
    model = LinearReadinessModel(min_level_count=50).fit(X, y, time_key=time_key, groups=lead)
    rare = X.iloc[[0]].copy()
    rare["lead_source"] = pd.Categorical(["rare"], categories=X["lead_source"].cat.categories)
    unseen = X.iloc[[0]].copy()
    unseen["lead_source"] = pd.Categorical(["podcast"])
    # "rare" has ~20 rows (< 50): pooled; an unseen level lands in the same pool.
    assert contributions_of(model, rare)["lead_source"].iloc[0] == pytest.approx(
        contributions_of(model, unseen)["lead_source"].iloc[0]
    )


def test_linear_model_matches_logistic_quality_on_additive_data(additive) -> None:
    X, y, time_key, lead = additive
    X_test, y_test, _, _ = problem(2000, seed=2, interaction=False)
    linear = LinearReadinessModel().fit(X, y, time_key=time_key, groups=lead)
    trees = ReadinessModel(**FAST_TREES).fit(X, y, time_key=time_key, groups=lead)
    assert roc_auc(y_test, linear.readiness(X_test)) >= roc_auc(y_test, trees.readiness(X_test)) - 0.01
    # Calibrated: the mean readiness is close to the observed win rate.
    assert abs(linear.readiness(X_test).mean() - y_test.mean()) < 0.03


def test_blend_weight_zero_and_one_reproduce_the_components(additive) -> None:
    X, y, time_key, lead = additive
    only_trees = BlendedReadinessModel(trees=ReadinessModel(**FAST_TREES), weight=1.0)
    only_trees.fit(X, y, time_key=time_key, groups=lead)
    trees = only_trees.trees_
    # Weight 1: the blend's margin is an increasing affine map of the trees' margin (same ranking).
    np.testing.assert_allclose(
        np.argsort(only_trees.raw_score(X.iloc[:200]), kind="stable"),
        np.argsort(trees.raw_score(X.iloc[:200]), kind="stable"),
    )


def test_rolling_folds_validate_later_blocks_after_a_gap() -> None:
    time_key = pd.Series(pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(1000), "D"))
    gap = pd.Timedelta(days=90)
    folds = rolling_folds(time_key, gap, folds=3, fold_fraction=0.15)
    assert len(folds) == 3
    previous_end = None
    for train, val in folds:
        assert time_key.iloc[train].max() + gap < time_key.iloc[val].min()
        assert len(val) == pytest.approx(150, abs=2)
        if previous_end is not None:
            assert time_key.iloc[val].min() > previous_end  # blocks roll forward, no overlap
        previous_end = time_key.iloc[val].max()
    # Row order (integer keys, no gap): training rows are all rows before the block.
    positions = pd.Series(np.arange(100))
    train, val = rolling_folds(positions, None, folds=1, fold_fraction=0.2)[0]
    np.testing.assert_array_equal(train, np.arange(80))
    np.testing.assert_array_equal(val, np.arange(80, 100))


def test_simpler_candidate_wins_on_additive_data(additive) -> None:
    X, y, time_key, lead = additive
    settings = SelectionConfig(n_bootstrap=50)
    result = select_model(
        X, y, time_key, lead, pd.Timedelta(days=7), settings, FAST_TREES, elapsed_features=()
    )
    assert result.folds_used == 3
    assert result.chosen == LINEAR, result.reason
    assert {c.challenger for c in result.comparisons} == {TREES, BLEND}
    assert all(not c.replaced for c in result.comparisons)
    assert "not better by more than one SE" in result.reason


def test_trees_win_when_they_are_clearly_better() -> None:
    X, y, time_key, lead = problem(4000, seed=3, interaction=True)
    settings = SelectionConfig(n_bootstrap=50, candidates=(LINEAR, TREES))
    result = select_model(
        X, y, time_key, lead, pd.Timedelta(days=7), settings, FAST_TREES, elapsed_features=()
    )
    assert result.chosen == TREES, result.reason
    (comparison,) = result.comparisons
    assert comparison.replaced and comparison.difference > comparison.standard_error > 0
    assert result.mean_auc(TREES) > result.mean_auc(LINEAR) + 0.1


def test_a_challenger_no_better_than_chance_on_the_folds_does_not_replace() -> None:
    """The pattern flips in the later part of the training period: both candidates rank the folds
    worse than a coin, the trees less badly (they also learned the interaction, which flips less).
    Being better than the linear model by more than one SE is then no evidence for the trees."""
    rng = np.random.default_rng(5)
    n = 3000
    a, b = rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)
    xor = np.sign(a) * np.sign(b)
    late = np.arange(n) >= int(0.55 * n)
    logit = np.where(late, -3.0 * a + 0.3 * xor, 3.0 * a + 3.0 * xor) - 1.0
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    X = pd.DataFrame({"a": a, "b": b})
    lead = pd.Series([f"lead-{i}" for i in range(n)])
    time_key = pd.Series(pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(np.arange(n) // 10, "D"))
    settings = SelectionConfig(n_bootstrap=50, candidates=(LINEAR, TREES))
    result = select_model(
        X, y, time_key, lead, pd.Timedelta(days=7), settings, FAST_TREES, elapsed_features=()
    )
    (comparison,) = result.comparisons
    assert result.mean_auc(TREES) < 0.5
    assert comparison.difference > comparison.standard_error, result.reason
    assert not comparison.above_chance and not comparison.replaced
    assert result.chosen == LINEAR
    assert "no better than chance" in result.reason


def test_out_of_fold_readiness_is_the_chosen_candidates_fold_scores_recalibrated(additive) -> None:
    X, y, time_key, lead = additive
    gap = pd.Timedelta(days=7)
    settings = SelectionConfig(n_bootstrap=20, candidates=(LINEAR, TREES))
    result = select_model(X, y, time_key, lead, gap, settings, FAST_TREES, elapsed_features=())
    out_of_fold = result.out_of_fold
    assert out_of_fold is not None
    folds = rolling_folds(time_key, gap, settings.folds, settings.fold_fraction)
    np.testing.assert_array_equal(out_of_fold.rows, np.unique(np.concatenate([val for _, val in folds])))
    readiness = pd.Series(out_of_fold.readiness, index=out_of_fold.rows)
    assert ((readiness > 0) & (readiness < 1)).all()
    later = np.zeros(len(X), dtype=bool)
    for k, (_, val) in reversed(list(enumerate(folds))):
        # A row at the boundary of two blocks keeps the later fold's readiness; the rest of the block is
        # the chosen candidate's fold score, recalibrated on the block: same ranking, the block's rate.
        own = val[~later[val]]
        block = readiness.loc[own].to_numpy()
        if len(own) == len(val):
            assert roc_auc(y[val], block) == pytest.approx(result.fold_auc[result.chosen][k], abs=1e-12)
        assert block.mean() == pytest.approx(y[own].mean(), abs=0.01)
        later[val] = True
    summary = result.to_dict()
    assert summary["out_of_fold_rows"] == len(out_of_fold.rows) and json.dumps(summary)


def test_a_row_in_two_blocks_keeps_the_later_folds_recalibrated_score() -> None:
    # Two blocks sharing rows 2 and 3 (a time tie at their boundary), each Platt-recalibrated on itself.
    first_scores, second_scores = np.array([-2.0, -1.0, 0.0, 1.0]), np.array([5.0, 6.0, 7.0, 9.0])
    first_y, second_y = np.array([0, 1, 0, 1]), np.array([0, 1, 0, 1])
    first_rows, second_rows = np.array([0, 1, 2, 3]), np.array([2, 3, 4, 5])
    result = _out_of_fold([first_scores, second_scores], [first_y, second_y], [first_rows, second_rows], 6)
    np.testing.assert_array_equal(result.rows, np.arange(6))
    first = platt_probability(first_scores, *fit_platt(first_scores, first_y))
    second = platt_probability(second_scores, *fit_platt(second_scores, second_y))
    np.testing.assert_allclose(result.readiness, np.concatenate([first[:2], second]), rtol=1e-15)
    assert result.n_rows == 6


def test_no_usable_fold_falls_back_to_the_simplest_candidate(additive) -> None:
    X, y, time_key, lead = additive
    settings = SelectionConfig(min_class_per_fold=10_000)
    result = select_model(X, y, time_key, lead, None, settings, FAST_TREES, elapsed_features=())
    assert result.chosen == LINEAR and result.folds_used == 0
    assert "no usable time fold" in result.reason


def test_settings_refuse_unknown_candidates_and_keys() -> None:
    with pytest.raises(ValidationError):
        SelectionConfig.model_validate({"candidates": ["forest"]})
    with pytest.raises(ValidationError):
        SelectionConfig.model_validate({"fold": 3})
    with pytest.raises(ValidationError, match="folds x fold_fraction"):
        SelectionConfig(folds=4, fold_fraction=0.3)
    assert SelectionConfig.model_validate({"candidates": ["trees"]}).candidates == (TREES,)


def test_tree_capacity_grows_with_the_evidence() -> None:
    small = tree_capacity(n_rows=2000, n_positives=80, n_leads=2000)
    large = tree_capacity(n_rows=200_000, n_positives=20_000, n_leads=20_000)
    assert small["num_leaves"] < large["num_leaves"]
    assert small["reg_lambda"] > large["reg_lambda"]

"""Group sums of exact contributions from per-tree tables (``training.model.tree_groups``) equal the
grouped TreeSHAP contributions LightGBM computes row by row."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest

from training.model.tree_groups import DENSE_SPLITS, GroupSums


def _data(n: int, seed: int) -> np.ndarray:
    """Numeric columns with NaNs and exact zeros, and a categorical column (codes 0-5)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    X[rng.random(n) < 0.2, 1] = np.nan
    X[rng.random(n) < 0.3, 2] = 0.0
    X[rng.random(n) < 0.1, 4] = np.nan
    X[:, 5] = rng.integers(0, 6, size=n)
    return X


def _booster(params: dict[str, object], rounds: int = 30) -> lgb.Booster:
    X = _data(3000, 0)
    logit = X[:, 0] + np.nan_to_num(X[:, 1]) * X[:, 3] + (X[:, 2] == 0) + (X[:, 5] % 2) - 0.5
    y = (np.random.default_rng(1).random(len(X)) < 1 / (1 + np.exp(-logit))).astype(int)
    data = lgb.Dataset(X, y, categorical_feature=[5], params={"verbose": -1})
    return lgb.train({"objective": "binary", "verbose": -1, "min_data_in_leaf": 5, **params}, data, rounds)


@pytest.mark.parametrize(
    "params",
    [
        {"num_leaves": 7},  # small trees: dense tables
        {"num_leaves": 40, "max_depth": -1},  # over DENSE_SPLITS splits: tables by dictionary
        {"num_leaves": 7, "zero_as_missing": True},  # missing type "Zero"
        {"num_leaves": 7, "use_missing": False},  # missing type "None": NaN reads as 0
    ],
)
def test_group_sums_equal_grouped_treeshap(params: dict[str, object]) -> None:
    booster = _booster(params)
    assert GroupSums.supports(booster)
    groups = np.array([0, 1, 1, 0, 2, 0])
    sums = GroupSums(booster, booster.current_iteration(), groups, 3)
    # Rows never seen in training: other draws, unseen and negative categories, infinities.
    X = _data(4000, 2)
    X[:50, 5] = 9
    X[50:60, 5] = -1
    X[60:70, 5] = np.nan
    X[70:80, 0] = np.inf
    X[80:90, 3] = -np.inf
    contributions = booster.predict(X, pred_contrib=True)[:, :-1]
    expected = np.column_stack([contributions[:, groups == g].sum(axis=1) for g in range(3)])
    raw = booster.predict(X, raw_score=True)
    for _ in range(2):  # the second call reads the tables the first one filled
        np.testing.assert_allclose(sums.sums(X), expected, rtol=0, atol=1e-12)
        group_sums, summed_raw = sums.sums_and_raw(X)
        np.testing.assert_array_equal(group_sums, sums.sums(X))
        np.testing.assert_allclose(summed_raw, raw, rtol=0, atol=1e-12)  # the trees' output, summed
    if params["num_leaves"] == 40:
        assert any(len(tree.feature) > DENSE_SPLITS for tree in sums._trees)


def test_trees_it_cannot_tabulate_are_refused() -> None:
    assert not GroupSums.supports(_booster({"num_leaves": 7, "linear_tree": True}, rounds=3))
    forest = {"boosting": "rf", "bagging_fraction": 0.5, "bagging_freq": 1, "num_leaves": 7}
    assert not GroupSums.supports(_booster(forest, rounds=3))


def test_filling_tables_leaves_predictions_of_other_threads_alone() -> None:
    """LightGBM keeps a prediction's iteration range in the booster: one-tree predictions on the model's
    own booster made whole-model predictions of other threads use one tree. The tables use a copy."""
    import threading

    booster = _booster({"num_leaves": 7}, rounds=40)
    X = _data(2000, 3)
    expected = booster.predict(X, raw_score=True)
    wrong: list[int] = []
    stop = threading.Event()

    def predict_whole_model() -> None:
        while not stop.is_set():
            if not np.array_equal(booster.predict(X, raw_score=True, num_threads=1), expected):
                wrong.append(1)

    thread = threading.Thread(target=predict_whole_model)
    thread.start()
    try:
        for seed in range(20):  # fresh tables each time: every tree predicted on its own again
            GroupSums(booster, booster.current_iteration(), np.array([0, 1, 1, 0, 1, 0]), 2).sums(
                _data(200, 10 + seed)
            )
    finally:
        stop.set()
        thread.join()
    assert not wrong

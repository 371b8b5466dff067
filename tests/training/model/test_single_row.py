"""LightGBM's single-row fast path gives exactly ``Booster.predict``'s numbers, per thread, after pickling."""

from __future__ import annotations

import pickle
import threading

import numpy as np
import pandas as pd
import pytest

from training.model.readiness import ReadinessModel
from training.model.single_row import MAX_ROWS, SingleRowPredictor


def _problem(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)
    source = rng.choice(["web", "event", "referral"], n)
    a[::17] = np.nan  # missing values take the trees' default branch
    logit = 2.5 * np.sign(a) * np.sign(b) + (source == "referral") - 1.0
    y = (rng.random(n) < 1 / (1 + np.exp(-np.nan_to_num(logit)))).astype(int)
    X = pd.DataFrame(
        {
            "a": a,
            "b": b,
            "noise": rng.normal(size=n),
            "source": pd.Categorical(source, ["web", "event", "referral"]),
        }
    )
    return X, y


@pytest.fixture(scope="module")
def model() -> ReadinessModel:
    X, y = _problem(3000, seed=1)
    return ReadinessModel(n_estimators=300, learning_rate=0.2, early_stopping_rounds=10, n_jobs=1).fit(X, y)


@pytest.fixture(scope="module")
def matrix(model: ReadinessModel) -> np.ndarray:
    X, _ = _problem(40, seed=2)
    return model.encoder().encode(X)


def _slow(model: ReadinessModel, matrix: np.ndarray, **kind: bool) -> np.ndarray:
    return np.asarray(
        model.booster_.predict(matrix, num_iteration=model.n_iterations_, num_threads=1, **kind), dtype=float
    )


def test_the_fast_path_is_there_and_used(model: ReadinessModel) -> None:
    assert isinstance(model._single_row(), SingleRowPredictor)
    assert model._single_row() is model._single_row()  # prepared once


def test_the_fast_path_uses_the_models_iterations(model: ReadinessModel, matrix: np.ndarray) -> None:
    fewer = pickle.loads(pickle.dumps(model))
    fewer.n_iterations_ = 10  # as after early stopping: fewer trees used than the booster holds
    fast = fewer._single_row()
    assert fast is not None
    np.testing.assert_array_equal(fast.raw(matrix[:3]), _slow(fewer, matrix[:3], raw_score=True))
    assert not np.array_equal(fast.raw(matrix[:3]), _slow(model, matrix[:3], raw_score=True))


@pytest.mark.parametrize("rows", [1, 2, MAX_ROWS])
def test_raw_scores_and_contributions_equal_predict_exactly(
    model: ReadinessModel, matrix: np.ndarray, rows: int
) -> None:
    part = matrix[:rows]
    fast = model._single_row()
    assert fast is not None
    np.testing.assert_array_equal(fast.raw(part), _slow(model, part, raw_score=True))
    np.testing.assert_array_equal(fast.contributions(part), _slow(model, part, pred_contrib=True))
    # The model's own calls take the fast path up to MAX_ROWS rows and agree with it.
    np.testing.assert_array_equal(model._raw_from_matrix(part), fast.raw(part))


def test_more_rows_than_the_fast_path_takes_give_the_same_numbers(
    model: ReadinessModel, matrix: np.ndarray
) -> None:
    fast = model._single_row()
    assert fast is not None
    np.testing.assert_array_equal(model._raw_from_matrix(matrix), fast.raw(matrix))
    np.testing.assert_allclose(model._contributions_from_matrix(matrix), fast.contributions(matrix))


def test_threads_each_get_their_own_handle(model: ReadinessModel, matrix: np.ndarray) -> None:
    expected = _slow(model, matrix[:4], pred_contrib=True)
    fast = model._single_row()
    assert fast is not None
    failures: list[str] = []

    def work() -> None:
        for _ in range(200):
            if not np.array_equal(fast.contributions(matrix[:4]), expected):
                failures.append("differs")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(fast._handles) >= 4  # one contributions handle per thread (plus this thread's others)


def test_pickling_drops_the_handles_and_the_copy_rebuilds_them(model: ReadinessModel) -> None:
    one_lead, _ = _problem(1, seed=3)
    model._single_row()
    copy = pickle.loads(pickle.dumps(model))
    assert "_transient_cache" not in copy.__dict__
    np.testing.assert_array_equal(copy.readiness(one_lead), model.readiness(one_lead))
    assert copy._single_row() is not model._single_row()

"""ReadinessModel: calibration, exact contributions, beating baselines, determinism, pipeline use."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin, clone

from training.features.snapshots import SnapshotBatch
from training.model.baselines import LogisticBaseline
from training.model.calibration import fit_intercept_shift
from training.model.fitted_pipeline import build_pipeline, explain
from training.model.ranking import roc_auc
from training.model.readiness import BASE_VALUE, ReadinessModel, fit_platt

FAST: dict[str, Any] = {"n_estimators": 200, "learning_rate": 0.1}


def nonlinear_problem(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """An XOR-like interaction plus a categorical effect: trees can learn it, a linear model cannot."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1, 1, n)
    b = rng.uniform(-1, 1, n)
    source = rng.choice(["web", "event", "referral"], n)
    logit = 3.0 * np.sign(a) * np.sign(b) + 1.0 * (source == "referral") - 1.0
    y = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))
    a[::23] = np.nan  # missing values must be accepted
    X = pd.DataFrame(
        {
            "a": a,
            "b": b,
            "noise": rng.normal(size=n),
            "lead_source": pd.Categorical(source, categories=["web", "event", "referral"]),
        }
    )
    return X, y.astype(int)


@pytest.fixture(scope="module")
def problem() -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame, np.ndarray]:
    X, y = nonlinear_problem(4000, seed=1)
    X_test, y_test = nonlinear_problem(2000, seed=2)
    return X, y, X_test, y_test


@pytest.fixture(scope="module")
def fitted(problem: tuple[pd.DataFrame, np.ndarray, pd.DataFrame, np.ndarray]) -> ReadinessModel:
    X, y, _, _ = problem
    return ReadinessModel(**FAST).fit(X, y)


def test_calibration_is_strictly_increasing_in_raw_score(fitted: ReadinessModel, problem) -> None:
    _, _, X_test, _ = problem
    raw = fitted.raw_score(X_test)
    p = fitted.readiness(X_test)
    order = np.argsort(raw)
    distinct = np.diff(raw[order]) > 0
    assert np.all(np.diff(p[order])[distinct] > 0)
    assert fitted.calibration_slope_ > 0
    grid = np.linspace(-20, 20, 401)
    assert np.all(np.diff(fitted.calibrate(grid)) > 0)


def test_predict_proba_columns_and_readiness_agree(fitted: ReadinessModel, problem) -> None:
    _, _, X_test, _ = problem
    proba = fitted.predict_proba(X_test)
    assert proba.shape == (len(X_test), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(proba[:, 1], fitted.readiness(X_test))
    assert list(fitted.classes_) == [0, 1]


def test_contributions_sum_exactly_to_raw_score(fitted: ReadinessModel, problem) -> None:
    _, _, X_test, _ = problem
    contributions = fitted.explain(X_test).frame()
    assert list(contributions.columns) == ["a", "b", "noise", "lead_source", BASE_VALUE]
    raw = fitted.raw_score(X_test)
    np.testing.assert_allclose(contributions.sum(axis=1).to_numpy(), raw, rtol=1e-9, atol=1e-9)
    # The noise column should matter far less than the two interacting ones.
    mean_abs = contributions.drop(columns=BASE_VALUE).abs().mean()
    assert mean_abs["noise"] < 0.25 * min(mean_abs["a"], mean_abs["b"])


def test_beats_random_and_logistic_baseline_on_nonlinear_problem(fitted: ReadinessModel, problem) -> None:
    X, y, X_test, y_test = problem
    model_auc = roc_auc(y_test, fitted.readiness(X_test))
    logistic_auc = roc_auc(y_test, LogisticBaseline().fit(X, y).predict_proba(X_test)[:, 1])
    random_auc = roc_auc(y_test, np.random.default_rng(0).random(len(y_test)))
    assert model_auc > 0.8
    assert model_auc > random_auc + 0.25
    assert model_auc > logistic_auc + 0.1


def test_calibrated_probabilities_match_observed_rate(fitted: ReadinessModel, problem) -> None:
    _, _, X_test, y_test = problem
    p = fitted.readiness(X_test)
    assert abs(p.mean() - y_test.mean()) < 0.05


def test_deterministic_and_picklable(problem) -> None:
    X, y, X_test, _ = problem
    first = ReadinessModel(**FAST, random_state=3).fit(X, y)
    second = clone(first).fit(X, y)
    np.testing.assert_array_equal(first.raw_score(X_test), second.raw_score(X_test))
    restored = pickle.loads(pickle.dumps(first))
    np.testing.assert_array_equal(restored.readiness(X_test), first.readiness(X_test))


def test_feature_importances_and_names(fitted: ReadinessModel) -> None:
    assert list(fitted.feature_names_in_) == ["a", "b", "noise", "lead_source"]
    assert fitted.feature_importances_.shape == (4,)
    assert fitted.feature_importances_.sum() == pytest.approx(1.0)
    assert fitted.feature_importances_[2] < fitted.feature_importances_[0]


def test_unknown_category_and_column_order_are_handled(fitted: ReadinessModel, problem) -> None:
    _, _, X_test, _ = problem
    shuffled = X_test[["lead_source", "noise", "b", "a"]]
    np.testing.assert_array_equal(fitted.raw_score(shuffled), fitted.raw_score(X_test))
    # A single row with a category never seen in training, given as plain text: scored, not rejected.
    row = X_test.iloc[[0]].copy()
    row["lead_source"] = pd.Categorical(["podcast"])
    assert np.isfinite(fitted.readiness(row)).all()
    same_as_text = X_test.iloc[[1]].astype({"lead_source": object})
    np.testing.assert_array_equal(fitted.raw_score(same_as_text), fitted.raw_score(X_test.iloc[[1]]))


def test_missing_feature_column_names_it(fitted: ReadinessModel, problem) -> None:
    _, _, X_test, _ = problem
    with pytest.raises(ValueError, match="noise"):
        fitted.raw_score(X_test.drop(columns=["noise"]))


def test_calibration_uses_time_later_rows() -> None:
    # The positive rate drifts over time; the calibration slice (latest 20%) sets the probability level.
    rng = np.random.default_rng(5)
    n = 3000
    times = pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC")
    time_key = times[rng.permutation(n)]  # rows arrive in no particular time order
    late = np.asarray(time_key >= times[int(0.8 * n)])
    y = (rng.random(n) < np.where(late, 0.5, 0.1)).astype(int)
    X = pd.DataFrame({"x": rng.normal(size=n)})
    model = ReadinessModel(**FAST).fit(X, y, time_key=time_key)
    assert model.calibration_size_ == pytest.approx(0.2 * n, abs=2)
    assert model.readiness(X).mean() == pytest.approx(0.5, abs=0.07)


def test_group_calibration_holds_out_whole_latest_leads() -> None:
    rng = np.random.default_rng(4)
    n_leads, per_lead = 200, 10
    lead = np.repeat([f"L{i}" for i in range(n_leads)], per_lead)
    created = np.repeat(rng.permutation(n_leads), per_lead)  # day each lead starts
    time_key = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(
        created + np.tile(np.arange(per_lead), n_leads), "D"
    )
    model = ReadinessModel(calibration_fraction=0.2)
    fit_rows, calibration_rows = model._group_slices(lead.size, pd.Series(time_key), lead)
    assert set(lead[fit_rows]).isdisjoint(lead[calibration_rows])
    assert calibration_rows.size == pytest.approx(0.2 * lead.size, abs=per_lead)
    # The held-out leads are the ones that started latest.
    assert created[calibration_rows].min() > created[fit_rows].max()


def test_group_calibration_fits_and_scores(problem) -> None:
    X, y, X_test, y_test = problem
    lead = np.arange(len(X)) // 4
    model = ReadinessModel(**FAST).fit(X, y, groups=lead)
    assert model.calibration_size_ == pytest.approx(0.2 * len(X), abs=4)
    assert roc_auc(y_test, model.readiness(X_test)) > 0.8


def test_single_outcome_in_calibration_slice_is_refused() -> None:
    X = pd.DataFrame({"x": np.arange(200, dtype=float)})
    y = np.r_[np.tile([0, 1], 80), np.zeros(40, dtype=int)]
    with pytest.raises(ValueError, match="calibration slice"):
        ReadinessModel(**FAST).fit(X, y)


def test_fit_platt_recovers_known_mapping() -> None:
    rng = np.random.default_rng(0)
    raw = rng.normal(size=20000)
    y = rng.random(raw.size) < 1.0 / (1.0 + np.exp(-(2.0 * raw - 1.0)))
    slope, intercept = fit_platt(raw, y)
    assert slope == pytest.approx(2.0, rel=0.1)
    assert intercept == pytest.approx(-1.0, abs=0.1)
    # No signal at all: still strictly increasing, centred on the base rate.
    slope, _ = fit_platt(np.zeros(100), np.r_[np.ones(20), np.zeros(80)])
    assert slope > 0


class _FrameFeatures(TransformerMixin, BaseEstimator):
    """Stand-in for LeadFeatures: takes the batch's snapshot columns as the feature frame."""

    def fit(self, batch: SnapshotBatch, y: object = None) -> _FrameFeatures:
        return self

    def transform(self, batch: SnapshotBatch) -> pd.DataFrame:
        return batch.snapshots.drop(columns=["lead_id", "cutoff"])


def test_pipeline_and_explain_run_features_once(problem) -> None:
    X, y, _, _ = problem
    snapshots = X.assign(
        lead_id=[f"L{i}" for i in range(len(X))], cutoff=pd.Timestamp("2024-01-01", tz="UTC")
    )
    batch = SnapshotBatch(snapshots, pd.DataFrame(columns=["lead_id", "occurred_at", "event_type"]))
    pipeline = build_pipeline(_FrameFeatures(), ReadinessModel(**FAST)).fit(batch, y)
    explanation = explain(pipeline, batch.take([0, 1, 2]))
    proba, raw, contributions = explanation.readiness, explanation.raw, explanation.frame()
    model = pipeline[-1]
    np.testing.assert_allclose(proba, pipeline.predict_proba(batch.take([0, 1, 2]))[:, 1])
    np.testing.assert_allclose(raw, model.raw_score(X.iloc[:3]))
    np.testing.assert_allclose(contributions.sum(axis=1).to_numpy(), raw, rtol=1e-9, atol=1e-9)


def test_explanation_arrays_match_its_frame(fitted: ReadinessModel, problem) -> None:
    _, _, X_test, _ = problem
    explanation = fitted.explain(X_test.iloc[:300])
    readiness, raw = explanation.readiness, explanation.raw
    values = np.column_stack([explanation.contributions, explanation.base_value])
    frame = explanation.frame(X_test.index[:300])
    np.testing.assert_allclose(values, frame.to_numpy(), rtol=1e-12, atol=1e-12)
    assert list(frame.index) == list(X_test.index[:300])
    np.testing.assert_allclose(raw, fitted.raw_score(X_test.iloc[:300]), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(readiness, fitted.calibrate(raw))


def test_encoding_follows_column_names_not_positions(fitted: ReadinessModel, problem) -> None:
    _, _, X_test, _ = problem
    part = X_test.iloc[:200]
    shuffled = part[["lead_source", "noise", "b", "a"]].assign(extra=1.0)
    np.testing.assert_array_equal(fitted.raw_score(shuffled), fitted.raw_score(part))
    # Categories in another order than in training still map onto the training codes.
    reordered = part["lead_source"].cat.reorder_categories(["referral", "web", "event"])
    recoded = part.assign(lead_source=reordered)
    np.testing.assert_array_equal(fitted.raw_score(recoded), fitted.raw_score(part))
    with pytest.raises(ValueError, match="lacks 1 column"):
        fitted.raw_score(part.drop(columns="noise"))


def test_refit_and_unpickled_models_do_not_reuse_a_stale_column_layout(problem) -> None:
    X, y, X_test, _ = problem
    model = ReadinessModel(**FAST).fit(X, y)
    model.raw_score(X_test)  # builds the cached layout
    restored = pickle.loads(pickle.dumps(model))
    assert "_layout_cache" not in restored.__dict__  # a cache, not part of the saved model
    np.testing.assert_array_equal(restored.raw_score(X_test), model.raw_score(X_test))
    narrow = X[["lead_source", "a"]]
    model.fit(narrow, y)
    assert model.raw_score(X_test[["lead_source", "a"]]).shape == (len(X_test),)


def test_fit_intercept_shift_moves_only_the_level() -> None:
    rng = np.random.default_rng(1)
    raw = rng.normal(-2.0, 1.0, 20000)
    y = rng.random(raw.size) < 1.0 / (1.0 + np.exp(-(raw + 0.7)))
    assert fit_intercept_shift(raw, y) == pytest.approx(0.7, abs=0.08)
    with pytest.raises(ValueError, match="both outcomes"):
        fit_intercept_shift(raw[:10], np.zeros(10))

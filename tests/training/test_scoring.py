"""score_batch / score_records: the one records -> scores path shared by the API and the pyfunc model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from training.bundle import ModelBundle, ModelCard
from training.data.live_arrays import batch_from_records
from training.scoring import SCORE_COLUMNS, score_batch, score_records

AS_OF = pd.Timestamp("2024-03-01", tz="UTC")


class EventCounts(TransformerMixin, BaseEstimator):
    """Stand-in feature step: events seen before the cutoff, plus the profile schema it was fitted on."""

    def fit(self, batch, y=None):
        self.categorical_columns_ = list(batch.categorical_columns)
        self.numeric_columns_ = list(batch.numeric_columns)
        return self

    def transform(self, batch):
        snapshots = batch.snapshots[["lead_id", "cutoff"]].reset_index(names="row")
        seen = batch.events.merge(snapshots, on="lead_id")
        seen = seen[seen["occurred_at"] < seen["cutoff"]]
        counts = seen.groupby("row").size().reindex(snapshots["row"], fill_value=0)
        return pd.DataFrame({"n_events": counts.to_numpy(dtype=float)})


class StandInModel(LogisticRegression):
    """Stand-in readiness model with ReadinessModel's method names."""

    def raw_score(self, X):
        return self.decision_function(X)

    def calibrate(self, raw):
        return 1.0 / (1.0 + np.exp(-np.asarray(raw)))

    def readiness(self, X):
        return self.predict_proba(X)[:, 1]


def make_records(n: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    records = []
    for i in range(n):
        days_ago = rng.integers(1, 60, size=int(rng.integers(0, 8)))
        events = [
            {"occurred_at": (AS_OF - pd.Timedelta(days=int(d))).isoformat(), "event_type": "email_click"}
            for d in days_ago
        ]
        records.append(
            {
                "lead_id": f"L{i}",
                "as_of": AS_OF.isoformat(),
                "industry": "ab"[i % 2],
                "size": float(i % 5),
                "events": events,
            }
        )
    return records


def make_bundle(threshold: float = 0.5) -> ModelBundle:
    records = make_records(60)
    batch = batch_from_records(
        records, categorical_columns=["industry"], numeric_columns=["size"], default_as_of=AS_OF
    )
    labels = np.array([len(r["events"]) >= 4 for r in records], dtype=int)
    pipeline = Pipeline([("features", EventCounts()), ("model", StandInModel())]).fit(batch, labels)
    return ModelBundle(pipeline, ModelCard(threshold={"value": threshold}))


@pytest.fixture(scope="module")
def bundle() -> ModelBundle:
    return make_bundle()


def test_score_batch_columns_and_values(bundle: ModelBundle) -> None:
    records = make_records(25, seed=1)
    batch = batch_from_records(
        records, categorical_columns=["industry"], numeric_columns=["size"], default_as_of=AS_OF
    )
    scores = score_batch(bundle, batch)

    assert list(scores.columns) == list(SCORE_COLUMNS)
    assert scores["lead_id"].tolist() == [r["lead_id"] for r in records]
    assert (scores["as_of"] == AS_OF).all()
    features = bundle.pipeline[:-1].transform(batch)
    np.testing.assert_allclose(scores["readiness"], bundle.pipeline[-1].readiness(features))
    np.testing.assert_allclose(scores["raw_score"], bundle.pipeline[-1].raw_score(features))
    np.testing.assert_array_equal(scores["score"], np.round(scores["readiness"] * 100, 1))
    assert scores["score"].between(0, 100).all()
    np.testing.assert_array_equal(scores["handover"], scores["readiness"] >= 0.5)
    # The test data must exercise both sides of the threshold, or the handover check above is empty.
    assert scores["handover"].any() and not scores["handover"].all()


def test_handover_follows_the_cards_threshold(bundle: ModelBundle) -> None:
    records = make_records(25, seed=1)
    strict = ModelBundle(bundle.pipeline, ModelCard(threshold={"value": 0.99}))
    lenient = ModelBundle(bundle.pipeline, ModelCard(threshold={"value": 0.01}))
    assert (
        score_records(strict, records)["handover"].sum() < score_records(lenient, records)["handover"].sum()
    )


def test_score_records_accepts_records_and_dataframe_alike(bundle: ModelBundle) -> None:
    records = make_records(15, seed=2)
    from_records = score_records(bundle, records)
    from_frame = score_records(bundle, pd.DataFrame(records))
    pd.testing.assert_frame_equal(from_records, from_frame)


def test_default_as_of_applies_to_records_without_as_of(bundle: ModelBundle) -> None:
    records = make_records(10, seed=3)
    undated = [{key: value for key, value in r.items() if key != "as_of"} for r in records]
    early = AS_OF - pd.Timedelta(days=90)  # before every event: nothing seen yet
    scores = score_records(bundle, undated, default_as_of=early)
    assert (scores["as_of"] == early).all()
    # With no events seen, every lead scores like a lead without engagement.
    assert scores["readiness"].nunique() == 1
    assert score_records(bundle, records)["readiness"].nunique() > 1


def test_missing_threshold_is_a_clear_error(bundle: ModelBundle) -> None:
    no_threshold = ModelBundle(bundle.pipeline, ModelCard(name="lead-maturity", version="7"))
    with pytest.raises(ValueError, match=r"no threshold\['value'\]"):
        score_records(no_threshold, make_records(2))


def test_bad_record_names_the_record(bundle: ModelBundle) -> None:
    records = make_records(3)
    records[1]["as_of"] = "not a date"
    with pytest.raises(ValueError, match="record 1"):
        score_records(bundle, records)

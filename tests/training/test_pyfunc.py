"""The pyfunc model answers exactly like score_records, for in-process calls and the scoring server.

Integration test: a real ``LeadFeatures`` + ``ReadinessModel`` pipeline, fitted on small synthetic
API-style records, logged to a temporary MLflow store and loaded back through the registry alias.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib.metadata import version

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException
from mlflow.pyfunc.scoring_server import invocations

from training.bundle import ModelBundle, ModelCard
from training.data.live import decode_events_column
from training.data.live_arrays import batch_from_records
from training.features.transformer import LeadFeatures
from training.model.fitted_pipeline import build_pipeline
from training.model.readiness import ReadinessModel
from training.pyfunc import log_bundle, pinned_requirements
from training.registry import CHALLENGER, load_bundle, register_candidate
from training.registry.tracking import configure_tracking
from training.scoring import score_records

NAME = "lead-maturity"
URI = f"models:/{NAME}@{CHALLENGER}"
START = pd.Timestamp("2024-01-01", tz="UTC")
EVENT_TYPES = ("email_open", "email_click", "webinar_attended", "pricing_page_view")


def make_records(n: int, seed: int) -> list[dict]:
    """API-style leads whose pricing-page views make them likelier to be labelled ready."""
    rng = np.random.default_rng(seed)
    records = []
    for i in range(n):
        created = START + pd.Timedelta(days=int(rng.integers(0, 60)))
        as_of = created + pd.Timedelta(days=int(rng.integers(5, 90)))
        span_days = (as_of - created).days
        kinds = rng.choice(len(EVENT_TYPES), size=int(rng.integers(0, 12)), p=[0.4, 0.3, 0.15, 0.15])
        events = [
            {
                "occurred_at": (created + pd.Timedelta(days=int(rng.integers(0, span_days)))).isoformat(),
                "event_type": EVENT_TYPES[k],
                "campaign": "spring",  # an extra field the features do not use
            }
            for k in kinds
        ]
        records.append(
            {
                "lead_id": f"lead-{seed}-{i}",
                "as_of": as_of.isoformat(),
                "created_at": created.isoformat(),
                "industry": ("software", "retail", "finance")[i % 3],
                "employees": float(rng.integers(5, 500)),
                "events": events,
            }
        )
    return records


def fit_bundle(records: list[dict]) -> ModelBundle:
    labels = np.array(
        [sum(e["event_type"] == "pricing_page_view" for e in r["events"]) >= 1 for r in records], dtype=int
    )
    batch = batch_from_records(
        records, categorical_columns=["industry"], numeric_columns=["employees"], default_as_of=START
    )
    features = LeadFeatures(min_event_type_count=5, min_category_frequency=5).fit(batch, labels)
    model = ReadinessModel(n_estimators=30, min_child_samples=5, early_stopping_rounds=None, n_jobs=1)
    model.fit(features.transform(batch), labels)
    card = ModelCard(threshold={"value": 0.5}, profile_columns=["industry", "employees"])
    return ModelBundle(build_pipeline(features, model), card)


@pytest.fixture(scope="module")
def bundle() -> ModelBundle:
    return fit_bundle(make_records(240, seed=1))


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, bundle: ModelBundle
) -> Iterator[mlflow.pyfunc.PyFuncModel]:
    root = tmp_path_factory.mktemp("mlflow")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root}/mlflow.db")
        configure_tracking()
        with mlflow.start_run():
            register_candidate(log_bundle(bundle), NAME)
        yield mlflow.pyfunc.load_model(URI)
        mlflow.set_tracking_uri(None)  # MLflow keeps the URI globally; do not leak it into other tests


@pytest.fixture(scope="module")
def records() -> list[dict]:
    rows = make_records(12, seed=7)
    rows[3]["events"] = []  # a brand-new lead
    del rows[4]["created_at"]  # optional field missing
    return rows


def _with_json_events(records: list[dict]) -> list[dict]:
    return [{**r, "events": json.dumps(r["events"])} for r in records]


def test_predict_equals_score_records(served, bundle: ModelBundle, records: list[dict]) -> None:
    expected = score_records(bundle, records)
    assert expected["readiness"].nunique() > 1  # a constant model would make this test meaningless
    assert expected["handover"].any() and not expected["handover"].all()
    pd.testing.assert_frame_equal(served.predict(pd.DataFrame(records)), expected)
    pd.testing.assert_frame_equal(served.predict(pd.DataFrame(_with_json_events(records))), expected)


def test_scoring_server_parses_nested_and_json_string_events(
    served, bundle: ModelBundle, records: list[dict]
) -> None:
    # The request handler behind `mlflow models serve`, called in-process.
    expected = score_records(bundle, records)
    for payload in (records, _with_json_events(records)):
        response = invocations(json.dumps({"dataframe_records": payload}), "application/json", served, None)
        assert response.status == 200, response.response
        predictions = pd.DataFrame(json.loads(response.response)["predictions"])
        assert predictions["lead_id"].tolist() == expected["lead_id"].tolist()
        np.testing.assert_allclose(predictions["readiness"], expected["readiness"])
        assert predictions["handover"].tolist() == expected["handover"].tolist()

    # CSV can only carry events as JSON text.
    csv = pd.DataFrame(_with_json_events(records)).to_csv(index=False)
    response = invocations(csv, "text/csv", served, None)
    assert response.status == 200, response.response
    np.testing.assert_allclose(
        pd.DataFrame(json.loads(response.response)["predictions"])["readiness"], expected["readiness"]
    )


def test_bad_input_is_a_clear_400(served, records: list[dict]) -> None:
    rows = _with_json_events(records[:3])
    rows[2]["events"] = '[{"occurred_at": '
    with pytest.raises(
        MlflowException, match=r"row 2 \(lead_id 'lead-7-2'\), column 'events': events is not valid JSON"
    ):
        served.predict(pd.DataFrame(rows))
    rows[2]["events"] = json.dumps({"occurred_at": "2024-01-01", "event_type": "x"})
    with pytest.raises(MlflowException, match=r"row 2 .* must be a list .* got dict"):
        served.predict(pd.DataFrame(rows))

    rows = [dict(r) for r in records[:3]]
    rows[1]["as_of"] = "yesterday-ish"
    with pytest.raises(MlflowException) as raised:
        invocations(json.dumps({"dataframe_records": rows}), "application/json", served, None)
    assert raised.value.get_http_status_code() == 400
    assert "record 1" in raised.value.message and "yesterday-ish" in raised.value.message


def test_decode_events_column_normalises_cells() -> None:
    event = {"occurred_at": "2024-01-01T00:00:00Z", "event_type": "email_click"}
    frame = pd.DataFrame(
        {
            "lead_id": ["a", "b", "c", "d", "e"],
            "events": [None, np.nan, "", json.dumps([event]), np.array([event])],
        }
    )
    decoded = decode_events_column(frame)
    assert decoded["events"].tolist() == [[], [], [], [event], [event]]
    assert frame["events"].iloc[3] == json.dumps([event])  # the input is not modified


def test_load_bundle_round_trip(served, bundle: ModelBundle, records: list[dict]) -> None:
    loaded = load_bundle(URI)
    assert loaded.card == bundle.card
    pd.testing.assert_frame_equal(score_records(loaded, records), score_records(bundle, records))


def test_requirements_pin_the_installed_versions() -> None:
    pins = pinned_requirements()
    assert f"scikit-learn=={version('scikit-learn')}" in pins
    assert f"mlflow=={version('mlflow')}" in pins

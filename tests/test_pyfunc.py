"""The pyfunc model answers exactly like score_records, for in-process calls and the scoring server."""

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
from test_scoring import make_bundle, make_records

from training.bundle import ModelBundle
from training.pyfunc import decode_events_column, log_bundle, pinned_requirements
from training.registry import CHALLENGER, load_bundle, register_candidate
from training.scoring import score_records
from training.tracking import configure_tracking

NAME = "lead-maturity"
URI = f"models:/{NAME}@{CHALLENGER}"


@pytest.fixture(scope="module")
def bundle() -> ModelBundle:
    return make_bundle()


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
    return rows


def _with_json_events(records: list[dict]) -> list[dict]:
    return [{**r, "events": json.dumps(r["events"])} for r in records]


def test_predict_equals_score_records(served, bundle: ModelBundle, records: list[dict]) -> None:
    expected = score_records(bundle, records)
    assert expected["readiness"].nunique() > 1  # a constant model would make this test meaningless
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
        MlflowException, match=r"row 2 \(lead_id 'L2'\), column 'events': events is not valid JSON"
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

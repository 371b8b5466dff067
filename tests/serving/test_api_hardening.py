"""Hostile and odd input to the API: refused with 422 naming the field, never echoed, never logged."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from test_api import AS_OF, GREEN_EVENTS, holder_for, lead

from serving.app import create_app
from serving.model_holder import LoadedModel, ModelHolder
from serving.settings import Settings
from training.bundle import ModelBundle
from training.data.live import EXAMPLE_LEAD, SUPPORTED_TIME_RANGE
from training.data.live_arrays import EARLIEST, LATEST

KEY = "hardening-key"


@pytest.fixture(scope="module")
def client(small_bundle: ModelBundle) -> Iterator[TestClient]:
    app = create_app(Settings(api_key=SecretStr(KEY), max_body_bytes=2_000_000), holder_for(small_bundle))
    with TestClient(app, headers={"X-API-Key": KEY}) as test_client:
        yield test_client


def post_raw(client: TestClient, path: str, text: str) -> Any:
    """Send JSON text as it is (json= would escape lone surrogates differently)."""
    return client.post(path, content=text.encode(), headers={"content-type": "application/json"})


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ('{"lead_id":"LID\\ud800"}', ["body", "lead_id"]),
        (
            '{"lead_id":"L","events":[{"occurred_at":"2024-01-01T00:00:00Z","event_type":"e\\udfff"}]}',
            ["body", "events", 0, "event_type"],
        ),
        ('{"lead_id":"L","profile":{"source":"web\\ud83d"}}', ["body", "profile"]),
        ('{"lead_id":"L","profile":{"sou\\udc00rce":"web"}}', ["body", "profile"]),
    ],
)
def test_lone_surrogates_are_422_naming_the_field_and_never_logged(
    client: TestClient, api_logs: list[str], body: str, loc: list[Any]
) -> None:
    response = post_raw(client, "/v1/score", body)
    assert response.status_code == 422, response.text
    assert loc in [error["loc"] for error in response.json()["detail"]]
    text = "\n".join(api_logs)
    assert "LID" not in text and "web" not in text and "Traceback" not in text


def test_422_never_echoes_the_request(client: TestClient, api_logs: list[str]) -> None:
    body = lead(GREEN_EVENTS, lead_id="secret-lead-77")
    body["profile"]["employees"] = "very many"
    body["events"] += [{"occurred_at": "2024-01-01T00:00:00Z", "event_type": "x" * 101}]
    for payload in (body, {**body, "as_of": "1999-01-01T00:00:00Z"}, {**body, "surprise": "secret-x"}):
        response = client.post("/v1/score", json=payload)
        assert response.status_code == 422
        for error in response.json()["detail"]:
            assert set(error) == {"loc", "msg", "type"}
        assert "secret" not in response.text and "very many" not in response.text
        assert "xxxxxxxxxx" not in response.text
    many = lead([(1 + i / 1000, "email_open") for i in range(100)])
    many["lead_id"] = ""  # invalid: the 422 must stay small, not carry the 100 events back
    response = client.post("/v1/score", json=many)
    assert response.status_code == 422 and len(response.content) < 500
    assert "secret" not in "\n".join(api_logs)


def test_range_and_number_messages_do_not_echo_values(client: TestClient) -> None:
    body = lead(GREEN_EVENTS)
    body["events"].append({"occurred_at": "2500-01-02T03:04:05Z", "event_type": "email_open"})
    response = client.post("/v1/score", json=body)
    assert response.status_code == 422 and "2500" not in response.text
    body = lead(GREEN_EVENTS)
    body["profile"]["employees"] = "twelve"
    response = client.post("/v1/score", json=body)
    assert response.status_code == 422 and "twelve" not in response.text
    assert response.json()["detail"][0]["loc"] == ["body", "profile", "employees"]
    # "12.000" is twelve to Python and twelve thousand to a German CRM: refused, never read one way.
    for grouped in ("12.000", " -3.250 ", "1.500"):
        body["profile"]["employees"] = grouped
        response = client.post("/v1/score", json=body)
        assert response.status_code == 422 and "reads two ways" in response.text, grouped
        assert grouped.strip() not in response.text
    for plain in ("12", "12.5", "0.125", "12.0005"):
        body["profile"]["employees"] = plain
        assert client.post("/v1/score", json=body).status_code == 200, plain


@pytest.mark.parametrize(
    ("mutate", "loc"),
    [
        (lambda b: b.update(created_at=253402300800), ["body", "created_at"]),
        (lambda b: b.update(as_of=1700000000.5), ["body", "as_of"]),
        (lambda b: b["events"][0].update(occurred_at=1700000000000), ["body", "events", 0, "occurred_at"]),
    ],
)
def test_numeric_epochs_are_refused_where_a_date_time_is_expected(
    client: TestClient, mutate: Any, loc: list[Any]
) -> None:
    body = lead(GREEN_EVENTS)
    mutate(body)
    response = client.post("/v1/score", json=body)
    assert response.status_code == 422, response.text
    assert loc in [error["loc"] for error in response.json()["detail"]]
    batch = client.post("/v1/score/batch", json={"leads": [lead()], "as_of": 1700000000})
    assert batch.status_code == 422 and batch.json()["detail"][0]["loc"] == ["body", "as_of"]


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_nan_and_infinity_are_refused_in_profiles(client: TestClient, number: str) -> None:
    text = json.dumps(lead(GREEN_EVENTS)).replace('"employees": 150', f'"employees": {number}')
    assert number in text
    response = post_raw(client, "/v1/score", text)
    assert response.status_code == 422, response.text
    assert ["body", "profile", "employees", "float"] in [e["loc"] for e in response.json()["detail"]]


def test_events_before_created_at_are_dropped_with_a_warning_naming_them(client: TestClient) -> None:
    clean = lead(GREEN_EVENTS, created_days_before=30)
    body = lead(GREEN_EVENTS, created_days_before=30)
    early = [
        {"occurred_at": (AS_OF - timedelta(days=45)).isoformat(), "event_type": "pricing_page_view"},
        {"occurred_at": (AS_OF - timedelta(days=31)).replace(tzinfo=None).isoformat(), "event_type": "x"},
    ]
    body["events"] = [early[0], *body["events"], early[1]]
    # GREEN_EVENTS' first event (40 days before) is also before the creation 30 days before as_of.
    answer = client.post("/v1/score", json=body).json()
    warning = next(w for w in answer["warnings"] if w["code"] == "events_before_created_at")
    assert warning["count"] == 3
    assert "events[0], events[1], events[5]" in warning["message"]
    without = {**clean, "events": [e for e in clean["events"] if e["occurred_at"] >= clean["created_at"]]}
    assert answer["readiness"] == client.post("/v1/score", json=without).json()["readiness"]
    batch = client.post("/v1/score/batch", json={"leads": [clean, body]}).json()["results"]
    assert batch[1]["readiness"] == answer["readiness"]
    assert "events_before_created_at" in {w["code"] for w in batch[1]["warnings"]}


def test_batch_as_of_without_a_zone_is_utc_like_a_single_leads(client: TestClient) -> None:
    body = lead(GREEN_EVENTS)
    del body["as_of"]
    naive = AS_OF.replace(tzinfo=None).isoformat()
    batch = client.post("/v1/score/batch", json={"leads": [body], "as_of": naive})
    assert batch.status_code == 200, batch.text
    single = client.post("/v1/score", json={**body, "as_of": naive}).json()
    assert batch.json()["results"][0]["readiness"] == single["readiness"]
    assert batch.json()["results"][0]["as_of"] == single["as_of"]


def test_undeclared_query_parameters_are_ignored_declared_ones_validated(client: TestClient) -> None:
    body = lead(GREEN_EVENTS)
    plain = client.post("/v1/score", json=body)
    extra = client.post("/v1/score", params={"utm_source": "crm", "debug": "1"}, json=body)
    assert extra.status_code == 200, extra.text
    assert extra.json()["readiness"] == plain.json()["readiness"]
    refused = client.post("/v1/score", params={"reasons": "-1"}, json=body)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["query", "reasons"]


def test_readyz_says_not_ready_and_logs_the_reason(api_logs: list[str]) -> None:
    def failing() -> LoadedModel:
        raise FileNotFoundError("/srv/secret/path/model-xyz missing")

    with TestClient(create_app(Settings(), ModelHolder(failing))) as test_client:
        response = test_client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "not ready"}
    assert "/srv/secret/path" in "\n".join(api_logs)


def test_openapi_documents_auth_errors_bad_bodies_and_time_rules(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    for path, method in (("/v1/model", "get"), ("/v1/importances", "get"), ("/report", "get")):
        assert {"401", "403"} <= set(schema["paths"][path][method]["responses"]), path
    for path in ("/v1/score", "/v1/score/batch"):
        assert "400" in schema["paths"][path]["post"]["responses"]
    lead_schema = schema["components"]["schemas"]["LeadIn"]["properties"]
    assert SUPPORTED_TIME_RANGE in json.dumps(lead_schema["as_of"])
    assert "before created_at" in json.dumps(lead_schema["as_of"])
    assert f"{EARLIEST:%Y-%m-%dT%H:%M:%SZ} to {LATEST:%Y-%m-%dT%H:%M:%SZ}" == SUPPORTED_TIME_RANGE


def test_docs_example_fits_the_default_model() -> None:
    # The default model is trained on the simulator's data: its profile columns, values, event types.
    from training.simulation.model import ATTRIBUTES, EVENT_TYPES, NUMERIC_COLUMNS, SOURCES

    levels = {"source": set(SOURCES), **{a.name: set(a.values) for a in ATTRIBUTES}}
    profile = EXAMPLE_LEAD["profile"]
    assert set(profile) == set(levels) | set(NUMERIC_COLUMNS)
    for column, value in profile.items():
        if column in levels:
            assert value in levels[column], column
        else:
            assert isinstance(value, int | float)
    assert {event["event_type"] for event in EXAMPLE_LEAD["events"]} <= set(EVENT_TYPES)


def test_docs_are_served_from_the_package_without_a_cdn(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    sources = [*re.findall(r'src="([^"]+)"', page.text), *re.findall(r'href="([^"]+)"', page.text)]
    assert sources and all(source.startswith("/docs/assets/") for source in sources), sources
    assert "http://" not in page.text and "https://" not in page.text
    for source in sources:
        asset = client.get(source)
        assert asset.status_code == 200 and len(asset.content) > 500, source
    assert "SwaggerUIBundle" in client.get("/docs/assets/swagger-ui-bundle.js").text
    assert client.get("/redoc").status_code == 404  # ReDoc would load from a CDN: not offered

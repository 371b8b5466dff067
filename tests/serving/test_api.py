"""The scoring API end to end, on a tiny real model trained once for this module.

The training data is hand-made so that its dynamics are known: interested leads keep engaging and
show pricing-page views and demo requests before they are won; uninterested leads fade after a few
weeks and are never won. A lead therefore ripens as buying signals are added and goes cold as time
passes without engagement, which the tests check through the API.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from serving.app import create_app
from serving.heap import settle_heap
from serving.model_holder import LoadedModel, ModelHolder
from serving.schemas import LeadScore
from serving.scorer import LeadScorer
from serving.settings import Settings
from tests.serving.small_bundles import train_small_bundle
from training.bundle import ArtifactError, ModelBundle, ModelCard, ThresholdRecord
from training.data.contract import DatasetMetadata, LeadDataset
from training.data.live import LeadIn
from training.data.live_arrays import batch_from_records
from training.model.threshold import ThresholdDecision, ThresholdPolicy
from training.scoring import score_records

START = pd.Timestamp("2024-01-01", tz="UTC")
OBSERVED_DAYS = 420
API_KEY = "test-key-123"
AS_OF = datetime(2025, 3, 1, 12, tzinfo=UTC)


# ------------------------------------------------------------------------------------- training data


def make_dataset(n_leads: int = 1200, seed: int = 7) -> LeadDataset:
    """Leads, events and outcomes with known dynamics (see the module docstring)."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"T{i:05d}" for i in range(n_leads)])
    created_day = rng.uniform(0, OBSERVED_DAYS - 120, n_leads)
    source = rng.choice(["ads", "webinar", "referral"], n_leads, p=[0.5, 0.3, 0.2])
    interested = rng.random(n_leads) < np.where(source == "referral", 0.55, 0.3)
    employees = np.round(rng.lognormal(5, 1, n_leads))
    # Interested leads engage for 30-100 days and then decide; uninterested ones fade after 5-30 days.
    active_days = np.where(interested, rng.uniform(30, 100, n_leads), rng.uniform(5, 30, n_leads))
    won = interested & (rng.random(n_leads) < 0.85)

    rows: list[tuple[np.ndarray, np.ndarray, str]] = []

    def add(mask: np.ndarray, per_day: float, kind: str, start_frac: float = 0.0) -> None:
        counts = rng.poisson(per_day * active_days * (1 - start_frac) * mask)
        lead = np.repeat(np.arange(n_leads), counts)
        begin = created_day[lead] + start_frac * active_days[lead]
        day = begin + rng.random(len(lead)) * active_days[lead] * (1 - start_frac)
        rows.append((lead, day, kind))

    everyone = np.ones(n_leads, dtype=bool)
    add(everyone, 0.25, "email_open")
    add(everyone, 0.08, "site_visit")
    add(interested, 0.12, "site_visit")
    add(interested, 0.06, "webinar_attended")
    add(interested, 0.10, "pricing_page_view", start_frac=0.5)
    add(interested, 0.04, "demo_request", start_frac=0.7)
    add(~interested, 0.003, "pricing_page_view")
    lead = np.concatenate([r[0] for r in rows])
    day = np.concatenate([r[1] for r in rows])
    kind = np.concatenate([np.full(len(r[0]), r[2]) for r in rows])
    end_day = created_day + active_days
    closed_day = np.where(won, end_day + 3, end_day + 20)
    observed = closed_day < OBSERVED_DAYS
    keep = day < np.minimum(closed_day[lead], OBSERVED_DAYS)

    def stamp(days: np.ndarray) -> pd.Series:
        return pd.Series(START + pd.to_timedelta(days, unit="D"))

    leads = pd.DataFrame(
        {
            "lead_id": pd.array(ids, dtype="str"),
            "created_at": stamp(created_day),
            "source": pd.Categorical(source),
            "employees": employees.astype("float64"),
        }
    )
    events = pd.DataFrame(
        {
            "lead_id": pd.array(ids[lead[keep]], dtype="str"),
            "occurred_at": stamp(day[keep]),
            "event_type": pd.Categorical(kind[keep]),
        }
    )
    status = np.where(~observed, "open", np.where(won, "won", "lost"))
    outcomes = pd.DataFrame(
        {
            "lead_id": pd.array(ids, dtype="str"),
            "status": status,
            "handed_over_at": stamp(np.where(observed, closed_day - 2, np.nan)),
            "closed_at": stamp(np.where(observed, closed_day, np.nan)),
        }
    )
    metadata = DatasetMetadata(
        name="api-test",
        observed_until=START + pd.Timedelta(days=OBSERVED_DAYS),
        categorical_columns=["source"],
        numeric_columns=["employees"],
    )
    return LeadDataset(leads=leads, events=events, outcomes=outcomes, metadata=metadata)


def train_bundle(dataset: LeadDataset, threshold: float = 0.3) -> ModelBundle:
    """A small but real bundle: LeadFeatures + ReadinessModel, threshold and serving statistics."""
    return train_small_bundle(dataset, threshold=threshold, profile_columns=["source", "employees"])


@pytest.fixture(scope="module")
def bundle() -> ModelBundle:
    return train_bundle(make_dataset())


def holder_for(bundle: ModelBundle, version: str | None = None) -> ModelHolder:
    def load() -> LoadedModel:
        label = version or str(bundle.card.version)
        return LoadedModel(
            LeadScorer(bundle, version=label, source="memory"), "memory", datetime.now(UTC), label
        )

    return ModelHolder(load)


@pytest.fixture(scope="module")
def client(bundle: ModelBundle) -> Iterator[TestClient]:
    app = create_app(
        Settings(api_key=SecretStr(API_KEY), max_body_bytes=200_000, max_batch_size=50), holder_for(bundle)
    )
    with TestClient(app, headers={"X-API-Key": API_KEY}) as test_client:
        yield test_client


# ------------------------------------------------------------------------------------------- leads


def lead(
    events: Sequence[tuple[float, str]] | None = None,
    *,
    as_of: datetime = AS_OF,
    created_days_before: float = 60,
    source: str = "ads",
    lead_id: str = "L-1",
) -> dict[str, Any]:
    """A request body: ``events`` as (days before as_of, event type)."""
    return {
        "lead_id": lead_id,
        "created_at": (as_of - timedelta(days=created_days_before)).isoformat(),
        "as_of": as_of.isoformat(),
        "profile": {"source": source, "employees": 150},
        "events": [
            {"occurred_at": (as_of - timedelta(days=d)).isoformat(), "event_type": t} for d, t in events or []
        ],
    }


GREEN_EVENTS = [(40, "email_open"), (20, "email_open"), (10, "site_visit"), (3, "email_open")]
RIPE_EVENTS = [
    *GREEN_EVENTS,
    (30, "webinar_attended"),
    (12, "site_visit"),
    (9, "pricing_page_view"),
    (6, "pricing_page_view"),
    (4, "pricing_page_view"),
    (2, "demo_request"),
    (1, "site_visit"),
]


def score(client: TestClient, body: dict[str, Any], **params: Any) -> dict[str, Any]:
    response = client.post("/v1/score", json=body, params=params)
    assert response.status_code == 200, response.text
    return response.json()


# ------------------------------------------------------------------------------------------- tests


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "model_version": None}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["model_version"] == "7"


def test_readyz_is_503_without_a_model() -> None:
    def failing() -> LoadedModel:
        raise FileNotFoundError("no model here")

    with TestClient(create_app(Settings(), ModelHolder(failing))) as test_client:
        assert test_client.get("/healthz").status_code == 200
        assert test_client.get("/readyz").status_code == 503
        assert test_client.post("/v1/score", json=lead()).status_code == 503


def test_score_answers_every_part(client: TestClient, bundle: ModelBundle) -> None:
    answer = score(client, lead(GREEN_EVENTS))
    assert answer["lead_id"] == "L-1"
    assert answer["model_version"] == "7"
    assert pd.Timestamp(answer["as_of"]) == pd.Timestamp(AS_OF)
    assert 0 <= answer["score"] <= 100 and answer["score"] == pytest.approx(
        answer["readiness"] * 100, abs=0.06
    )
    assert answer["grade"] in "ABCD" and 0 <= answer["percentile"] <= 100
    assert answer["verdict"] in ("ripe", "too_green", "gone_cold")
    assert answer["handover"] == (answer["readiness"] >= 0.3)
    assert answer["threshold_score"] == 30.0
    reasons = answer["reasons"]
    assert reasons["positive"] or reasons["negative"]
    for reason in reasons["positive"]:
        assert reason["contribution"] > 0 and reason["sentence"]
    for reason in reasons["negative"]:
        assert reason["contribution"] < 0 and reason["sentence"]


def test_score_matches_the_shared_scoring_function(client: TestClient, bundle: ModelBundle) -> None:
    body = lead(RIPE_EVENTS)
    answer = score(client, body)
    direct = score_records(bundle, [{**body, **body["profile"]}], default_as_of=pd.Timestamp(AS_OF))
    assert answer["readiness"] == pytest.approx(float(direct["readiness"].iloc[0]), rel=1e-9)
    assert answer["reasons"]["raw_score"] == pytest.approx(float(direct["raw_score"].iloc[0]), rel=1e-9)


def test_api_features_equal_the_training_features_exactly(bundle: ModelBundle) -> None:
    # The API builds its arrays from the request models, training from pandas frames: the features
    # (one definition, LeadFeatures) must agree to the last bit on awkward input too.
    bodies = [
        lead(RIPE_EVENTS),
        lead(GREEN_EVENTS, source="partner_never_seen", lead_id="dup"),
        lead([(5, "fax_sent"), (2, "pricing_page_view"), (-3, "demo_request")], lead_id="dup"),  # after as_of
        lead([], created_days_before=400),
        lead([(200, "email_open"), (0.00001, "site_visit")], as_of=AS_OF - timedelta(days=90)),
    ]
    bodies[3]["profile"] = {}  # every profile value missing
    bodies[2]["profile"]["employees"] = "1200"  # a numeric string
    del bodies[2]["created_at"]
    naive = bodies[0]["events"][0]
    naive["occurred_at"] = naive["occurred_at"].replace("+00:00", "")  # no zone: UTC
    bodies[1]["events"][0]["occurred_at"] = (
        (AS_OF - timedelta(days=40)).astimezone(timezone(timedelta(hours=-5))).isoformat()
    )
    scorer = LeadScorer(bundle, version="x", source="memory")
    leads = [LeadIn.model_validate(body) for body in bodies]
    api = scorer.features.transform_arrays(scorer.build_arrays(leads, AS_OF)).to_frame()
    records = [{**body, **body["profile"], "lead_id": str(i)} for i, body in enumerate(bodies)]
    batch = batch_from_records(
        records,
        categorical_columns=scorer.categorical_columns,
        numeric_columns=scorer.numeric_columns,
        default_as_of=pd.Timestamp(AS_OF),
    )
    pd.testing.assert_frame_equal(api, scorer.features.transform(batch), check_exact=True)
    assert api["source"].tolist()[:2] == ["ads", "other"] and api["source"].iloc[3] == "missing"
    assert api["employees"].iloc[2] == 1200.0


def test_times_outside_the_supported_range_are_422(client: TestClient) -> None:
    body = lead(GREEN_EVENTS)
    body["events"].append({"occurred_at": "2500-01-01T00:00:00Z", "event_type": "email_open"})
    response = client.post("/v1/score", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "events", 4, "occurred_at"]
    assert "supported time range" in response.json()["detail"][0]["msg"]
    mixed = lead(GREEN_EVENTS)  # times with and without a zone cannot be ordered together
    mixed["events"][1]["occurred_at"] = "2300-01-01T00:00:00"
    response = client.post("/v1/score", json=mixed)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "events", 1, "occurred_at"]
    early = lead(GREEN_EVENTS, lead_id="early")
    early["created_at"] = "1200-01-01T00:00:00Z"
    response = client.post("/v1/score/batch", json={"leads": [lead(), early]})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "leads", 1, "created_at"]


def test_reasons_add_up_to_the_raw_score(client: TestClient) -> None:
    answer = score(client, lead(RIPE_EVENTS))
    r = answer["reasons"]
    listed = sum(x["contribution"] for x in r["positive"]) + sum(x["contribution"] for x in r["negative"])
    assert r["base_value"] + listed + r["other_contributions"] == pytest.approx(r["raw_score"], abs=1e-9)
    # With every feature asked for, what is not listed is what pulls against its signal's net effect
    # (serving.reason_order): every listed reason is on its signal's side.
    everything = score(client, lead(RIPE_EVENTS), reasons=50)["reasons"]
    total = sum(x["contribution"] for x in everything["positive"] + everything["negative"])
    assert everything["base_value"] + total + everything["other_contributions"] == pytest.approx(
        everything["raw_score"], abs=1e-9
    )
    sides: dict[str, set[str]] = {}
    for x in everything["positive"] + everything["negative"]:
        sides.setdefault(x["signal"], set()).add(x["direction"])
    assert sides and all(len(directions) == 1 for directions in sides.values())
    assert len(r["positive"]) <= 5 and len(r["negative"]) <= 5


def test_reason_sentences_speak_plainly(client: TestClient) -> None:
    answer = score(client, lead(RIPE_EVENTS), reasons=50)
    sentences = {
        x["feature"]: x["sentence"] for x in answer["reasons"]["positive"] + answer["reasons"]["negative"]
    }
    pricing = [s for f, s in sentences.items() if f.startswith("pricing_page_view_")]
    assert pricing and all("'pricing page view'" in s for s in pricing)
    assert not any("_" in s.split(":")[0] for s in sentences.values()), "no raw feature names"
    assert any("were won more often than" in s for s in sentences.values())


def test_lead_ripens_as_buying_signals_are_added_and_goes_cold_when_left(client: TestClient) -> None:
    green = score(client, lead(GREEN_EVENTS))
    assert green["verdict"] == "too_green" and not green["handover"]
    assert green["to_ripen"] is not None and green["to_ripen"]["steps"]

    ripe = score(client, lead(RIPE_EVENTS))
    assert ripe["verdict"] == "ripe" and ripe["handover"]
    assert ripe["score"] > green["score"]
    assert ripe["to_ripen"] is None

    # The same green lead, seen 120 days later with no engagement since.
    later = AS_OF + timedelta(days=120)
    cold = score(client, lead([(d + 120, t) for d, t in GREEN_EVENTS], as_of=later, created_days_before=180))
    assert cold["verdict"] == "gone_cold" and not cold["handover"]
    rule = cold["gone_cold_rule"]
    assert rule["available"] and rule["days_inactive"] >= rule["min_days_inactive"]
    assert "reactivate" in cold["advice"]
    assert cold["to_ripen"] is None


def test_to_ripen_scores_agree_with_a_direct_model_call(client: TestClient, bundle: ModelBundle) -> None:
    body = lead(GREEN_EVENTS)
    answer = score(client, body)
    steps = answer["to_ripen"]["steps"]
    assert steps
    for step in steps:
        added = [
            {"occurred_at": (AS_OF - timedelta(days=1, seconds=k)).isoformat(), "event_type": step["signal"]}
            for k in range(step["add_events"])
        ]
        record = {**body, **body["profile"], "events": body["events"] + added}
        direct = score_records(bundle, [record], default_as_of=pd.Timestamp(AS_OF))
        assert step["score_if_added"] == pytest.approx(float(direct["readiness"].iloc[0]) * 100, abs=0.051)
        assert step["score_if_added"] > answer["handover_score"]
        assert f"from {answer['handover_score']:.0f} to {step['score_if_added']:.0f}" in step["sentence"]
        assert step["add_events"] == step["typical_count"] - step["current_count"]
    estimate = answer["to_ripen"]["estimated_days_to_ripeness"]
    assert estimate == "unknown" or estimate > 0


def test_batch_equals_single_answers(client: TestClient) -> None:
    bodies = [lead(GREEN_EVENTS, lead_id="a"), lead(RIPE_EVENTS, lead_id="b"), lead([], lead_id="a")]
    response = client.post("/v1/score/batch", json={"leads": bodies})
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["count"] == 3 and [r["lead_id"] for r in out["results"]] == ["a", "b", "a"]
    for body, result in zip(bodies, out["results"], strict=True):
        single = score(client, body)
        assert result["readiness"] == pytest.approx(single["readiness"], rel=1e-12)
        assert result["verdict"] == single["verdict"]
        assert result["reasons"]["positive"] == single["reasons"]["positive"]
        assert result["reasons"]["negative"] == single["reasons"]["negative"]
        assert result["reasons"]["other_contributions"] == pytest.approx(
            single["reasons"]["other_contributions"]
        )


def test_event_times_without_a_zone_are_utc(client: TestClient) -> None:
    body = lead(RIPE_EVENTS)
    naive = json.loads(json.dumps(body))
    shifted = json.loads(json.dumps(body))
    for event, original in zip(naive["events"], body["events"], strict=True):
        stamp = datetime.fromisoformat(original["occurred_at"])
        event["occurred_at"] = stamp.replace(tzinfo=None).isoformat()  # same instant, no zone
    for event, original in zip(shifted["events"], body["events"], strict=True):
        stamp = datetime.fromisoformat(original["occurred_at"])
        event["occurred_at"] = stamp.astimezone(timezone(timedelta(hours=-5))).isoformat()  # other zone
    naive["events"][0]["occurred_at"] = body["events"][0]["occurred_at"]  # zones mixed in one lead
    expected = score(client, body)["readiness"]
    assert score(client, naive)["readiness"] == expected
    assert score(client, shifted)["readiness"] == expected


def test_scorer_payloads_are_valid_lead_scores(client: TestClient, bundle: ModelBundle) -> None:
    """The API serialises the scorer's plain dicts without a model: they must be exact LeadScores."""
    cold_as_of = AS_OF + timedelta(days=120)
    bodies = [
        lead(GREEN_EVENTS),
        lead(RIPE_EVENTS, source="carrier-pigeon"),
        lead([(d + 120, t) for d, t in GREEN_EVENTS], as_of=cold_as_of, created_days_before=180),
    ]
    bodies[0]["events"].append({"occurred_at": AS_OF.isoformat(), "event_type": "fax_sent"})
    scorer = LeadScorer(bundle, version="7", source="memory")
    payloads = scorer.score_payloads([LeadIn.model_validate(b) for b in bodies], default_as_of=AS_OF)
    assert [p["verdict"] for p in payloads] == ["too_green", "ripe", "gone_cold"]
    assert payloads[0]["warnings"] and payloads[1]["warnings"] and payloads[0]["to_ripen"]["steps"]
    for body, payload in zip(bodies, payloads, strict=True):
        model = LeadScore.model_validate(payload, strict=True)
        # What the endpoint sends is what the validated model would serialise to.
        assert score(client, body) == json.loads(model.model_dump_json())


def test_lead_id_does_not_change_the_score(client: TestClient) -> None:
    one = score(client, lead(GREEN_EVENTS, lead_id="x"))
    two = score(client, lead(GREEN_EVENTS, lead_id="something-else"))
    assert one["readiness"] == two["readiness"]


def test_batch_default_as_of_applies_to_leads_without_one(client: TestClient) -> None:
    body = lead(GREEN_EVENTS)
    del body["as_of"]
    out = client.post("/v1/score/batch", json={"leads": [body], "as_of": AS_OF.isoformat()}).json()
    assert pd.Timestamp(out["results"][0]["as_of"]) == pd.Timestamp(AS_OF)
    assert out["results"][0]["readiness"] == score(client, lead(GREEN_EVENTS))["readiness"]


def test_warnings_for_ignored_input(client: TestClient) -> None:
    body = lead(GREEN_EVENTS, source="carrier-pigeon")
    body["events"].append({"occurred_at": (AS_OF - timedelta(days=2)).isoformat(), "event_type": "fax_sent"})
    body["events"].append(
        {"occurred_at": (AS_OF + timedelta(days=2)).isoformat(), "event_type": "email_open"}
    )
    body["profile"]["favourite_colour"] = "blue"
    answer = score(client, body)
    codes = {w["code"]: w for w in answer["warnings"]}
    assert set(codes) == {
        "unknown_event_types",
        "events_after_as_of",
        "unseen_profile_values",
        "unknown_profile_fields",
    }
    assert "fax_sent" in codes["unknown_event_types"]["message"]
    assert codes["events_after_as_of"]["count"] == 1
    assert "source=carrier-pigeon" in codes["unseen_profile_values"]["message"]
    # Ignored really means ignored: the score equals that of the lead without the extra input.
    assert answer["readiness"] == score(client, lead(GREEN_EVENTS, source="other"))["readiness"]
    assert score(client, lead(GREEN_EVENTS))["warnings"] == []


def test_warnings_for_missing_fields_and_numbers_outside_training(client: TestClient) -> None:
    body = lead(GREEN_EVENTS)
    del body["profile"]["employees"]
    codes = {w["code"]: w for w in score(client, body)["warnings"]}
    assert set(codes) == {"missing_profile_fields"}
    assert "were not given (scored as unknown): employees." in codes["missing_profile_fields"]["message"]
    body = lead(GREEN_EVENTS)
    body["profile"]["employees"] = 1e12  # a typo in the CRM
    answer = score(client, body)
    [outside] = [w for w in answer["warnings"] if w["code"] == "numbers_outside_training"]
    assert outside["count"] == 1 and "employees=1e+12 (training " in outside["message"]
    sentences = [r["sentence"] for r in answer["reasons"]["positive"] + answer["reasons"]["negative"]]
    assert not any("000,000,000,000" in sentence for sentence in sentences)  # a compact number
    # Within the training range nothing is said.
    assert score(client, lead(GREEN_EVENTS))["warnings"] == []


def test_report_is_the_one_inside_the_served_model(bundle: ModelBundle) -> None:
    without = create_app(Settings(api_key=SecretStr(API_KEY)), holder_for(bundle))
    with TestClient(without, headers={"X-API-Key": API_KEY}) as test_client:
        assert test_client.get("/report").status_code == 404
        assert test_client.get("/report", headers={"X-API-Key": "wrong"}).status_code == 403
    page = "<html><body><section id='summary'>report of v7</section></body></html>"
    with_report = dataclasses.replace(bundle, report_html=page)
    app = create_app(Settings(api_key=SecretStr(API_KEY)), holder_for(with_report))
    with TestClient(app, headers={"X-API-Key": API_KEY}) as test_client:
        answer = test_client.get("/report")
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/html")
        assert answer.text == page


def test_model_and_importances(client: TestClient, bundle: ModelBundle) -> None:
    info = client.get("/v1/model").json()
    assert info["version"] == "7" and info["horizon_days"] == 90
    assert info["target"] == bundle.card.target == "won"
    assert info["threshold"]["value"] == 0.3
    assert info["features"] == list(bundle.card.feature_names)
    assert "demo_request" in info["event_types"]
    assert info["gone_cold_rule"]["available"]
    importances = client.get("/v1/importances").json()
    signals = importances["signals"]
    assert sum(s["share"] for s in signals) == pytest.approx(1.0)
    pushes = [s["mean_abs_contribution"] for s in signals]
    assert pushes == sorted(pushes, reverse=True)
    assert all(s["ci_low"] <= s["mean_abs_contribution"] <= s["ci_high"] for s in signals)
    by_signal = {s["signal"]: s for s in signals}
    # Readable names and win rates per signal, not feature ids.
    demo = by_signal["demo_request"]
    assert demo["label"] == "Demo request" and demo["auc_drop"] is not None
    assert [level["level"].split(" ")[0] for level in demo["win_rates"]] == ["with", "without"]
    assert all("_" not in s["label"] for s in signals)
    assert {level["level"] for level in by_signal["source"]["win_rates"]} == {"ads", "webinar", "referral"}


def test_importances_need_a_summary_in_the_model(bundle: ModelBundle) -> None:
    old = ModelBundle(bundle.pipeline, bundle.card.model_copy(update={"importances": None}))
    with TestClient(create_app(Settings(), holder_for(old))) as test_client:
        response = test_client.get("/v1/importances")
    assert response.status_code == 503 and "retrain" in response.json()["detail"]


# ----------------------------------------------------------------------------------- error paths


def test_missing_and_wrong_api_key(client: TestClient) -> None:
    no_key = client.post("/v1/score", json=lead(), headers={"X-API-Key": ""})
    assert no_key.status_code == 401
    wrong = client.post("/v1/score", json=lead(), headers={"X-API-Key": "nope"})
    assert wrong.status_code == 403
    assert client.get("/v1/model", headers={"X-API-Key": "nope"}).status_code == 403
    # Probes stay open for orchestrators.
    assert client.get("/healthz", headers={"X-API-Key": ""}).status_code == 200


def test_every_operation_that_declares_the_key_refuses_requests_without_it(client: TestClient) -> None:
    """Each operation whose OpenAPI entry requires the API key answers 401 without it and 403 with a
    wrong one, whatever the body or query (the fuzz test leaves this to this explicit check)."""
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    secured = [
        (method, path)
        for path, operations in paths.items()
        for method, operation in operations.items()
        if operation.get("security") and "{" not in path
    ]
    assert {("post", "/v1/score"), ("post", "/v1/score/batch"), ("get", "/v1/model")} <= set(secured)
    for method, path in secured:
        for key, status in (("", 401), ("nope", 403)):
            response = client.request(
                method.upper(), path, params={"extra": "1"}, json=lead(), headers={"X-API-Key": key}
            )
            assert response.status_code == status, (method, path, key, response.status_code)


def test_threshold_as_written_by_the_threshold_decision(bundle: ModelBundle) -> None:
    decision = ThresholdDecision(0.3, ThresholdPolicy(), "for the test")
    card = bundle.card.model_copy(update={"threshold": ThresholdRecord.of(decision)})
    scorer = LeadScorer(ModelBundle(bundle.pipeline, card), version="x", source="memory")
    assert scorer.threshold == 0.3
    # The old key of the threshold's value is refused by name, not read as a fallback.
    raw = json.loads(bundle.card.to_json())
    raw["threshold"] = {"threshold": 0.3}
    with pytest.raises(ArtifactError, match="threshold"):
        ModelCard.from_json(json.dumps(raw))


def test_no_key_configured_means_open_scoring_but_no_admin(bundle: ModelBundle) -> None:
    with TestClient(create_app(Settings(), holder_for(bundle))) as open_client:
        assert open_client.post("/v1/score", json=lead()).status_code == 200
        assert open_client.post("/v1/admin/reload").status_code == 403


def test_oversize_body_is_refused(client: TestClient) -> None:
    huge = lead([(1 + i / 1000, "email_open") for i in range(3000)])
    response = client.post("/v1/score", json=huge)
    assert response.status_code == 413
    assert response.headers["x-request-id"]


def test_oversize_body_without_content_length_is_refused(client: TestClient) -> None:
    payload = json.dumps(lead([(1 + i / 1000, "email_open") for i in range(3000)])).encode()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(payload), 8192):
            yield payload[start : start + 8192]

    response = client.post("/v1/score", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda b: b["events"].append({"event_type": "email_open"}), ["body", "events", 4, "occurred_at"]),
        (
            lambda b: b["events"].append({"occurred_at": "yesterday", "event_type": "x"}),
            ["body", "events", 4, "occurred_at"],
        ),
        (
            lambda b: b["events"].append({"occurred_at": "2025-01-01T00:00:00Z", "event_type": ""}),
            ["body", "events", 4, "event_type"],
        ),
        (lambda b: b.update(events="not a list"), ["body", "events"]),
        (lambda b: b.update(surprise=1), ["body", "surprise"]),
        (lambda b: b.pop("lead_id"), ["body", "lead_id"]),
        (lambda b: b["profile"].update(employees="many"), ["body", "profile", "employees"]),
    ],
)
def test_malformed_leads_get_422_naming_the_field(client: TestClient, mutate: Any, path: list[Any]) -> None:
    body = lead(GREEN_EVENTS)
    mutate(body)
    response = client.post("/v1/score", json=body)
    assert response.status_code == 422, response.text
    assert path in [error["loc"] for error in response.json()["detail"]]


def test_as_of_before_creation_is_422(client: TestClient) -> None:
    body = lead(GREEN_EVENTS)
    body["as_of"] = (AS_OF - timedelta(days=61)).isoformat()
    response = client.post("/v1/score", json=body)
    assert response.status_code == 422
    assert ["body", "as_of"] in [e["loc"] for e in response.json()["detail"]]

    batch_lead = lead(GREEN_EVENTS)
    del batch_lead["as_of"]
    early = (AS_OF - timedelta(days=100)).isoformat()
    response = client.post("/v1/score/batch", json={"leads": [lead(), batch_lead], "as_of": early})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "leads", 1, "created_at"]


def test_batch_limits(client: TestClient) -> None:
    assert client.post("/v1/score/batch", json={"leads": []}).status_code == 422
    too_many = client.post("/v1/score/batch", json={"leads": [lead(lead_id=str(i)) for i in range(51)]})
    assert too_many.status_code == 422 and too_many.json()["detail"][0]["loc"] == ["body", "leads"]
    bad = client.post("/v1/score/batch", json={"leads": [lead(), {**lead(), "profile": {"employees": "x"}}]})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == [
        "body",
        "leads",
        1,
        "profile",
        "employees",
    ]


def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    made = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"}).headers["x-request-id"]
    assert made and made != "bad id with spaces"


def test_logs_are_json_and_free_of_personal_data(client: TestClient, api_logs: list[str]) -> None:
    body = lead(GREEN_EVENTS, lead_id="secret-lead-42", source="webinar")
    client.post("/v1/score", json=body, headers={"X-Request-ID": "req-1"})
    client.post("/v1/score/batch", json={"leads": [body]}, headers={"X-Request-ID": "req-2"})
    client.post(
        "/v1/score", json={**body, "as_of": "1999-01-01T00:00:00Z"}, headers={"X-Request-ID": "req-3"}
    )
    lines = api_logs
    parsed = [json.loads(line) for line in lines]
    assert {p.get("request_id") for p in parsed} >= {"req-1", "req-2", "req-3"}
    assert {p.get("status") for p in parsed if p.get("path")} >= {200, 422}
    text = "\n".join(lines)
    assert "secret-lead-42" not in text and "webinar" not in text


# ---------------------------------------------------------------------------------------- reload


def test_admin_reload_requires_key_and_swaps_the_model(bundle: ModelBundle) -> None:
    versions = iter(["1", "2", "3"])

    def load() -> LoadedModel:
        label = next(versions)
        return LoadedModel(
            LeadScorer(bundle, version=label, source="memory"), "memory", datetime.now(UTC), label
        )

    app = create_app(Settings(api_key=SecretStr(API_KEY)), ModelHolder(load))
    with TestClient(app) as test_client:
        assert test_client.post("/v1/admin/reload").status_code == 401
        assert test_client.post("/v1/admin/reload", headers={"X-API-Key": "x"}).status_code == 403
        out = test_client.post("/v1/admin/reload", headers={"X-API-Key": API_KEY})
        assert (
            out.status_code == 200
            and out.json()["previous_version"] == "1"
            and out.json()["model_version"] == "2"
        )
        answer = test_client.post("/v1/score", json=lead(), headers={"X-API-Key": API_KEY}).json()
        assert answer["model_version"] == "2"


def test_opentelemetry_is_off_unless_asked_for(bundle: ModelBundle) -> None:
    # FastAPI keeps its telemetry configuration in _telemetry (it has no public getter).
    off = create_app(Settings(), holder_for(bundle))
    on = create_app(Settings(opentelemetry=True), holder_for(bundle))
    assert [off._telemetry[k] for k in ("tracing", "metrics", "logs")] == [False] * 3  # type: ignore[attr-defined]
    assert [on._telemetry[k] for k in ("tracing", "metrics", "logs")] == [True] * 3  # type: ignore[attr-defined]
    with TestClient(off, headers={"X-API-Key": API_KEY}) as test_client:
        assert test_client.post("/v1/score", json=lead(GREEN_EVENTS)).status_code == 200


def test_heap_is_settled_after_each_successful_load_only(bundle: ModelBundle) -> None:
    swaps: list[str] = []
    outcomes = iter(["1", "fail", "2"])

    def load() -> LoadedModel:
        label = next(outcomes)
        if label == "fail":
            raise FileNotFoundError("gone")
        return LoadedModel(
            LeadScorer(bundle, version=label, source="memory"), "memory", datetime.now(UTC), label
        )

    holder = ModelHolder(load, after_swap=lambda: swaps.append(holder.current.fingerprint))  # type: ignore[union-attr]
    holder.reload()
    with pytest.raises(FileNotFoundError):
        holder.reload()
    holder.reload()
    assert swaps == ["1", "2"]  # called after the swap (it sees the new model), never after a failure


def test_settle_heap_freezes_what_lives_and_still_collects_later_garbage() -> None:
    try:
        settle_heap()
        frozen = gc.get_freeze_count()
        assert frozen > 10_000  # the imported libraries and the test's objects

        class Node:
            other: Any = None

        first, second = Node(), Node()
        first.other, second.other = second, first  # a cycle made after the freeze
        del first, second
        assert gc.collect() >= 2  # later garbage is collected as usual
        settle_heap()  # a reload: unfreeze, collect, freeze again
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


def test_reload_under_concurrent_requests_never_fails(bundle: ModelBundle) -> None:
    counter = iter(range(1, 1000))

    def load() -> LoadedModel:
        label = str(next(counter))
        return LoadedModel(
            LeadScorer(bundle, version=label, source="memory"), "memory", datetime.now(UTC), label
        )

    app = create_app(Settings(api_key=SecretStr(API_KEY)), ModelHolder(load))
    failures: list[str] = []
    versions: set[str] = set()
    completed: list[int] = []
    stop = threading.Event()
    with TestClient(app, headers={"X-API-Key": API_KEY}) as test_client:
        expected = score(test_client, lead(RIPE_EVENTS))["readiness"]

        def hammer() -> None:
            while not stop.is_set():
                response = test_client.post("/v1/score", json=lead(RIPE_EVENTS))
                if response.status_code != 200:
                    failures.append(f"{response.status_code}: {response.text[:200]}")
                    continue
                body = response.json()
                versions.add(body["model_version"])
                completed.append(1)
                if body["readiness"] != expected:
                    failures.append("readiness changed")

        workers = [threading.Thread(target=hammer) for _ in range(4)]
        for worker in workers:
            worker.start()
        try:
            for _ in range(5):
                # Let some requests finish on the current model before swapping it.
                seen = len(completed)
                deadline = time.monotonic() + 10
                while len(completed) < seen + 3 and time.monotonic() < deadline:
                    time.sleep(0.005)
                response = test_client.post("/v1/admin/reload")
                assert response.status_code == 200
        finally:
            stop.set()
            for worker in workers:
                worker.join()
    assert not failures, failures[:3]
    assert len(versions) >= 2  # requests really ran across reloads


# ------------------------------------------------------------------------------------------ compare


def test_compare_names_the_signals_that_make_the_difference(client: TestClient) -> None:
    ripe, green = lead(RIPE_EVENTS, lead_id="A-1"), lead(GREEN_EVENTS, lead_id="B-1")
    response = client.post("/v1/compare", json={"a": ripe, "b": green})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["higher"] == "a" and answer["a"]["lead_id"] == "A-1"
    # The same numbers as scoring each lead alone.
    a_alone, b_alone = score(client, ripe), score(client, green)
    assert answer["a"]["score"] == a_alone["score"] and answer["b"]["fit"] == b_alone["fit"]
    raw_difference = a_alone["reasons"]["raw_score"] - b_alone["reasons"]["raw_score"]
    assert answer["raw_difference"] == pytest.approx(raw_difference, abs=1e-9)
    # Listed and other differences add up exactly to the difference of the raw scores.
    listed = [*answer["signals_for"], *answer["signals_against"]]
    total = sum(s["difference"] for s in listed) + answer["other_difference"]
    assert total == pytest.approx(answer["raw_difference"], abs=1e-9)
    assert all(s["difference"] > 0 and s["favours"] == "a" for s in answer["signals_for"])
    assert all(s["difference"] < 0 and s["favours"] == "b" for s in answer["signals_against"])
    assert [s["difference"] for s in answer["signals_for"]] == sorted(
        (s["difference"] for s in answer["signals_for"]), reverse=True
    )
    strongest = answer["signals_for"][0]["sentence"]
    assert "lead A: " in strongest and "lead B: " in strongest, strongest
    assert "This favours lead A (" in strongest and "_" not in strongest
    assert answer["summary"].startswith("Lead A scores higher than lead B")
    # Swapping the leads swaps the answer.
    swapped = client.post("/v1/compare", json={"a": green, "b": ripe}).json()
    assert swapped["higher"] == "b"
    assert swapped["raw_difference"] == pytest.approx(-answer["raw_difference"], abs=1e-9)
    assert [s["signal"] for s in swapped["signals_for"]] == [s["signal"] for s in answer["signals_for"]]


def test_compare_of_equal_leads_and_bad_input(client: TestClient) -> None:
    same = client.post("/v1/compare", json={"a": lead(GREEN_EVENTS), "b": lead(GREEN_EVENTS)}).json()
    assert same["higher"] is None and same["signals_for"] == [] and same["signals_against"] == []
    assert "score the same" in same["summary"]
    broken = lead(GREEN_EVENTS)
    broken["profile"]["employees"] = "many"
    response = client.post("/v1/compare", json={"a": lead(GREEN_EVENTS), "b": broken})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:2] == ["body", "b"]


def test_openapi_documents_fit_interest_and_compare(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    compare = schema["paths"]["/v1/compare"]["post"]
    assert compare["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("CompareIn")
    components = schema["components"]["schemas"]
    assert components["CompareIn"]["examples"] and components["Comparison"]["examples"]
    score_fields = components["LeadScore"]["properties"]
    for field in ("fit", "interest", "fit_interest"):
        assert score_fields[field]["examples"], field
    reason_fields = components["Reason"]["properties"]
    assert {"value", "reference", "direction", "evidence", "label"} <= set(reason_fields)

"""The verdict in the API's answers: the chance if handed over now, hand-raisers and the rule, gone-cold
hysteresis from the request's own events, overlap warnings, and the OpenAPI schema."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.scorer import LeadScorer
from serving.settings import Settings
from tests.conftest import REPO_ROOT
from tests.serving.test_api import (
    AS_OF,
    GREEN_EVENTS,
    RIPE_EVENTS,
    holder_for,
    lead,
    make_dataset,
    score,
    train_bundle,
)
from training.bundle import ModelBundle
from training.data.live import LeadIn
from training.model.decision_policy import DecisionPolicy, GoneCold, HandoverEstimate, HandRaisers
from training.scoring import score_records

THRESHOLD = 0.3


@pytest.fixture(scope="module")
def base_bundle() -> ModelBundle:
    return train_bundle(make_dataset(), threshold=THRESHOLD)


def with_policy(bundle: ModelBundle, policy: DecisionPolicy) -> ModelBundle:
    return dataclasses.replace(bundle, card=bundle.card.model_copy(update={"decision": policy}))


def client_for(bundle: ModelBundle) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(), holder_for(bundle))) as test_client:
        yield test_client


POLICY = DecisionPolicy(
    threshold=THRESHOLD,
    # A correction that raises the chance of leads that asked for contact a lot, to see it act.
    estimate=HandoverEstimate(available=True, contact_coef=3.0, overlap_min_readiness=0.05),
    hand_raisers=HandRaisers(rule_enabled=False, min_fit="D"),
    gone_cold=GoneCold(available=True, readiness_level=0.02, min_days_inactive=60.0, exit_factor=5.0),
)


@pytest.fixture(scope="module")
def client(base_bundle: ModelBundle) -> Iterator[TestClient]:
    yield from client_for(with_policy(base_bundle, POLICY))


@pytest.fixture(scope="module")
def rule_client(base_bundle: ModelBundle) -> Iterator[TestClient]:
    rules = POLICY.model_copy(
        update={
            "estimate": HandoverEstimate(),
            "hand_raisers": HandRaisers(rule_enabled=True, min_fit="D"),
        }
    )
    yield from client_for(with_policy(base_bundle, rules))


def test_answers_carry_the_decision_fields(client: TestClient) -> None:
    answer = score(client, lead(GREEN_EVENTS))
    assert answer["verdict_source"] == "model"
    assert answer["contact_requested"] is False
    assert 0 <= answer["handover_chance"] <= 1
    assert answer["handover_score"] == pytest.approx(100 * answer["handover_chance"], abs=0.06)
    # The threshold applies to the chance if handed over now.
    assert answer["handover"] == (answer["handover_chance"] >= THRESHOLD)


def test_a_recent_hand_raising_event_is_flagged_and_raises_the_chance(client: TestClient) -> None:
    plain = score(client, lead(GREEN_EVENTS))
    asked = score(client, lead([*GREEN_EVENTS, (1, "Demo Request")]))
    old = score(client, lead([*GREEN_EVENTS, (20, "demo_request")]))
    assert asked["contact_requested"] is True and old["contact_requested"] is False
    assert asked["handover_chance"] > plain["handover_chance"]
    # The reasons explain the readiness; the advice says what the request did to the chance (this
    # policy has no slice calibration: the readiness is the model's).
    without = 100 * POLICY.estimate.chance(np.array([asked["readiness"]]), np.array([False]))[0]
    expected = f"would be {without:.0f}; its request for contact raises it to {asked['handover_score']:.0f}"
    assert expected in asked["advice"]
    assert "request for contact" not in plain["advice"] and "request for contact" not in old["advice"]


def test_the_rule_makes_a_hand_raiser_ripe_and_says_so(rule_client: TestClient) -> None:
    green = score(rule_client, lead(GREEN_EVENTS))
    assert green["verdict"] == "too_green" and green["verdict_source"] == "model"
    asked = score(rule_client, lead([*GREEN_EVENTS, (1, "contact_sales")]))
    assert asked["verdict"] == "ripe" and asked["handover"]
    assert asked["verdict_source"] == "rule" and "rule" in asked["advice"]


def test_batch_scoring_decides_as_the_api(rule_client: TestClient, base_bundle: ModelBundle) -> None:
    rules = POLICY.model_copy(
        update={
            "estimate": HandoverEstimate(),
            "hand_raisers": HandRaisers(rule_enabled=True, min_fit="D"),
        }
    )
    bundle = with_policy(base_bundle, rules)
    bodies = [
        lead(GREEN_EVENTS, lead_id="a"),
        lead([*GREEN_EVENTS, (1, "contact_sales")], lead_id="b"),
        lead(RIPE_EVENTS, lead_id="c"),
    ]
    direct = score_records(bundle, bodies, default_as_of=pd.Timestamp(AS_OF))
    for body, row in zip(bodies, direct.itertuples(), strict=True):
        answer = score(rule_client, body)
        assert answer["handover"] == row.handover
        assert answer["contact_requested"] == row.contact_requested
        assert answer["handover_chance"] == pytest.approx(row.handover_chance, rel=1e-9)


def test_gone_cold_holds_until_the_lead_really_reengages(client: TestClient) -> None:
    # Quiet for 200 days: cold now. The earlier looks cannot change that verdict, so they are not scored.
    quiet = [(d + 200, t) for d, t in GREEN_EVENTS]
    cold = score(client, lead(quiet, created_days_before=260))
    assert cold["verdict"] == "gone_cold" and cold["gone_cold_rule"]["cold_a_lookback_earlier"] is None
    # One email open yesterday: no longer inactive, but still cold by the earlier look (hysteresis).
    nudged = score(client, lead([*quiet, (1, "email_open")], created_days_before=260))
    assert nudged["gone_cold_rule"]["days_inactive"] < 60
    assert nudged["verdict"] == "gone_cold" and nudged["gone_cold_rule"]["cold_a_lookback_earlier"] is True
    # Buying signals this week: warm again.
    back = score(client, lead([*quiet, *[(d, t) for d, t in RIPE_EVENTS if d <= 6]], created_days_before=260))
    assert back["verdict"] != "gone_cold"


def test_the_api_carries_the_cold_state_over_the_earlier_looks(base_bundle: ModelBundle) -> None:
    """The green lead (quiet for 40 days, then light touches) sits inside the band (level 0.02, top 0.1)
    at as_of and a week earlier, and was under the level a few weeks before: with one earlier look the
    API forgot that and called it too_green; with the chain of three it is still gone_cold, and a lead
    that has really re-engaged is not."""
    looks = {
        n: LeadScorer(
            with_policy(
                base_bundle,
                POLICY.model_copy(
                    update={"gone_cold": POLICY.gone_cold.model_copy(update={"earlier_looks": n})}
                ),
            ),
            version="1",
            source="test",
        )
        for n in (1, 3)
    }
    leads = [LeadIn.model_validate(lead(GREEN_EVENTS)), LeadIn.model_validate(lead(RIPE_EVENTS))]
    one, three = (looks[n].score_payloads(leads, default_as_of=AS_OF) for n in (1, 3))
    readiness = one[0]["readiness"]
    assert 0.02 <= readiness < 0.1, readiness  # inside the band now
    assert one[0]["verdict"] == "too_green" and one[0]["gone_cold_rule"]["cold_a_lookback_earlier"] is False
    assert (
        three[0]["verdict"] == "gone_cold" and three[0]["gone_cold_rule"]["cold_a_lookback_earlier"] is True
    )
    assert three[1]["verdict"] != "gone_cold"


def test_leads_unlike_any_handed_over_get_a_warning(client: TestClient) -> None:
    codes = lambda answer: {w["code"] for w in answer["warnings"]}  # noqa: E731
    quiet = score(client, lead([(d + 200, t) for d, t in GREEN_EVENTS], created_days_before=260))
    ripe = score(client, lead(RIPE_EVENTS))
    assert "unlike_handed_over_leads" in codes(quiet)
    assert "unlike_handed_over_leads" not in codes(ripe)


def test_openapi_documents_the_decision_fields(client: TestClient) -> None:
    schema: dict[str, Any] = client.get("/openapi.json").json()["components"]["schemas"]
    fields = schema["LeadScore"]["properties"]
    for name in ("handover_chance", "handover_score", "verdict_source", "contact_requested"):
        assert name in fields and fields[name].get("description")
    assert set(fields["verdict_source"]["enum"]) == {"model", "rule"}
    assert "unlike_handed_over_leads" in schema["Warning"]["properties"]["code"]["enum"]
    assert "cold_a_lookback_earlier" in schema["GoneColdRule"]["properties"]


def test_an_old_card_without_a_policy_still_decides_on_readiness(base_bundle: ModelBundle) -> None:
    for test_client in client_for(base_bundle):
        answer = score(test_client, lead(RIPE_EVENTS, as_of=AS_OF + timedelta(days=0)))
        assert answer["handover_chance"] == pytest.approx(answer["readiness"])
        assert answer["handover"] == (answer["readiness"] >= THRESHOLD)


def test_model_info_shows_the_decision_policy(client: TestClient) -> None:
    decision = client.get("/v1/model").json()["decision"]
    assert decision["target"] == "won" and decision["threshold"] == THRESHOLD
    assert "demo_request" in decision["hand_raisers"]["event_types"]
    assert decision["hand_raisers"]["rule_enabled"] is False
    assert decision["gone_cold"]["readiness_level"] == 0.02
    assert decision["estimate"]["contact_coef"] == 3.0


def test_model_info_shows_the_gone_cold_rule_that_decides(
    client: TestClient, base_bundle: ModelBundle
) -> None:
    """One gone-cold rule: the policy's (its readiness level, cutoff and hysteresis), not the serving
    statistics' inactivity rule, which only says how days of inactivity are counted."""
    info = client.get("/v1/model").json()
    rule = info["gone_cold_rule"]
    stats_rule = base_bundle.card.serving_stats().gone_cold
    assert stats_rule.min_days_inactive != 60  # the two rules differ, so the test can tell them apart
    assert {k: rule[k] for k in info["decision"]["gone_cold"]} == info["decision"]["gone_cold"]
    assert (rule["readiness_level"], rule["min_days_inactive"], rule["exit_factor"]) == (0.02, 60.0, 5.0)
    assert rule["inactivity_feature"] == stats_rule.inactivity_feature is not None
    assert "curve" not in rule and "n_beyond" not in rule


def test_the_example_lead_with_a_demo_request_yesterday(client: TestClient) -> None:
    """``data/examples/lead.json`` plus a demo request the day before its ``as_of``: the answer flags the
    contact request, and the policy's contact term lifts its chance if handed over now."""
    example = json.loads((REPO_ROOT / "data" / "examples" / "lead.json").read_text())
    as_of = pd.Timestamp(example["as_of"])
    demo = {"occurred_at": (as_of - pd.Timedelta(days=1)).isoformat(), "event_type": "demo_request"}
    plain = score(client, example)
    asked = score(client, {**example, "events": [*example["events"], demo]})
    assert asked["contact_requested"] and not plain["contact_requested"]
    assert asked["verdict_source"] == "model"
    assert asked["handover_chance"] > plain["handover_chance"]


def test_every_look_in_one_transform_equals_its_own_transform(base_bundle: ModelBundle) -> None:
    """The hysteresis's looks one, two and three weeks earlier come from the same feature call as the look
    at as_of (``SnapshotArrays.with_earlier_looks`` + ``FeatureMatrix.split``), stacked nearest first;
    each block equals its own call."""
    scorer = LeadScorer(with_policy(base_bundle, POLICY), version="1", source="test")
    bodies = [lead(GREEN_EVENTS, lead_id="a"), lead(RIPE_EVENTS, lead_id="b")]
    leads = [LeadIn.model_validate(body) for body in bodies]
    arrays = scorer.build_arrays(leads, AS_OF)
    week = int(timedelta(days=7).total_seconds() * 1e9)
    now, earlier = scorer.features.transform_arrays(
        arrays.with_earlier_looks((week, 2 * week, 3 * week))
    ).split(len(leads))
    pd.testing.assert_frame_equal(now.to_frame(), scorer.features.transform_arrays(arrays).to_frame())
    stacked = earlier.to_frame()
    for k in (1, 2, 3):
        earlier_leads = [
            LeadIn.model_validate({**body, "as_of": (AS_OF - timedelta(days=7 * k)).isoformat()})
            for body in bodies
        ]
        alone = scorer.features.transform_arrays(scorer.build_arrays(earlier_leads, AS_OF)).to_frame()
        block = stacked.iloc[(k - 1) * len(leads) : k * len(leads)].reset_index(drop=True)
        pd.testing.assert_frame_equal(block, alone)


def test_a_new_lead_under_the_level_is_told_to_be_nurtured_not_reactivated(base_bundle: ModelBundle) -> None:
    # A level above a quiet ads lead's readiness (~0.09), carried over 4 looks a week apart: 28 days.
    rule = GoneCold(available=True, readiness_level=0.15, min_days_inactive=60.0, earlier_looks=4)
    policy = POLICY.model_copy(update={"gone_cold": rule})
    clients = client_for(with_policy(base_bundle, policy))
    client = next(clients)
    new = score(client, lead([], created_days_before=0.5))
    assert new["verdict"] == "gone_cold"  # the verdict the CRM's workflows key on stays
    assert new["advice"].startswith("Not warming up: its score ") and "at 12 hours old" in new["advice"]
    assert "reactivate" not in new["advice"] and "nurture it" in new["advice"]
    old = score(client, lead([], created_days_before=40))
    assert old["verdict"] == "gone_cold" and old["advice"].startswith("Gone cold: ")
    assert "reactivate" in old["advice"]
    clients.close()

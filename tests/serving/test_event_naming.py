"""The API names a request's events as the import did (``ModelCard.event_naming``): detail patterns type a
generic "Visit Webpage" by its page, types the import skipped are ignored without a warning, and a model's
type sent in another case is that type, for the features and the hand-raiser check alike."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from serving.scorer import LeadScorer
from tests.serving.small_bundles import train_small_bundle
from training.bundle import ModelBundle
from training.data.live import LeadIn
from training.simulation.simulator import simulate

NOW = datetime(2025, 6, 1, tzinfo=UTC)
DETAIL_TYPES = {"Visit Webpage | */pricing*": "pricing_page_view", "Fill Out Form | Demo*": "demo_request"}


@pytest.fixture(scope="module")
def bundle() -> ModelBundle:
    trained = train_small_bundle(simulate(600, seed=4).dataset, threshold=0.2, decision=True)
    card = trained.card.model_copy(
        update={"event_detail_types": DETAIL_TYPES, "skipped_event_types": ["Change Score"]}
    )
    return replace(trained, card=card)


def _answer(bundle: ModelBundle, events: list[dict[str, Any]]) -> dict[str, Any]:
    lead = LeadIn(
        lead_id="L1",
        created_at=NOW - timedelta(days=40),
        as_of=NOW,
        profile={},
        events=[{"occurred_at": NOW - timedelta(days=2 + i), **event} for i, event in enumerate(events)],
    )
    return LeadScorer(bundle, version="7", source="memory").score_payloads([lead], default_as_of=NOW)[0]


def _codes(answer: dict[str, Any]) -> set[str]:
    return {warning["code"] for warning in answer["warnings"]}


def test_a_detail_types_the_event_as_the_import_did(bundle: ModelBundle) -> None:
    crm = _answer(
        bundle,
        [
            {"event_type": "Visit Webpage", "detail": "https://example.com/pricing"},
            {"event_type": "Fill Out Form", "detail": "Demo Request - EMEA"},
        ],
    )
    model = _answer(bundle, [{"event_type": "pricing_page_view"}, {"event_type": "demo_request"}])
    assert crm["readiness"] == pytest.approx(model["readiness"])
    assert crm["contact_requested"] and model["contact_requested"]
    assert "unknown_event_types" not in _codes(crm)
    # Without a detail (or with one no pattern matches) the generic type is unknown to the model.
    blog = _answer(bundle, [{"event_type": "Visit Webpage", "detail": "/blog/ten-tips"}])
    assert "unknown_event_types" in _codes(blog)


def test_skipped_types_are_ignored_without_a_warning(bundle: ModelBundle) -> None:
    with_bookkeeping = _answer(bundle, [{"event_type": "site_visit"}, {"event_type": "Change Score"}])
    without = _answer(bundle, [{"event_type": "site_visit"}])
    assert with_bookkeeping["readiness"] == pytest.approx(without["readiness"])
    assert "unknown_event_types" not in _codes(with_bookkeeping)
    # They are no types of the model: GET /v1/model does not list them.
    from tests.serving.batch.test_batch import api_client

    clients = api_client(LeadScorer(bundle, version="7", source="memory"))
    listed = next(clients).get("/v1/model").json()["event_types"]
    clients.close()
    assert "Change Score" not in listed and "site_visit" in listed


def test_a_model_type_in_another_case_is_that_type(bundle: ModelBundle) -> None:
    # It was ignored by the features as unknown while the hand-raiser check read it as a request.
    sent = _answer(bundle, [{"event_type": "Demo Request"}, {"event_type": "pricing page view"}])
    model = _answer(bundle, [{"event_type": "demo_request"}, {"event_type": "pricing_page_view"}])
    assert sent["readiness"] == pytest.approx(model["readiness"])
    assert sent["contact_requested"] == model["contact_requested"]
    assert "unknown_event_types" not in _codes(sent)


def test_batch_scoring_names_events_as_the_api_does(bundle: ModelBundle) -> None:
    from training.scoring import score_records

    events = [
        {"occurred_at": NOW - timedelta(days=2), "event_type": "Visit Webpage", "detail": "/pricing"},
        {"occurred_at": NOW - timedelta(days=3), "event_type": "Change Score", "detail": "+10"},
        {"occurred_at": NOW - timedelta(days=4), "event_type": "Site_Visit"},
    ]
    record = {"lead_id": "L1", "created_at": NOW - timedelta(days=40), "as_of": NOW, "events": events}
    batch = score_records(bundle, [record], default_as_of=None)["readiness"].iloc[0]
    api = _answer(bundle, [{k: v for k, v in e.items() if k != "occurred_at"} for e in events])
    assert batch == pytest.approx(api["readiness"])


def test_early_events_are_counted_at_the_creation_where_the_import_did_so(bundle: ModelBundle) -> None:
    from tests.serving.batch.test_batch import api_client

    created = NOW - timedelta(days=40)

    def body(first_visit: datetime) -> dict[str, Any]:
        return {
            "lead_id": "L1",
            "created_at": created.isoformat(),
            "as_of": NOW.isoformat(),
            "events": [
                {"occurred_at": first_visit.isoformat(), "event_type": "site_visit"},
                {"occurred_at": (NOW - timedelta(days=3)).isoformat(), "event_type": "pricing_page_view"},
            ],
        }

    early, at_creation = body(created - timedelta(days=5)), body(created)
    dropped = {**early, "events": early["events"][1:]}
    readiness: dict[bool, float] = {}
    moving = replace(bundle, card=bundle.card.model_copy(update={"events_before_created": "creation"}))
    for scorer_bundle, counted in ((moving, True), (bundle, False)):
        clients = api_client(LeadScorer(scorer_bundle, version="7", source="memory"))
        client = next(clients)
        answer = client.post("/v1/score", json=early).json()
        reference = client.post("/v1/score", json=at_creation if counted else dropped)
        assert answer["readiness"] == pytest.approx(reference.json()["readiness"])
        readiness[counted] = answer["readiness"]
        warning = next(w for w in answer["warnings"] if w["code"] == "events_before_created_at")
        assert ("counted at it, as the import counted them" in warning["message"]) == counted
        clients.close()
    # Counted or dropped, the early visit changes the answer: the two policies are told apart.
    assert readiness[True] != pytest.approx(readiness[False])

"""The scoring API takes a CRM's own event type names ("Solicitud de demo") as the model's
("demo_request"): the import mapping's renames travel with the model (``ModelCard.event_type_aliases``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from serving.scorer import LeadScorer
from tests.serving.small_bundles import train_small_bundle
from training.data.contract import LeadDataset
from training.data.event_types import EventNaming
from training.data.live import LeadIn
from training.data.live_arrays import arrays_from_leads
from training.simulation.simulator import simulate

ALIASES = {"Solicitud de demo": "demo_request", "Demo angefragt": "demo_request", "Visita web": "site_visit"}


@pytest.fixture(scope="module")
def dataset() -> LeadDataset:
    return simulate(600, seed=4).dataset


def _lead(types: list[str]) -> LeadIn:
    now = datetime(2025, 6, 1, tzinfo=UTC)
    return LeadIn(
        lead_id="L1",
        created_at=now - timedelta(days=40),
        as_of=now,
        profile={},
        events=[{"occurred_at": now - timedelta(days=3 + i), "event_type": t} for i, t in enumerate(types)],
    )


def test_two_crm_names_of_one_type_share_its_code() -> None:
    arrays = arrays_from_leads(
        [_lead(["Solicitud de demo", "email_open", "Demo angefragt"])],
        datetime.now(UTC),
        (),
        (),
        EventNaming(ALIASES),
    )
    codes, names = arrays.event_types
    assert names == ["demo_request", "email_open"] and codes.tolist() == [0, 1, 0]


def test_a_crm_s_own_names_score_as_the_model_s(dataset: LeadDataset) -> None:
    bundle = train_small_bundle(dataset, threshold=0.2, decision=True)
    card = bundle.card.model_copy(update={"event_type_aliases": ALIASES})
    scorer = LeadScorer(replace(bundle, card=card), version="7", source="memory")
    now = datetime(2025, 6, 1, tzinfo=UTC)
    crm, model = (
        scorer.score_payloads([_lead(types)], default_as_of=now)[0]
        for types in (["Solicitud de demo", "Visita web"], ["demo_request", "site_visit"])
    )
    assert crm["readiness"] == pytest.approx(model["readiness"])
    assert crm["contact_requested"] == model["contact_requested"]
    assert not any(w["code"] == "unknown_event_types" for w in crm["warnings"])
    # Without the aliases the same names are unknown and ignored, and the answer differs.
    plain = LeadScorer(bundle, version="7", source="memory").score_payloads(
        [_lead(["Solicitud de demo", "Visita web"])], default_as_of=now
    )[0]
    assert any(w["code"] == "unknown_event_types" for w in plain["warnings"])
    assert not np.isclose(plain["readiness"], model["readiness"])


def test_batch_scoring_takes_the_crm_s_names_as_the_api_does(dataset: LeadDataset) -> None:
    from training.scoring import score_records

    bundle = train_small_bundle(dataset, threshold=0.2)
    aliased = replace(bundle, card=bundle.card.model_copy(update={"event_type_aliases": ALIASES}))
    crm, model = (
        score_records(aliased, [_lead(types).model_dump()])["readiness"].iloc[0]
        for types in (["Solicitud de demo", "Visita web"], ["demo_request", "site_visit"])
    )
    assert crm == pytest.approx(model)

"""The hand-raiser slice calibration in the answers: the API, batch scoring and the MLflow model's
scoring function apply it the same way, to leads that asked for contact only."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.batch.answers import answer_frame
from serving.scorer import LeadScorer
from serving.settings import Settings
from tests.serving.test_api import AS_OF, GREEN_EVENTS, holder_for, lead, make_dataset, score, train_bundle
from training.bundle import ModelBundle
from training.data.live import LeadIn
from training.model.calibration_slice import SliceCalibration
from training.model.decision_policy import DecisionPolicy, GoneCold, HandRaisers
from training.scoring import score_records

THRESHOLD = 0.3
#: A correction big enough to see: a hand-raiser's odds times e^1.5.
CALIBRATION = SliceCalibration(available=True, intercept=1.5, slope=1.0, basis="test")
POLICY = DecisionPolicy(
    threshold=THRESHOLD,
    hand_raisers=HandRaisers(rule_enabled=False),
    gone_cold=GoneCold(available=True, readiness_level=0.02, min_days_inactive=60.0, exit_factor=5.0),
)


@pytest.fixture(scope="module")
def base_bundle() -> ModelBundle:
    return train_bundle(make_dataset(), threshold=THRESHOLD)


def with_policy(bundle: ModelBundle, policy: DecisionPolicy) -> ModelBundle:
    return dataclasses.replace(bundle, card=bundle.card.model_copy(update={"decision": policy}))


@pytest.fixture(scope="module")
def calibrated(base_bundle: ModelBundle) -> ModelBundle:
    return with_policy(base_bundle, POLICY.model_copy(update={"hand_raiser_calibration": CALIBRATION}))


@pytest.fixture(scope="module")
def client(calibrated: ModelBundle) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(), holder_for(calibrated))) as test_client:
        yield test_client


BODIES = [
    lead(GREEN_EVENTS, lead_id="plain"),
    lead([*GREEN_EVENTS, (1, "demo_request")], lead_id="asked"),
    lead([*GREEN_EVENTS, (20, "demo_request")], lead_id="asked-long-ago"),
]


def test_the_correction_moves_hand_raisers_only(client: TestClient, base_bundle: ModelBundle) -> None:
    uncorrected = LeadScorer(with_policy(base_bundle, POLICY), version="t", source="t")
    before = uncorrected.score_payloads([LeadIn.model_validate(b) for b in BODIES], default_as_of=AS_OF)
    after = [score(client, body) for body in BODIES]
    assert [a["contact_requested"] for a in after] == [False, True, False]
    assert after[0]["readiness"] == pytest.approx(before[0]["readiness"], rel=1e-12)
    assert after[2]["readiness"] == pytest.approx(before[2]["readiness"], rel=1e-12)
    r = before[1]["readiness"]
    expected = 1 / (1 + np.exp(-(1.5 + np.log(r / (1 - r)))))
    assert after[1]["readiness"] == pytest.approx(expected, rel=1e-9)
    assert after[1]["score"] == round(100 * expected, 1)
    # The verdict rests on the corrected readiness (no handover correction: chance = readiness).
    assert after[1]["handover_chance"] == pytest.approx(expected, rel=1e-9)
    assert after[1]["handover"] == (expected >= THRESHOLD)


def test_api_batch_and_mlflow_scoring_give_the_same_answer(
    client: TestClient, calibrated: ModelBundle
) -> None:
    api = [score(client, body) for body in BODIES]
    scorer = LeadScorer(calibrated, version="t", source="t")
    leads = [LeadIn.model_validate(b) for b in BODIES]
    arrays = scorer.build_arrays(leads, AS_OF)
    batch = answer_frame(scorer, arrays, np.array([b["lead_id"] for b in BODIES]))
    pyfunc = score_records(calibrated, BODIES, default_as_of=pd.Timestamp(AS_OF))
    for answer, row, direct in zip(api, batch.to_dict(orient="records"), pyfunc.itertuples(), strict=True):
        assert answer["readiness"] == pytest.approx(row["readiness"], rel=1e-9)
        assert answer["readiness"] == pytest.approx(direct.readiness, rel=1e-9)
        assert answer["score"] == row["score"] == direct.score
        assert answer["handover_chance"] == pytest.approx(direct.handover_chance, rel=1e-9)
        assert answer["handover"] == row["handover"] == direct.handover
    assert api[1]["readiness"] != pytest.approx(api[0]["readiness"], rel=1e-3)


def test_model_info_shows_the_calibration(client: TestClient) -> None:
    decision = client.get("/v1/model").json()["decision"]
    assert decision["hand_raiser_calibration"]["available"] is True
    assert decision["hand_raiser_calibration"]["intercept"] == 1.5

"""Batch scoring with the hand-raiser rule on: without reasons the rule reads fit from the per-tree
tables (no TreeSHAP per lead) and the rows still equal the API's answers exactly."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from serving.batch.answers import AnswerOptions
from serving.batch.run import BatchPlan
from serving.scorer import LeadScorer
from tests.serving.batch.test_batch import AS_OF, api_answers, api_client, batch_scores, request_bodies
from training.bundle import ModelBundle
from training.data.contract import LeadDataset


@pytest.fixture(scope="module")
def rule_scorer(batch_bundle: ModelBundle) -> LeadScorer:
    decision = batch_bundle.card.decision
    assert decision is not None
    # A strict fit floor ("B": the upper half of fit), so that fit decides for some hand-raisers, and a
    # high threshold, so that the model alone does not already call every hand-raiser here ripe.
    rule = decision.hand_raisers.model_copy(update={"rule_enabled": True, "min_fit": "B"})
    policy = decision.model_copy(update={"hand_raisers": rule, "threshold": 0.9})
    card = batch_bundle.card.model_copy(update={"decision": policy})
    return LeadScorer(dataclasses.replace(batch_bundle, card=card), version="3", source="memory")


@pytest.fixture(scope="module")
def rule_client(rule_scorer: LeadScorer) -> Iterator[TestClient]:
    yield from api_client(rule_scorer)


def test_rule_verdicts_without_reasons_equal_the_api_and_the_explained_batch(
    rule_scorer: LeadScorer, batch_dataset: LeadDataset, rule_client: TestClient, tmp_path: Path
) -> None:
    # Every lead: the simulated hand-raisers are mostly handed over already, and left out by default.
    fast = batch_scores(rule_scorer, batch_dataset, tmp_path, BatchPlan(as_of=(AS_OF,), include_closed=True))
    explained = batch_scores(
        rule_scorer,
        batch_dataset,
        tmp_path,
        BatchPlan(as_of=(AS_OF,), include_closed=True, answers=AnswerOptions(1)),
    )
    assert fast["raw_score"].isna().all()  # no contributions were computed
    fields = ["lead_id", "score", "grade", "verdict", "verdict_source", "handover", "fit", "interest"]
    pd.testing.assert_frame_equal(fast[fields], explained[fields])
    # The rule acted, and fit held some hand-raisers back: the rows that exercise the fit it reads.
    asked = fast[fast["contact_requested"]]
    assert (asked["verdict_source"] == "rule").any()
    assert ((asked["verdict_source"] == "model") & asked["fit"].isin(["C", "D"])).any()
    answers = api_answers(rule_client, request_bodies(batch_dataset, fast["lead_id"].tolist(), AS_OF), 0)
    for answer, row in zip(answers, fast.to_dict(orient="records"), strict=True):
        for field in (*fields, "percentile", "contact_requested"):
            assert answer[field] == row[field], (field, answer["lead_id"])
        for field in ("readiness", "handover_chance"):  # the trees' sums, added in another order
            assert math.isclose(answer[field], row[field], rel_tol=1e-12), (field, answer["lead_id"])

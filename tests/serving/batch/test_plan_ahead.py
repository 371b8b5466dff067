"""The API's "what would ripen it" counterfactuals, planned before the verdicts so that they share the
leads' feature transform (``serving.to_ripen.plan_ahead``), give exactly the answers of planning them
after the verdicts from the features, including when the counts read off the events disagree."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

import serving.scorer
import serving.to_ripen
from serving.counterfactuals import counts_from_events, counts_from_features
from serving.scorer import LeadScorer
from tests.serving.batch.test_batch import AS_OF, request_bodies
from training.data.contract import LeadDataset
from training.data.live import LeadIn


def answers_of(scorer: LeadScorer, leads: list[LeadIn], as_of: pd.Timestamp) -> str:
    """Each lead alone (the API's common case), then all together, as one JSON text."""
    moment = as_of.to_pydatetime()
    answers: list[dict[str, Any]] = [scorer.score_payloads([lead], default_as_of=moment)[0] for lead in leads]
    answers += scorer.score_payloads(leads, default_as_of=moment)
    return json.dumps(answers, default=str, sort_keys=True)


@pytest.fixture(scope="module")
def leads(batch_dataset: LeadDataset) -> list[LeadIn]:
    ids = batch_dataset.leads["lead_id"].astype(str).tolist()[:80]
    return [LeadIn.model_validate(body) for body in request_bodies(batch_dataset, ids, AS_OF)]


def test_counts_read_off_the_events_equal_the_count_features(
    batch_scorer: LeadScorer, leads: list[LeadIn]
) -> None:
    profile = batch_scorer.stats.ripe_profile
    assert profile, "the test model needs a ripe profile"
    arrays = batch_scorer.build_arrays(leads, AS_OF.to_pydatetime())
    features = batch_scorer.features.transform_arrays(arrays)
    from_events = counts_from_events(arrays, batch_scorer.features.slot_of_type_, profile)
    assert from_events is not None and from_events.any()
    assert np.array_equal(from_events, counts_from_features(features, np.arange(len(arrays)), profile))
    planned = serving.to_ripen.plan_ahead(batch_scorer.features, arrays, profile)
    assert planned is not None and len(planned.plan) > len(arrays)  # several counterfactuals per lead
    # A lead with two snapshots cannot be read that way: the caller plans after the verdicts instead.
    twice = arrays.with_earlier_looks(7 * 86_400 * 10**9)
    assert counts_from_events(twice, batch_scorer.features.slot_of_type_, profile) is None


def test_planning_ahead_changes_no_answer(
    batch_scorer: LeadScorer, leads: list[LeadIn], monkeypatch: pytest.MonkeyPatch
) -> None:
    ahead = answers_of(batch_scorer, leads, AS_OF)
    parsed = json.loads(ahead)
    green = [a for a in parsed if a["verdict"] == "too_green" and a["to_ripen"]["steps"]]
    assert len(green) >= 5, "the test needs too-green leads with ripening steps"

    with monkeypatch.context() as patch:  # nothing planned ahead: every plan made after the verdicts
        patch.setattr(serving.scorer, "plan_ahead", lambda *args: None)
        assert answers_of(batch_scorer, leads, AS_OF) == ahead

    real_counts = serving.to_ripen.counts_from_events
    with monkeypatch.context() as patch:  # counts that disagree with the features: those are replanned
        patch.setattr(serving.to_ripen, "counts_from_events", lambda *args: real_counts(*args) + 1)
        assert answers_of(batch_scorer, leads, AS_OF) == ahead

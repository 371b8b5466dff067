"""The steps of ``to_ripen`` (serving.to_ripen.ripening_answers): only those that raise the lead's chance
if handed over now are advice; a step a ripe lead typically shows can lower it for this lead."""

from __future__ import annotations

from typing import Any

import numpy as np

from serving.to_ripen import ripening_answers
from training.model.serving_types import Ripening


def _step(signal: str, score_if_added: float) -> dict[str, Any]:
    return {
        "signal": signal,
        "window_days": 30,
        "current_count": 0,
        "typical_count": 1,
        "add_events": 1,
        "score_if_added": score_if_added,
        "ripe_if_added": False,
        "sentence": "",
    }


def _answers(chance_now: float, steps: list[dict[str, Any]], max_steps: int = 3) -> dict[str, Any]:
    no_bands = Ripening(min_support=20, min_ripen_rate=0.1, bands=[])
    answers = ripening_answers(
        np.array([0]),
        readiness=np.array([0.02]),
        chance=np.array([chance_now]),
        steps_by_row={0: steps},
        all_by_row={},
        max_steps=max_steps,
        threshold=0.167,
        ripening=no_bands,
    )
    return answers[0]


def test_steps_that_lower_or_keep_the_chance_are_not_advice() -> None:
    steps = [_step("visit_webpage", 12.0), _step("demo_request", 19.4), _step("open_email", 14.2)]
    plan = _answers(0.139, steps)
    # 13.9 now: 12.0 lowers it, 14.2 prints as "from 14 to 14"; only the demo request is advice.
    assert [step["signal"] for step in plan["steps"]] == ["demo_request"]
    assert plan["steps"][0]["sentence"].endswith("would raise the chance if handed over now from 14 to 19")


def test_raising_steps_are_ranked_by_the_chance_they_bring_and_capped() -> None:
    steps = [_step("a", 20.0), _step("b", 31.0), _step("c", 25.0), _step("d", 5.0)]
    plan = _answers(0.10, steps, max_steps=2)
    assert [step["signal"] for step in plan["steps"]] == ["b", "c"]
    assert all(step["sentence"] for step in plan["steps"])


def test_a_lead_no_step_would_raise_gets_no_steps() -> None:
    plan = _answers(0.30, [_step("a", 12.0), _step("b", 29.6)])
    assert plan["steps"] == []
    assert plan["estimated_days_to_ripeness"] == "unknown"


def test_a_too_green_answer_without_steps_says_why() -> None:
    from dataclasses import replace
    from datetime import UTC, datetime, timedelta

    from serving.scorer import LeadScorer
    from tests.serving.small_bundles import train_small_bundle
    from training.data.live import LeadIn
    from training.simulation.simulator import simulate

    bundle = train_small_bundle(simulate(600, seed=4).dataset, threshold=0.2, decision=True)
    assert bundle.card.serving is not None
    now = datetime(2025, 6, 1, tzinfo=UTC)
    lead = LeadIn(
        lead_id="L1",
        created_at=now - timedelta(days=20),
        as_of=now,
        profile={},
        events=[{"occurred_at": now - timedelta(days=1), "event_type": "site_visit"}],
    )

    def to_ripen(card_bundle: object) -> dict[str, Any]:
        scorer = LeadScorer(card_bundle, version="7", source="memory")  # type: ignore[arg-type]
        answer = scorer.score_payloads([lead], default_as_of=now)[0]
        assert answer["verdict"] == "too_green"
        return answer["to_ripen"]

    with_profile = to_ripen(bundle)
    assert with_profile["steps"] and with_profile.get("steps_basis") is None
    serving = bundle.card.serving.model_copy(update={"ripe_profile": []})
    without = to_ripen(replace(bundle, card=bundle.card.model_copy(update={"serving": serving})))
    assert (
        without["steps"] == [] and "learnt no signal that ripe leads typically show" in without["steps_basis"]
    )

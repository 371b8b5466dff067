"""The advice sentence says which part of the gone-cold rule holds, with values that read apart."""

from __future__ import annotations

import pytest

from serving.advice import advice, cold_because
from training.model.decision_policy import DecisionPolicy, GoneCold

RULE = GoneCold(available=True, readiness_level=0.02, min_days_inactive=14.0, exit_factor=2.5)
POLICY = DecisionPolicy(threshold=0.15, gone_cold=RULE)


@pytest.mark.parametrize(
    ("readiness", "days", "says", "never"),
    [
        (0.01, 3.0, "its score 1.0 is under the gone-cold level 2.0", "no engagement"),
        (0.03, 20.0, "no engagement for 20 days (the rule's limit is 14)", "under the gone-cold level"),
        (0.01, 30.0, "under the gone-cold level 2.0 and no engagement for 30 days", "re-warmed"),
        # Neither holds now: carried from the earlier looks, still under 2.5 x the level.
        (0.03, 5.0, "its score 3.0 is still under 5.0, where a lead counts as re-warmed", "no engagement"),
    ],
)
def test_gone_cold_advice_names_the_condition_that_holds(
    readiness: float, days: float, says: str, never: str
) -> None:
    text = advice(POLICY, "gone_cold", "model", 0.01, days, None, readiness)
    assert text.startswith("Gone cold: ")
    assert says in text
    assert never not in text


def test_a_score_just_under_the_level_does_not_read_as_equal() -> None:
    # 1.570 and 1.574 both read 1.6 (and 1.57): the sentence shows the decimals that tell them apart.
    rule = GoneCold(available=True, readiness_level=0.01574, min_days_inactive=14.0)
    assert cold_because(rule, 0.01570, 5.0) == "its score 1.570 is under the gone-cold level 1.574"


def test_a_short_quiet_spell_is_never_given_as_the_reason() -> None:
    text = advice(POLICY, "gone_cold", "model", 0.01, 5.0, None, 0.01)
    assert "5 days" not in text


@pytest.mark.parametrize(
    ("age", "says"), [(0.7, "at 17 hours old"), (1.0, "at 1 day old"), (12.0, "at 12 days old")]
)
def test_a_new_lead_under_the_level_is_not_warming_up_rather_than_gone_cold(age: float, says: str) -> None:
    # Younger than the span the state is carried over (4 looks x 7 days): it never was warm.
    rule = RULE.model_copy(update={"earlier_looks": 4, "lookback_days": 7.0})
    policy = POLICY.model_copy(update={"gone_cold": rule})
    text = advice(policy, "gone_cold", "model", 0.01, 0.5, None, 0.01, age)
    assert text.startswith("Not warming up: its score 1.0 is under the gone-cold level 2.0, " + says)
    assert "reactivate" not in text and "nurture it" in text
    # Older than the span, or of unknown age: gone cold, reactivate.
    for older in (28.0, None):
        assert advice(policy, "gone_cold", "model", 0.01, 0.5, None, 0.01, older).startswith("Gone cold: ")


def test_the_advice_says_what_a_request_for_contact_does_to_the_chance() -> None:
    ripe = advice(POLICY, "ripe", "model", 0.20, 1.0, None, 0.09, 30.0, chance_without_contact=0.09)
    assert ripe.endswith(
        "From its score alone the chance would be 9; its request for contact raises it to 20: leads "
        "handed over after asking were won more often than their score says."
    )
    green = advice(POLICY, "too_green", "model", 0.05, 1.0, None, 0.09, 30.0, chance_without_contact=0.09)
    assert "would be 9; its request for contact lowers it to 5" in green and "less often" in green
    # Under a point apart, or no request: nothing is said.
    for without in (0.196, None):
        assert "request for contact" not in advice(
            POLICY, "ripe", "model", 0.20, 1.0, None, 0.09, 30.0, without
        )

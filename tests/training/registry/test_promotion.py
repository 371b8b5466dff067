"""The promotion guards: each check decides on its own numbers and names them."""

from __future__ import annotations

import math

import pytest

from training.guard_settings import PromotionSettings
from training.registry.promotion import ChallengerEvidence, ChampionEvidence, decide_promotion

GOOD = ChallengerEvidence(
    0.80, (0.76, 0.84), {"logistic_baseline": (0.03, 0.01, 0.05), "points_baseline": (0.01, -0.004, 0.02)}
)


def check(decision, name: str) -> str:
    (found,) = [c for c in decision.checks if c.name == name]
    return found.status


def test_a_good_first_model_passes_every_applicable_check() -> None:
    decision = decide_promotion(GOOD, None)
    assert decision.promote, decision.reason
    assert [c.status for c in decision.checks] == ["pass", "pass", "pass", "pass", "skipped", "skipped"]
    assert "0.760" in decision.checks[1].detail and "0.520" in decision.checks[1].detail


@pytest.mark.parametrize(
    ("ci", "margin", "expected"),
    [
        ((0.53, 0.60), 0.02, "pass"),
        ((0.515, 0.60), 0.02, "FAIL"),
        ((0.515, 0.60), 0.0, "pass"),
        ((0.49, 0.6), 0.0, "FAIL"),
    ],
)
def test_the_auc_interval_must_clear_chance_plus_a_margin(
    ci: tuple[float, float], margin: float, expected: str
) -> None:
    challenger = ChallengerEvidence(0.56, ci)
    decision = decide_promotion(challenger, None, PromotionSettings(chance_margin=margin))
    assert check(decision, "better than chance") == expected
    assert decision.promote is (expected == "pass")


def test_a_baseline_may_be_tied_but_not_beaten() -> None:
    tied = ChallengerEvidence(0.80, (0.76, 0.84), {"logistic_baseline": (0.0, -0.005, 0.01)})
    assert decide_promotion(tied, None).promote
    beaten = ChallengerEvidence(0.80, (0.76, 0.84), {"logistic_baseline": (-0.01, -0.02, 0.0)})
    decision = decide_promotion(beaten, None)
    assert not decision.promote and check(decision, "vs logistic_baseline") == "FAIL"
    assert "-0.020" in decision.reason and "-0.005" in decision.reason
    undefined = ChallengerEvidence(0.80, (0.76, 0.84), {"points_baseline": (math.nan, math.nan, math.nan)})
    assert check(decide_promotion(undefined, None), "vs points_baseline") == "skipped"


def test_the_champion_on_the_new_window_sets_the_bar() -> None:
    champion = ChampionEvidence(3, auc_on_new_window=0.82, recorded_auc=0.84)
    assert decide_promotion(GOOD, champion).promote  # 0.80 >= 0.95 x 0.82 = 0.779
    lower = ChallengerEvidence(0.76, (0.72, 0.80), GOOD.baseline_differences)
    decision = decide_promotion(lower, champion)
    assert not decision.promote and check(decision, "vs champion") == "FAIL" and "0.779" in decision.reason


def test_a_collapsed_champion_stops_automatic_promotion_only() -> None:
    # Champion recorded 0.92, scores 0.43 on the new window: the data broke.
    collapsed = ChampionEvidence(3, auc_on_new_window=0.43, recorded_auc=0.92)
    decision = decide_promotion(GOOD, collapsed)
    assert not decision.promote
    (failed,) = decision.failed
    assert failed.name == "champion not collapsed" and failed.overridable
    assert "--reason" in failed.detail and "0.920" in failed.detail and "0.430" in failed.detail


def test_a_champion_that_cannot_score_or_is_leaky_does_not_veto() -> None:
    unscorable = ChampionEvidence(3, auc_on_new_window=math.nan, recorded_auc=0.97)
    decision = decide_promotion(GOOD, unscorable)
    assert decision.promote and check(decision, "vs champion") == "skipped"
    assert "cannot be scored" in decision.checks[-2].detail
    leaky = ChampionEvidence(3, auc_on_new_window=0.99, recorded_auc=0.98, blocking_columns=["leads.field_a"])
    decision = decide_promotion(GOOD, leaky)
    assert decision.promote and "leads.field_a" in decision.checks[-2].detail


def test_blocking_findings_refuse_and_name_every_column() -> None:
    blocked = ChallengerEvidence(
        0.97, (0.95, 0.99), blocking_columns=["leads.field_a", "events.event_type=x"]
    )
    decision = decide_promotion(blocked, None)
    assert not decision.promote
    assert "leads.field_a" in decision.reason and "events.event_type=x" in decision.reason
    assert decision.to_dict()["checks"][0]["status"] == "FAIL"

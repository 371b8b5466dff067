"""Threshold policies on tiny hand-checked examples."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from training.model.threshold import ThresholdDecision, ThresholdPolicy, choose_threshold


def test_expected_value_threshold_is_cost_over_value_plus_cost() -> None:
    decision = choose_threshold(ThresholdPolicy())
    assert decision.threshold == pytest.approx(1000 / 6000)
    assert 0.1 <= decision.threshold <= 0.3
    custom = choose_threshold(ThresholdPolicy(value_of_won_deal=900, cost_of_premature_handover=100))
    assert custom.threshold == pytest.approx(0.1)
    assert "0.100" in custom.explanation


def test_expected_value_reports_rates_on_given_data() -> None:
    y = np.array([1, 0, 0, 1])
    p = np.array([0.9, 0.5, 0.05, 0.1])
    decision = choose_threshold(ThresholdPolicy(), y, p)  # threshold 1/6: hands over 0.9 and 0.5
    assert decision.handover_rate == pytest.approx(0.5)
    assert decision.acceptance_rate == pytest.approx(0.5)


def test_acceptance_rate_picks_lowest_threshold_reaching_target() -> None:
    # Sorted by score: won, lost, won, won, lost, lost -> acceptance at each cut: 1, 1/2, 2/3, 3/4, 3/5, 1/2
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    y = np.array([1, 0, 1, 1, 0, 0])
    decision = choose_threshold(ThresholdPolicy(kind="acceptance_rate", target_acceptance_rate=0.6), y, p)
    assert decision.threshold == pytest.approx(0.5)
    assert decision.acceptance_rate == pytest.approx(0.6)
    strict = choose_threshold(ThresholdPolicy(kind="acceptance_rate", target_acceptance_rate=0.7), y, p)
    assert strict.threshold == pytest.approx(0.6)


def test_acceptance_rate_treats_ties_as_one_cut() -> None:
    p = np.array([0.9, 0.5, 0.5, 0.1])
    y = np.array([1, 1, 0, 0])
    decision = choose_threshold(ThresholdPolicy(kind="acceptance_rate", target_acceptance_rate=0.6), y, p)
    assert decision.threshold == pytest.approx(0.5)  # >= 0.5 hands over three, two of them won


def test_acceptance_rate_unreachable_hands_over_nothing() -> None:
    p = np.array([0.9, 0.8])
    y = np.array([0, 1])
    decision = choose_threshold(ThresholdPolicy(kind="acceptance_rate", target_acceptance_rate=0.9), y, p)
    assert decision.threshold > 0.9
    assert decision.handover_rate == 0.0
    assert "No threshold" in decision.explanation


def test_capacity_takes_median_of_weekly_kth_scores() -> None:
    weeks = pd.to_datetime(
        ["2024-01-01"] * 3 + ["2024-01-08"] * 3 + ["2024-01-15"] * 3 + ["2024-01-22"], utc=True
    )
    p = np.array([0.9, 0.6, 0.1, 0.8, 0.4, 0.3, 0.7, 0.5, 0.2, 0.99])
    decision = choose_threshold(
        ThresholdPolicy(kind="capacity", capacity_per_week=2), proba=p, time_key=weeks
    )
    # 2nd best per full week: 0.6, 0.4, 0.5 -> median 0.5; the last week has one snapshot and does not count.
    assert decision.threshold == pytest.approx(0.5)
    with pytest.raises(ValueError, match="time_key"):
        choose_threshold(ThresholdPolicy(kind="capacity"), proba=p)


def test_policy_and_decision_round_trip_through_json() -> None:
    policy = ThresholdPolicy(kind="acceptance_rate", target_acceptance_rate=0.4)
    decision = choose_threshold(policy, np.array([1, 0, 1]), np.array([0.9, 0.3, 0.6]))
    restored = ThresholdDecision.from_dict(json.loads(json.dumps(decision.to_dict())))
    assert restored == decision
    no_data = choose_threshold(ThresholdPolicy())
    assert (
        ThresholdDecision.from_dict(json.loads(json.dumps(no_data.to_dict()))).threshold == no_data.threshold
    )


def test_invalid_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="kind"):
        ThresholdPolicy(kind="gut_feeling")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive"):
        ThresholdPolicy(value_of_won_deal=0)

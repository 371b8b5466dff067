"""The run says so when the threshold hands over nobody or everybody, and suggests a policy."""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.model.handover_check import handover_warning


def weekly_cutoffs(n: int) -> pd.Series:
    return pd.Series(pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(np.arange(n) // 10, "W"))


def test_threshold_that_hands_over_nobody_is_reported_with_policies() -> None:
    readiness = np.linspace(0.01, 0.12, 100)  # 10 snapshots a week for 10 weeks, all below 0.167
    warning = handover_warning(1 / 6, readiness, weekly_cutoffs(100), train_win_rate=0.09)
    assert warning is not None
    assert "hands over nobody" in warning and "0 of 100" in warning and "0.120" in warning
    assert "target_acceptance_rate = 0.18" in warning
    assert "capacity_per_week = 1" in warning  # 10 a week x 9% won, rounded up


def test_everybody_and_row_order() -> None:
    warning = handover_warning(0.1, np.full(50, 0.4), None, train_win_rate=0.3)
    assert warning is not None and "hands over everybody" in warning
    assert "capacity" not in warning  # row-order data has no weeks


def test_no_warning_when_some_are_handed_over() -> None:
    readiness = np.array([0.05, 0.1, 0.3])
    assert handover_warning(0.2, readiness, weekly_cutoffs(3), train_win_rate=0.1) is None


def test_almost_everybody_on_an_export_where_most_leads_win() -> None:
    """A 60%-win-rate export: the expected-value threshold called 99.8% of the test snapshots ripe and
    nothing said so. The suggested acceptance rate stays below everybody (halfway from 60% to 100%)."""
    readiness = np.r_[np.full(2, 0.1), np.full(998, 0.6)]
    warning = handover_warning(1 / 6, readiness, weekly_cutoffs(1000), train_win_rate=0.6)
    assert warning is not None
    assert "hands over almost everybody (99.8%)" in warning and "998 of 1,000" in warning
    assert "almost always say ripe" in warning and "target_acceptance_rate = 0.80" in warning
    # Under 95% handed over, the verdict still separates leads: no warning.
    assert handover_warning(1 / 6, np.r_[np.full(60, 0.1), np.full(940, 0.6)], None, 0.6) is None
    # Where 92% of leads win, handing 96% over is no broken policy (and 0.95, the rate suggested at a
    # 90% win rate, warns no more).
    assert handover_warning(1 / 6, np.r_[np.full(40, 0.1), np.full(960, 0.9)], None, 0.92) is None


def test_almost_nobody_when_far_more_leads_win() -> None:
    # 3 of 1,000 test snapshots handed over while 9% of the training snapshots were won.
    readiness = np.r_[np.full(3, 0.3), np.full(997, 0.05)]
    warning = handover_warning(1 / 6, readiness, weekly_cutoffs(1000), train_win_rate=0.09)
    assert warning is not None and "hands over almost nobody (0.30%)" in warning
    assert "almost never say ripe" in warning and "target_acceptance_rate = 0.18" in warning
    # As few handed over on an export where as few win is a sharp policy, not a broken one.
    assert handover_warning(1 / 6, readiness, weekly_cutoffs(1000), train_win_rate=0.01) is None

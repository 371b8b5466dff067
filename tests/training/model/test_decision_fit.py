"""Learning the decision policy (``training.model.decision_fit``), case by case on synthetic arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.model.decision_fit import (
    MIN_HANDOVERS,
    build_decision_policy,
    fit_handover_estimate,
    learn_gone_cold,
    ripened,
)
from training.model.decision_policy import GoneCold, HandRaisers


def test_too_few_handovers_leave_the_chance_at_the_readiness() -> None:
    n = MIN_HANDOVERS - 1
    readiness = np.full(n, 0.2)
    estimate = fit_handover_estimate(
        readiness, np.zeros(n, bool), np.arange(n) % 2, np.ones(n, bool), np.ones(n, bool)
    )
    assert not estimate.available and estimate.n_handovers == n
    assert "Too few handovers" in estimate.basis
    assert np.allclose(estimate.chance(np.array([0.3]), np.array([True])), [0.3])
    # An export without any hand-over date is told so, not "0 handovers, 0 won".
    without = fit_handover_estimate(
        readiness, np.zeros(n, bool), np.arange(n) % 2, np.zeros(n, bool), np.ones(n, bool)
    )
    assert not without.available
    assert without.basis.startswith("No training lead has a hand-over date (handed_over_at): the chance")


def test_the_correction_follows_what_handed_over_leads_did() -> None:
    """Handed-over leads won far more often than their readiness said, and hand-raisers more still:
    the estimate moves towards both, and overlap starts at the greenest handovers."""
    rng = np.random.default_rng(0)
    n = 4000
    readiness = rng.uniform(0.02, 0.3, n)
    contact = rng.random(n) < 0.2
    truth = np.clip(2 * readiness + 0.2 * contact, 0, 1)
    won = (rng.random(n) < truth).astype(int)
    at_handover = np.ones(n, bool)
    held_out = rng.random(n) < 0.5
    estimate = fit_handover_estimate(readiness, contact, won, at_handover, held_out)
    assert estimate.available and estimate.n_handovers == held_out.sum()
    plain, asked = estimate.chance(np.array([0.1, 0.1]), np.array([False, True]))
    assert plain > 0.13 and asked > plain + 0.05
    assert estimate.overlap_min_readiness is not None and estimate.overlap_min_readiness < 0.03
    # Rows that are not at a handover do not move the estimate.
    ignored = fit_handover_estimate(readiness, contact, 1 - won, ~at_handover, held_out)
    assert not ignored.available


def test_ripened_counts_a_later_crossing_within_the_horizon_or_the_target() -> None:
    cutoff = pd.Series(pd.to_datetime(["2024-01-01", "2024-02-01", "2024-09-01", "2024-01-01"], utc=True))
    lead = np.array(["a", "a", "a", "b"])
    readiness = np.array([0.05, 0.05, 0.5, 0.05])
    met = np.array([0, 0, 0, 1])
    later = ripened(lead, cutoff, readiness, 0.2, met, 90)
    # a's first two looks cross only in September (beyond 90 days); b met the target.
    assert later.tolist() == [False, False, False, True]
    assert ripened(lead, cutoff, readiness, 0.2, met, 365).tolist() == [True, True, False, True]


def test_gone_cold_level_and_inactivity_of_at_least_two_spacings() -> None:
    rng = np.random.default_rng(1)
    n = 20_000
    readiness = rng.uniform(0.0, 0.2, n)
    days = rng.uniform(0, 200, n)
    # Leads under 0.03 or quiet for 60+ days hardly ever ripen; the others often do.
    rate = np.where((readiness < 0.03) | (days >= 60), 0.01, 0.4)
    later = rng.random(n) < rate
    cold = learn_gone_cold(readiness, days, later, 0.25, snapshot_every_days=7)
    assert cold.available and cold.readiness_level is not None
    assert 0.015 < cold.readiness_level <= 0.031
    assert cold.min_days_inactive is not None and 60 <= cold.min_days_inactive <= 75
    assert cold.lookback_days == 7
    # The inactivity grid starts at two snapshot spacings: a monthly cadence never gets 30 days.
    monthly = learn_gone_cold(readiness, days, later, 0.25, snapshot_every_days=45)
    assert monthly.min_days_inactive is None or monthly.min_days_inactive >= 90
    assert not learn_gone_cold(readiness[:10], days[:10], later[:10], 0.25, snapshot_every_days=7).available


def test_build_policy_grades_on_the_held_out_chances() -> None:
    policy = build_decision_policy(
        target="won",
        horizon_days=90,
        threshold=0.2,
        estimate=fit_handover_estimate(
            np.zeros(0), np.zeros(0, bool), np.zeros(0), np.zeros(0, bool), np.zeros(0, bool)
        ),
        hand_raisers=HandRaisers(),
        gone_cold=GoneCold(),
        chance_held_out=np.array([0.01, 0.05, 0.1, 0.15, 0.3]),
    )
    assert policy.grade_edges is not None and policy.grade_edges.a == 0.2
    assert policy.grade_edges.c <= policy.grade_edges.b < 0.2

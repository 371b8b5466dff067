"""The simulator's funnel milestones: accepted and opportunity dates in the outcomes, in a plausible
order (handover <= accepted <= opportunity < close), every win accepted with an opportunity, drawn from
a stream of their own."""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.data.contract import ACCEPTED_AT, CLOSED_AT, HANDED_OVER_AT, OPPORTUNITY_AT, STATUS
from training.simulation.milestones import ACCEPT_IF_LOST, OPPORTUNITY_IF_LOST, draw_milestones
from training.simulation.simulator import simulate


def test_simulated_outcomes_date_acceptance_and_opportunity_in_funnel_order() -> None:
    result = simulate(400, seed=3)
    outcomes = result.dataset.outcomes
    handed, closed = outcomes[HANDED_OVER_AT], outcomes[CLOSED_AT]
    accepted, opportunity = outcomes[ACCEPTED_AT], outcomes[OPPORTUNITY_AT]
    assert accepted.notna().sum() > 0 and opportunity.notna().sum() > 0
    # Nobody is accepted without a handover, nor has an opportunity without being accepted.
    assert not (accepted.notna() & handed.isna()).any()
    assert not (opportunity.notna() & accepted.isna()).any()
    assert (accepted.dropna() >= handed[accepted.notna()]).all()
    assert (opportunity.dropna() >= accepted[opportunity.notna()]).all()
    both = opportunity.notna() & closed.notna()
    assert (opportunity[both] < closed[both]).all()
    # Every won deal was accepted and had an opportunity, before it was won.
    won = outcomes[STATUS] == "won"
    assert accepted[won].notna().all() and opportunity[won].notna().all()
    # Most handovers are accepted within days.
    days = (accepted - handed).dt.total_seconds() / 86_400
    assert accepted[handed.notna()].notna().mean() > 0.6
    assert days.median() < 3
    # Nothing after the end of observation is known.
    end = result.dataset.metadata.observed_until
    assert (accepted.dropna() < end).all() and (opportunity.dropna() < end).all()


def test_milestone_shares_and_their_own_random_stream() -> None:
    n = 20_000
    seed = np.random.SeedSequence(5).spawn(1)[0]
    handed = np.where(np.arange(n) % 4 == 0, np.nan, 10.0)
    closed = handed + 40.0
    closed[np.isnan(handed)] = 5.0
    won = np.arange(n) % 3 == 0
    first = draw_milestones(seed, handed, closed, won)
    again = draw_milestones(seed, handed, closed, won)
    assert np.array_equal(first.accepted, again.accepted, equal_nan=True)  # deterministic per block seed
    lost = ~won & ~np.isnan(handed)
    assert abs(np.mean(~np.isnan(first.accepted[lost])) - ACCEPT_IF_LOST) < 0.02
    accepted_lost = lost & ~np.isnan(first.accepted)
    assert abs(np.mean(~np.isnan(first.opportunity[accepted_lost])) - OPPORTUNITY_IF_LOST) < 0.03
    assert np.isnan(first.accepted[np.isnan(handed)]).all()
    # The block's own generator is not advanced: the journeys' draws stay what they were.
    assert (
        np.random.default_rng(seed).random()
        == np.random.default_rng(np.random.SeedSequence(5).spawn(1)[0]).random()
    )
    assert pd.isna(first.opportunity[~np.isnan(first.accepted) & won]).sum() == 0

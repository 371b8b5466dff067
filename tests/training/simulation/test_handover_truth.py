"""The simulator's truth about handovers: the chance of a win if handed over now, and of ripening."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.data.contract import ACCEPTED_AT, OPPORTUNITY_AT
from training.pipeline import data_fingerprint
from training.simulation.model import FIT_TIERS, HORIZON_DAYS, INTEREST_LEVELS, JourneyModel
from training.simulation.simulator import (
    LATENT_STATE,
    P_WIN,
    P_WIN_IF_HANDED_OVER,
    SimulationResult,
    simulate,
)
from training.simulation.truth import crossing_probability

HORIZON = pd.Timedelta(days=HORIZON_DAYS)


@pytest.fixture(scope="module")
def result() -> SimulationResult:
    return simulate(3000, seed=11)


def test_simulated_tables_are_those_of_earlier_versions() -> None:
    """Adding truth columns must not change a seed's data: figures of old and new runs compare."""
    dataset = simulate(300, seed=3, days=200).dataset
    # The milestone dates are new columns from a stream of their own: without them, the old tables.
    dataset.outcomes = dataset.outcomes.drop(columns=[OPPORTUNITY_AT, ACCEPTED_AT])
    assert data_fingerprint(dataset) == "5047070bd2dea8c4"


def test_handover_truth_is_the_win_chance_at_the_state_times_a_timely_close(result: SimulationResult) -> None:
    truth = result.ground_truth
    assert truth[P_WIN_IF_HANDED_OVER].between(0, 1).all()
    model = JourneyModel()
    table = model.handover_win_probability(HORIZON_DAYS).reshape(-1)
    nurtured = truth[~truth["handed_over"]]
    expected = table[nurtured[LATENT_STATE].to_numpy() // 2]
    decided = np.isclose(nurtured[P_WIN_IF_HANDED_OVER], nurtured[P_WIN])  # decided, not yet handed over
    assert np.allclose(nurtured[P_WIN_IF_HANDED_OVER].to_numpy()[~decided], expected[~decided])
    # Once handed over, the chance is the deal's own.
    handed = truth[truth["handed_over"]]
    assert np.allclose(handed[P_WIN_IF_HANDED_OVER], handed[P_WIN])
    # Ripeness raises it, at every fit tier.
    assert (np.diff(model.handover_win_probability(HORIZON_DAYS), axis=0) > 0).all()


def test_handover_truth_matches_what_handovers_achieved(result: SimulationResult) -> None:
    """Leads handed over shortly after a grid point win about as often as its truth says."""
    outcomes = result.dataset.outcomes
    handed = outcomes[outcomes["handed_over_at"].notna()]
    grid = result.ground_truth.merge(
        handed[["lead_id", "handed_over_at", "status", "closed_at"]], on="lead_id"
    )
    before = grid[(grid["cutoff"] <= grid["handed_over_at"]) & ~grid["handed_over"]]
    last = before.groupby("lead_id").tail(1)
    last = last[last["handed_over_at"] - last["cutoff"] <= pd.Timedelta(days=2)]
    end = result.dataset.metadata.observed_until
    last = last[last["handed_over_at"] + HORIZON <= end]
    won = (last["status"].astype(str) == "won") & (last["closed_at"] <= last["handed_over_at"] + HORIZON)
    assert len(last) >= 150
    expected = last[P_WIN_IF_HANDED_OVER].mean()
    slack = 4 * np.sqrt(expected * (1 - expected) / len(last)) + 0.03
    assert abs(won.mean() - expected) <= slack, (won.mean(), expected, len(last))


def test_crossing_probability_is_one_when_ripe_and_grows_with_interest_and_time() -> None:
    model = JourneyModel()
    threshold = 0.167
    chance = crossing_probability(model, threshold, 90)
    assert chance.shape == (model.n_states,)
    assert ((chance >= 0) & (chance <= 1 + 1e-12)).all()
    ripe = model.handover_win_probability(90).reshape(-1) >= threshold
    by_state = chance.reshape(INTEREST_LEVELS, FIT_TIERS, 2)
    assert np.allclose(by_state[ripe.reshape(INTEREST_LEVELS, FIT_TIERS)], 1.0)
    # More interest, more chance of ripening (emailable leads, every fit tier).
    assert (np.diff(by_state[:, :, 1], axis=0) >= -1e-12).all()
    # A cold lead rarely ripens within the horizon; a longer wait never lowers the chance.
    assert by_state[0, 3, 1] < 0.05
    assert (crossing_probability(model, threshold, 30) <= chance + 1e-12).all()

"""The simulator's ground-truth rows: for each lead at each grid cutoff, what the simulator knows (its
latent state, the chance of a win within the horizon as it is handled, and the chance if it were handed
over at that moment). Reads the journey model's tables only, so adding a truth column never changes the
simulated data of a seed."""

from __future__ import annotations

import numpy as np

from training.simulation.model import INTEREST_LEVELS, JourneyModel
from training.simulation.truth import handed_over_win_probability


def grid_rows(
    model: JourneyModel,
    nurtured_truth: np.ndarray,
    rows: np.ndarray,
    g: int,
    created_day: np.ndarray,
    pos: np.ndarray,
    frac: np.ndarray,
    level: np.ndarray,
    state: np.ndarray,
    nurtured: np.ndarray,
    handed_over: np.ndarray,
    handover_win_chance: np.ndarray,
    horizon_days: int,
) -> tuple[np.ndarray, ...]:
    """Ground-truth rows (lead, day, ripeness, win probability, handed over, win probability if handed
    over at the cutoff, latent state) of the leads in ``rows``."""
    lead = pos[rows]
    cutoff = g + frac[rows]
    probability = nurtured_truth[state[rows]]
    # Only reads tables: no random draw is added, so simulated data sets stay the same for a seed.
    if_handed_over = model.handover_win_probability(horizon_days).reshape(-1)[state[rows] // 2]
    later = ~nurtured[rows]
    if later.any():
        # Handed over or decided: the deal's own chance, whatever the events do from now on.
        deal = lead[later]
        probability[later] = handed_over_win_probability(
            model, handover_win_chance[deal], cutoff[later] - handed_over[deal], horizon_days
        )
        if_handed_over[later] = probability[later]
    handed = later.copy()
    handed[later] = handed_over[lead[later]] <= cutoff[later]
    day = (g - created_day[lead]).astype(np.int32)
    return (
        lead.astype(np.int32),
        day,
        level[rows] / (INTEREST_LEVELS - 1),
        probability,
        handed,
        if_handed_over,
        state[rows].astype(np.int16),
    )

"""Funnel milestones between handover and close: when sales accepted a lead, and when an opportunity
was created, for the training targets ``accepted`` and ``opportunity`` (``training.features.targets``).

Drawn after a block's journeys from the handover, the close and the deal's result, with a random stream
of their own: the journeys, events and outcomes of a seed stay exactly as they were, so a model of the
``won`` target trains on the same data with or without milestones.

- **accepted**: only handed-over leads. Every deal that is later won was accepted; of the others
  ``ACCEPT_IF_LOST`` are (sales took a look and worked the lead). Sales accepts a few days after the
  handover (exponential, mean ``ACCEPT_MEAN_DAYS``), at most half-way to the close.
- **opportunity**: only accepted leads. Every won deal had one; of the other accepted leads
  ``OPPORTUNITY_IF_LOST`` do. It is opened between the acceptance and the close, a uniform
  ``OPPORTUNITY_SPAN`` share of the way: always before the deal is won.

Leads disqualified before any handover (closed lost by marketing) reach neither milestone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Share of handed-over leads that are not won but still accepted by sales.
ACCEPT_IF_LOST = 0.65
#: Mean days from handover to acceptance.
ACCEPT_MEAN_DAYS = 2.0
#: Share of accepted, not-won leads for which an opportunity is created.
OPPORTUNITY_IF_LOST = 0.4
#: Where between acceptance and close the opportunity is opened (share of that span).
OPPORTUNITY_SPAN = (0.2, 0.7)
#: Appended to a block's seed path: a stream no other draw of the simulator uses.
_STREAM_KEY = 0x4D494C45  # "MILE"


@dataclass(frozen=True)
class Milestones:
    """Per lead of a block, in float days since the start of the simulation; NaN: never reached."""

    accepted: np.ndarray
    opportunity: np.ndarray


def draw_milestones(
    seed: np.random.SeedSequence, handed_over: np.ndarray, closed: np.ndarray, won: np.ndarray
) -> Milestones:
    """The milestones of one block's leads (see the module docstring).

    ``seed`` is the block's seed; ``handed_over`` / ``closed`` are float days (NaN: none), ``won`` the
    deal's result, drawn even when the close lies after the end of observation (the caller hides
    what happens after it).
    """
    # A child path of the block's seed that the journeys never spawn: new draws, old streams untouched.
    stream = np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, _STREAM_KEY))
    rng = np.random.default_rng(stream)
    n = len(handed_over)
    draws = rng.random((3, n))
    delay = rng.exponential(ACCEPT_MEAN_DAYS, n)
    handed = ~np.isnan(handed_over)
    cycle = np.where(handed, closed - handed_over, np.nan)
    is_accepted = handed & (won | (draws[0] < ACCEPT_IF_LOST))
    accepted = np.where(is_accepted, handed_over + np.minimum(delay, 0.5 * cycle), np.nan)
    has_opportunity = is_accepted & (won | (draws[1] < OPPORTUNITY_IF_LOST))
    low, high = OPPORTUNITY_SPAN
    share = low + (high - low) * draws[2]
    opportunity = np.where(has_opportunity, accepted + share * (closed - accepted), np.nan)
    return Milestones(accepted=accepted, opportunity=opportunity)

"""The exact probability of a win within the horizon, given a lead's full latent state.

For a lead still being nurtured, the win probability is computed by backward induction over the days of
the horizon on the model's own discrete Markov chain (interest level, email reachability; fit fixed):

    R_r(x) = (1 - disqualify(x)) * [ h(x) * q(x) * G(r - 1) + (1 - h(x)) * sum_x' K(x, x') R_{r-1}(x') ]

with ``h`` the chance of a handover decided that day, ``q`` the win chance at handover, ``G`` the chance
that the deal (handed over during the next day, then a sales cycle) closes within the remaining days,
and ``K`` the day's transition given no handover (the events that did not trigger a handover are a
thinned Poisson process, so they stay independent Poisson counts). For a lead already handed over, the
chance is ``q`` times the chance that its sales cycle ends within the horizon given it has not ended yet.
"""

from __future__ import annotations

import numpy as np

from training.simulation.model import FIT_TIERS, INTEREST_LEVELS, JourneyModel


def poisson_pmf_table(rate: np.ndarray) -> np.ndarray:
    """P(count = k) for k = 0, 1, ... up to where the tail of the largest rate is negligible."""
    rate = np.asarray(rate, dtype=np.float64)
    top = max(float(rate.max(initial=0.0)), 1e-12)
    max_count = int(top + 12.0 * np.sqrt(top) + 40.0)  # tail beyond it < 1e-15 for rates up to ~100
    counts = np.arange(max_count + 1)
    log_factorial = np.concatenate([[0.0], np.cumsum(np.log(counts[1:]))])
    with np.errstate(divide="ignore", invalid="ignore"):
        log_rate = np.log(rate)
        log_pmf = counts[None, :] * log_rate[..., None] - rate[..., None] - log_factorial
        pmf = np.exp(log_pmf)
    pmf[rate == 0.0] = 0.0
    pmf[rate == 0.0, 0] = 1.0
    return pmf


def _add_boosts(pmf: np.ndarray, boost: int, rate: np.ndarray) -> np.ndarray:
    """Convolve per-state distributions of the interest gain with ``boost`` times a Poisson(rate) count.

    The last column holds "at least INTEREST_LEVELS - 1": interest is capped there anyway.
    """
    top = pmf.shape[1] - 1
    weights = poisson_pmf_table(rate)
    counts = np.arange(weights.shape[1])
    out = np.zeros_like(pmf)
    for count in counts:
        shift = min(int(count) * boost, top)
        w = weights[:, count : count + 1]
        out[:, shift:] += w * pmf[:, : pmf.shape[1] - shift]
        if shift:
            out[:, top] += w[:, 0] * pmf[:, pmf.shape[1] - shift :].sum(axis=1)
    return out


def no_handover_transitions(model: JourneyModel) -> np.ndarray:
    """Day transition matrices given that no handover was decided, shape ``(FIT_TIERS, 2L, 2L)``.

    Rows and columns are ``interest * 2 + emailable``.
    """
    return day_transitions(model, model.rates * (1.0 - model.handover_chance)[None, :])


def day_transitions(model: JourneyModel, rates_kept: np.ndarray) -> np.ndarray:
    """Day transition matrices when events happen at ``rates_kept`` (by state and type), shape
    ``(FIT_TIERS, 2L, 2L)`` with rows and columns ``interest * 2 + emailable``."""
    gain = np.zeros((model.n_states, INTEREST_LEVELS))
    gain[:, 0] = 1.0
    for j in np.flatnonzero(model.boost > 0):
        gain = _add_boosts(gain, int(model.boost[j]), rates_kept[:, j])
    stays_emailable = np.exp(-rates_kept[:, model.ends_email].sum(axis=1))

    levels = np.arange(INTEREST_LEVELS)
    gain_by_state = gain.reshape(INTEREST_LEVELS, FIT_TIERS, 2, INTEREST_LEVELS)
    emailable_after = stays_emailable.reshape(INTEREST_LEVELS, FIT_TIERS, 2)
    top = INTEREST_LEVELS - 1
    next_level = np.zeros((INTEREST_LEVELS, FIT_TIERS, 2, INTEREST_LEVELS))
    for loss, chance in ((0, 1.0 - model.decay), (1, model.decay)):
        start = np.clip(levels - loss, 0, None)  # level 0 never loses (its decay chance is 0)
        for level in levels:
            s = int(start[level])
            part = chance[level] * gain_by_state[level]
            next_level[level, :, :, s:] += part[:, :, : INTEREST_LEVELS - s]
            if s:
                next_level[level, :, :, top] += part[:, :, INTEREST_LEVELS - s :].sum(axis=-1)

    kernel = np.zeros((FIT_TIERS, INTEREST_LEVELS, 2, INTEREST_LEVELS, 2))
    for emailable in (0, 1):
        keep = emailable_after[:, :, emailable] if emailable else np.ones((INTEREST_LEVELS, FIT_TIERS))
        moved = next_level[:, :, emailable, :].transpose(1, 0, 2)  # (fit, level, level')
        kernel[:, :, emailable, :, emailable] += moved * keep.T[:, :, None]
        if emailable:
            kernel[:, :, 1, :, 0] += moved * (1.0 - keep.T[:, :, None])
    return kernel.reshape(FIT_TIERS, 2 * INTEREST_LEVELS, 2 * INTEREST_LEVELS)


def handover_chance_per_day(model: JourneyModel) -> np.ndarray:
    """Chance that the historical policy decides a handover on a day, by state."""
    no_trigger = np.exp(-(model.rates * model.handover_chance[None, :]).sum(axis=1))
    fit = (np.arange(model.n_states) // 2) % FIT_TIERS
    return 1.0 - (1.0 - model.grab[fit]) * no_trigger


def nurtured_win_probability(model: JourneyModel, horizon_days: int) -> np.ndarray:
    """P(won within ``horizon_days`` after the start of a day | nurtured lead in that state), by state."""
    kernel = no_handover_transitions(model)
    by_state = handover_chance_per_day(model).reshape(INTEREST_LEVELS, FIT_TIERS, 2)
    handover = by_state.transpose(1, 0, 2).reshape(FIT_TIERS, 2 * INTEREST_LEVELS)
    win = np.repeat(model.win_chance.T, 2, axis=1)  # (fit, level * 2 + emailable)
    stays = np.repeat(1.0 - model.disqualify, 2)[None, :]
    value = np.zeros((FIT_TIERS, 2 * INTEREST_LEVELS))
    for remaining in range(1, horizon_days + 1):
        closes_in_time = float(model.cycle_cdf_after_handover_day(np.array(remaining - 1.0)))
        carried = np.einsum("fij,fj->fi", kernel, value)
        value = stays * (handover * win * closes_in_time + (1.0 - handover) * carried)
    # Back to the state order of JourneyModel: (level, fit, emailable).
    return value.reshape(FIT_TIERS, INTEREST_LEVELS, 2).transpose(1, 0, 2).reshape(-1)


def handed_over_win_probability(
    model: JourneyModel, win_chance: np.ndarray, days_since_handover: np.ndarray, horizon_days: int
) -> np.ndarray:
    """P(won within the horizon | handed over ``days_since_handover`` ago (negative: not yet), still open)."""
    elapsed = np.asarray(days_since_handover, dtype=np.float64)
    # 1 - S(elapsed + horizon) / S(elapsed) with S the cycle's survival, in logs: stable for long cycles.
    log_survival_ratio = model.log_cycle_survival(elapsed + horizon_days) - model.log_cycle_survival(elapsed)
    return win_chance * -np.expm1(log_survival_ratio)


def crossing_probability(model: JourneyModel, threshold: float, horizon_days: int) -> np.ndarray:
    """P(the lead's chance of a win if handed over reaches ``threshold`` within ``horizon_days``), by state.

    The lead is followed as if it stayed in nurturing: every event happens (none is thinned by a
    handover) and nobody disqualifies it, so this is about the latent interest alone: will the lead
    ripen if we wait? The chance at a state is ``JourneyModel.handover_win_probability``; a lead at or
    above the threshold now has crossed already (probability 1).
    """
    ripe = (model.handover_win_probability(horizon_days) >= threshold).reshape(-1)  # by level * FIT + fit
    ripe_by_fit = np.repeat(ripe.reshape(INTEREST_LEVELS, FIT_TIERS).T, 2, axis=1)  # (fit, level*2+email)
    kernel = day_transitions(model, model.rates)
    value = ripe_by_fit.astype(np.float64)
    for _ in range(horizon_days):
        value = np.where(ripe_by_fit, 1.0, np.einsum("fij,fj->fi", kernel, value))
    return value.reshape(FIT_TIERS, INTEREST_LEVELS, 2).transpose(1, 0, 2).reshape(-1)

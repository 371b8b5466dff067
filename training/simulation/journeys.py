"""Day-by-day simulation of a block of lead journeys, vectorised across the leads of the block.

Each lead lives on its own clock: its day ``d`` is ``[created_at + d, created_at + d + 1)``, so that the
ground-truth cutoffs ``created_at + k * grid_days`` fall on day boundaries, where the latent state is
known exactly. Global step ``g`` (0-based day since the start of the simulation) is day ``g - created_day``
of every lead created by then. Within a day, in this order:

1. a nurtured lead whose interest is cold may be disqualified (closed as lost); it has no more events;
2. events: the day's count is Poisson with the state's total rate, each event's type is drawn with the
   state's rate shares, and its time is uniform within the day. An unsubscribe or bounce is moved after
   the lead's other events of that day (so no email event follows it) and only the first is kept;
3. handover (nurtured leads only): any event may trigger it with its type's ``handover_chance``, or a
   salesperson grabs the lead for its fit. The handover happens at a uniform time during the next day;
   the deal closes a sales cycle later and is won with the win chance of the state the decision was made in;
4. interest decays by at most one level and gains the day's boosts; an unsubscribe or bounce ends email.

Events stop when the lead closes and at the end of observation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import numpy as np

from training.simulation.model import FIT_TIERS, INTEREST_LEVELS, JourneyModel, JourneyParameters
from training.simulation.profiles import Profiles, draw_profiles
from training.simulation.truth import nurtured_win_probability, poisson_pmf_table
from training.simulation.truth_rows import grid_rows


@dataclass
class BlockJourneys:
    """What one block of leads did; times are float days since the start of the simulation.

    Events are sorted by lead and time, grid rows by lead and day.
    """

    profiles: Profiles
    created: np.ndarray
    handed_over: np.ndarray  # NaN: never handed over (by the end of the simulated days)
    closed: np.ndarray  # NaN: not closed
    won: np.ndarray
    event_lead: np.ndarray  # position of the lead in the block
    event_time: np.ndarray
    event_type: np.ndarray  # index into EVENT_TYPES
    grid_lead: np.ndarray
    grid_day: np.ndarray  # the cutoff is created + grid_day days
    grid_ripeness: np.ndarray
    grid_win_probability: np.ndarray
    grid_handed_over: np.ndarray  # handed over at or before the cutoff
    #: chance that a handover decided at the cutoff ends in a win within the horizon (``JourneyModel``'s
    #: ``handover_win_probability``; for a lead already handed over or decided: its deal's own chance)
    grid_handover_win_probability: np.ndarray
    grid_state: np.ndarray  # the latent state index at the cutoff (``JourneyModel.state_index``)


_U32 = 2.0**32


def _thresholds(probability: np.ndarray) -> np.ndarray:
    """Probabilities as uint32 thresholds: ``draw < threshold`` with a uniform uint32 draw has that chance."""
    return np.minimum(np.round(np.asarray(probability) * _U32), _U32 - 1).astype(np.uint32)


class DailyTables:
    """Lookup tables by state used on every simulated day, as uint32 thresholds for raw random draws.

    Uniform 32-bit integers from the generator's raw output are several times cheaper than floats, and
    a resolution of 2**-32 is far finer than any chance in the model.
    """

    def __init__(self, model: JourneyModel) -> None:
        total = model.rates.sum(axis=1)
        pmf = poisson_pmf_table(total)
        # P(count <= k); a draw's count is the number of these thresholds it reaches.
        cdf = np.cumsum(pmf, axis=1)
        useful = int(np.argmax(cdf.min(axis=0) >= 1.0 - 2.0**-33)) or cdf.shape[1] - 1
        self.count_cdf = _thresholds(cdf[:, :useful])
        shares = model.rates / np.where(total > 0, total, 1.0)[:, None]
        self.type_cdf = _thresholds(np.cumsum(shares, axis=1)[:, :-1])
        self.handover_chance = _thresholds(model.handover_chance)
        level = np.arange(model.n_states) // (2 * FIT_TIERS)
        fit = (np.arange(model.n_states) // 2) % FIT_TIERS
        disqualify = model.disqualify[level]
        self.disqualify_chance = disqualify
        self.disqualify = _thresholds(disqualify)
        # One draw decides both: below ``disqualify`` the lead is disqualified, between it and ``grab``
        # a salesperson grabs it; the grab's chance given no disqualification stays ``model.grab``.
        self.grab = _thresholds(disqualify + (1.0 - disqualify) * model.grab[fit])
        self.decay = _thresholds(model.decay[level])
        self.boost = model.boost


class _WorkingSet:
    """Leads created and not yet closed, as parallel arrays with room for the whole block.

    Closed leads are only flagged (``live``) and squeezed out every few days: cheaper than copying the
    arrays every day.
    """

    def __init__(self, capacity: int) -> None:
        self.size = 0
        self.pos = np.empty(capacity, dtype=np.int64)
        self.level = np.empty(capacity, dtype=np.int64)
        self.fit_email = np.empty(capacity, dtype=np.int64)  # fit * 2 + emailable: the state without level
        self.frac = np.empty(capacity, dtype=np.float64)
        self.phase = np.empty(capacity, dtype=np.int64)
        self.nurtured = np.empty(capacity, dtype=bool)
        self.live = np.empty(capacity, dtype=bool)
        self.close_at = np.empty(capacity, dtype=np.float64)

    _ARRAYS = ("pos", "level", "fit_email", "frac", "phase", "nurtured", "live", "close_at")

    def append(self, values: dict[str, np.ndarray | float | bool]) -> None:
        k = len(np.asarray(values["pos"]))
        for name in self._ARRAYS:
            getattr(self, name)[self.size : self.size + k] = values[name]
        self.size += k

    def compact(self) -> None:
        keep = np.flatnonzero(self.live[: self.size])
        for name in self._ARRAYS:
            array = getattr(self, name)
            array[: len(keep)] = array[keep]
        self.size = len(keep)

    def view(self, name: str) -> np.ndarray:
        return getattr(self, name)[: self.size]


#: Squeeze closed leads out of the working set every this many days.
_COMPACT_EVERY = 14


@dataclass(frozen=True)
class BlockSpec:
    """One independently seeded block of leads: everything a worker process needs to simulate it."""

    n: int
    seed: np.random.SeedSequence
    days: int
    grid_days: int
    horizon_days: int
    parameters: JourneyParameters = field(default_factory=JourneyParameters)


@cache
def _prepared(
    parameters: JourneyParameters, horizon_days: int
) -> tuple[JourneyModel, DailyTables, np.ndarray]:
    # Once per process: the tables and the exact truth of the nurtured states (a fraction of a second).
    model = JourneyModel(parameters)
    return model, DailyTables(model), nurtured_win_probability(model, horizon_days)


def run_block(spec: BlockSpec) -> BlockJourneys:
    """Simulate one block (a top-level function, so that worker processes can run it)."""
    model, tables, nurtured_truth = _prepared(spec.parameters, spec.horizon_days)
    rng = np.random.default_rng(spec.seed)
    return simulate_block(
        model, tables, nurtured_truth, spec.n, spec.days, spec.grid_days, spec.horizon_days, rng
    )


def simulate_block(
    model: JourneyModel,
    tables: DailyTables,
    nurtured_truth: np.ndarray,
    n: int,
    days: int,
    grid_days: int,
    horizon_days: int,
    rng: np.random.Generator,
) -> BlockJourneys:
    """Simulate ``n`` leads created uniformly over ``days`` days; see the module docstring."""
    profiles = draw_profiles(rng, n)
    created = np.sort(rng.random(n) * days)
    created_day = created.astype(np.int64)
    frac_of_day = created - created_day
    # Rebuilt from its parts so that a lead's day starts (created_day + d + frac) are exact in floats.
    created = created_day + frac_of_day
    first_of_day = np.searchsorted(created_day, np.arange(days + 1), side="left")

    handed_over = np.full(n, np.nan)
    closed = np.full(n, np.nan)
    won = np.zeros(n, dtype=bool)
    handover_win_chance = np.zeros(n)

    work = _WorkingSet(n)
    events: list[tuple[np.ndarray, ...]] = []
    grid: list[tuple[np.ndarray, ...]] = []
    top = INTEREST_LEVELS - 1
    levels_stride = 2 * FIT_TIERS

    for g in range(days):
        lo, hi = int(first_of_day[g]), int(first_of_day[g + 1])
        if hi > lo:
            new = np.arange(lo, hi)
            work.append(
                {
                    "pos": new,
                    "level": profiles.start_interest[new],
                    "fit_email": profiles.fit[new].astype(np.int64) * 2 + 1,
                    "frac": frac_of_day[new],
                    "phase": created_day[new] % grid_days,
                    "nurtured": True,
                    "live": True,
                    "close_at": np.inf,
                }
            )
        if g % _COMPACT_EVERY == 0:
            work.compact()
        size = work.size
        if size == 0:
            continue
        pos, level, fit_email, frac = (work.view(name) for name in ("pos", "level", "fit_email", "frac"))
        nurtured, live, close_at = (work.view(name) for name in ("nurtured", "live", "close_at"))
        state = level * levels_stride + fit_email

        # The ground-truth grid, at the start of the day.
        on_grid = np.flatnonzero((work.view("phase") == g % grid_days) & live)
        if len(on_grid):
            grid.append(
                grid_rows(
                    model,
                    nurtured_truth,
                    on_grid,
                    g,
                    created_day,
                    pos,
                    frac,
                    level,
                    state,
                    nurtured,
                    handed_over,
                    handover_win_chance,
                    horizon_days,
                )
            )

        draws = rng.bit_generator.random_raw((3 * size + 1) // 2).view(np.uint32)
        fate, count_draw, decay_draw = draws[:size], draws[size : 2 * size], draws[2 * size : 3 * size]
        disqualified = nurtured & (fate < tables.disqualify[state])
        grabbed = nurtured & ~disqualified & (fate < tables.grab[state])
        if disqualified.any():
            which = np.flatnonzero(disqualified)
            # Given the draw fell below the chance, draw / chance is uniform: reuse it for the time of day.
            in_day = fate[which] / _U32 / tables.disqualify_chance[state[which]]
            closed[pos[which]] = g + frac[which] + np.minimum(in_day, 1.0 - 1e-9)
            live[which] = False
            nurtured[which] = False

        count_cdf = tables.count_cdf
        active = np.flatnonzero((count_draw >= count_cdf[state, 0]) & live)
        counts = (count_draw[active, None] >= count_cdf[state[active]]).sum(axis=1)
        lead = np.repeat(active, counts)
        m = len(lead)
        event_draws = rng.bit_generator.random_raw((3 * m + 1) // 2).view(np.uint32)
        kind = (event_draws[:m, None] >= tables.type_cdf[state[lead]]).sum(axis=1)
        day_start = g + frac[lead]
        time = day_start + event_draws[m : 2 * m] / _U32
        keep = np.ones(m, dtype=bool)

        ends_email = model.ends_email[kind]
        if ends_email.any():
            _move_email_endings(lead, time, day_start, ends_email, keep, rng)

        # Handover decisions for nurtured leads: triggered by an event, or grabbed for fit.
        triggered = (event_draws[2 * m : 3 * m] < tables.handover_chance[kind]) & nurtured[lead]
        decided = grabbed
        decided[lead[triggered]] = True
        if decided.any():
            which = np.flatnonzero(decided)
            k = len(which)
            follow_up = rng.random((2, k))
            at = g + frac[which] + 1.0 + follow_up[0]
            chance = model.win_chance[level[which], fit_email[which] // 2]
            cycle_end = at + model.sample_cycle(rng, k)
            handed_over[pos[which]] = at
            handover_win_chance[pos[which]] = chance
            closed[pos[which]] = cycle_end
            won[pos[which]] = follow_up[1] < chance
            nurtured[which] = False
            close_at[which] = cycle_end

        keep &= (time < close_at[lead]) & (time < days)
        kept = np.flatnonzero(keep)
        # The working set is in lead order, so sorting by (working position + time of day) sorts the
        # day's events by lead and time: the block's log then needs only a cheap merge by lead.
        kept = kept[np.argsort(lead[kept] + (time[kept] - day_start[kept]))]
        events.append((pos[lead[kept]].astype(np.int32), time[kept], kind[kept].astype(np.int8)))

        level -= decay_draw < tables.decay[state]
        if m:
            run_starts = np.concatenate([[0], np.cumsum(counts[:-1])])
            gain = np.add.reduceat(tables.boost[kind], run_starts)
            level[active] = np.minimum(level[active] + gain, top)
            fit_email[lead[ends_email]] &= ~1  # no longer emailable

        live &= close_at >= g + 1 + frac

    # Each day's rows are in lead order and a lead's days follow each other: a stable sort by lead
    # gives the block's events by lead and time, and its grid by lead and cutoff.
    event_lead, event_time, event_type = _concatenate_sorted_by_lead(events, n)
    grid_parts = _concatenate_sorted_by_lead(grid, n)
    return BlockJourneys(
        profiles=profiles,
        created=created,
        handed_over=handed_over,
        closed=closed,
        won=won,
        event_lead=event_lead,
        event_time=event_time,
        event_type=event_type,
        grid_lead=grid_parts[0],
        grid_day=grid_parts[1],
        grid_ripeness=grid_parts[2],
        grid_win_probability=grid_parts[3],
        grid_handed_over=grid_parts[4],
        grid_handover_win_probability=grid_parts[5],
        grid_state=grid_parts[6],
    )


def _concatenate_sorted_by_lead(parts: list[tuple[np.ndarray, ...]], n: int) -> list[np.ndarray]:
    """Concatenate per-day column tuples (first column: lead, below ``n``); sort the rows stably by lead."""
    columns = [np.concatenate(column) for column in zip(*parts, strict=True)]
    lead = columns[0]
    # 16-bit keys get numpy's radix sort: linear time (BLOCK_SIZE stays below 2**16).
    key = lead.astype(np.uint16) if n <= 2**16 else lead
    order = np.argsort(key, kind="stable")
    sorted_lead = np.repeat(np.arange(n, dtype=lead.dtype), np.bincount(lead, minlength=n))
    return [sorted_lead, *(column[order] for column in columns[1:])]


def _move_email_endings(
    lead: np.ndarray,
    time: np.ndarray,
    day_start: np.ndarray,
    ends_email: np.ndarray,
    keep: np.ndarray,
    rng: np.random.Generator,
) -> None:
    """Keep one unsubscribe/bounce per lead and day, placed after the lead's other events that day.

    ``lead`` is sorted (events are grouped by lead), so each lead's events form one run.
    """
    endings = np.flatnonzero(ends_email)
    leads, first = np.unique(lead[endings], return_index=True)
    keep[endings] = False
    kept = endings[first]
    keep[kept] = True
    # Latest event of each of those leads' runs: reduce over [start, stop) pairs, skip the gaps between.
    bounds = np.empty(2 * len(leads), dtype=np.int64)
    bounds[0::2] = np.searchsorted(lead, leads, side="left")
    bounds[1::2] = np.searchsorted(lead, leads, side="right")
    latest = np.maximum.reduceat(np.append(time, 0.0), bounds)[0::2]
    day_end = day_start[kept] + 1.0
    time[kept] = latest + (day_end - latest) * (0.5 + 0.5 * rng.random(len(kept)))

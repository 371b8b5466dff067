"""The lead-journey simulator: a default data set whose truth is known.

``simulate`` draws leads with profiles, their engagement events day by day from a latent interest that
nurturing raises and neglect lets decay, a historical handover policy that sometimes hands leads over
too early, and won/lost/open outcomes. Alongside the ``LeadDataset`` it returns the ground truth: for each
lead every ``grid_days`` from its creation until it closes or observation ends, the latent ripeness and
the exact probability of a win within 90 days given the full latent state (so that a model can be
judged against the best any model could do), and the exact chance of a win within 90 days if the lead
were handed over at that moment (what a "ripe" verdict is judged against). The outcomes also date when
sales accepted a lead and when an opportunity was created (``training.simulation.milestones``), for the
training targets other than ``won``. The dynamics live in ``training.simulation``.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from training.data.contract import (
    ACCEPTED_AT,
    CLOSED_AT,
    CREATED_AT,
    EVENT_TYPE,
    GROUND_TRUTH_FILE,
    HANDED_OVER_AT,
    LEAD_ID,
    OCCURRED_AT,
    OPPORTUNITY_AT,
    STATUS,
    DatasetMetadata,
    LeadDataset,
    Outcome,
    TimeBasis,
)
from training.simulation.journeys import BlockJourneys, BlockSpec, run_block
from training.simulation.milestones import draw_milestones
from training.simulation.model import (
    ATTRIBUTES,
    CATEGORICAL_COLUMNS,
    EVENT_TYPES,
    HORIZON_DAYS,
    NUMERIC_COLUMNS,
    SOURCES,
)

CUTOFF = "cutoff"
RIPENESS = "ripeness"
P_WIN = "p_win_90d"
#: Ground-truth column: the lead was handed over at or before the cutoff (its fate is then in sales' hands).
HANDED_OVER = "handed_over"
#: Ground-truth column: the true chance that a handover at the cutoff ends in a win within 90 days (the
#: win chance at handover for the lead's interest and fit, times the chance that the sales cycle closes
#: in time); for a lead already handed over, its deal's own chance (= ``p_win_90d``).
P_WIN_IF_HANDED_OVER = "p_win_handover_90d"
#: Ground-truth column: the latent state at the cutoff (``JourneyModel.state_index``), for truths that
#: depend on a threshold (``training.simulation.truth.crossing_probability``).
LATENT_STATE = "latent_state"

DEFAULT_START = pd.Timestamp("2025-01-01", tz="UTC")
#: Leads per independently seeded block, so that the result depends on the seed alone, not on how many
#: worker processes share the blocks. At most 2**16 (blocks sort their rows by 16-bit lead positions).
BLOCK_SIZE = 50_000
_DAY_NS = 86_400 * 10**9
_NAT = np.iinfo(np.int64).min


@dataclass
class SimulationResult:
    """A simulated data set and its ground truth."""

    dataset: LeadDataset
    #: One row per lead and cutoff: ``lead_id``, ``cutoff``, ``ripeness`` (latent, 0..1), ``p_win_90d``
    #: (true probability of a win within 90 days after the cutoff), ``handed_over``,
    #: ``p_win_handover_90d`` (true chance of a win within 90 days if handed over at the cutoff) and
    #: ``latent_state``.
    ground_truth: pd.DataFrame


def simulate(
    n_leads: int,
    seed: int = 0,
    *,
    start: pd.Timestamp = DEFAULT_START,
    days: int = 540,
    grid_days: int = 7,
    progress: Callable[[int, int], None] | None = None,
    workers: int = 1,
) -> SimulationResult:
    """Simulate ``n_leads`` lead journeys created uniformly over ``days`` days from ``start``.

    Deterministic for a given ``seed``, whatever ``workers`` is: leads are simulated in blocks of
    ``BLOCK_SIZE``, each with its own seed. Observation ends at ``start + days``: leads still undecided
    then are ``open``. ``progress(done, total)`` is called with the number of leads simulated so far.
    ``workers > 1`` simulates blocks in that many worker processes (spawned: a script that calls this
    needs the usual ``if __name__ == "__main__":`` guard).
    """
    _check_arguments(n_leads, days, grid_days)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"simulate: workers must be a positive integer, got {workers!r}")
    start = _utc(start)
    sizes = [min(BLOCK_SIZE, n_leads - first) for first in range(0, n_leads, BLOCK_SIZE)]
    seeds = np.random.SeedSequence(seed).spawn(len(sizes))
    specs = [
        BlockSpec(n=size, seed=block_seed, days=days, grid_days=grid_days, horizon_days=HORIZON_DAYS)
        for size, block_seed in zip(sizes, seeds, strict=True)
    ]
    tables_so_far = _Assembler(n_leads, start, days)
    for spec, block in zip(specs, _simulated_blocks(specs, workers), strict=True):
        # Converted to table pieces right away, so that few blocks' raw arrays are alive at a time.
        tables_so_far.add(block, spec.seed)
        del block
        if progress is not None:
            progress(tables_so_far.done, n_leads)
    return tables_so_far.finish(seed)


def _simulated_blocks(specs: list[BlockSpec], workers: int) -> Iterator[BlockJourneys]:
    """The blocks in order, simulated here or by worker processes (at most ``workers + 1`` in flight)."""
    if workers == 1 or len(specs) == 1:
        for spec in specs:
            yield run_block(spec)
        return
    # Spawned, not forked: the parent may hold threads (Arrow's pool) whose locks a fork would copy.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(specs)), mp_context=context) as pool:
        remaining = iter(specs)
        in_flight: deque[Future[BlockJourneys]] = deque(
            pool.submit(run_block, spec) for spec in islice(remaining, workers + 1)
        )
        while in_flight:
            block = in_flight.popleft().result()
            following = next(remaining, None)
            if following is not None:
                in_flight.append(pool.submit(run_block, following))
            yield block


def write_simulation(result: SimulationResult, out_dir: Path) -> None:
    """Write the data set (``LeadDataset.save``) and the ground truth as ``ground_truth.parquet``."""
    out_dir = Path(out_dir)
    result.dataset.save(out_dir)
    tmp = out_dir / f".{GROUND_TRUTH_FILE}.tmp"
    result.ground_truth.to_parquet(tmp, index=False)
    tmp.replace(out_dir / GROUND_TRUTH_FILE)


def _check_arguments(n_leads: int, days: int, grid_days: int) -> None:
    for name, value in (("n_leads", n_leads), ("days", days), ("grid_days", grid_days)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"simulate: {name} must be a positive integer, got {value!r}")


def _utc(start: pd.Timestamp) -> pd.Timestamp:
    start = pd.Timestamp(start)
    if start.tzinfo is None:
        raise ValueError(f"simulate: start must be timezone-aware (UTC), got naive {start}")
    return start.tz_convert("UTC").as_unit("ns")


class _Assembler:
    """Collects blocks as pieces of the contract tables and joins them at the end.

    Lead ids number the leads block by block (``L0000000`` is the first lead of the first block); every
    table is sorted by lead id, events then by time and ground truth by cutoff. String columns stay
    chunked (one Arrow chunk per block) and numeric ones are joined one column at a time, to bound memory.
    """

    def __init__(self, n: int, start: pd.Timestamp, days: int) -> None:
        self.n = n
        self.start = start
        self.days = days
        self.start_ns = start.value
        self.end_ns = self.start_ns + days * _DAY_NS
        self.lead_ids = _lead_ids(n)
        self.done = 0
        self.leads: dict[str, list[np.ndarray]] = {}
        self.events: dict[str, list] = {LEAD_ID: [], OCCURRED_AT: [], EVENT_TYPE: []}
        self.truth: dict[str, list] = {
            LEAD_ID: [],
            CUTOFF: [],
            RIPENESS: [],
            P_WIN: [],
            HANDED_OVER: [],
            P_WIN_IF_HANDED_OVER: [],
            LATENT_STATE: [],
        }

    def add(self, block: BlockJourneys, seed: np.random.SeedSequence) -> None:
        offset = self.done
        created_ns = _to_ns(block.created, self.start_ns)
        columns = _lead_columns(block, seed, created_ns, self.start_ns, self.end_ns)
        for name, column in columns.items():
            self.leads.setdefault(name, []).append(column)

        occurred_ns = _to_ns(block.event_time, self.start_ns)
        inside = occurred_ns < self.end_ns  # rounding to nanoseconds must not push an event onto the end
        self.events[LEAD_ID].append(_take_ids(self.lead_ids, offset + block.event_lead[inside]))
        self.events[OCCURRED_AT].append(occurred_ns[inside])
        self.events[EVENT_TYPE].append(block.event_type[inside])

        self.truth[LEAD_ID].append(_take_ids(self.lead_ids, offset + block.grid_lead))
        self.truth[CUTOFF].append(created_ns[block.grid_lead] + block.grid_day.astype(np.int64) * _DAY_NS)
        self.truth[RIPENESS].append(block.grid_ripeness)
        self.truth[P_WIN].append(block.grid_win_probability)
        self.truth[HANDED_OVER].append(block.grid_handed_over)
        self.truth[P_WIN_IF_HANDED_OVER].append(block.grid_handover_win_probability)
        self.truth[LATENT_STATE].append(block.grid_state)
        self.done += len(block.created)

    def finish(self, seed: int) -> SimulationResult:
        parts = self.leads
        ids = _take_ids(self.lead_ids, np.arange(self.n))
        leads = pd.DataFrame({LEAD_ID: _strings(ids), CREATED_AT: _timestamps(_join(parts, CREATED_AT))})
        leads["source"] = _categorical(_join(parts, "source"), SOURCES)
        for attribute in ATTRIBUTES:
            codes = _join(parts, attribute.name)
            leads[attribute.name] = _categorical(codes, attribute.values)
        leads["employees"] = _join(parts, "employees")
        statuses = [str(Outcome.WON), str(Outcome.LOST), str(Outcome.OPEN)]
        outcomes = pd.DataFrame(
            {
                LEAD_ID: _strings(ids),
                STATUS: _categorical(_join(parts, STATUS), statuses),
                HANDED_OVER_AT: _timestamps(_join(parts, HANDED_OVER_AT)),
                CLOSED_AT: _timestamps(_join(parts, CLOSED_AT)),
                OPPORTUNITY_AT: _timestamps(_join(parts, OPPORTUNITY_AT)),
                ACCEPTED_AT: _timestamps(_join(parts, ACCEPTED_AT)),
            },
            copy=False,
        )
        parts = self.events
        events = pd.DataFrame(
            {
                LEAD_ID: _strings(_join_strings(parts, LEAD_ID)),
                OCCURRED_AT: _timestamps(_join(parts, OCCURRED_AT)),
                EVENT_TYPE: _categorical(_join(parts, EVENT_TYPE), EVENT_TYPES),
            },
            copy=False,
        )
        parts = self.truth
        truth = pd.DataFrame(
            {
                LEAD_ID: _strings(_join_strings(parts, LEAD_ID)),
                CUTOFF: _timestamps(_join(parts, CUTOFF)),
                RIPENESS: _join(parts, RIPENESS),
                P_WIN: _join(parts, P_WIN),
                HANDED_OVER: _join(parts, HANDED_OVER),
                P_WIN_IF_HANDED_OVER: _join(parts, P_WIN_IF_HANDED_OVER),
                LATENT_STATE: _join(parts, LATENT_STATE),
            },
            copy=False,
        )
        metadata = DatasetMetadata(
            name="simulated",
            time_basis=TimeBasis.TIMESTAMPS,
            observed_until=pd.Timestamp(self.end_ns, tz="UTC"),
            categorical_columns=list(CATEGORICAL_COLUMNS),
            numeric_columns=list(NUMERIC_COLUMNS),
            activity_columns=[],
            source=f"leadripe simulator: {self.n} leads over {self.days} days from {self.start.isoformat()}, "
            f"seed {seed}",
        )
        return SimulationResult(LeadDataset(leads, events, outcomes, metadata), truth)


def _lead_ids(n: int) -> np.ndarray:
    """Lead ids ``L0000000``, ``L0000001``, ... as fixed-width bytes (at least 7 digits)."""
    width = max(7, len(str(n - 1)))
    digits = (np.arange(n, dtype=np.int64)[:, None] // 10 ** np.arange(width - 1, -1, -1)) % 10
    chars = np.empty((n, width + 1), dtype=np.uint8)
    chars[:, 0] = ord("L")
    chars[:, 1:] = ord("0") + digits
    return chars.view(f"S{width + 1}").ravel()


def _take_ids(lead_ids: np.ndarray, positions: np.ndarray) -> pa.Array:
    """An Arrow string array of the ids at ``positions``, built from buffers: ids have a fixed width."""
    width = lead_ids.dtype.itemsize
    data = np.ascontiguousarray(lead_ids[positions])
    offsets = np.arange(len(data) + 1, dtype=np.int64) * width
    return pa.LargeStringArray.from_buffers(
        len(data), pa.py_buffer(offsets), pa.py_buffer(data.view(np.uint8))
    )


def _join(parts: dict[str, list], name: str) -> np.ndarray:
    """Concatenate a column's pieces and drop them, so that only one column is ever held twice."""
    joined = np.concatenate(parts[name])
    parts[name].clear()
    return joined


def _join_strings(parts: dict[str, list], name: str) -> pa.ChunkedArray:
    joined = pa.chunked_array(parts[name], type=pa.large_string())
    parts[name].clear()
    return joined


def _lead_columns(
    block: BlockJourneys, seed: np.random.SeedSequence, created_ns: np.ndarray, start_ns: int, end_ns: int
) -> dict[str, np.ndarray]:
    """Profile and outcome columns of a block's leads, as codes and int64 nanoseconds."""
    columns: dict[str, np.ndarray] = {CREATED_AT: created_ns, "source": block.profiles.source}
    columns.update(block.profiles.attributes)
    columns["employees"] = block.profiles.employees.astype(np.float64)
    handed_ns = _to_ns(block.handed_over, start_ns)
    closed_ns = _to_ns(block.closed, start_ns)
    # Nothing after the end of observation is known: a later handover or close has not happened yet.
    handed_ns[handed_ns >= end_ns] = _NAT
    is_closed = (closed_ns != _NAT) & (closed_ns < end_ns)
    closed_ns[~is_closed] = _NAT
    columns[STATUS] = np.where(is_closed, np.where(block.won, 0, 1), 2).astype(np.int8)
    columns[HANDED_OVER_AT] = handed_ns
    columns[CLOSED_AT] = closed_ns
    milestones = draw_milestones(seed, block.handed_over, block.closed, block.won)
    for name, days in ((ACCEPTED_AT, milestones.accepted), (OPPORTUNITY_AT, milestones.opportunity)):
        stamps = _to_ns(days, start_ns)
        stamps[stamps >= end_ns] = _NAT  # not happened yet when observation ends
        columns[name] = stamps
    return columns


def _to_ns(days_since_start: np.ndarray, start_ns: int) -> np.ndarray:
    """Float days since the start to int64 nanoseconds since the epoch; NaN becomes NaT."""
    missing = np.isnan(days_since_start)
    ns = start_ns + np.round(np.where(missing, 0.0, days_since_start) * _DAY_NS).astype(np.int64)
    ns[missing] = _NAT
    return ns


def _timestamps(ns: np.ndarray) -> pd.Series:
    return pd.Series(ns.view("M8[ns]")).dt.tz_localize("UTC")


def _categorical(codes: np.ndarray, values: Sequence[str]) -> pd.Categorical[Any]:
    return pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(list(values)))


def _strings(values: pa.Array) -> pd.Series:
    return pd.Series(values, dtype="str")

"""Batch scoring on one machine: every open lead (or all) of a dataset, at one or more ``as_of`` times.

``score_chunks`` cuts the leads into chunks of ``chunk_size`` and yields one answer frame per chunk
(``serving.batch.answers``), so memory holds the tables plus one chunk's features and contributions,
whatever the number of leads; ``score_dataset`` writes them (``serving.batch.output``) and returns a
``BatchSummary`` (counts by verdict and grade, leads left out by reason).
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from serving.batch.answers import AnswerOptions, answers_of, model_answers
from serving.batch.output import OutputFormat, PreviousScores, ScoreWriter
from serving.batch.tables import ScoringTables
from serving.scorer import LeadScorer, Scored
from training.data.contract import LeadDataset
from training.features.snapshot_arrays import SnapshotArrays

ProgressCallback = Callable[[int, int], None]
DEFAULT_CHUNK_SIZE = 100_000
#: Two model threads keep two cores busy without reasons (measured at 1M leads: BENCHMARKS.md).
DEFAULT_MODEL_WORKERS = 2


@dataclass(frozen=True)
class BatchPlan:
    """What to score: the times, which leads, chunking and the answer columns."""

    as_of: tuple[pd.Timestamp, ...]
    include_closed: bool = False
    chunk_size: int = DEFAULT_CHUNK_SIZE
    answers: AnswerOptions = field(default_factory=AnswerOptions)
    #: Threads computing chunks' features and readiness ahead of the answers (see ``score_chunks``).
    model_workers: int = DEFAULT_MODEL_WORKERS

    def __post_init__(self) -> None:
        if not self.as_of:
            raise ValueError("no as_of time to score at")
        if self.chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {self.chunk_size}")
        if self.model_workers < 1:
            raise ValueError(f"model_workers must be at least 1, got {self.model_workers}")


@dataclass(frozen=True)
class AsOfCounts:
    """Leads scored at one ``as_of`` and those left out (``serving.batch.tables``); None: not counted
    (the Spark engine counts what it scored only)."""

    as_of: pd.Timestamp
    scored: int
    not_yet_created: int | None
    closed: int | None
    handed_over: int | None = None


@dataclass
class BatchSummary:
    """What a batch run did: rows scored and written, counts by verdict and grade, time taken."""

    per_as_of: list[AsOfCounts] = field(default_factory=list)
    by_verdict: Counter[str] = field(default_factory=Counter)
    by_grade: Counter[str] = field(default_factory=Counter)
    rows_scored: int = 0
    rows_written: int = 0
    rows_unchanged: int = 0
    seconds: float = 0.0

    def add(self, frame: pd.DataFrame) -> None:
        """Count one chunk of answers."""
        self.rows_scored += len(frame)
        self.by_verdict.update(map(str, frame["verdict"]))
        self.by_grade.update(map(str, frame["grade"]))


def score_chunks(
    scorer: LeadScorer,
    tables: ScoringTables,
    plan: BatchPlan,
    summary: BatchSummary,
    on_progress: ProgressCallback | None = None,
) -> Iterator[pd.DataFrame]:
    """Answer frames, chunk by chunk, for every ``as_of`` of ``plan`` in order; fills ``summary``."""
    selections = []
    for moment in plan.as_of:
        selection = tables.select(_ns(moment), include_closed=plan.include_closed)
        selections.append(selection)
        summary.per_as_of.append(
            AsOfCounts(
                moment,
                len(selection.positions),
                selection.not_yet_created,
                selection.closed,
                selection.handed_over,
            )
        )
    total = sum(len(s.positions) for s in selections)
    done = 0
    # Two stages overlap: while this thread turns chunk k's model output into answers (decisions, reason
    # columns) and the caller writes them, worker threads compute the next chunks' features and
    # readiness (NumPy and LightGBM, which release the GIL). Answers come out in chunk order and are the
    # same as one chunk after the other; at most ``model_workers + 1`` chunks are in memory at a time.
    pending: deque[tuple[Future[Scored], SnapshotArrays, np.ndarray]] = deque()
    with ThreadPoolExecutor(max_workers=plan.model_workers, thread_name_prefix="leadripe-model") as pool:
        for moment, selection in zip(plan.as_of, selections, strict=True):
            for start in range(0, len(selection.positions), plan.chunk_size):
                positions = selection.positions[start : start + plan.chunk_size]
                arrays = tables.arrays(positions, _ns(moment))
                future = pool.submit(model_answers, scorer, arrays, plan.answers)
                pending.append((future, arrays, tables.lead_ids[positions]))
                if len(pending) > plan.model_workers:
                    frame = _finish(scorer, pending.popleft(), plan.answers, summary)
                    done += len(frame)
                    if on_progress is not None:
                        on_progress(done, total)
                    yield frame
        while pending:
            frame = _finish(scorer, pending.popleft(), plan.answers, summary)
            done += len(frame)
            if on_progress is not None:
                on_progress(done, total)
            yield frame


def _finish(
    scorer: LeadScorer,
    pending: tuple[Future[Scored], SnapshotArrays, np.ndarray],
    options: AnswerOptions,
    summary: BatchSummary,
) -> pd.DataFrame:
    """The answers of one chunk whose model stage was submitted to the worker thread."""
    future, arrays, lead_ids = pending
    frame = answers_of(scorer, arrays, lead_ids, future.result(), options)
    summary.add(frame)
    return frame


def score_dataset(
    scorer: LeadScorer,
    dataset: LeadDataset,
    plan: BatchPlan,
    out: Path,
    *,
    output_format: OutputFormat = "parquet",
    changed_since: Path | None = None,
    on_progress: ProgressCallback | None = None,
) -> BatchSummary:
    """Score ``dataset`` as ``plan`` says and write the answers to ``out``; see the module docstring."""
    started = time.perf_counter()
    previous = PreviousScores.read(changed_since) if changed_since is not None else None
    tables = ScoringTables.from_dataset(dataset, scorer.categorical_columns, scorer.numeric_columns)
    summary = BatchSummary()
    with ScoreWriter(out, output_format, previous) as writer:
        for frame in score_chunks(scorer, tables, plan, summary, on_progress):
            writer.write(frame)
    summary.rows_written = writer.rows_written
    summary.rows_unchanged = writer.rows_unchanged
    summary.seconds = time.perf_counter() - started
    return summary


def as_of_times(values: Sequence[str], *, every_days: int, default: pd.Timestamp) -> tuple[pd.Timestamp, ...]:
    """The ``as_of`` times of ``--as-of`` values: ISO times, comma lists, and ranges ``START..END``
    stepped by ``every_days`` (END included when a step lands on it). No value: ``default``. Times
    without a zone are UTC. Raises ``ValueError`` naming a value that is not a time."""
    if every_days < 1:
        raise ValueError(f"--every must be at least 1 day, got {every_days}")
    times: list[pd.Timestamp] = []
    for value in (part.strip() for raw in values for part in raw.split(",")):
        if not value:
            continue
        if ".." in value:
            start, end = (_time(part) for part in value.split("..", 1))
            if end < start:
                raise ValueError(f"--as-of range {value!r} ends before it starts")
            times.extend(pd.date_range(start, end, freq=pd.Timedelta(days=every_days)))
        else:
            times.append(_time(value))
    return tuple(dict.fromkeys(times)) if times else (_utc(default),)


def _time(text: str) -> pd.Timestamp:
    try:
        moment = pd.Timestamp(text.strip())
    except (ValueError, TypeError):
        raise ValueError(
            f"--as-of {text!r} is not an ISO 8601 time (e.g. 2025-03-01 or 2025-03-01T12:00Z)"
        ) from None
    if moment is pd.NaT:
        raise ValueError(f"--as-of {text!r} is not a time")
    return _utc(moment)


def _utc(moment: pd.Timestamp) -> pd.Timestamp:
    return moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")


def _ns(moment: pd.Timestamp) -> int:
    return int(moment.as_unit("ns").value)

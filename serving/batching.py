"""Coalescing concurrent single-lead requests into one vectorised scoring call.

Scoring one lead costs mostly fixed per-call overhead (building frames, running the pipeline), so
scoring the leads of all requests that arrived meanwhile in one call is far cheaper than one call
each. There is no artificial wait: while a batch is being scored, new requests queue; when it is done
the queue becomes the next batch. Under light load a request is scored alone at once; under heavy load
batches grow and throughput with them.

All scoring runs on one dedicated thread whose native thread pools (OpenMP, used by LightGBM) are
limited to one thread: for the small batches of an API, parallel prediction costs more in thread
wake-ups than it gains, and concurrency comes from running several worker processes.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from serving.scorer import LeadScorer
from training.data.live import LeadIn

T = TypeVar("T")


def _limit_native_threads() -> None:
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)


def scoring_executor() -> ThreadPoolExecutor:
    """The single scoring thread (see the module docstring)."""
    return ThreadPoolExecutor(
        max_workers=1, thread_name_prefix="leadripe-scoring", initializer=_limit_native_threads
    )


@dataclass(frozen=True)
class ScoreOptions:
    reasons_per_side: int
    max_ripening_steps: int


@dataclass
class _Pending:
    scorer: LeadScorer
    lead: LeadIn
    options: ScoreOptions
    future: asyncio.Future[dict[str, Any]] = field(repr=False)


class ScoringQueue:
    """Queues single leads and scores whatever has queued in one call (at most ``max_batch`` leads)."""

    def __init__(self, executor: ThreadPoolExecutor, max_batch: int = 64) -> None:
        self.executor = executor
        self.max_batch = max_batch
        self._pending: list[_Pending] = []
        self._drainer: asyncio.Task[None] | None = None

    async def run(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``function`` on the scoring thread (for batch requests, which are vectorised already)."""
        return await asyncio.get_running_loop().run_in_executor(
            self.executor, partial(function, *args, **kwargs)
        )

    async def score(
        self, scorer: LeadScorer, lead: LeadIn, as_of: datetime, options: ScoreOptions
    ) -> dict[str, Any]:
        """Score one lead (``as_of`` applies when the lead has none), batched with concurrent requests;
        the answer is ``LeadScorer.score_payloads``' dict."""
        if lead.as_of is None:
            lead = lead.model_copy(update={"as_of": as_of})
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(scorer, lead, options, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._pending:
            taken, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
            # Leads can share a call only if they use the same model (a reload may sit between them)
            # and the same options.
            groups: dict[tuple[int, ScoreOptions], list[_Pending]] = {}
            for item in taken:
                groups.setdefault((id(item.scorer), item.options), []).append(item)
            for items in groups.values():
                await self._score_group(items)

    async def _score_group(self, items: Sequence[_Pending]) -> None:
        scorer, options = items[0].scorer, items[0].options
        leads = [item.lead for item in items]
        try:
            answers = await self.run(
                scorer.score_payloads,
                leads,
                default_as_of=leads[0].as_of,
                reasons_per_side=options.reasons_per_side,
                max_ripening_steps=options.max_ripening_steps,
            )
        except Exception as error:
            for item in items:
                if not item.future.done():
                    item.future.set_exception(error)
            return
        for item, answer in zip(items, answers, strict=True):
            if not item.future.done():  # the client may have gone away
                item.future.set_result(answer)


#: Batches at least this large use all cores for prediction (TreeSHAP dominates their cost).
PARALLEL_BATCH_SIZE = 256


def score_many(scorer: LeadScorer, leads: Sequence[LeadIn], **options: Any) -> list[dict[str, Any]]:
    """``scorer.score_payloads`` for a batch request, with native thread pools opened up for large
    batches."""
    if len(leads) < PARALLEL_BATCH_SIZE:
        return scorer.score_payloads(leads, **options)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=os.cpu_count() or 1):
        return scorer.score_payloads(leads, **options)

"""The FastAPI app factory: ``create_app(settings)``; uvicorn runs it with ``--factory``."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool

from serving.batching import ScoringQueue, scoring_executor
from serving.docs import add_docs
from serving.errors import validation_error_handler
from serving.logs import configure_logging, get_logger
from serving.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from serving.model_holder import ModelHolder, holder_from_settings
from serving.routers import admin, compare, health, model, report, score
from serving.settings import Settings
from serving.worker_sync import WorkerSync
from training import __version__

log = get_logger("app")

DESCRIPTION = """Scores live leads for sales-readiness with the trained leadripe model.

For each lead: a score 0-100 (calibrated probability of a win within the horizon), a grade, its
percentile, a verdict (`ripe`, `too_green`, `gone_cold`) with the handover decision, the reasons with
their exact contributions, what would ripen a too-green lead, and warnings about ignored input.
"""


def create_app(settings: Settings | None = None, holder: ModelHolder | None = None) -> FastAPI:
    """Build the API. The model is loaded in the lifespan (at startup), not here.

    ``holder`` replaces the settings-based model source (tests use it to serve an in-memory bundle).
    """
    settings = settings or Settings()
    configure_logging(settings.log_level)
    holder = holder or holder_from_settings(settings)
    queue = ScoringQueue(scoring_executor())
    sync = WorkerSync(settings.state_dir) if settings.state_dir is not None else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        generation = sync.generation() if sync is not None else 0
        try:
            await run_in_threadpool(holder.reload)
        except Exception as error:
            # Keep running: /readyz says 503 until a reload (admin or polling) succeeds.
            log.error(
                "model could not be loaded at startup", extra={"error": f"{type(error).__name__}: {error}"}
            )
        if sync is not None:
            current = holder.current
            sync.acknowledge(generation, current.scorer.version if current else None)
        watcher = (
            asyncio.create_task(_watch(holder, sync, settings))
            if sync is not None or settings.reload_poll_seconds
            else None
        )
        yield
        queue.executor.shutdown(wait=False, cancel_futures=True)
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        if sync is not None:
            sync.leave()

    app = FastAPI(
        title="leadripe scoring API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        # Served from packaged files by add_docs, not from a CDN.
        docs_url=None,
        redoc_url=None,
        telemetry={
            "tracing": settings.opentelemetry,
            "metrics": settings.opentelemetry,
            "logs": settings.opentelemetry,
        },
    )
    app.state.settings = settings
    app.state.holder = holder
    app.state.queue = queue
    app.state.sync = sync
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware)  # outermost: every answer, even a 413, carries a request id
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    for router in (score.router, compare.router, model.router, report.router, health.router, admin.router):
        app.include_router(router)
    add_docs(app)
    return app


async def _watch(holder: ModelHolder, sync: WorkerSync | None, settings: Settings) -> None:
    """Reload when another worker started a new generation (an admin reload), and whenever the
    configured source holds a different model (e.g. the champion alias moved)."""
    every = settings.sync_poll_seconds if sync is not None else settings.reload_poll_seconds
    next_source_check = time.monotonic() + settings.reload_poll_seconds
    while True:
        await asyncio.sleep(every)
        try:
            if sync is not None and (generation := sync.generation()) > sync.seen:
                await _catch_up(holder, sync, generation)
            if settings.reload_poll_seconds and time.monotonic() >= next_source_check:
                next_source_check = time.monotonic() + settings.reload_poll_seconds
                if await run_in_threadpool(holder.source_changed):
                    await _reload(holder, sync, sync.seen if sync is not None else 0)
        except Exception as error:  # a failed poll must never stop polling or the service
            log.warning("model poll failed", extra={"error": f"{type(error).__name__}: {error}"})


async def _catch_up(holder: ModelHolder, sync: WorkerSync, generation: int) -> None:
    """Another worker started ``generation`` (an admin reload of the configured source). When this
    worker already serves what the source holds (its own poll loaded the new model first, which is
    common right after a model is published), acknowledge at once: a second load of the same model
    would only delay the admin call, by several seconds on a busy machine."""
    current = holder.current
    if current is not None and await run_in_threadpool(holder.serves_source):
        sync.acknowledge(generation, current.scorer.version)
        return
    await _reload(holder, sync, generation)


async def _reload(holder: ModelHolder, sync: WorkerSync | None, generation: int) -> None:
    """Reload, and acknowledge the generation with the version now served (or the failure)."""
    try:
        loaded = await run_in_threadpool(holder.reload)
    except Exception as error:
        if sync is not None:
            current = holder.current
            sync.acknowledge(generation, current.scorer.version if current else None, type(error).__name__)
        raise
    if sync is not None:
        sync.acknowledge(generation, loaded.scorer.version)

"""Administration: reload the configured model (never a model named by the request) in every worker."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from serving.dependencies import AdminKeyDep, HolderDep, SettingsDep
from serving.logs import get_logger
from serving.schemas import ReloadOut, WorkerOut
from serving.worker_sync import WorkerSync

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[AdminKeyDep])
log = get_logger("admin")


@router.post(
    "/reload",
    response_model=ReloadOut,
    summary="Reload the configured model in every worker and swap it in atomically",
    responses={
        401: {"description": "Missing API key"},
        403: {"description": "Wrong key, or no key configured"},
        503: {
            "description": "The model could not be loaded, or some workers did not switch in time "
            "(the answer lists them)"
        },
    },
)
async def reload_model(
    request: Request, holder: HolderDep, settings: SettingsDep
) -> ReloadOut | JSONResponse:
    """Load the configured model here, then have every other worker of this server load it too; answer
    when all serve it (every answer given after this call returns comes from the new model)."""
    previous = holder.current
    try:
        loaded = await run_in_threadpool(holder.reload)
    except Exception as error:
        log.error("reload failed", extra={"error": type(error).__name__})
        # The old model keeps serving; say why the new one could not be loaded.
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=f"reload failed: {error}") from None
    out = ReloadOut(
        previous_version=previous.scorer.version if previous else None,
        model_version=loaded.scorer.version,
        source=loaded.source,
        workers=[],
    )
    sync: WorkerSync | None = request.app.state.sync
    if sync is None:  # a single process: nothing else to switch
        return out
    generation = sync.bump()
    sync.acknowledge(generation, loaded.scorer.version)
    switched, lagging = await run_in_threadpool(sync.wait_for, generation, settings.reload_wait_seconds)
    out.workers = [
        WorkerOut(pid=s.pid, model_version=s.model_version, switched=s not in lagging, error=s.error)
        for s in sorted([*switched, *lagging], key=lambda s: s.pid)
    ]
    if lagging:
        log.error("workers did not switch", extra={"n_lagging": len(lagging), "generation": generation})
        return JSONResponse(
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            content={
                "detail": f"{len(lagging)} worker(s) did not switch within {settings.reload_wait_seconds} s",
                **out.model_dump(),
            },
        )
    return out

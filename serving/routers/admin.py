"""Administration: reload the configured model (never a model named by the request)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from starlette.concurrency import run_in_threadpool

from serving.dependencies import AdminKeyDep, HolderDep
from serving.logs import get_logger
from serving.schemas import ReloadOut

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[AdminKeyDep])
log = get_logger("admin")


@router.post(
    "/reload",
    response_model=ReloadOut,
    summary="Reload the configured model and swap it in atomically",
    responses={
        401: {"description": "Missing API key"},
        403: {"description": "Wrong key, or no key configured"},
    },
)
async def reload_model(holder: HolderDep) -> ReloadOut:
    previous = holder.current
    try:
        loaded = await run_in_threadpool(holder.reload)
    except Exception as error:
        log.error("reload failed", extra={"error": type(error).__name__})
        # The old model keeps serving; say why the new one could not be loaded.
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=f"reload failed: {error}") from None
    return ReloadOut(
        previous_version=previous.scorer.version if previous else None,
        model_version=loaded.scorer.version,
        source=loaded.source,
    )

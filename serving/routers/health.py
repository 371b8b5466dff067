"""Liveness and readiness probes (no API key: orchestrators call them)."""

from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse

from serving.dependencies import HolderDep
from serving.logs import get_logger
from serving.schemas import Health

router = APIRouter(tags=["health"])
log = get_logger("health")


@router.get("/healthz", response_model=Health, summary="The process is alive")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Health,
    summary="A model is loaded and requests can be scored",
    responses={503: {"description": "No model loaded yet"}},
)
async def readyz(holder: HolderDep) -> Health | JSONResponse:
    loaded = holder.current
    if loaded is None:
        # The probe is unauthenticated: the reason (model names, server paths) goes to the log only.
        log.warning("not ready: no model loaded", extra={"error": holder.last_error})
        return JSONResponse(status_code=status.HTTP_503_SERVICE_UNAVAILABLE, content={"status": "not ready"})
    return Health(status="ready", model_version=loaded.scorer.version)

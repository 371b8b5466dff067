"""Request dependencies behind ``Annotated`` aliases: settings, the current model, the API key.

All are ``async def`` although none awaits anything: FastAPI runs a plain ``def`` dependency in a worker
thread, and those thread hand-offs (several per request) cost more CPU than everything else the
framework does for a scoring request.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader

from serving.batching import ScoringQueue
from serving.model_holder import LoadedModel, ModelHolder
from serving.settings import Settings

API_KEY_HEADER = "X-API-Key"
_api_key_header = APIKeyHeader(name=API_KEY_HEADER, auto_error=False, description="The service's API key.")


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_holder(request: Request) -> ModelHolder:
    holder: ModelHolder = request.app.state.holder
    return holder


async def get_queue(request: Request) -> ScoringQueue:
    queue: ScoringQueue = request.app.state.queue
    return queue


SettingsDep = Annotated[Settings, Depends(get_settings)]
QueueDep = Annotated[ScoringQueue, Depends(get_queue)]
HolderDep = Annotated[ModelHolder, Depends(get_holder)]


async def get_model(holder: HolderDep) -> LoadedModel:
    """The model current when the request started; the request keeps it even if a reload swaps it."""
    loaded = holder.current
    if loaded is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail="no model is loaded yet")
    return loaded


ModelDep = Annotated[LoadedModel, Depends(get_model)]


def _check_key(given: str | None, expected: str) -> None:
    if not given:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail=f"missing API key: send it in the {API_KEY_HEADER} header",
            headers={"WWW-Authenticate": API_KEY_HEADER},
        )
    if not secrets.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="invalid API key")


async def require_api_key(
    settings: SettingsDep, given: Annotated[str | None, Security(_api_key_header)]
) -> None:
    """Enforce the API key whenever one is configured."""
    if settings.api_key is not None:
        _check_key(given, settings.api_key.get_secret_value())


async def require_admin_key(
    settings: SettingsDep, given: Annotated[str | None, Security(_api_key_header)]
) -> None:
    """Admin endpoints always need a key; with none configured they are disabled."""
    if settings.api_key is None:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="admin endpoints are disabled: no API key is configured (LEADRIPE_API_KEY)",
        )
    _check_key(given, settings.api_key.get_secret_value())


ApiKeyDep = Depends(require_api_key)
AdminKeyDep = Depends(require_admin_key)

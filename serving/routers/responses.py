"""OpenAPI descriptions of the error answers the routers share."""

from __future__ import annotations

from typing import Any

AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing API key (when the service has one configured)"},
    403: {"description": "Wrong API key"},
}
NO_MODEL: dict[int | str, dict[str, Any]] = {503: {"description": "No model loaded yet"}}

"""Error answers that name the field and the problem but never echo what the caller sent.

FastAPI's default 422 answer carries each error's ``input`` (the whole lead, or 6.5 MB of events for an
oversize list) and ``ctx``; it also fails on a lone UTF-16 surrogate, which JSON cannot encode, and the
resulting traceback writes the request's values into the server log. Here every error becomes
``{loc, msg, type}`` only, with any unencodable character in a field name escaped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from serving.logs import get_logger
from training.data.live import has_surrogate

log = get_logger("errors")
_SURROGATE = re.compile("[\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` with lone surrogates escaped (``\\ud800``), so it can always be encoded and logged."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) if has_surrogate(text) else text


def safe_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Each error as ``{loc, msg, type}``: no ``input`` or ``ctx``, nothing sent but field names."""
    out = []
    for error in errors:
        loc = [part if isinstance(part, int) else printable(str(part)) for part in error.get("loc", ())]
        out.append(
            {
                "loc": loc,
                "msg": printable(str(error.get("msg", ""))),
                "type": printable(str(error.get("type", "value_error"))),
            }
        )
    return out


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """The 422 answer for any invalid request (see the module docstring)."""
    assert isinstance(exc, RequestValidationError)
    errors = safe_errors(exc.errors())
    # Error types only: not even field paths, which can hold a caller's profile keys.
    types = sorted({error["type"] for error in errors})
    log.info("invalid request", extra={"error_types": types, "n_errors": len(errors)})
    return JSONResponse(status_code=422, content={"detail": errors})

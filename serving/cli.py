"""The ``leadripe`` console command: training's commands plus ``serve``.

It lives in ``serving`` because ``serve`` needs the API, and serving may import training but never
the other way round.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from training.cli import app


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind; loopback by default.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (default: one per CPU, at most 2).", min=1)
    ] = None,
) -> None:
    """Start the scoring API (model and settings come from LEADRIPE_* environment variables)."""
    import uvicorn

    # The API writes its own structured access line per request (with a request id, no personal data).
    uvicorn.run(
        "serving.app:create_app",
        factory=True,
        host=host,
        port=port,
        # Scoring is CPU-bound: one worker per core; each loads its own copy of the model.
        workers=workers or min(2, os.cpu_count() or 1),
        access_log=False,
    )


__all__ = ["app"]

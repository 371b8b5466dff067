"""The ``leadripe`` console command: training's commands plus ``serve``.

It lives in ``serving`` because ``serve`` needs the API, and serving may import training but never
the other way round.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from typing import Annotated

import typer

from serving.batch.command import score
from training.cli import app
from training.console import console, user_errors

app.command(name="score")(score)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind; loopback by default.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (default: one per CPU, at most 2).", min=1)
    ] = None,
) -> None:
    """Start the scoring API (model and settings come from LEADRIPE_* environment variables).

    Refuses to start (exit 2) when the configured model is not there, naming the store it looked in.
    """
    import uvicorn

    from serving.preflight import check_model_source, tracking_uri
    from serving.settings import Settings

    with user_errors():
        source = check_model_source(Settings())
    # Workers resolve the store themselves: pin it to the one checked here (an absolute path), so a
    # worker can never open (and create) another, empty one.
    os.environ.setdefault("MLFLOW_TRACKING_URI", tracking_uri())
    # One shared directory per server: an admin reload in one worker reaches all (serving.worker_sync).
    if not os.environ.get("LEADRIPE_STATE_DIR"):
        state_dir = tempfile.mkdtemp(prefix="leadripe-serve-")
        os.environ["LEADRIPE_STATE_DIR"] = state_dir
        atexit.register(shutil.rmtree, state_dir, ignore_errors=True)
    console.print(f"Serving {source} on http://{host}:{port}", highlight=False)
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

if __name__ == "__main__":  # `python -m serving.cli ...` runs the working tree's code (tests, development)
    app()

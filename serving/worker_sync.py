"""Keeping every worker process of one server on the same model.

uvicorn runs several worker processes; an admin reload reaches only the one that gets the call. The
workers share a small directory (``LEADRIPE_STATE_DIR``; ``leadripe serve`` makes a fresh one per
server): a *generation* counter that a reload bumps, and one acknowledgement file per worker saying
which generation and model version it serves. Each worker checks the counter a few times a second
(one ``stat`` of a tiny file, off the request path) and reloads when it moved; the admin call waits
until every live worker has acknowledged the new generation, and says which did not.

Nothing here is per request, and nothing is kept in memory that another worker needs: a worker that
dies and is replaced loads the current model at start and acknowledges the current generation.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

GENERATION_FILE = "generation"
LOCK_FILE = "generation.lock"
WORKERS_DIR = "workers"


@dataclass(frozen=True)
class WorkerState:
    """What one worker last acknowledged."""

    pid: int
    generation: int
    model_version: str | None
    error: str | None = None


class WorkerSync:
    """The shared directory of one server's workers (see the module docstring)."""

    def __init__(self, directory: Path, pid: int | None = None) -> None:
        self.directory = Path(directory)
        self.pid = pid if pid is not None else os.getpid()
        (self.directory / WORKERS_DIR).mkdir(parents=True, exist_ok=True)
        #: The generation this worker has acted on (reloaded for, or started at).
        self.seen = self.generation()

    def generation(self) -> int:
        """The current generation (0 before the first reload)."""
        try:
            return int((self.directory / GENERATION_FILE).read_text() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def bump(self) -> int:
        """Start a new generation (under a lock: two admin calls never get the same number)."""
        with (self.directory / LOCK_FILE).open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            generation = self.generation() + 1
            self.seen = generation  # this worker reloaded already: its watcher must not reload again
            _write_atomically(self.directory / GENERATION_FILE, str(generation))
        return generation

    def acknowledge(self, generation: int, model_version: str | None, error: str | None = None) -> None:
        """Record that this worker now serves ``model_version`` for ``generation`` (or failed to)."""
        self.seen = max(self.seen, generation)
        state = {"pid": self.pid, "generation": generation, "model_version": model_version, "error": error}
        _write_atomically(self.directory / WORKERS_DIR / f"{self.pid}.json", json.dumps(state))

    def leave(self) -> None:
        """Remove this worker's acknowledgement (at shutdown)."""
        with contextlib.suppress(FileNotFoundError):
            (self.directory / WORKERS_DIR / f"{self.pid}.json").unlink()

    def workers(self) -> list[WorkerState]:
        """The live workers' last acknowledgements; files of processes that are gone are removed."""
        states = []
        for path in sorted((self.directory / WORKERS_DIR).glob("*.json")):
            try:
                state = WorkerState(**json.loads(path.read_text()))
            except (FileNotFoundError, ValueError, TypeError):
                continue  # being replaced right now, or not ours
            if not _alive(state.pid):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                continue
            states.append(state)
        return states

    def wait_for(
        self, generation: int, timeout_seconds: float
    ) -> tuple[list[WorkerState], list[WorkerState]]:
        """Wait until every live worker acknowledged ``generation``; returns (switched, not switched)."""
        deadline = time.monotonic() + timeout_seconds
        while True:
            states = self.workers()
            lagging = [s for s in states if s.generation < generation or s.error is not None]
            if not lagging or time.monotonic() >= deadline:
                return [s for s in states if s not in lagging], lagging
            time.sleep(0.05)


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True

"""The shared directory that keeps a server's workers on one model (serving.worker_sync)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from serving.worker_sync import WorkerSync


def test_reload_waits_for_every_live_worker_and_names_the_laggard(tmp_path: Path) -> None:
    me = WorkerSync(tmp_path)
    other = WorkerSync(tmp_path, pid=os.getppid())  # a live process standing in for a second worker
    me.acknowledge(0, "1")
    other.acknowledge(0, "1")
    generation = me.bump()
    assert generation == 1 and me.seen == 1 and other.generation() == 1
    me.acknowledge(generation, "2")
    switched, lagging = me.wait_for(generation, timeout_seconds=0.2)
    assert [s.pid for s in switched] == [os.getpid()] and [s.pid for s in lagging] == [os.getppid()]
    other.acknowledge(generation, "2")
    switched, lagging = me.wait_for(generation, timeout_seconds=0.2)
    assert not lagging and {s.model_version for s in switched} == {"2"}
    other.acknowledge(generation, "1", error="FileNotFoundError")  # a failed reload counts as not switched
    assert [s.pid for s in me.wait_for(generation, timeout_seconds=0.1)[1]] == [os.getppid()]


def test_files_of_dead_workers_are_dropped(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    gone = WorkerSync(tmp_path, pid=int(dead.stdout))
    gone.acknowledge(0, "1")
    me = WorkerSync(tmp_path)
    me.acknowledge(0, "1")
    assert [s.pid for s in me.workers()] == [os.getpid()]
    assert not (tmp_path / "workers" / f"{dead.stdout.strip()}.json").exists()
    me.leave()
    assert me.workers() == []

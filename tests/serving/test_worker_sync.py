"""The shared directory that keeps a server's workers on one model (serving.worker_sync)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from unittest.mock import MagicMock

from serving.app import _catch_up
from serving.model_holder import LoadedModel, ModelHolder
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


def test_a_worker_that_already_serves_the_source_acknowledges_a_reload_without_loading_again(
    tmp_path: Path,
) -> None:
    source = {"fingerprint": "v2"}
    loads: list[str] = []

    def load() -> LoadedModel:
        loads.append(source["fingerprint"])
        scorer = MagicMock()
        scorer.version = source["fingerprint"]
        return LoadedModel(scorer, "dir:test", datetime.now(UTC), source["fingerprint"])

    holder = ModelHolder(load, lambda: source["fingerprint"])
    holder.reload()  # this worker's own poll already loaded the published model
    admin, me = WorkerSync(tmp_path, pid=os.getppid()), WorkerSync(tmp_path)
    generation = admin.bump()
    asyncio.run(_catch_up(holder, me, generation))
    assert loads == ["v2"] and me.seen == generation
    assert {s.pid: (s.generation, s.model_version) for s in me.workers()}[os.getpid()] == (generation, "v2")

    source["fingerprint"] = "v3"  # the source moved on: the next generation loads it
    generation = admin.bump()
    asyncio.run(_catch_up(holder, me, generation))
    assert loads == ["v2", "v3"]
    assert {s.pid: s.model_version for s in me.workers()}[os.getpid()] == "v3"

"""A real server with two workers: an admin reload or a new model at the source reaches every worker.

Loopback only, bounded: a few hundred requests over at most ~20 s; the server stops at the end.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from test_api import GREEN_EVENTS, lead

from training.bundle import ModelBundle

KEY = "reload-key"
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def publish(bundle: ModelBundle, version: str, directory: Path) -> None:
    """Write a bundle labelled ``version`` into ``directory``, each file swapped in atomically."""
    staging = directory.parent / f"staging-{version}"
    dataclasses.replace(bundle, card=bundle.card.model_copy(update={"version": version})).save(staging)
    directory.mkdir(exist_ok=True)
    for path in staging.iterdir():
        os.replace(path, directory / path.name)


@pytest.fixture
def server(tmp_path: Path, small_bundle: ModelBundle) -> Iterator[tuple[str, Path]]:
    model_dir = tmp_path / "model"
    publish(small_bundle, "1", model_dir)
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "LEADRIPE_MODEL_DIR": str(model_dir),
        "LEADRIPE_API_KEY": KEY,
        "LEADRIPE_RELOAD_POLL_SECONDS": "1",
        "LEADRIPE_LOG_LEVEL": "WARNING",
    }
    env.pop("LEADRIPE_STATE_DIR", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "serving.cli", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300  # a loaded shared machine: slow imports
        ready = 0
        while ready < 10:  # several answers in a row: both workers up (new connection each)
            assert time.monotonic() < deadline, "the server did not start"
            assert process.poll() is None, "the server exited"
            try:
                ready = ready + 1 if httpx.get(f"{url}/readyz", timeout=2).status_code == 200 else 0
            except httpx.TransportError:
                ready = 0
            time.sleep(0.1)
        yield url, model_dir
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def versions_seen(url: str, n: int) -> list[str]:
    """The model version of ``n`` answers, each on a new connection (so both workers answer)."""
    out = []
    for _ in range(n):
        response = httpx.post(
            f"{url}/v1/score", json=lead(GREEN_EVENTS), headers={"X-API-Key": KEY}, timeout=10
        )
        assert response.status_code == 200, response.text
        out.append(response.json()["model_version"])
    return out


def test_every_worker_switches_on_admin_reload_and_on_a_new_model_at_the_source(
    server: tuple[str, Path], small_bundle: ModelBundle
) -> None:
    url, model_dir = server
    assert set(versions_seen(url, 10)) == {"1"}

    # A new model at the source (as when the champion alias moves): every worker within 5 s.
    publish(small_bundle, "2", model_dir)
    time.sleep(5)
    assert set(versions_seen(url, 20)) == {"2"}

    # An admin reload under load: after the call returns, no answer comes from the old model.
    answers: list[tuple[float, int, str | None]] = []
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set() and len(answers) < 2000:
            sent = time.monotonic()
            try:
                response = httpx.post(
                    f"{url}/v1/score", json=lead(GREEN_EVENTS), headers={"X-API-Key": KEY}, timeout=10
                )
                version = response.json().get("model_version") if response.status_code == 200 else None
                answers.append((sent, response.status_code, version))
            except httpx.HTTPError as error:
                answers.append((sent, 0, type(error).__name__))

    threads = [threading.Thread(target=load) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.5)
        publish(small_bundle, "3", model_dir)
        reload = httpx.post(f"{url}/v1/admin/reload", headers={"X-API-Key": KEY}, timeout=30)
        returned = time.monotonic()
        time.sleep(1.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert reload.status_code == 200, reload.text
    body = reload.json()
    assert body["model_version"] == "3"
    assert len(body["workers"]) == 2 and all(
        w["switched"] and w["model_version"] == "3" for w in body["workers"]
    )
    assert all(status == 200 for _, status, _ in answers), [a for a in answers if a[1] != 200][:3]
    after = [version for sent, _, version in answers if sent > returned]
    assert after and set(after) == {"3"}
    assert {version for sent, _, version in answers if sent < returned} >= {"2"}

"""After a killed ``leadripe train``: orphaned runs marked FAILED, half-registered versions removed,
the champion untouched (training.registry.interrupted)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from training import train as train_module
from training.registry import CHALLENGER, CHAMPION
from training.registry.interrupted import (
    FAILURE_TAG,
    HOST_TAG,
    PID_TAG,
    repair_interrupted,
    run_identity_tags,
)
from training.registry.tracking import configure_tracking

NAME = "lead-maturity"


def dead_pid() -> str:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return done.stdout.strip()


def make_version(
    client: MlflowClient, tmp_path: Path, run_tags: dict[str, str], tags: dict[str, str]
) -> tuple[str, int]:
    """A run (left RUNNING) and a version registered from it with ``tags``."""
    experiment = client.get_experiment_by_name("leadripe")
    assert experiment is not None
    run = client.create_run(experiment.experiment_id, tags=run_tags)
    source = tmp_path / f"artifact-{run.info.run_id}"
    source.mkdir()
    version = client.create_model_version(NAME, str(source), run_id=run.info.run_id, tags=tags)
    return run.info.run_id, int(version.version)


@pytest.fixture(scope="module")
def tracking(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One store for the module (creating a SQLite store runs MLflow's migrations: seconds)."""
    return configure_tracking(
        f"sqlite:///{tmp_path_factory.mktemp('store') / 'mlflow.db'}", experiment="leadripe"
    )


@pytest.fixture
def store(tracking: str, request: pytest.FixtureRequest) -> MlflowClient:
    """The module's store with a fresh registered model ``NAME``; runs left RUNNING are cleared after."""
    mlflow.set_tracking_uri(tracking)
    client = MlflowClient(tracking_uri=tracking)
    for model in client.search_registered_models():
        client.delete_registered_model(model.name)
    client.create_registered_model(NAME)
    return client


def test_killed_runs_are_failed_and_half_registered_versions_removed(
    store: MlflowClient, tmp_path: Path
) -> None:
    here = socket.gethostname()
    complete = {"test_roc_auc": "0.8", "run_id": "x"}
    champion_run, champion = make_version(store, tmp_path, {PID_TAG: dead_pid(), HOST_TAG: here}, complete)
    store.set_terminated(champion_run, "FINISHED")
    store.set_registered_model_alias(NAME, CHAMPION, str(champion))
    # Killed between registering and tagging: RUNNING forever, a version without tags, the challenger on it.
    killed_run, half = make_version(store, tmp_path, {PID_TAG: dead_pid(), HOST_TAG: here}, {})
    store.set_registered_model_alias(NAME, CHALLENGER, str(half))
    # Still training in this very process: not touched.
    live_run, in_progress = make_version(store, tmp_path, run_identity_tags(), {})
    # Not leadripe's (no process tags): not touched.
    foreign_run, foreign = make_version(store, tmp_path, {}, {})
    # Killed on another machine: its process cannot be checked from here.
    remote_run, _ = make_version(store, tmp_path, {PID_TAG: dead_pid(), HOST_TAG: "elsewhere"}, {})

    repairs = repair_interrupted(NAME, "leadripe", store)

    assert repairs.failed_runs == [killed_run]
    assert repairs.removed_versions == [half]
    assert store.get_run(killed_run).info.status == "FAILED"
    assert FAILURE_TAG in store.get_run(killed_run).data.tags
    for run_id in (live_run, foreign_run, remote_run):
        assert store.get_run(run_id).info.status == "RUNNING"
    remaining = {int(v.version) for v in store.search_model_versions(f"name = '{NAME}'")}
    assert half not in remaining and {champion, in_progress, foreign} <= remaining
    assert int(store.get_model_version_by_alias(NAME, CHAMPION).version) == champion
    with pytest.raises(mlflow.exceptions.MlflowException):
        store.get_model_version_by_alias(NAME, CHALLENGER)  # the stale alias went with its version
    assert repair_interrupted(NAME, "leadripe", store).messages() == []  # nothing left to repair


def test_the_champion_is_never_removed_even_if_half_registered(store: MlflowClient, tmp_path: Path) -> None:
    run, version = make_version(store, tmp_path, {PID_TAG: dead_pid(), HOST_TAG: socket.gethostname()}, {})
    store.set_registered_model_alias(NAME, CHAMPION, str(version))
    repairs = repair_interrupted(NAME, "leadripe", store)
    assert repairs.failed_runs == [run] and repairs.removed_versions == []
    assert int(store.get_model_version_by_alias(NAME, CHAMPION).version) == version


def test_train_repairs_before_it_fits(
    store: MlflowClient, tmp_path: Path, simulated_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    killed_run, half = make_version(
        store, tmp_path, {PID_TAG: dead_pid(), HOST_TAG: socket.gethostname()}, {}
    )
    stages: list[str] = []

    def stop(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # stands in for the long fit: the repair must already be done

    monkeypatch.setattr(train_module, "fit_and_evaluate", stop)
    with pytest.raises(KeyboardInterrupt):
        train_module.train(simulated_dir, tracking_uri=mlflow.get_tracking_uri(), on_stage=stages.append)
    # (the other tests' runs still RUNNING here are from live or foreign processes: left alone)
    assert store.get_run(killed_run).info.status == "FAILED"
    assert any(f"removed model version {half}" in stage for stage in stages)

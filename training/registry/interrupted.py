"""Cleaning up after a training run that was killed (SIGKILL, a lost machine) before it finished.

Such a run stays RUNNING in MLflow forever and, if killed between registering its model and tagging
it, leaves a registered version without the tags ``register_candidate`` writes. The next training run
calls ``repair_interrupted``: runs whose process is gone are marked FAILED, and versions registered by
such runs without their tags are deleted. Only leadripe's own runs are judged (they carry the tags
``leadripe.pid`` and ``leadripe.host``, set by ``run_identity_tags``); a run whose process still lives
(another training in progress) is left alone, and the champion is never touched.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field

from mlflow.entities import RunStatus
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from training.registry import CHAMPION

PID_TAG = "leadripe.pid"
HOST_TAG = "leadripe.host"
FAILURE_TAG = "leadripe.failure"
#: Tags every complete candidate version has (``training.train`` passes them to ``register_candidate``;
#: ``run_id`` is written last).
COMPLETE_VERSION_TAGS = ("test_roc_auc", "run_id")


@dataclass
class Repairs:
    """What ``repair_interrupted`` did."""

    failed_runs: list[str] = field(default_factory=list)
    removed_versions: list[int] = field(default_factory=list)

    def messages(self) -> list[str]:
        """One line per repair, for people."""
        lines = [
            f"marked interrupted run {run_id} as FAILED (its process is gone)" for run_id in self.failed_runs
        ]
        lines += [
            f"removed model version {version}: registered by an interrupted run, never fully described"
            for version in self.removed_versions
        ]
        return lines


def run_identity_tags() -> dict[str, str]:
    """Tags that let a later run tell whether this run's process is still alive."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def repair_interrupted(model_name: str, experiment_name: str, client: MlflowClient | None = None) -> Repairs:
    """Mark leadripe's orphaned runs FAILED and delete the half-registered versions they left behind."""
    client = client or MlflowClient()
    repairs = Repairs()
    experiment = client.get_experiment_by_name(experiment_name)
    dead_runs: set[str] = set()
    if experiment is not None:
        for run in client.search_runs(
            [experiment.experiment_id], filter_string="attributes.status = 'RUNNING'", max_results=1000
        ):
            if _process_gone(run.data.tags):
                client.set_tag(
                    run.info.run_id, FAILURE_TAG, "interrupted: its process ended without finishing"
                )
                client.set_terminated(run.info.run_id, RunStatus.to_string(RunStatus.FAILED))
                repairs.failed_runs.append(run.info.run_id)
    try:
        versions = client.search_model_versions(f"name = '{model_name}'")
        champion = _alias_version(client, model_name, CHAMPION)
    except MlflowException:
        return repairs  # no such model yet
    for version in versions:
        if int(version.version) == champion or all(tag in version.tags for tag in COMPLETE_VERSION_TAGS):
            continue
        if not version.run_id or not _run_was_interrupted(client, version.run_id, dead_runs):
            continue  # registered by hand, or by a run still in progress: not ours to judge
        client.delete_model_version(model_name, version.version)
        repairs.removed_versions.append(int(version.version))
    return repairs


def _process_gone(tags: dict[str, str]) -> bool:
    """Whether the run's process is known to be gone: only for runs made on this machine."""
    pid, host = tags.get(PID_TAG), tags.get(HOST_TAG)
    if pid is None or host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _run_was_interrupted(client: MlflowClient, run_id: str, cache: set[str]) -> bool:
    if run_id in cache:
        return True
    try:
        run = client.get_run(run_id)
    except MlflowException:
        return False
    interrupted = PID_TAG in run.data.tags and (
        run.info.status in ("FAILED", "KILLED") or FAILURE_TAG in run.data.tags
    )
    if interrupted:
        cache.add(run_id)
    return interrupted


def _alias_version(client: MlflowClient, name: str, alias: str) -> int | None:
    try:
        return int(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None

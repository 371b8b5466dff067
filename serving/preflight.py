"""Checks ``leadripe serve`` makes before starting workers: is the configured model really there?

Without them, a server started outside the folder holding ``mlflow.db`` created an empty store and
answered 503 "no model is loaded yet" forever (or showed a raw SQLite error). Here it refuses to start
and names the store it looked in. Nothing is created: a missing SQLite file is never opened.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from serving.settings import Settings
from training.bundle import CARD_FILE, PIPELINE_FILE
from training.registry.tracking import DEFAULT_DB_FILE

_ALIAS_URI = re.compile(r"^models:/(?P<name>[^/@]+)@(?P<alias>[^/@]+)$")
_VERSION_URI = re.compile(r"^models:/(?P<name>[^/@]+)/(?P<version>\d+)$")


class ModelSourceError(ValueError):
    """The configured model cannot be served; the message names where it looked."""


def tracking_uri() -> str:
    """The MLflow store the API reads: ``MLFLOW_TRACKING_URI``, else ``mlflow.db`` in the working
    directory (the same default as training's ``configure_tracking``)."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{(Path.cwd() / DEFAULT_DB_FILE).resolve()}"


def check_model_source(settings: Settings) -> str:
    """Where the model will come from, in words; raises ``ModelSourceError`` when it is not there."""
    if settings.model_dir is not None:
        directory = settings.model_dir
        missing = [name for name in (PIPELINE_FILE, CARD_FILE) if not (directory / name).is_file()]
        if not directory.is_dir() or missing:
            raise ModelSourceError(
                f"LEADRIPE_MODEL_DIR={directory}: no model bundle there "
                f"(expected {PIPELINE_FILE} and {CARD_FILE})"
            )
        return f"model directory {directory}"
    uri = tracking_uri()
    if uri.startswith("sqlite:///"):
        database = Path(uri[len("sqlite:///") :])
        if not database.is_file():
            hint = (
                "MLFLOW_TRACKING_URI names it"
                if os.environ.get("MLFLOW_TRACKING_URI")
                else "MLFLOW_TRACKING_URI is not set, so the working directory was searched; start the "
                "server in the folder where you trained, or set MLFLOW_TRACKING_URI"
            )
            raise ModelSourceError(f"no MLflow store at {database} ({hint})")
    _check_registered(settings.model_uri, uri)
    return f"{settings.model_uri} in {uri}"


def _check_registered(model_uri: str, store: str) -> None:
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    from training.registry.tracking import quiet_mlflow

    quiet_mlflow()
    client = MlflowClient(tracking_uri=store, registry_uri=os.environ.get("MLFLOW_REGISTRY_URI") or store)
    alias, version = _ALIAS_URI.match(model_uri), _VERSION_URI.match(model_uri)
    try:
        if alias:
            client.get_model_version_by_alias(alias["name"], alias["alias"])
        elif version:
            client.get_model_version(version["name"], version["version"])
    except MlflowException:
        name = (alias or version or {"name": ""})["name"]
        versions = _versions_with_aliases(client, name)
        if versions:
            # The model is there, the alias or version is not: typically a first run not promoted.
            raise ModelSourceError(
                f"{model_uri} is not in the MLflow store {store}: {name} has versions "
                f"{', '.join(versions)}. Promote one once its run has earned it (`leadripe promote VERSION "
                f"--reason ...`), or name a version, e.g. models:/{name}/{versions[-1].split(' ')[0]}"
            ) from None
        try:
            names = sorted(model.name for model in client.search_registered_models())
        except MlflowException:
            names = []
        known = f"registered models there: {', '.join(names)}" if names else "it has no registered models"
        raise ModelSourceError(
            f"{model_uri} is not in the MLflow store {store} ({known}); train one with `leadripe train`, "
            "or set LEADRIPE_MODEL_URI / MLFLOW_TRACKING_URI"
        ) from None
    except Exception as error:  # a store that cannot be opened (corrupt file, unreachable server)
        raise ModelSourceError(f"cannot read the MLflow store {store}: {type(error).__name__}") from None


def _versions_with_aliases(client: Any, name: str) -> list[str]:
    """``name``'s registered versions, oldest first, each with its aliases: ["1 (challenger)", "2"]."""
    from mlflow.exceptions import MlflowException

    if not name:
        return []
    try:
        found = client.search_model_versions(f"name = '{name}'")
    except MlflowException:
        return []
    described = []
    for model_version in sorted(found, key=lambda v: int(v.version)):
        # search_model_versions leaves aliases out on some stores; get_model_version has them.
        aliases = list(client.get_model_version(name, model_version.version).aliases or [])
        described.append(
            f"{model_version.version} ({', '.join(aliases)})" if aliases else str(model_version.version)
        )
    return described


def check_registered_model(model_uri: str) -> None:
    """For commands other than ``serve`` (``leadripe score``): refuse a registry URI the store does not
    hold, with the message ``serve`` gives, instead of MLflow's traceback."""
    if Path(model_uri).is_dir() or not (_ALIAS_URI.match(model_uri) or _VERSION_URI.match(model_uri)):
        return
    _check_registered(model_uri, tracking_uri())

"""Where MLflow keeps runs, models and the registry; called once by entry points (CLI, API, notebooks).

Default: the ``MLFLOW_TRACKING_URI`` environment variable if set, else a SQLite store ``mlflow.db`` in
the working directory with artifacts in ``mlruns/`` beside it. SQLite rather than the file store
because the model registry (champion / challenger aliases) needs a database backend.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from urllib.parse import urlparse

import mlflow
from mlflow.tracking import MlflowClient

DEFAULT_EXPERIMENT = "leadripe"
DEFAULT_DB_FILE = "mlflow.db"
ARTIFACTS_DIR = "mlruns"

# Loggers that report routine work (database migrations, store setup) at INFO level.
_NOISY_LOGGERS = ("mlflow", "alembic", "alembic.runtime.migration", "mlflow.store.db.utils")
# Warnings MLflow emits for choices leadripe makes on purpose (see ``training.pyfunc``): a pickled
# PythonModel instance, and no signature (the input is nested and dataset-specific).
_EXPECTED_WARNINGS = ("Passing a Python object as `python_model`", "Failed to infer model signature")


class _DropExpectedWarnings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_EXPECTED_WARNINGS)


def configure_tracking(uri: str | None = None, *, experiment: str | None = None) -> str:
    """Point MLflow at a tracking store and experiment; return the tracking URI in use.

    ``uri`` wins over ``MLFLOW_TRACKING_URI``, which wins over ``sqlite:///<cwd>/mlflow.db``. For a
    SQLite store the experiment's artifacts go to ``mlruns/`` next to the database file (MLflow's own
    default is relative to the working directory, which scatters artifacts when commands run from
    different directories). ``experiment`` defaults to ``MLFLOW_EXPERIMENT_NAME``, else ``leadripe``;
    it is created if missing, and an existing one keeps its artifact location.
    """
    quiet_mlflow()
    experiment = experiment or os.environ.get("MLFLOW_EXPERIMENT_NAME") or DEFAULT_EXPERIMENT
    resolved = uri or os.environ.get("MLFLOW_TRACKING_URI") or _default_uri(Path.cwd())
    # Also exported as MLFLOW_TRACKING_URI by MLflow, so subprocesses (``mlflow models serve``) agree.
    # The model registry follows the tracking store unless MLFLOW_REGISTRY_URI says otherwise.
    mlflow.set_tracking_uri(resolved)
    client = MlflowClient(tracking_uri=resolved)
    existing = client.get_experiment_by_name(experiment)
    if existing is None:
        client.create_experiment(experiment, artifact_location=_artifact_location(resolved))
    mlflow.set_experiment(experiment)
    return resolved


def quiet_mlflow() -> None:
    """Keep MLflow's routine chatter (migrations, environment inference hints) out of the console."""
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    pyfunc_logger = logging.getLogger("mlflow.pyfunc")
    if not any(isinstance(f, _DropExpectedWarnings) for f in pyfunc_logger.filters):
        pyfunc_logger.addFilter(_DropExpectedWarnings())
    # Progress bars for artifact uploads of a few kilobytes are noise in CLI output and test logs.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    # Deprecation notices raised inside MLflow about its own internals are not actionable for users.
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"mlflow(\..*)?")
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"mlflow(\..*)?")


def _default_uri(directory: Path) -> str:
    return f"sqlite:///{(directory / DEFAULT_DB_FILE).resolve()}"


def _artifact_location(tracking_uri: str) -> str | None:
    """``mlruns/`` beside a SQLite database; ``None`` (the server decides) for any other store."""
    parsed = urlparse(tracking_uri)
    if parsed.scheme != "sqlite":
        return None
    # sqlite:////abs/path.db -> path "//abs/path.db"; sqlite:///rel.db -> "/rel.db" (relative to cwd).
    raw_path = tracking_uri[len("sqlite:///") :]
    db_path = Path(raw_path).resolve()
    return (db_path.parent / ARTIFACTS_DIR).as_uri()

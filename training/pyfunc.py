"""The trained ``ModelBundle`` as an MLflow pyfunc model, so that ``mlflow models serve`` can score leads.

Input (same as the leadripe API): one row per lead with ``lead_id``, ``as_of``, profile fields and
``events``, a list of ``{"occurred_at", "event_type", ...}`` per row. Output: ``score_records``.

Design choices, checked against MLflow 3.17's scoring server (``mlflow.pyfunc.scoring_server``):

* The model is logged **without a signature**. For a ``dataframe_records`` payload the server builds
  ``pd.DataFrame(records)``; with no signature nothing is cast, so a nested ``events`` list arrives
  as a Python list of dicts per cell. A signature would need ``Array(Object(...))`` for events, which
  rejects the extra event fields and JSON-string events that real CRMs send, and the profile fields
  differ per dataset. ``events`` may also be a JSON string per row (CSV payloads, some clients).
* No ``code_paths``: the pickled pipeline refers to ``training.*`` classes, which are imported from
  the installed leadripe package. Copying ``training/`` into the model would make MLflow put that
  copy first on ``sys.path`` when loading, so an API process could end up with two different
  ``training`` modules. Hence serve with ``mlflow models serve --env-manager local`` from the
  environment where leadripe is installed; ``pip_requirements`` records the versions used.
"""

from __future__ import annotations

import json
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models.model import ModelInfo
from mlflow.pyfunc import PythonModel

from training.bundle import ModelBundle
from training.scoring import score_records

#: Name of the model inside its MLflow run / logged-model entry.
MODEL_NAME = "model"
#: Key of the bundle directory in the pyfunc model's ``artifacts``.
BUNDLE_ARTIFACT = "bundle"
EVENTS = "events"

# Distributions the pickled pipeline needs at load time, pinned to the versions that trained it.
_REQUIREMENTS = ("mlflow", "cloudpickle", "numpy", "pandas", "pyarrow", "scikit-learn", "lightgbm", "joblib")


class LeadMaturityModel(PythonModel):
    """Pyfunc wrapper around a ``ModelBundle``; the bundle itself is a logged artifact, not pickled here."""

    def __init__(self) -> None:
        self.bundle: ModelBundle | None = None

    def load_context(self, context: Any) -> None:
        """Load the bundle from the model's ``bundle`` artifact directory."""
        self.bundle = ModelBundle.load(Path(context.artifacts[BUNDLE_ARTIFACT]))

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """Score one lead per row of ``model_input``; see the module docstring for the input format.

        Bad input raises an ``MlflowException`` (INVALID_PARAMETER_VALUE) carrying the message that
        names the row and field: the scoring server answers 400 with it, whereas any other exception
        type becomes a generic "unexpected error" response.
        """
        if self.bundle is None:
            raise RuntimeError("LeadMaturityModel.predict called before load_context loaded the bundle")
        frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        try:
            return score_records(self.bundle, decode_events_column(frame))
        except ValueError as error:
            raise MlflowException.invalid_parameter_value(str(error)) from error


def decode_events_column(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose ``events`` cells are all lists: JSON strings decoded, missing -> ``[]``.

    Raises ``ValueError`` naming the row and lead of an events cell that is not a list or valid JSON.
    """
    if EVENTS not in frame.columns:
        return frame
    decoded = frame.copy()
    lead_ids = frame["lead_id"].tolist() if "lead_id" in frame.columns else [None] * len(frame)
    cells = frame[EVENTS].tolist()
    # Parsing nested JSON is per cell by nature; this runs once per request, not per feature.
    decoded[EVENTS] = [_decode_events_cell(cells[row], row, lead_ids[row]) for row in range(len(cells))]
    return decoded


def _decode_events_cell(cell: Any, row: int, lead_id: Any) -> list[Any]:
    where = f"row {row} (lead_id {lead_id!r}), column 'events'"
    if cell is None or (isinstance(cell, float) and np.isnan(cell)):
        return []
    if isinstance(cell, str):
        if not cell.strip():
            return []
        try:
            cell = json.loads(cell)
        except json.JSONDecodeError as error:
            raise ValueError(f"{where}: events is not valid JSON ({error.msg} at char {error.pos})") from None
    if isinstance(cell, np.ndarray):
        cell = cell.tolist()
    if not isinstance(cell, list):
        raise ValueError(
            f"{where}: events must be a list of {{occurred_at, event_type}} objects, "
            f"got {type(cell).__name__}"
        )
    return cell


def log_bundle(bundle: ModelBundle, *, registered_model_name: str | None = None) -> ModelInfo:
    """Log ``bundle`` as a pyfunc model (in the active run, if any) and return MLflow's ``ModelInfo``.

    With ``registered_model_name`` MLflow also registers a new version; leadripe's training leaves it
    ``None`` and calls ``training.registry.register_candidate`` afterwards, so registration happens
    only once the model is fully logged.
    """
    with tempfile.TemporaryDirectory(prefix="leadripe-bundle-") as tmp:
        bundle_dir = Path(tmp) / BUNDLE_ARTIFACT
        bundle.save(bundle_dir)
        return mlflow.pyfunc.log_model(
            name=MODEL_NAME,
            python_model=LeadMaturityModel(),
            artifacts={BUNDLE_ARTIFACT: str(bundle_dir)},
            pip_requirements=pinned_requirements(),
            registered_model_name=registered_model_name,
            metadata={"leadripe_model": bundle.card.name, "threshold": bundle.card.threshold.get("value")},
        )


def pinned_requirements() -> list[str]:
    """``name==version`` for each distribution the pickled pipeline needs, as installed now.

    Giving them explicitly also spares MLflow its requirement inference, which loads the model in a
    subprocess and takes seconds.
    """
    pins = []
    for name in _REQUIREMENTS:
        try:
            pins.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            pins.append(name)
    return pins

"""The trained ``ModelBundle`` as an MLflow pyfunc model, so that ``mlflow models serve`` can score leads.

Input (the leadripe API's ``LeadIn``, parsed by ``training.data.live.parse_leads``): one row per lead
with ``lead_id``, ``as_of``, profile fields (flat, or as a ``profile`` object) and ``events``, a list of
``{"occurred_at", "event_type", ...}`` (or its JSON text) per row. Output: ``score_records``.

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

import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import mlflow
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
            return score_records(self.bundle, frame)
        except ValueError as error:
            raise MlflowException.invalid_parameter_value(str(error)) from error


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
            metadata={"leadripe_model": bundle.card.name, "threshold": bundle.card.threshold_value()},
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

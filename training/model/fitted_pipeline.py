"""The fitted artifact's shape, the feature transformer followed by the readiness model, and
``explain`` over it (features computed once)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sklearn.base import TransformerMixin
from sklearn.pipeline import Pipeline

from training.model.readiness import Explanation, ReadinessModel

if TYPE_CHECKING:
    from training.features.snapshots import SnapshotBatch


def build_pipeline(features: TransformerMixin, model: ReadinessModel) -> Pipeline:
    """The fitted artifact's shape: the feature transformer followed by the readiness model."""
    return Pipeline([("features", features), ("model", model)])


def explain(pipeline: Pipeline, batch: SnapshotBatch) -> Explanation:
    """``ReadinessModel.explain`` of a batch, computing the features once.

    ``pipeline`` is a fitted ``build_pipeline`` result whose last step is a ``ReadinessModel``.
    """
    model = pipeline[-1]
    if not isinstance(model, ReadinessModel):
        raise TypeError(f"The pipeline's last step must be a ReadinessModel, got {type(model).__name__}")
    features: Any = batch
    for _, step in pipeline.steps[:-1]:  # plain transform calls: no per-request pipeline validation overhead
        if step is not None and step != "passthrough":
            features = step.transform(features)
    return model.explain(features)

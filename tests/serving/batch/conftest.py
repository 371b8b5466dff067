"""A small simulated dataset and a small real model, shared by the batch-scoring tests (and Spark's)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from serving.scorer import LeadScorer
from training.bundle import ModelBundle, ModelCard
from training.data.contract import LeadDataset
from training.data.io import load_dataset
from training.features.snapshots import SnapshotPolicy, build_snapshots
from training.features.transformer import LeadFeatures
from training.model.explanation_stats import EXPLANATION_SECTION, explanation_stats_for_model
from training.model.readiness import ReadinessModel, build_pipeline
from training.model.serving_stats import build_serving_stats
from training.simulation.simulator import simulate, write_simulation

THRESHOLD = 0.2


def _to_microseconds(frame: pd.DataFrame) -> pd.DataFrame:
    """Times floored to microseconds: JSON (the API's input) carries no finer time, and the tests
    compare batch answers with the API's exactly."""
    out = frame.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = out[column].dt.floor("us")
    return out


@pytest.fixture(scope="session")
def batch_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    simulation = simulate(1500, seed=5)
    directory = tmp_path_factory.mktemp("batch-data")
    write_simulation(simulation, directory)
    for name in ("leads", "events", "outcomes"):
        path = directory / f"{name}.parquet"
        _to_microseconds(pd.read_parquet(path)).to_parquet(path, index=False)
    return directory


@pytest.fixture(scope="session")
def batch_dataset(batch_data_dir: Path) -> LeadDataset:
    return load_dataset(batch_data_dir)[0]


def train_small_bundle(dataset: LeadDataset) -> ModelBundle:
    """A small but real bundle (features, model, threshold, serving statistics), trained in seconds."""
    snapshots = build_snapshots(dataset, SnapshotPolicy(every_days=14, horizon_days=90))
    batch, y = snapshots.batch, snapshots.label
    features = LeadFeatures(min_event_type_count=5, min_category_frequency=5).fit(batch, y)
    X = features.transform(batch)
    model = ReadinessModel(n_estimators=40, num_leaves=7, early_stopping_rounds=None, n_jobs=1)
    model.fit(X, y, time_key=batch.snapshots["cutoff"])
    serving = build_serving_stats(
        X,
        y,
        model.readiness(X),
        batch.snapshots[["lead_id", "cutoff"]],
        features.feature_specs(),
        THRESHOLD,
        90,
    )
    profile = [spec.name for spec in features.feature_specs() if spec.is_profile]
    serving[EXPLANATION_SECTION] = explanation_stats_for_model(model, X, profile).model_dump(mode="json")
    card = ModelCard(
        version="3",
        trained_at="2026-01-01T00:00:00Z",
        dataset="batch-test",
        horizon_days=90,
        threshold={"value": THRESHOLD, "policy": {"kind": "fixed"}, "explanation": "fixed for tests"},
        metrics={"model": {"roc_auc": 0.9}},
        feature_names=list(features.get_feature_names_out()),
        feature_groups=dict(features.feature_groups_),
        event_types=sorted(features.event_type_counts_),
        profile_columns=list(batch.profile_columns),
        serving=serving,
    )
    return ModelBundle(pipeline=build_pipeline(features, model), card=card)


@pytest.fixture(scope="session")
def batch_bundle(batch_dataset: LeadDataset) -> ModelBundle:
    return train_small_bundle(batch_dataset)


@pytest.fixture(scope="session")
def batch_model_dir(batch_bundle: ModelBundle, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("batch-model")
    batch_bundle.save(directory)
    return directory


@pytest.fixture(scope="session")
def batch_scorer(batch_bundle: ModelBundle) -> LeadScorer:
    return LeadScorer(batch_bundle, version="3", source="memory")

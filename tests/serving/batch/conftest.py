"""A small simulated dataset and a small real model, shared by the batch-scoring tests (and Spark's)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from serving.scorer import LeadScorer
from tests.serving.small_bundles import train_small_bundle
from training.bundle import ModelBundle
from training.data.contract import LeadDataset
from training.data.io import load_dataset
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


def train_batch_bundle(dataset: LeadDataset) -> ModelBundle:
    """A small but real bundle (features, model, threshold, serving statistics), trained in seconds."""
    return train_small_bundle(
        dataset, threshold=THRESHOLD, every_days=14, n_estimators=40, version="3", decision=True
    )


@pytest.fixture(scope="session")
def batch_bundle(batch_dataset: LeadDataset) -> ModelBundle:
    return train_batch_bundle(batch_dataset)


@pytest.fixture(scope="session")
def batch_model_dir(batch_bundle: ModelBundle, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("batch-model")
    batch_bundle.save(directory)
    return directory


@pytest.fixture(scope="session")
def batch_scorer(batch_bundle: ModelBundle) -> LeadScorer:
    return LeadScorer(batch_bundle, version="3", source="memory")

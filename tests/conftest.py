"""Shared test fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATASETS = REPO_ROOT.parent / "shared" / "datasets"

# Matplotlib must never try to open a window in tests or CI.
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    if not SHARED_DATASETS.is_dir():
        pytest.skip(f"shared datasets not found at {SHARED_DATASETS}")
    return SHARED_DATASETS


@pytest.fixture(scope="session")
def simulated_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small simulated dataset on disk (leads, events, outcomes, ground truth), shared by the session."""
    from training.simulation.simulator import simulate, write_simulation

    directory = tmp_path_factory.mktemp("simulated")
    write_simulation(simulate(2500, seed=11), directory)
    return directory

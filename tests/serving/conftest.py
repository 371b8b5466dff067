"""Fixtures shared by the serving tests: one small real model for the whole session."""

from __future__ import annotations

import pytest

from training.bundle import ModelBundle


@pytest.fixture(scope="session")
def small_bundle() -> ModelBundle:
    """A real bundle trained on test_api's hand-made data (fewer leads: fast, still a real model)."""
    from test_api import make_dataset, train_bundle

    return train_bundle(make_dataset(n_leads=600))

"""A served linear model holds the features that count days elapsed at their training range.

Leads scored months after training (a weekly batch on a model retrained each quarter) reach lead ages
and recencies no training lead had, by time passing alone. Trees treat them as the oldest training
value; the linear candidate extrapolated them (a click 714 days old gave -14.7 log-odds on a Marketo
export), so the pipeline tells it which features those are.
"""

from __future__ import annotations

import numpy as np
import pytest

from training.config import TrainConfig
from training.features.specs import FeatureCatalog
from training.model.linear import LinearReadinessModel
from training.pipeline import fit_and_evaluate, load_labelled
from training.simulation.simulator import simulate


def test_the_served_linear_model_holds_days_elapsed_at_the_training_range() -> None:
    simulated = simulate(500, seed=5)
    config = TrainConfig(
        n_bootstrap=20,
        min_positives=10,
        min_negatives=10,
        selection={"candidates": ["linear"]},  # type: ignore[arg-type]
    )
    outcome = fit_and_evaluate(simulated.dataset, config)
    pipeline = outcome.bundle.pipeline
    features, model = pipeline.named_steps["features"], pipeline.named_steps["model"]
    assert isinstance(model, LinearReadinessModel)
    catalog = FeatureCatalog(features.feature_specs())
    assert model.elapsed_features == catalog.elapsed_time_features()
    assert "lead_age_days" in model.elapsed_features

    names = list(model.feature_names_in_)
    age = names.index("lead_age_days")
    oldest = model.high_[list(model.numeric_positions_).index(age)]
    labelled = load_labelled(simulated.dataset, config)
    rows = features.transform(labelled.batch.take(np.arange(2)))
    rows["lead_age_days"] = [oldest, 3 * oldest]
    contributions = model.explain(rows).contributions[:, age]
    assert contributions[1] == pytest.approx(contributions[0])

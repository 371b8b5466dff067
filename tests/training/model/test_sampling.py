"""Snapshot sampling by lead (training.model.sampling) and its use in training."""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.config import TrainConfig
from training.model.sampling import sample_by_lead
from training.pipeline import fit_and_evaluate
from training.simulation.simulator import simulate


def test_whole_leads_are_kept_or_left_at_one_rate() -> None:
    rng = np.random.default_rng(0)
    leads = pd.Series(np.repeat([f"L{i}" for i in range(2000)], rng.integers(1, 20, 2000)))
    positions = np.arange(len(leads))
    kept, sample = sample_by_lead(positions, leads, len(leads) // 4, seed=3)
    assert sample.sampled and sample.fraction == (len(leads) // 4) / len(leads)
    kept_leads = set(leads.iloc[kept])
    # All of a kept lead's snapshots, none of the others', in the original order.
    assert np.array_equal(kept, positions[leads.isin(kept_leads).to_numpy()])
    assert abs(sample.leads_after / 2000 - sample.fraction) < 0.05
    assert sample.snapshots_after == len(kept) and sample.weight == 1 / sample.fraction
    # Deterministic by lead id and seed, whatever the row order.
    shuffled = rng.permutation(positions)
    again, _ = sample_by_lead(shuffled, leads, len(leads) // 4, seed=3)
    assert set(leads.iloc[again]) == kept_leads
    other, _ = sample_by_lead(positions, leads, len(leads) // 4, seed=4)
    assert set(leads.iloc[other]) != kept_leads


def test_within_budget_nothing_is_sampled() -> None:
    leads = pd.Series(["a", "a", "b"])
    kept, sample = sample_by_lead(np.arange(3), leads, 3, seed=0)
    assert np.array_equal(kept, np.arange(3)) and not sample.sampled and sample.fraction == 1.0
    kept, sample = sample_by_lead(np.arange(3), leads, None, seed=0)
    assert not sample.sampled


def test_training_samples_above_the_budget_and_records_it() -> None:
    dataset = simulate(1500, seed=2).dataset
    config = TrainConfig(max_train_snapshots=6000, n_bootstrap=20, min_positives=10, min_negatives=10)
    outcome = fit_and_evaluate(dataset, config)
    train = outcome.sampling["train"]
    assert train.sampled and train.snapshots_after < train.snapshots_before
    assert outcome.split.n_train == train.snapshots_before  # the split itself is unchanged
    split = outcome.bundle.card.split
    assert split is not None and split.sampling["train"].fraction == train.fraction
    assert outcome.snapshot_counts["train_sampled_out"] == train.snapshots_before - train.snapshots_after
    assert any("sampled by lead" in note for note in outcome.notes)
    test = outcome.sampling["test"]
    assert not test.sampled and len(outcome.y_test) == test.snapshots_after

"""Snapshot sampling (training.model.sampling): within leads, by whole leads, and its use in training."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.bundle import SamplingRecord
from training.config import TrainConfig
from training.model.sampling import sample_by_lead, sample_snapshots
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
    notes = [note for note in outcome.notes if note.startswith("train snapshots sampled")]
    assert len(notes) == 1 and "each lead's snapshots" in notes[0]
    # Thinned within leads (the budget is above a quarter of the snapshots): every lead with a few looks
    # stays (only some one-look leads lose theirs), not about ``fraction`` of them as by whole leads.
    assert train.within_lead_fraction == train.fraction and train.lead_fraction == 1.0
    assert train.leads_after > 0.9 * train.leads_before
    assert split.sampling["train"].within_lead_fraction == train.within_lead_fraction
    test = outcome.sampling["test"]
    assert not test.sampled and len(outcome.y_test) == test.snapshots_after


def _leads_with_weekly_looks(n_leads: int, seed: int = 0) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Lead ids, look times and each look's place in its lead's life (0, 1, 2, ... weekly), shuffled."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 30, n_leads)
    leads = np.repeat([f"L{i}" for i in range(n_leads)], sizes)
    rank = np.concatenate([np.arange(k) for k in sizes])
    start = np.repeat(rng.integers(0, 1000, n_leads), sizes)
    order = rng.permutation(len(leads))
    return pd.Series(leads[order]), pd.Series((start + 7 * rank)[order]), pd.Series(rank[order])


def test_within_leads_every_look_is_kept_with_the_same_probability() -> None:
    leads, times, rank = _leads_with_weekly_looks(3000)
    positions = np.arange(len(leads))
    budget = int(0.4 * len(leads))
    kept, sample = sample_snapshots(positions, leads, times, budget, seed=1)
    assert sample.sampled and sample.within_lead_fraction == sample.fraction == budget / len(leads)
    assert sample.lead_fraction == 1.0 and sample.weight == 1 / sample.fraction
    assert np.array_equal(kept, np.sort(kept))  # original order
    assert abs(len(kept) / budget - 1) < 0.03
    # Systematic: a lead's kept looks are 2 or 3 looks apart (1 / 0.4 = 2.5), never bunched.
    frame = pd.DataFrame({"lead": leads.iloc[kept], "rank": rank.iloc[kept]}).sort_values(["lead", "rank"])
    gaps = frame.groupby("lead")["rank"].diff().dropna()
    assert set(gaps.unique()) <= {2, 3}
    # Unbiased: over seeds, the kept share of each place in a lead's life is the fraction. A fixed
    # phase (always keeping the same places) would keep e.g. looks 2, 4, 7, ... and never look 0.
    shares = np.zeros(10)
    for seed in range(40):
        kept, _ = sample_snapshots(positions, leads, times, budget, seed=seed)
        counts = np.bincount(rank.iloc[kept].clip(upper=9), minlength=10)
        shares += counts / np.bincount(rank.clip(upper=9), minlength=10) / 40
    assert np.allclose(shares, sample.fraction, atol=0.02)


def test_below_the_within_lead_floor_whole_leads_are_sampled_too() -> None:
    leads, times, _ = _leads_with_weekly_looks(4000, seed=2)
    positions = np.arange(len(leads))
    budget = int(0.1 * len(leads))
    kept, sample = sample_snapshots(positions, leads, times, budget, seed=5, min_within_lead_fraction=0.25)
    assert sample.within_lead_fraction == 0.25
    assert sample.lead_fraction == pytest.approx(0.4, rel=1e-3)
    assert sample.fraction == pytest.approx(0.1, rel=1e-3)
    assert abs(sample.leads_after / 4000 - 0.4) < 0.05 and abs(len(kept) / budget - 1) < 0.08
    record = SamplingRecord.of(sample)
    assert record.lead_fraction == sample.lead_fraction and record.within_lead_fraction == 0.25
    assert record.weight == pytest.approx(10.0, rel=1e-3) and record.sampled
    # Deterministic by lead id, time and seed, whatever the row order.
    shuffled = np.random.default_rng(0).permutation(positions)
    again, _ = sample_snapshots(shuffled, leads, times, budget, seed=5, min_within_lead_fraction=0.25)
    assert np.array_equal(np.sort(again), kept)
    other, _ = sample_snapshots(positions, leads, times, budget, seed=6, min_within_lead_fraction=0.25)
    assert not np.array_equal(other, kept)


def test_a_within_lead_floor_outside_zero_to_one_is_refused() -> None:
    leads, times, _ = _leads_with_weekly_looks(10)
    with pytest.raises(ValueError, match="min_within_lead_fraction"):
        sample_snapshots(np.arange(len(leads)), leads, times, 5, seed=0, min_within_lead_fraction=0.0)

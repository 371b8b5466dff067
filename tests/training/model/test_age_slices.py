"""The test period's ROC-AUC among young and old leads: old leads that never close are easy to rank."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.model.age_slices import auc_by_lead_age


def _snapshots(ages: np.ndarray) -> pd.DataFrame:
    created = pd.Timestamp("2024-01-01", tz="UTC")
    return pd.DataFrame({"created_at": created, "cutoff": created + pd.to_timedelta(ages, unit="D")})


def test_old_quiet_leads_are_ranked_apart_from_the_young_ones() -> None:
    rng = np.random.default_rng(0)
    n = 2000
    ages = np.where(np.arange(n) < n // 2, rng.uniform(0, 90, n), rng.uniform(91, 700, n))
    young = ages <= 90
    # Young leads: the score ranks them weakly. Old ones: almost never won and scored at the bottom.
    y = np.where(young, rng.random(n) < 0.2, rng.random(n) < 0.02)
    scores = np.where(young, y * 0.3 + rng.random(n), np.where(y, 2.0, -1.0) + rng.random(n) * 0.1)
    figures = auc_by_lead_age(scores, y, _snapshots(ages), 90)
    assert figures is not None
    assert figures["young_snapshots"] == young.sum() and figures["old_snapshots"] == (~young).sum()
    assert figures["young_roc_auc"] < 0.9 < 0.99 < figures["old_roc_auc"]
    assert figures["age_days"] == 90


def test_no_figures_without_creation_times_or_enough_outcomes() -> None:
    y = np.array([True, False] * 50)
    assert auc_by_lead_age(np.arange(100.0), y, pd.DataFrame({"cutoff": [pd.NaT] * 100}), 90) is None
    # Every lead young: no old slice to compare with.
    assert auc_by_lead_age(np.arange(100.0), y, _snapshots(np.full(100, 10.0)), 90) is None


@pytest.mark.parametrize("horizon", [30, 180])
def test_the_split_is_the_horizon(horizon: int) -> None:
    ages = np.arange(400.0)
    y = (np.arange(400) % 2) == 0
    figures = auc_by_lead_age(np.arange(400.0), y, _snapshots(ages), horizon)
    assert figures is not None and figures["young_snapshots"] == horizon + 1

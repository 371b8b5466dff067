"""Lookups of the typed serving statistics: grade, percentile, signal evidence, ripening band, gone cold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from training.features.matrix import FeatureMatrix
from training.model.serving_types import (
    CategoricalSignalStats,
    GoneColdRule,
    GradeEdges,
    LevelStats,
    NumericBin,
    NumericSignalStats,
    Percentiles,
    Ripening,
    RipeningBand,
)


def test_grade_and_percentile_lookups() -> None:
    edges = GradeEdges(a=0.3, b=0.2, c=0.1)
    assert [edges.grade(r) for r in (0.3, 0.25, 0.1, 0.05)] == ["A", "B", "C", "D"]
    assert edges.grades(np.array([0.9, 0.0])).tolist() == ["A", "D"]
    assert edges.grades(np.array([np.nan, np.inf])).tolist() == ["D", "A"]  # NaN reaches no edge
    tied = GradeEdges(a=0.3, b=0.2, c=0.2)
    assert tied.grades(np.array([0.2, 0.19, 0.3])).tolist() == ["B", "D", "A"]
    with pytest.raises(ValidationError, match="C <= B <= A"):
        GradeEdges(a=0.1, b=0.2, c=0.0)
    percentiles = Percentiles(quantiles=list(np.linspace(0, 1, 101)))
    assert percentiles.percentile(0.5) == 50.0 and percentiles.percentile(2.0) == 100.0
    with pytest.raises(ValidationError, match="non-decreasing"):
        Percentiles(quantiles=[0.5, 0.1])


def test_signal_lookups() -> None:
    levels = CategoricalSignalStats(
        feature="source", overall_win_rate=0.1, levels={"ads": LevelStats(n=5, win_rate=0.2, lift=2.0)}
    )
    assert levels.level("ads") == LevelStats(n=5, win_rate=0.2, lift=2.0) and levels.level("x") is None
    bins = NumericSignalStats(
        feature="employees",
        overall_win_rate=0.1,
        bins=[
            NumericBin(lower=0, upper=10, n=3, win_rate=0.1, lift=1.0),
            NumericBin(lower=10, upper=50, n=3, win_rate=0.3, lift=3.0),
        ],
    )
    assert bins.bin_of(10.0) is bins.bins[0] and bins.bin_of(30.0) is bins.bins[1]
    assert bins.bin_of(99.0) is None


def test_ripening_band_lookups() -> None:
    def band(lower: float, upper: float, median: float | None, available: bool) -> RipeningBand:
        return RipeningBand(
            lower=lower,
            upper=upper,
            n_below=50,
            n_ripened=40,
            ripen_rate=0.8,
            median_days=median,
            p25_days=None,
            p75_days=None,
            estimate_available=available,
        )

    ripening = Ripening(
        min_support=30, min_ripen_rate=0.1, bands=[band(0.0, 0.1, 20.0, True), band(0.1, 0.2, 5.0, False)]
    )
    assert ripening.band(0.05) is ripening.bands[0] and ripening.band(0.5) is None
    assert ripening.days_to_ripeness(np.array([0.05, 0.15, 0.5])) == [20.0, None, None]


def _rule(available: bool, min_days: int | None = 30) -> GoneColdRule:
    return GoneColdRule(
        available=available,
        inactivity_feature="days_since_last_engagement",
        min_days_inactive=min_days if available else None,
        ripen_rate_beyond=0.01 if available else None,
        ripen_rate_below_threshold=0.2,
        n_beyond=100,
        max_rate=0.05,
        relative_rate=0.5,
        min_support=30,
        curve=[],
        rule="a sentence",
        fallback_feature="lead_age_days",
    )


def test_gone_cold_rule_lookups() -> None:
    features = FeatureMatrix(
        ("days_since_last_engagement", "lead_age_days"),
        np.array([[40.0, np.nan, 2.0], [50.0, 90.0, np.nan]]),
        {"days_since_last_engagement": 0, "lead_age_days": 1},
        (),
        np.zeros((0, 3), dtype=np.int32),
        {},
    )
    rule = _rule(True)
    days = rule.days_inactive(features)
    np.testing.assert_array_equal(days, [40.0, 90.0, 2.0])  # never engaged: inactive since creation
    assert rule.is_cold(days).tolist() == [True, True, False]
    assert not _rule(False).is_cold(days).any()
    with pytest.raises(ValidationError, match="min_days_inactive"):
        _rule(True, min_days=None)
    assert pd.isna(_rule(False).model_copy(update={"inactivity_feature": None}).days_inactive(features)).all()

"""Training-time statistics for serving, on hand-built cases whose answers are known."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from training.features.specs import FeatureCatalog, FeatureScope, feature_specs
from training.model.serving_stats import (
    build_serving_stats,
    gone_cold_rule,
    grade_edges,
    readiness_percentiles,
)
from training.model.serving_types import (
    CategoricalSignalStats,
    EventSignalStats,
    Percentiles,
    ServingStats,
)
from training.model.signal_stats import event_type_count_columns, ripe_profile, signal_stats, value_features
from training.model.trajectories import ripening_trajectories

T0 = pd.Timestamp("2024-01-01", tz="UTC")


def test_percentiles_place_a_lead_in_the_training_population() -> None:
    readiness = np.linspace(0, 1, 1001)
    quantiles = readiness_percentiles(readiness)
    assert len(quantiles) == 101 and quantiles == sorted(quantiles)
    got = Percentiles(quantiles=quantiles).of(np.array([-1.0, 0.25, 0.5, 0.9, 2.0]))
    assert got.tolist() == pytest.approx([0.0, 25.0, 50.0, 90.0, 100.0], abs=0.2)
    # Ties: a value shared by the whole lower half sits in the middle of its rank range, not at 0.
    tied = np.r_[np.zeros(500), np.linspace(0.5, 1, 500)]
    assert Percentiles(quantiles=readiness_percentiles(tied)).percentile(0.0) == pytest.approx(25, abs=1)


def test_grades_split_below_threshold_population() -> None:
    readiness = np.r_[np.linspace(0, 0.2, 400), np.linspace(0.3, 0.9, 100)]
    edges = grade_edges(readiness, 0.3)
    assert edges.a == 0.3 and edges.c < edges.b < 0.3
    assert edges.grades(np.array([0.95, 0.29, 0.11, 0.01])).tolist() == ["A", "B", "C", "D"]


def test_gone_cold_rule_finds_the_inactivity_after_which_leads_rarely_ripen() -> None:
    rng = np.random.default_rng(0)
    days = rng.uniform(0, 90, 4000)
    # Leads inactive for 30+ days never ripened; the others did 40 % of the time.
    ripened = (days < 30) & (rng.random(4000) < 0.4)
    rule = gone_cold_rule(
        days, np.full(4000, 0.1), 0.3, ripened, inactivity_feature="days_since_last_engagement"
    )
    assert rule.available and rule.min_days_inactive == 30
    assert rule.ripen_rate_beyond == 0.0 and rule.n_beyond == int((days >= 30).sum())
    assert "30 days" in rule.rule
    curve = {point.min_days_inactive: point for point in rule.curve}
    # On average leads inactive 21+ days ripen rarely too, but those at 21-29 days still do: not cold yet.
    assert 0 < (curve[21].ripen_rate or 0) < 0.05


def test_gone_cold_rule_is_unavailable_when_inactivity_does_not_matter() -> None:
    rng = np.random.default_rng(1)
    days = rng.uniform(0, 90, 2000)
    ripened = rng.random(2000) < 0.3
    rule = gone_cold_rule(days, np.full(2000, 0.1), 0.3, ripened, inactivity_feature="x")
    assert not rule.available and rule.min_days_inactive is None
    assert not gone_cold_rule(None, np.zeros(3), 0.3, np.zeros(3, bool), inactivity_feature=None).available


def _trajectory_snapshots() -> tuple[pd.DataFrame, np.ndarray]:
    # Lead a: below, below, above at days 0/7/14. Lead b: never crosses. Rows deliberately unsorted.
    snapshots = pd.DataFrame(
        {
            "lead_id": ["a", "b", "a", "b", "a"],
            "cutoff": [T0 + pd.Timedelta(days=d) for d in (14, 0, 0, 7, 7)],
        }
    )
    readiness = np.array([0.5, 0.05, 0.05, 0.1, 0.2])
    return snapshots, readiness


def test_ripening_trajectories_measure_days_to_the_first_crossing() -> None:
    snapshots, readiness = _trajectory_snapshots()
    ripening = ripening_trajectories(snapshots, readiness, 0.3, min_support=1, min_ripen_rate=0.0)
    bands = ripening.bands
    low = bands[0]  # readiness below 0.075: a@0 (ripened after 14 days) and b@0 (never)
    assert (low.n_below, low.n_ripened, low.median_days) == (2, 1, 14.0)
    band_of_a7 = next(b for b in bands if b.lower <= 0.2 < b.upper)
    assert band_of_a7.median_days == 7.0
    assert ripening.days_to_ripeness(np.array([0.01, 0.2, 0.9])) == [14.0, 7.0, None]
    strict = ripening_trajectories(snapshots, readiness, 0.3, min_support=5)
    assert strict.days_to_ripeness(np.array([0.01])) == [None]


def test_signal_stats_and_ripe_profile() -> None:
    n = 1000
    rng = np.random.default_rng(2)
    demo = (rng.random(n) < 0.3).astype(float) * rng.integers(1, 4, n)
    opens = rng.poisson(2, n).astype(float)
    y = np.where(demo > 0, rng.random(n) < 0.5, rng.random(n) < 0.1).astype(float)
    features = pd.DataFrame(
        {
            "demo_request_count_30d": demo,
            "demo_request_days_since_last": np.where(demo > 0, 3.0, np.nan),
            "email_open_count_30d": opens,
            "email_open_days_since_last": np.where(opens > 0, 5.0, np.nan),
            "events_count_30d": demo + opens,
            "source": pd.Categorical(np.where(rng.random(n) < 0.5, "ads", "referral")),
        }
    )
    slots = [(t, t, FeatureScope.EVENT_TYPE) for t in ("demo_request", "email_open")]
    specs = feature_specs(slots, (30,), None, (), [], ["source"])
    catalog = FeatureCatalog(spec for spec in specs if spec.name in features.columns)
    windows = event_type_count_columns(catalog)
    assert set(windows) == {"demo_request", "email_open"}  # "engagement" is no event type
    stats = signal_stats(features, y, value_features(catalog), windows)
    demo_stats = stats["demo_request"]
    assert isinstance(demo_stats, EventSignalStats)
    has = demo > 0
    assert demo_stats.win_rate_with == pytest.approx(y[has].mean())
    assert demo_stats.lift == pytest.approx(y[has].mean() / y[~has].mean())
    source = stats["source"]
    assert isinstance(source, CategoricalSignalStats) and set(source.levels) == {"ads", "referral"}

    readiness = np.where(demo > 0, 0.6, 0.1)
    profile = ripe_profile(features, y, readiness, 0.3, catalog)
    assert profile[0].signal == "demo_request" and profile[0].event_type == "demo_request"
    assert profile[0].typical_count == int(np.ceil(np.median(demo[demo > 0])))


def test_build_serving_stats_is_json_and_complete() -> None:
    snapshots, readiness = _trajectory_snapshots()
    features = pd.DataFrame(
        {
            "days_since_last_engagement": [1.0, np.nan, 2.0, 40.0, 3.0],
            "lead_age_days": [14.0, 0.0, 0.0, 7.0, 7.0],
        }
    )
    stats = build_serving_stats(
        features,
        np.array([1, 0, 1, 0, 1]),
        readiness,
        snapshots,
        feature_specs([], (30,), None, (), [], []),
        0.3,
        90,
    )
    dumped = json.loads(stats.model_dump_json())
    json.dumps(dumped, allow_nan=False)
    assert set(dumped) >= {"percentiles", "grades", "gone_cold", "signals", "ripe_profile", "ripening"}
    assert ServingStats.model_validate(dumped) == stats
    assert stats.gone_cold.inactivity_feature == "days_since_last_engagement"
    assert stats.gone_cold.fallback_feature == "lead_age_days"
    with pytest.raises(ValueError, match="same number of rows"):
        build_serving_stats(features, np.zeros(2), readiness, snapshots, [], 0.3, 90)


def test_derived_groups_get_no_invented_levels() -> None:

    features = pd.DataFrame(
        {
            "events_count_30d": [0.0, 3.0, 5.0, 1.0],
            "engagement_trend_30d_vs_prior_60d": [0.0, 1.0, -1.0, 0.5],
            "lead_age_days": [10.0, 20.0, 30.0, 40.0],
            "source": pd.Categorical(["a", "b", "a", "b"]),
        }
    )
    specs = feature_specs([], (30,), (30, 90), (), [], ["source"])
    groups = value_features(FeatureCatalog(s for s in specs if s.name in features.columns))
    stats = signal_stats(features, np.array([0.0, 1.0, 1.0, 0.0]), groups, {})
    assert "engagement" not in stats
    assert stats["lead_age"].kind == "numeric"
    source = stats["source"]
    assert isinstance(source, CategoricalSignalStats) and source.levels["a"].win_rate == 0.5

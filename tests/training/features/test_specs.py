"""Features describe themselves: every output column of LeadFeatures has a FeatureSpec saying what it is."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from tests.training.features.test_features import fitted, make_batch, random_batch
from training.features.specs import (
    FeatureCatalog,
    FeatureKind,
    FeatureScope,
    FeatureUnit,
    feature_specs,
)
from training.features.transformer import LeadFeatures
from training.model.serving_stats import build_serving_stats, event_type_count_columns


def test_every_output_feature_has_a_spec_aligned_with_the_names() -> None:
    batch, y = random_batch(seed=9)
    transformer = fitted(batch, y)
    specs = transformer.feature_specs()
    assert [spec.name for spec in specs] == list(transformer.get_feature_names_out())
    assert [spec.name for spec in specs] == list(transformer.transform(batch).columns)
    assert {spec.name: spec.signal for spec in specs} == transformer.feature_groups_
    # Specs survive pickling with the fitted transformer (they travel in the artifact).
    assert pickle.loads(pickle.dumps(transformer)).feature_specs() == specs
    with pytest.raises(NotFittedError):
        LeadFeatures().feature_specs()


def test_known_features_have_the_right_kind_scope_window_and_unit() -> None:
    batch, y = random_batch(seed=9)
    specs = FeatureCatalog(fitted(batch, y).feature_specs())
    count = specs["webinar_attended_count_30d"]
    assert (count.kind, count.scope, count.event_type, count.signal, count.window_days, count.unit) == (
        FeatureKind.COUNT,
        FeatureScope.EVENT_TYPE,
        "webinar_attended",
        "webinar_attended",
        30,
        FeatureUnit.EVENTS,
    )
    recency = specs["pricing_page_view_days_since_last"]
    assert (recency.kind, recency.unit, recency.event_type) == (
        FeatureKind.RECENCY,
        FeatureUnit.DAYS,
        "pricing_page_view",
    )
    trend = specs["email_click_trend_30d_vs_prior_60d"]
    assert (trend.kind, trend.window_days, trend.prior_days) == (FeatureKind.TREND, 30, 60)
    decayed = specs["email_click_decayed_45d"]
    assert (decayed.kind, decayed.half_life_days, decayed.window_days) == (FeatureKind.DECAYED, 45.0, None)
    expected = {
        "events_count_30d": (FeatureKind.COUNT, FeatureScope.ALL_EVENTS, 30),
        "total_events": (FeatureKind.COUNT, FeatureScope.ALL_EVENTS, None),
        "engagement_decayed_14d": (FeatureKind.DECAYED, FeatureScope.ALL_EVENTS, None),
        "distinct_event_types_7d": (FeatureKind.BREADTH, FeatureScope.ALL_EVENTS, 7),
        "days_since_last_engagement": (FeatureKind.RECENCY, FeatureScope.ALL_EVENTS, None),
        "lead_age_days": (FeatureKind.AGE, FeatureScope.LEAD, None),
        "days_since_first_high_intent": (FeatureKind.MILESTONE_DAYS, FeatureScope.HIGH_INTENT, None),
        "has_high_intent": (FeatureKind.MILESTONE_FLAG, FeatureScope.HIGH_INTENT, None),
        "source": (FeatureKind.PROFILE_CATEGORICAL, FeatureScope.PROFILE, None),
        "employees": (FeatureKind.PROFILE_NUMERIC, FeatureScope.PROFILE, None),
    }
    for name, (kind, scope, window) in expected.items():
        assert (specs[name].kind, specs[name].scope, specs[name].window_days) == (kind, scope, window), name
    assert specs["events_count_30d"].event_type is None and specs["source"].signal == "source"
    assert specs.inactivity() == specs["days_since_last_engagement"]
    assert specs.lead_age() == specs["lead_age_days"]


def test_rare_types_are_pooled_and_awkward_types_keep_their_name_as_signal() -> None:
    events = [("a", 1, "Webinar Attended!"), ("a", 2, "webinar_attended"), ("a", 3, "rare")]
    batch = make_batch([("a", 0, 10)], events)
    specs = FeatureCatalog(fitted(batch, min_event_type_count=1).feature_specs())
    assert specs["webinar_attended_count_7d"].event_type == "Webinar Attended!"
    assert specs["webinar_attended_2_count_7d"].event_type == "webinar_attended"
    pooled = fitted(make_batch([("a", 0, 10)], events * 2), min_event_type_count=3).feature_specs()
    pooled_specs = [s for s in pooled if s.scope is FeatureScope.POOLED_EVENTS]
    assert pooled_specs and all(s.signal == "other_event" and s.event_type is None for s in pooled_specs)


def test_a_profile_column_named_like_an_event_count_stays_a_profile_field() -> None:
    # Names are never parsed: "demo_count_30d" from the CRM is a number, not an event type "demo".
    specs = FeatureCatalog(feature_specs([], (30,), None, (), ["demo_count_30d"], []))
    assert specs["demo_count_30d"].kind is FeatureKind.PROFILE_NUMERIC
    assert event_type_count_columns(specs) == {}
    n = 40
    features = pd.DataFrame(
        {
            "demo_count_30d": np.arange(n, dtype=float),
            "days_since_last_engagement": np.full(n, 3.0),
            "lead_age_days": np.full(n, 10.0),
        }
    )
    snapshots = pd.DataFrame(
        {"lead_id": [f"L{i}" for i in range(n)], "cutoff": pd.Timestamp("2024-01-01", tz="UTC")}
    )
    stats = build_serving_stats(features, np.arange(n) % 2, np.linspace(0, 1, n), snapshots, specs, 0.5, 90)
    assert stats.signals["demo_count_30d"].kind == "numeric"
    assert stats.ripe_profile == []


def test_elapsed_time_features_are_the_day_counts_found_by_kind_not_by_name() -> None:
    batch, y = random_batch(seed=9)
    catalog = FeatureCatalog(fitted(batch, y).feature_specs())
    elapsed = catalog.elapsed_time_features()
    assert "lead_age_days" in elapsed and "days_since_last_engagement" in elapsed
    assert "days_since_first_high_intent" in elapsed and "webinar_attended_days_since_last" in elapsed
    assert {catalog[name].kind for name in elapsed} == {
        FeatureKind.RECENCY,
        FeatureKind.AGE,
        FeatureKind.MILESTONE_DAYS,
    }
    assert "webinar_attended_count_30d" not in elapsed
    # A profile number named like a day count is the CRM's value, not days elapsed.
    profile = FeatureCatalog(feature_specs([], (30,), None, (), ["days_since_signup"], []))
    assert "days_since_signup" not in profile.elapsed_time_features()
    assert "lead_age_days" in profile.elapsed_time_features()

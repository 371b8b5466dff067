"""Plain-language sentences for every kind of feature the feature transformer produces."""

from __future__ import annotations

import math

import pytest

from training.features.specs import FeatureCatalog, FeatureScope, feature_specs
from training.model.reasons import reason_sentence
from training.model.serving_types import CategoricalSignalStats, EventSignalStats, LevelStats

EVENT_TYPES = ("webinar_attended", "pricing_page_view", "email_click")
#: The specs LeadFeatures publishes for these event types and default windows, trend and half-lives.
SPECS = FeatureCatalog(
    feature_specs(
        [(t, t, FeatureScope.EVENT_TYPE) for t in EVENT_TYPES],
        (7, 30, 90),
        (30, 90),
        (14, 45),
        [],
        ["source"],
    )
)

EVENT_STATS = EventSignalStats(
    feature="webinar_attended_count_30d",
    window_days=30,
    n_with=40,
    win_rate_with=0.12,
    win_rate_without=0.05,
    lift=2.4,
    overall_win_rate=0.06,
)


@pytest.mark.parametrize(
    ("feature", "value", "signal", "expected"),
    [
        (
            "webinar_attended_count_30d",
            2.0,
            "webinar_attended",
            "2 'webinar attended' events in the last 30 days",
        ),
        ("webinar_attended_count_30d", 0.0, "webinar_attended", "No 'webinar attended' in the last 30 days"),
        (
            "pricing_page_view_days_since_last",
            3.2,
            "pricing_page_view",
            "Last 'pricing page view' 3 days ago",
        ),
        (
            "pricing_page_view_days_since_last",
            math.nan,
            "pricing_page_view",
            "Never had a 'pricing page view'",
        ),
        (
            "email_click_trend_30d_vs_prior_60d",
            -0.4,
            "email_click",
            "'email click' activity falling (the last 30 days vs the 60 before)",
        ),
        (
            "webinar_attended_decayed_45d",
            0.69,
            "webinar_attended",
            "Recent 'webinar attended' activity worth 0.69 events (each event counts half after 45 days)",
        ),
        (
            "engagement_decayed_14d",
            0.0,
            "engagement",
            "No recent engagement (each event counts half after 14 days)",
        ),
        ("days_since_last_engagement", 40.0, "engagement", "Last engagement 40 days ago"),
        (
            "days_since_first_high_intent",
            math.nan,
            "high_intent",
            "No high-intent action (such as pricing or demo) yet",
        ),
        (
            "distinct_event_types_30d",
            3.0,
            "engagement",
            "3 different kinds of engagement in the last 30 days",
        ),
        ("lead_age_days", 61.1, "lead_age", "Lead created 61 days ago"),
        ("source", "webinar", "source", "Source: webinar"),
    ],
)
def test_each_feature_kind_reads_as_a_sentence(
    feature: str, value: object, signal: str, expected: str
) -> None:
    spec = SPECS[feature]
    assert spec.signal == signal
    assert reason_sentence(spec, value) == f"{expected}."  # type: ignore[arg-type]


def test_evidence_from_the_training_data_is_appended() -> None:
    sentence = reason_sentence(SPECS["webinar_attended_count_30d"], 1.0, EVENT_STATS)
    assert sentence == (
        "1 'webinar attended' event in the last 30 days: leads who had one in the last 30 days were won "
        "2.4x as often as those who had not (12% vs 5%)."
    )
    levels = CategoricalSignalStats(
        feature="source",
        overall_win_rate=0.05,
        levels={"referral": LevelStats(n=20, lift=3.0, win_rate=0.15)},
    )
    assert reason_sentence(SPECS["source"], "referral", levels) == (
        "Source: referral: leads with this value were won 3.0x as often as average (15% vs 5%)."
    )

"""Sentences from facts: every kind of feature in plain words, the value against the reference, and a
win-rate clause only when it agrees with the direction and differs at the shown precision."""

from __future__ import annotations

import pytest

from serving.sentences import (
    Evidence,
    FeatureFacts,
    agrees,
    evidence_clause,
    rates_shown,
    reason_sentence,
)

DEMO = dict(signal="demo_request", subject="demo request")
FACTS = {
    "count": FeatureFacts("demo_request_count_30d", "event_count", window_days=30, **DEMO),  # type: ignore[arg-type]
    "recency": FeatureFacts("demo_request_days_since_last", "event_recency", **DEMO),  # type: ignore[arg-type]
    "trend": FeatureFacts(
        "demo_request_trend",
        "event_trend",
        window_days=30,
        prior_days=60,
        **DEMO,  # type: ignore[arg-type]
    ),
    "decayed": FeatureFacts("demo_request_decayed_14d", "event_decayed", half_life_days=14, **DEMO),  # type: ignore[arg-type]
    "engagement": FeatureFacts("e30", "engagement_count", "engagement", "engagement", window_days=30),
    "total": FeatureFacts("total", "engagement_total", "engagement", "engagement"),
    "engagement_trend": FeatureFacts(
        "et", "engagement_trend", "engagement", "engagement", window_days=30, prior_days=60
    ),
    "engagement_decayed": FeatureFacts(
        "ed", "engagement_decayed", "engagement", "engagement", half_life_days=45
    ),
    "breadth": FeatureFacts("b", "breadth", "engagement", "engagement", window_days=30),
    "inactivity": FeatureFacts("i", "inactivity", "engagement", "engagement"),
    "age": FeatureFacts("a", "lead_age", "lead_age", "lead age"),
    "first": FeatureFacts("f", "first_high_intent", "high_intent", "high intent", examples="demo request"),
    "has": FeatureFacts("h", "has_high_intent", "high_intent", "high intent", examples="demo request"),
    "size": FeatureFacts("company_size", "profile_numeric", "company_size", "company size"),
    "industry": FeatureFacts("industry", "profile_categorical", "industry", "industry"),
}


@pytest.mark.parametrize(
    ("facts", "value", "reference", "direction", "expected"),
    [
        (
            "count",
            3.0,
            0.0,
            "up",
            "3 'demo request' events in the last 30 days; typical leads have none. This raises the score.",
        ),
        ("count", 0.0, 0.0, "down", "No 'demo request' in the last 30 days; like typical leads. This lowers"),
        ("count", 1.0, 2.0, "down", "1 'demo request' event in the last 30 days; typical leads have 2."),
        ("recency", 3.2, None, "up", "Last 'demo request' 3 days ago; typical leads never had one."),
        ("recency", None, None, "down", "Never had a 'demo request'; like typical leads."),
        ("recency", 0.2, 12.0, "up", "Last 'demo request' 5 hours ago; typical leads: 12 days ago."),
        (
            "trend",
            0.7,
            0.0,
            "up",
            "'demo request' activity rising (the last 30 days vs the 60 before); typical",
        ),
        (
            "trend",
            -0.7,
            0.0,
            "down",
            "activity falling (the last 30 days vs the 60 before); typical leads: steady",
        ),
        (
            "decayed",
            2.13,
            0.0,
            "up",
            "Recent 'demo request' activity worth 2.1 events (each event counts half",
        ),
        (
            "decayed",
            0.0,
            0.4,
            "down",
            "No recent 'demo request' activity (each event counts half after 14 days)",
        ),
        ("engagement", 12.0, 4.0, "up", "12 engagements in the last 30 days; typical leads have 4."),
        ("engagement", 0.0, 4.0, "down", "No engagement in the last 30 days; typical leads have 4."),
        ("total", 1.0, 9.0, "down", "1 engagement so far; typical leads have 9."),
        (
            "engagement_trend",
            0.01,
            0.0,
            "up",
            "Engagement steady (the last 30 days vs the 60 before); like typical",
        ),
        (
            "engagement_decayed",
            0.6,
            3.0,
            "down",
            "Recent engagement worth 0.6 events (each event counts half ",
        ),
        ("engagement_decayed", 0.6, 3.0, "down", "typical leads: 3 events. This lowers the score."),
        (
            "breadth",
            3.0,
            1.0,
            "up",
            "3 different kinds of engagement in the last 30 days; typical leads have 1.",
        ),
        ("inactivity", 40.0, 5.0, "down", "Last engagement 40 days ago; typical leads: 5 days ago."),
        ("inactivity", None, 5.0, "down", "No engagement yet; typical leads: 5 days ago."),
        ("age", 60.0, 27.0, "down", "Lead created 60 days ago; typical leads are 27 days old."),
        ("first", None, None, "down", "No high-intent action (demo request) yet; like typical leads."),
        (
            "first",
            4.0,
            None,
            "up",
            "First high-intent action (demo request) 4 days ago; typical leads never had",
        ),
        ("has", 1.0, 0.0, "up", "Has shown high intent (demo request); typical leads have not."),
        ("size", 120.0, 45.0, "up", "Company size: 120; typical leads: 45."),
        ("size", None, 45.0, "down", "Company size unknown; typical leads: 45."),
        ("industry", "software", "retail", "up", "Industry: software; the most common is retail."),
        ("industry", "retail", "retail", "down", "Industry: retail; the most common value."),
        ("industry", "missing", "retail", "down", "Industry unknown; the most common is retail."),
        ("industry", "software", "missing", "up", "Industry: software; most leads have none recorded."),
    ],
)
def test_every_kind_speaks_plainly(
    facts: str, value: float | str | None, reference: float | str | None, direction: str, expected: str
) -> None:
    sentence = reason_sentence(FACTS[facts], value, reference, direction, None)  # type: ignore[arg-type]
    assert expected in sentence
    assert sentence.endswith("This raises the score." if direction == "up" else "This lowers the score.")
    assert "_" not in sentence


def test_win_rate_clause_only_when_it_agrees_and_differs() -> None:
    up = Evidence("leads with a 'demo request' in the last 30 days", 0.12, "those without", 0.05)
    assert agrees(up, "up") and not agrees(up, "down")
    sentence = reason_sentence(FACTS["count"], 1.0, 0.0, "up", up)
    assert sentence.endswith(
        "This raises the score; leads with a 'demo request' in the last 30 days were won more often "
        "than those without (12% vs 5%)."
    )
    # A model of another target says what its rates count.
    assert reason_sentence(FACTS["count"], 1.0, 0.0, "up", up, "turned into an opportunity").endswith(
        "were turned into an opportunity more often than those without (12% vs 5%)."
    )
    # 2.04% vs 2.01%: the same at one decimal: no clause at all, never "2% vs 2%".
    same = Evidence("leads with industry software", 0.0204, "average", 0.0201)
    assert rates_shown(0.0204, 0.0201) is None
    assert not agrees(same, "up") and not agrees(same, "down")
    with pytest.raises(ValueError):
        evidence_clause(same)
    # Close but different: one decimal is enough.
    assert rates_shown(0.0214, 0.0201) == ("2.1%", "2.0%")


@pytest.mark.parametrize(
    ("facts", "value", "reference", "direction", "ending"),
    [
        (
            "count",
            1.0,
            3.0,
            "up",
            "typical leads have 3. This raises the score, given the lead's other signals.",
        ),
        ("count", 5.0, 1.0, "down", "This lowers the score, given the lead's other signals."),
        ("count", 5.0, 1.0, "up", "typical leads have 1. This raises the score."),  # no contradiction
        ("engagement_decayed", 0.6, 3.0, "down", "typical leads: 3 events. This lowers the score."),
        # Shown alike ("2.0" and "2"): no difference to explain, whichever side of 2 the value is.
        ("engagement_decayed", 1.97, 2.0, "up", "typical leads: 2 events. This raises the score."),
    ],
)
def test_an_amount_that_moves_the_score_against_its_size_says_why(
    facts: str, value: float, reference: float, direction: str, ending: str
) -> None:
    """ "Less than typical, and this raises the score" reads as a contradiction; the contribution comes
    from the lead's combination of signals, and the sentence says so."""
    assert reason_sentence(FACTS[facts], value, reference, direction, None).endswith(ending)  # type: ignore[arg-type]


def test_several_high_intent_types_are_named_as_a_choice() -> None:
    from dataclasses import replace

    several = replace(FACTS["has"], examples="Cita, demo request")
    # The learnt types, not what the lead did: it may have had one of them only.
    assert reason_sentence(several, 1.0, 0.0, "up", None).startswith(
        "Has shown high intent (one of: Cita, demo request)"
    )
    assert reason_sentence(several, 0.0, 1.0, "down", None).startswith(
        "No high-intent action (one of: Cita, demo request) yet"
    )

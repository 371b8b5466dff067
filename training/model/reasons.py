"""Plain-language sentences for the signals behind a lead's readiness.

Used by the scoring API (one sentence per reason) and reusable by the marketing report. A sentence has
two halves: what the lead shows ("Attended a webinar 3 days ago", "No pricing page view in the last 30
days") and, when the training data supports it, what that meant historically ("leads who had one in
the last 30 days were won 2.4x as often as those who had not"). The historical half comes from the
per-signal statistics of ``training.model.signal_stats``.

Event types are an open vocabulary, so they are named by their humanised type ("pricing page view"),
never by a hard-coded list. What a feature is comes from its ``FeatureSpec`` (``training.features.specs``),
never from its name.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from training.features.specs import FeatureKind, FeatureScope, FeatureSpec, half_life_label
from training.model.serving_types import (
    CategoricalSignalStats,
    EventSignalStats,
    NumericSignalStats,
    SignalStats,
)

Value = float | str | None


def humanize(name: str) -> str:
    """``pricing_page_view`` -> ``pricing page view``; ``company_size`` -> ``company size``."""
    return " ".join(str(name).replace("_", " ").split())


def reason_sentence(spec: FeatureSpec, value: Value, signal_stats: SignalStats | None = None) -> str:
    """One sentence for the feature ``spec`` having ``value`` for a lead, with historical evidence if known.

    ``signal_stats`` is the entry of the feature's signal in the serving statistics' ``signals``.
    """
    what = describe_value(spec, value)
    evidence = describe_evidence(signal_stats, value) if signal_stats else None
    return f"{what}: {evidence}." if evidence else f"{what}."


def describe_value(spec: FeatureSpec, value: Value) -> str:
    """What the lead shows, e.g. "2 'webinar attended' events in the last 30 days"."""
    render = _RENDERERS.get((spec.kind, spec.scope)) or _RENDERERS.get((spec.kind, None))
    if render is not None:
        return render(spec, value)
    if isinstance(value, str):
        return f"{_label(spec.signal)}: {value}"
    if _missing(value):
        return f"{_label(spec.name)}: unknown"
    return f"{_label(spec.name)}: {_number(value)}"


def describe_evidence(stats: SignalStats, value: Value) -> str | None:
    """What the signal meant historically, or None when the statistics cannot say."""
    if isinstance(stats, EventSignalStats):
        if stats.lift is None or stats.win_rate_with is None or stats.win_rate_without is None:
            return None
        return (
            f"leads who had one in the last {stats.window_days} days were won {_times(stats.lift)} as often "
            f"as those who had not ({stats.win_rate_with:.0%} vs {stats.win_rate_without:.0%})"
        )
    overall = stats.overall_win_rate
    if isinstance(stats, CategoricalSignalStats) and isinstance(value, str):
        level = stats.level(value)
        if level is None or level.lift is None:
            return None
        return (
            f"leads with this value were won {_times(level.lift)} as often as average "
            f"({level.win_rate:.0%} vs {overall:.0%})"
        )
    if isinstance(stats, NumericSignalStats) and isinstance(value, int | float) and not _missing(value):
        band = stats.bin_of(float(value))
        if band is not None and band.lift is not None:
            return (
                f"leads between {_number(band.lower)} and {_number(band.upper)} were won "
                f"{_times(band.lift)} as often as average ({band.win_rate:.0%} vs {overall:.0%})"
            )
    return None


def ripening_sentence(
    signal: str, add_events: int, typical_count: int, window_days: int, score_if_added: float
) -> str:
    """E.g. "Add 2 'demo request' events (ripe leads typically show 2 in 30 days): the score would be 71"."""
    noun = "event" if add_events == 1 else "events"
    return (
        f"{add_events} more '{humanize(signal)}' {noun} (ripe leads typically show {typical_count} in "
        f"{window_days} days) would bring the score to {score_if_added:.0f}"
    )


# --- value renderers -------------------------------------------------------------------------------


def _window_count(spec: FeatureSpec, value: Value) -> str:
    name, days = humanize(spec.signal), spec.window_days
    count = _count(value)
    if count is None:
        return f"'{name}' events in the last {days} days: unknown"
    if count == 0:
        return f"No '{name}' in the last {days} days"
    return f"{count} '{name}' {'event' if count == 1 else 'events'} in the last {days} days"


def _recency(spec: FeatureSpec, value: Value) -> str:
    name = humanize(spec.signal)
    if _missing(value):
        return f"Never had a '{name}'"
    return f"Last '{name}' {_days(value)} ago"


def _inactivity(spec: FeatureSpec, value: Value) -> str:
    if _missing(value):
        return "No engagement yet"
    return f"Last engagement {_days(value)} ago"


def _age(spec: FeatureSpec, value: Value) -> str:
    return "Lead age unknown" if _missing(value) else f"Lead created {_days(value)} ago"


def _breadth(spec: FeatureSpec, value: Value) -> str:
    count = _count(value)
    return f"{count} different kinds of engagement in the last {spec.window_days} days"


def _all_events(spec: FeatureSpec, value: Value) -> str:
    count = _count(value)
    window = f" in the last {spec.window_days} days" if spec.window_days is not None else " so far"
    if count == 0:
        return f"No engagement{window}"
    return f"{count} {'engagement' if count == 1 else 'engagements'}{window}"


def _trend(spec: FeatureSpec, value: Value) -> str:
    every = spec.scope is FeatureScope.ALL_EVENTS
    subject = "Engagement" if every else f"'{humanize(spec.signal)}' activity"
    period = f"the last {spec.window_days} days vs the {spec.prior_days} before"
    if _missing(value):
        return f"{subject} trend unknown ({period})"
    number = float(value)  # type: ignore[arg-type]
    direction = "rising" if number > 0.05 else "falling" if number < -0.05 else "steady"
    return f"{subject} {direction} ({period})"


def _decayed(spec: FeatureSpec, value: Value) -> str:
    every = spec.scope is FeatureScope.ALL_EVENTS
    subject = "engagement" if every else f"'{humanize(spec.signal)}' activity"
    half_life = f"each event counts half after {half_life_label(spec.half_life_days or 0)} days"
    if _missing(value) or float(value) <= 0:  # type: ignore[arg-type]
        return f"No recent {subject} ({half_life})"
    return f"Recent {subject} worth {_number(value)} events ({half_life})"


def _first_high_intent(spec: FeatureSpec, value: Value) -> str:
    if _missing(value):
        return "No high-intent action (such as pricing or demo) yet"
    return f"First high-intent action {_days(value)} ago"


def _has_high_intent(spec: FeatureSpec, value: Value) -> str:
    if _missing(value) or float(value) <= 0:  # type: ignore[arg-type]
        return "No high-intent action (such as pricing or demo) yet"
    return "Has shown high intent (such as pricing or demo)"


_Renderer = Callable[[FeatureSpec, Value], str]
#: (kind, scope) -> renderer; scope None: any scope without its own entry.
_RENDERERS: dict[tuple[FeatureKind, FeatureScope | None], _Renderer] = {
    (FeatureKind.COUNT, FeatureScope.ALL_EVENTS): _all_events,
    (FeatureKind.COUNT, None): _window_count,
    (FeatureKind.RECENCY, FeatureScope.ALL_EVENTS): _inactivity,
    (FeatureKind.RECENCY, None): _recency,
    (FeatureKind.TREND, None): _trend,
    (FeatureKind.DECAYED, None): _decayed,
    (FeatureKind.BREADTH, None): _breadth,
    (FeatureKind.AGE, None): _age,
    (FeatureKind.MILESTONE_DAYS, None): _first_high_intent,
    (FeatureKind.MILESTONE_FLAG, None): _has_high_intent,
}


# --- formatting ------------------------------------------------------------------------------------


def _missing(value: Value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _count(value: Value) -> int | None:
    if _missing(value) or isinstance(value, str):
        return None
    return round(float(value))  # type: ignore[arg-type]


def _days(value: Value) -> str:
    days = float(value)  # type: ignore[arg-type]
    if days < 1:
        hours = round(days * 24)
        return "less than an hour" if hours < 1 else f"{hours} hour{'s' if hours != 1 else ''}"
    whole = round(days)
    return f"{whole} day{'s' if whole != 1 else ''}"


def _number(value: Any) -> str:
    number = float(value)
    return f"{number:,.0f}" if number == round(number) or abs(number) >= 100 else f"{number:,.2g}"


def _times(lift: float) -> str:
    return f"{lift:.1f}x"


def _label(name: str) -> str:
    text = humanize(name)
    return text[:1].upper() + text[1:]

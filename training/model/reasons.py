"""Plain-language sentences for the signals behind a lead's readiness.

Used by the scoring API (one sentence per reason) and reusable by the marketing report. A sentence has
two halves: what the lead shows ("Attended a webinar 3 days ago", "No pricing page view in the last 30
days") and, when the training data supports it, what that meant historically ("leads who had one in
the last 30 days were won 2.4x as often as those who had not"). The historical half comes from the
per-signal statistics of ``training.model.serving_stats.signal_stats``.

Event types are an open vocabulary, so they are named by their humanised type ("pricing page view"),
never by a hard-coded list. Feature names follow ``training.features.transformer``; a feature whose name
matches no known pattern still gets a readable sentence built from its name.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

Value = float | str | None

_WINDOW = re.compile(r"^(?P<signal>.+)_count_(?P<days>\d+)d$")
_RECENCY = re.compile(r"^(?P<signal>.+)_days_since_last$")
_FIRST = re.compile(r"^(?P<signal>.+)_days_since_first$")


def humanize(name: str) -> str:
    """``pricing_page_view`` -> ``pricing page view``; ``company_size`` -> ``company size``."""
    return re.sub(r"[_\s]+", " ", str(name)).strip()


def reason_sentence(
    feature: str,
    value: Value,
    signal: str | None = None,
    signal_stats: dict[str, Any] | None = None,
) -> str:
    """One sentence for ``feature`` having ``value`` for a lead, with historical evidence if known.

    ``signal`` is the feature's business signal (event type or profile field); ``signal_stats`` that
    signal's entry in ``ModelCard.serving["signals"]``.
    """
    what = describe_value(feature, value, signal)
    evidence = describe_evidence(signal_stats, value) if signal_stats else None
    return f"{what}: {evidence}." if evidence else f"{what}."


def describe_value(feature: str, value: Value, signal: str | None = None) -> str:
    """What the lead shows, e.g. "2 'webinar attended' events in the last 30 days"."""
    for pattern, render in _VALUE_RENDERERS:
        match = pattern.match(feature)
        if match:
            return render(match, value, signal)
    if signal is not None and signal != feature and feature.startswith(f"{signal}_"):
        # One-hot style feature "<field>_<level>".
        level = feature[len(signal) + 1 :]
        is_set = isinstance(value, int | float) and not _missing(value) and float(value) > 0
        return f"{_label(signal)} is {'' if is_set else 'not '}{humanize(level)}"
    if isinstance(value, str):
        return f"{_label(signal or feature)}: {value}"
    if _missing(value):
        return f"{_label(feature)}: unknown"
    return f"{_label(feature)}: {_number(value)}"


def describe_evidence(stats: dict[str, Any], value: Value) -> str | None:
    """What the signal meant historically, or None when the statistics cannot say."""
    kind = stats.get("kind")
    if kind == "event_type":
        lift = stats.get("lift")
        if lift is None or stats.get("win_rate_with") is None:
            return None
        window = stats.get("window_days")
        with_rate, without_rate = stats["win_rate_with"], stats["win_rate_without"]
        return (
            f"leads who had one in the last {window} days were won {_times(lift)} as often as those who "
            f"had not ({with_rate:.0%} vs {without_rate:.0%})"
        )
    overall = stats.get("overall_win_rate")
    if kind == "categorical" and isinstance(value, str):
        level = stats.get("levels", {}).get(value)
        if level is None or level.get("lift") is None or overall is None:
            return None
        return (
            f"leads with this value were won {_times(level['lift'])} as often as average "
            f"({level['win_rate']:.0%} vs {overall:.0%})"
        )
    if kind == "numeric" and isinstance(value, int | float) and not _missing(value):
        for band in stats.get("bins", []):
            if band["lower"] <= float(value) <= band["upper"] and band.get("lift") is not None:
                return (
                    f"leads between {_number(band['lower'])} and {_number(band['upper'])} were won "
                    f"{_times(band['lift'])} as often as average ({band['win_rate']:.0%} vs {overall:.0%})"
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


def _window_count(match: re.Match[str], value: Value, signal: str | None) -> str:
    name, days = humanize(signal or match["signal"]), match["days"]
    count = _count(value)
    if count is None:
        return f"'{name}' events in the last {days} days: unknown"
    if count == 0:
        return f"No '{name}' in the last {days} days"
    return f"{count} '{name}' {'event' if count == 1 else 'events'} in the last {days} days"


def _recency(match: re.Match[str], value: Value, signal: str | None) -> str:
    name = humanize(signal or match["signal"])
    if _missing(value):
        return f"Never had a '{name}'"
    return f"Last '{name}' {_days(value)} ago"


def _first(match: re.Match[str], value: Value, signal: str | None) -> str:
    name = humanize(signal or match["signal"])
    if _missing(value):
        return f"Never had a '{name}'"
    return f"First '{name}' {_days(value)} ago"


def _inactivity(match: re.Match[str], value: Value, signal: str | None) -> str:
    if _missing(value):
        return "No engagement yet"
    return f"Last engagement {_days(value)} ago"


def _age(match: re.Match[str], value: Value, signal: str | None) -> str:
    return "Lead age unknown" if _missing(value) else f"Lead created {_days(value)} ago"


def _breadth(match: re.Match[str], value: Value, signal: str | None) -> str:
    count = _count(value)
    return f"{count} different kinds of engagement in the last {match['days']} days"


def _all_events(match: re.Match[str], value: Value, signal: str | None) -> str:
    count = _count(value)
    window = f" in the last {match['days']} days" if match.groupdict().get("days") else " so far"
    if count == 0:
        return f"No engagement{window}"
    return f"{count} {'engagement' if count == 1 else 'engagements'}{window}"


def _trend(match: re.Match[str], value: Value, signal: str | None) -> str:
    subject = (
        "Engagement" if match["stem"] == "engagement" else f"'{humanize(signal or match['stem'])}' activity"
    )
    period = f"the last {match['recent']} days vs the {match['prior']} before"
    if _missing(value):
        return f"{subject} trend unknown ({period})"
    number = float(value)  # type: ignore[arg-type]
    direction = "rising" if number > 0.05 else "falling" if number < -0.05 else "steady"
    return f"{subject} {direction} ({period})"


def _decayed(match: re.Match[str], value: Value, signal: str | None) -> str:
    stem = match["stem"]
    subject = "engagement" if stem == "engagement" else f"'{humanize(signal or stem)}' activity"
    half_life = f"each event counts half after {match['days']} days"
    if _missing(value) or float(value) <= 0:  # type: ignore[arg-type]
        return f"No recent {subject} ({half_life})"
    return f"Recent {subject} worth {_number(value)} events ({half_life})"


def _first_high_intent(match: re.Match[str], value: Value, signal: str | None) -> str:
    if _missing(value):
        return "No high-intent action (such as pricing or demo) yet"
    return f"First high-intent action {_days(value)} ago"


def _has_high_intent(match: re.Match[str], value: Value, signal: str | None) -> str:
    if _missing(value) or float(value) <= 0:  # type: ignore[arg-type]
        return "No high-intent action (such as pricing or demo) yet"
    return "Has shown high intent (such as pricing or demo)"


_Renderer = Callable[[re.Match[str], Value, str | None], str]
# Overall features first: "events_count_30d" must not be read as the event type "events".
_VALUE_RENDERERS: list[tuple[re.Pattern[str], _Renderer]] = [
    (re.compile(r"^days_since_last_(?:event|engagement|activity)$"), _inactivity),
    (re.compile(r"^(?:lead_)?age_days$"), _age),
    (re.compile(r"^distinct_event_types_(?P<days>\d+)d$"), _breadth),
    (re.compile(r"^events_count_(?P<days>\d+)d$|^total_events$"), _all_events),
    (re.compile(r"^days_since_first_high_intent$"), _first_high_intent),
    (re.compile(r"^has_high_intent$"), _has_high_intent),
    (re.compile(r"^(?P<stem>.+)_trend_(?P<recent>\d+)d_vs_prior_(?P<prior>\d+)d$"), _trend),
    (re.compile(r"^(?P<stem>.+)_decayed_(?P<days>\d+)d$"), _decayed),
    (_WINDOW, _window_count),
    (_RECENCY, _recency),
    (_FIRST, _first),
]


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

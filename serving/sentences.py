"""Plain-language sentences generated from the facts of a reason, never from a feature's name.

A reason's facts are the feature's description (``FeatureFacts``: its kind, event type, window,
half-life), the lead's value, the reference value (what a typical lead shows, stored at training time),
the direction of the exact contribution and, when the historical win rates agree with that direction,
a win-rate comparison (``Evidence``). A sentence states them in that order:

    "3 'pricing page view' events in the last 30 days; typical leads have none. This raises the score;
    leads with a 'pricing page view' in the last 30 days were won more often than those without (12% vs
    5%)."

Every kind of feature the feature transformer makes has its own wording (``value_phrase``,
``reference_phrase``); ``shown_value`` is the value as the sentence shows it, so that a test can check
that the sentence states it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from training.features.specs import FeatureKind, FeatureScope, FeatureSpec

Value = float | str | None
Direction = Literal["up", "down"]

SentenceKind = Literal[
    "event_count",
    "event_recency",
    "event_trend",
    "event_decayed",
    "engagement_count",
    "engagement_total",
    "engagement_trend",
    "engagement_decayed",
    "breadth",
    "inactivity",
    "lead_age",
    "first_high_intent",
    "has_high_intent",
    "profile_numeric",
    "profile_categorical",
]

#: Trend values closer to zero than this read as "steady" (log ratio: about +-5 % busier).
STEADY_TREND = 0.05


@dataclass(frozen=True)
class FeatureFacts:
    """What one feature measures, in the words a sentence needs."""

    feature: str
    kind: SentenceKind
    signal: str
    #: readable name of the event type or profile field ("pricing page view", "company size")
    subject: str
    window_days: int | None = None
    half_life_days: float | None = None
    #: trend features: the recent window and the window before it
    prior_days: int | None = None
    #: readable high-intent event types, for the milestone features
    examples: str = ""


@dataclass(frozen=True)
class Evidence:
    """A univariate win-rate comparison: leads like this one vs the others (or the average)."""

    group: str
    win_rate: float
    compared_group: str
    compared_win_rate: float


# ------------------------------------------------------------------------------------------ values


def shown_value(facts: FeatureFacts, value: Value) -> str:
    """The value as sentences show it: "3", "12 days", "rising", "software", "none", "never"."""
    kind = facts.kind
    if isinstance(value, str):
        return "unknown" if value == "missing" else value
    if _missing(value):
        return {"event_recency": "never", "inactivity": "never", "first_high_intent": "never"}.get(
            kind, "unknown"
        )
    number = float(value)  # type: ignore[arg-type]
    if kind in ("event_recency", "inactivity", "lead_age", "first_high_intent"):
        return _days(number)
    if kind in ("event_trend", "engagement_trend"):
        return "rising" if number > STEADY_TREND else "falling" if number < -STEADY_TREND else "steady"
    if kind == "has_high_intent":
        return "yes" if number > 0 else "no"
    if kind in ("event_count", "engagement_count", "engagement_total", "breadth"):
        count = round(number)
        return "none" if count == 0 else str(count)
    if kind in ("event_decayed", "engagement_decayed"):
        return "none" if number < 0.05 else _number(number)
    return _number(number)


def value_phrase(facts: FeatureFacts, value: Value) -> str:
    """What the lead shows, e.g. "3 'pricing page view' events in the last 30 days"."""
    shown = shown_value(facts, value)
    kind, subject, window = facts.kind, facts.subject, facts.window_days
    if kind == "event_count":
        return _counted(shown, f"'{subject}'", f"'{subject}' event", f"in the last {window} days")
    if kind == "engagement_count":
        return _counted(shown, "engagement", "engagement", f"in the last {window} days")
    if kind == "engagement_total":
        return _counted(shown, "engagement", "engagement", "so far")
    if kind == "breadth":
        if shown == "none":
            return f"no engagement of any kind in the last {window} days"
        kinds = "kind" if shown == "1" else "different kinds"
        return f"{shown} {kinds} of engagement in the last {window} days"
    if kind == "event_recency":
        if shown == "never":
            return f"never had {article(subject)} '{subject}'"
        return f"last '{subject}' {shown} ago"
    if kind == "inactivity":
        return "no engagement yet" if shown == "never" else f"last engagement {shown} ago"
    if kind == "lead_age":
        return "lead age unknown" if shown == "unknown" else f"lead created {shown} ago"
    if kind in ("event_trend", "engagement_trend"):
        what = "engagement" if kind == "engagement_trend" else f"'{subject}' activity"
        period = f"the last {window} days vs the {facts.prior_days} before"
        if shown == "unknown":
            return f"{what} trend unknown ({period})"
        return f"{what} {shown} ({period})"
    if kind in ("event_decayed", "engagement_decayed"):
        what = "engagement" if kind == "engagement_decayed" else f"'{subject}' activity"
        half = f"each event counts half after {facts.half_life_days:g} days"
        if shown in ("none", "unknown"):
            return f"no recent {what} ({half})"
        return f"recent {what} worth {shown} events ({half})"
    if kind in ("first_high_intent", "has_high_intent"):
        # The learnt high-intent types, not what this lead did: "one of" where there are several.
        examples = f"one of: {facts.examples}" if "," in facts.examples else facts.examples
        if shown in ("never", "unknown", "no"):
            return f"no high-intent action ({examples}) yet"
        if kind == "first_high_intent":
            return f"first high-intent action ({examples}) {shown} ago"
        return f"has shown high intent ({examples})"
    # Profile fields.
    return f"{subject} unknown" if shown == "unknown" else f"{subject}: {shown}"


def reference_phrase(facts: FeatureFacts, value: Value, reference: Value) -> str:
    """What a typical lead shows, e.g. "typical leads have none", or "like typical leads"."""
    shown, typical = shown_value(facts, value), shown_value(facts, reference)
    if shown == typical:
        return "the most common value" if facts.kind == "profile_categorical" else "like typical leads"
    kind = facts.kind
    if kind in ("event_count", "engagement_count", "engagement_total", "breadth", "event_decayed"):
        return f"typical leads have {typical}"
    if kind == "engagement_decayed":
        return f"typical leads have {typical}" if typical == "none" else f"typical leads: {typical} events"
    if kind in ("event_recency", "inactivity", "first_high_intent"):
        if typical in ("never", "unknown"):
            return "typical leads have not engaged" if kind == "inactivity" else "typical leads never had one"
        return f"typical leads: {typical} ago"
    if kind == "lead_age":
        return f"typical leads are {typical} old"
    if kind in ("event_trend", "engagement_trend"):
        return f"typical leads: {typical}"
    if kind == "has_high_intent":
        return "typical leads have shown it" if typical == "yes" else "typical leads have not"
    if kind == "profile_categorical":
        # The most common "value" of a sparsely filled field is its absence: say so, not "unknown".
        return "most leads have none recorded" if typical == "unknown" else f"the most common is {typical}"
    return f"typical leads: {typical}"


def reason_sentence(
    facts: FeatureFacts,
    value: Value,
    reference: Value,
    direction: Direction,
    evidence: Evidence | None,
    outcome: str = "won",
) -> str:
    """The full sentence of one reason (see the module docstring); ``outcome`` is what the model's target
    calls reaching it ("won", "turned into an opportunity", "accepted by sales")."""
    what = value_phrase(facts, value)
    sentence = f"{what[:1].upper()}{what[1:]}; {reference_phrase(facts, value, reference)}. "
    sentence += "This raises the score" if direction == "up" else "This lowers the score"
    if evidence is not None:
        sentence += f"; {evidence_clause(evidence, outcome)}"
    elif _against_more_is_more(facts, value, reference, direction):
        sentence += ", given the lead's other signals"
    return sentence + "."


#: Kinds whose values are amounts of engagement, which readers expect to raise the score as they grow.
_AMOUNTS = frozenset(
    {"event_count", "engagement_count", "engagement_total", "breadth", "event_decayed", "engagement_decayed"}
)


def _against_more_is_more(facts: FeatureFacts, value: Value, reference: Value, direction: Direction) -> bool:
    """Whether the sentence would read "less than typical, and this raises the score" (or more, and
    lowers) with nothing to explain it. The contribution is exact; it comes from how the value combines
    with the lead's other signals (trees split on combinations), which the sentence then says."""
    if (
        facts.kind not in _AMOUNTS
        or not isinstance(value, int | float)
        or not isinstance(reference, int | float)
    ):
        return False
    # Cheapest tests first: this runs for every reason that misses the sentence cache. NaN compares
    # False both ways, hence the explicit check.
    if (value > reference) == (direction == "up") or _missing(value) or _missing(reference):
        return False
    # Decided on the values as shown, as the rest of the sentence is (batch scoring caches sentences by
    # shown value): "2.0" against a typical "2" is no difference.
    shown, typical = _shown_number(shown_value(facts, value)), _shown_number(shown_value(facts, reference))
    if shown is None or typical is None or shown == typical:
        return False
    return (shown > typical) != (direction == "up")


def _shown_number(shown: str) -> float | None:
    """A shown amount as a number ("none" is 0, "1,234" is 1234), or None when it is no number."""
    if shown == "none":
        return 0.0
    try:
        return float(shown.replace(",", ""))
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------- evidence


def rates_shown(first: float, second: float) -> tuple[str, str] | None:
    """Two win rates as percentages precise enough to differ (0 or 1 decimal), or None if they do not."""
    for digits in (0, 1):
        a, b = f"{first * 100:.{digits}f}%", f"{second * 100:.{digits}f}%"
        if a != b:
            return a, b
    return None


def agrees(evidence: Evidence, direction: Direction) -> bool:
    """Whether the comparison points the way the contribution does and differs as shown."""
    if rates_shown(evidence.win_rate, evidence.compared_win_rate) is None:
        return False
    higher = evidence.win_rate > evidence.compared_win_rate
    return higher == (direction == "up")


def evidence_clause(evidence: Evidence, outcome: str = "won") -> str:
    """E.g. "leads with one were won more often than those without (12% vs 5%)"; ``outcome`` as in
    ``reason_sentence``."""
    shown = rates_shown(evidence.win_rate, evidence.compared_win_rate)
    if shown is None:
        raise ValueError("evidence_clause: the two win rates do not differ at the shown precision")
    more = "more" if evidence.win_rate > evidence.compared_win_rate else "less"
    return (
        f"{evidence.group} were {outcome} {more} often than {evidence.compared_group} "
        f"({shown[0]} vs {shown[1]})"
    )


# -------------------------------------------------------------------------------------- formatting


def article(noun: str) -> str:
    """ "a" or "an" before a quoted or plain noun: an 'email open', a 'demo request'."""
    return "an" if noun.lstrip("'")[:1].lower() in "aeiou" else "a"


def _counted(shown: str, none_noun: str, noun: str, when: str) -> str:
    if shown == "unknown":
        return f"{noun}s {when}: unknown"
    if shown == "none":
        return f"no {none_noun} {when}"
    return f"{shown} {noun}{'' if shown == '1' else 's'} {when}"


def _missing(value: Value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _days(days: float) -> str:
    if days < 1:
        hours = round(days * 24)
        return "less than an hour" if hours < 1 else f"{hours} hour{'s' if hours != 1 else ''}"
    whole = round(days)
    return f"{whole} day{'s' if whole != 1 else ''}"


def _number(number: float) -> str:
    if abs(number) >= 1e12:  # a typo or sentinel (1e300): not three hundred digits in a sentence
        return f"{number:.3g}"
    if number == round(number) or abs(number) >= 100:
        return f"{number:,.0f}"
    return f"{number:,.2g}" if abs(number) < 1 else f"{number:,.1f}"


# ---------------------------------------------------------------------------------- from the specs


def facts_from_specs(
    specs: Iterable[FeatureSpec], high_intent_types: Sequence[str]
) -> dict[str, FeatureFacts]:
    """Sentence facts of every feature, read from the feature transformer's specs."""
    examples = ", ".join(_readable(t) for t in high_intent_types) or "pricing, demo, ..."
    facts: dict[str, FeatureFacts] = {}
    for spec in specs:
        kind = _sentence_kind(spec)
        if spec.scope is FeatureScope.PROFILE:
            subject = _readable(spec.signal)
        elif spec.scope is FeatureScope.POOLED_EVENTS:
            subject = "other (rarer) event"
        elif spec.scope is FeatureScope.EVENT_TYPE:
            subject = _readable(spec.event_type or spec.signal)
        else:
            subject = _readable(spec.signal)
        facts[spec.name] = FeatureFacts(
            feature=spec.name,
            kind=kind,
            signal=spec.signal,
            subject=subject,
            window_days=spec.window_days,
            half_life_days=spec.half_life_days,
            prior_days=spec.prior_days,
            examples=examples,
        )
    return facts


def _sentence_kind(spec: FeatureSpec) -> SentenceKind:
    """Which wording a feature gets: by its kind and whether it is about one event type or all events."""
    one_type = spec.scope in (FeatureScope.EVENT_TYPE, FeatureScope.POOLED_EVENTS)
    kind = spec.kind
    if kind is FeatureKind.COUNT:
        if one_type:
            return "event_count"
        return "engagement_count" if spec.window_days is not None else "engagement_total"
    if kind is FeatureKind.RECENCY:
        return "event_recency" if one_type else "inactivity"
    if kind is FeatureKind.TREND:
        return "event_trend" if one_type else "engagement_trend"
    if kind is FeatureKind.DECAYED:
        return "event_decayed" if one_type else "engagement_decayed"
    return _BY_KIND[kind]


_BY_KIND: dict[FeatureKind, SentenceKind] = {
    FeatureKind.BREADTH: "breadth",
    FeatureKind.AGE: "lead_age",
    FeatureKind.MILESTONE_DAYS: "first_high_intent",
    FeatureKind.MILESTONE_FLAG: "has_high_intent",
    FeatureKind.PROFILE_NUMERIC: "profile_numeric",
    FeatureKind.PROFILE_CATEGORICAL: "profile_categorical",
}


def _readable(name: str) -> str:
    return " ".join(str(name).replace("_", " ").split())

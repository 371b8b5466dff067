"""Business signals in marketing words: what a signal is called, what kind it is, how its features read.

A *signal* is what a feature's ``FeatureSpec.signal`` names: one event type (all its counts, recency
and trend together), one profile field, or a derived group (overall engagement, lead age, high-intent
actions). Grouping matters: the 30-day and 90-day webinar counts share their credit, and a marketer
asks "do webinars matter?", not "does ``webinar_attended_count_30d`` matter?".
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from training.features.specs import (
    ENGAGEMENT_SIGNAL,
    HIGH_INTENT_SIGNAL,
    LEAD_AGE_SIGNAL,
    OTHER_EVENT,
    FeatureCatalog,
    FeatureKind,
    FeatureScope,
    FeatureSpec,
    half_life_label,
)
from training.model.reasons import humanize

#: Words for the derived signals, which have no event type or profile field to name them by.
DERIVED_SIGNAL_LABELS = {
    ENGAGEMENT_SIGNAL: "Overall engagement (all events)",
    LEAD_AGE_SIGNAL: "Lead age",
    HIGH_INTENT_SIGNAL: "High-intent actions (pricing, demo, ...)",
    OTHER_EVENT: "Other, rarer events",
}
#: signal kind ("event", "derived", "profile") of each feature scope.
_KIND_OF_SCOPE = {
    FeatureScope.EVENT_TYPE: "event",
    FeatureScope.POOLED_EVENTS: "event",
    FeatureScope.ALL_EVENTS: "derived",
    FeatureScope.HIGH_INTENT: "derived",
    FeatureScope.LEAD: "derived",
    FeatureScope.PROFILE: "profile",
}


def signal_label(signal: str) -> str:
    """The marketing name of a signal: "Webinar attended", "Company size", "Overall engagement ..."."""
    if signal in DERIVED_SIGNAL_LABELS:
        return DERIVED_SIGNAL_LABELS[signal]
    text = humanize(signal)
    return text[:1].upper() + text[1:]


def feature_label(spec: FeatureSpec) -> str:
    """A readable axis label for one feature, e.g. "Days since the last 'pricing page view'"."""
    every = spec.scope is FeatureScope.ALL_EVENTS
    name, days = humanize(spec.signal), spec.window_days
    kind = spec.kind
    if kind is FeatureKind.COUNT and every:
        return f"Events of any kind in the last {days} days" if days else "Events of any kind so far"
    if kind is FeatureKind.COUNT:
        return f"'{name}' events in the last {days} days"
    if kind is FeatureKind.RECENCY:
        return "Days since the last engagement" if every else f"Days since the last '{name}'"
    if kind is FeatureKind.TREND:
        subject = "Engagement" if every else f"'{name}'"
        return f"{subject} trend (last {days} days vs the {spec.prior_days} before; > 0 rising)"
    if kind is FeatureKind.DECAYED:
        half_life = half_life_label(spec.half_life_days or 0)
        if every:
            return f"Recent engagement (events weighted by recency, half-life {half_life} days)"
        return f"Recent '{name}' events (weighted by recency, half-life {half_life} days)"
    fixed = {
        FeatureKind.BREADTH: f"Different kinds of events in the last {days} days",
        FeatureKind.AGE: "Lead age (days since created)",
        FeatureKind.MILESTONE_DAYS: "Days since the first high-intent action",
        FeatureKind.MILESTONE_FLAG: "Has shown high intent (0 = no, 1 = yes)",
    }
    return fixed.get(kind) or signal_label(spec.name)


def signal_kinds(catalog: FeatureCatalog) -> dict[str, str]:
    """signal -> "event" (an event type), "derived" (engagement, lead age, high intent) or "profile"."""
    return {spec.signal: _KIND_OF_SCOPE[spec.scope] for spec in catalog}


def group_columns(columns: Iterable[object], catalog: FeatureCatalog) -> dict[str, list[int]]:
    """signal -> positions of its features in ``columns`` (a feature without a spec is its own signal)."""
    groups: dict[str, list[int]] = {}
    for position, name in enumerate(map(str, columns)):
        groups.setdefault(catalog.signal_of(name), []).append(position)
    return groups


def signals_of(columns: pd.Index, catalog: FeatureCatalog) -> list[str]:
    """The signal of each column, in order."""
    return [catalog.signal_of(str(name)) for name in columns]

"""Plain names and the "what would ripen it" sentence.

Reason sentences themselves are built from facts (value, reference, direction, evidence) in
``serving.sentences``, the one place that writes them for the API, batch scoring and notebooks.
Event types are an open vocabulary, so they are named by their humanised type ("pricing page view"),
never by a hard-coded list.
"""

from __future__ import annotations


def humanize(name: str) -> str:
    """``pricing_page_view`` -> ``pricing page view``; ``company_size`` -> ``company size``."""
    return " ".join(str(name).replace("_", " ").split())


def ripening_sentence(
    signal: str,
    add_events: int,
    typical_count: int,
    window_days: int,
    chance_now: float,
    chance_if_added: float,
) -> str:
    """E.g. "2 more 'demo request' events (ripe leads typically show 2 in 30 days) would raise the chance
    if handed over now from 40 to 71" (both on the answers' 0-100 scale, the verdict threshold's)."""
    noun = "event" if add_events == 1 else "events"
    return (
        f"{add_events} more '{humanize(signal)}' {noun} (ripe leads typically show {typical_count} in "
        f"{window_days} days) would raise the chance if handed over now from {chance_now:.0f} to "
        f"{chance_if_added:.0f}"
    )

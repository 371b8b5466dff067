"""Events dated before their lead was created: dropped before scoring, with a warning naming them.

Training refuses (strict) or quarantines (lenient) such events, so the model never learned from them;
the API drops them too, so a lead scores the same here as in training, and says which ones it dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from training.data.live import LeadIn

#: Most event positions a warning lists.
MAX_LISTED = 20


def drop_early_events(leads: Sequence[LeadIn]) -> tuple[list[LeadIn], list[dict[str, Any] | None]]:
    """The leads without their events before ``created_at``, and per lead a ``Warning`` dict (or None)
    naming the positions of the dropped events in the request."""
    kept: list[LeadIn] = []
    warnings: list[dict[str, Any] | None] = []
    for lead in leads:
        early = _early_positions(lead)
        if not early:
            kept.append(lead)
            warnings.append(None)
            continue
        dropped = set(early)
        events = [event for j, event in enumerate(lead.events) if j not in dropped]
        kept.append(lead.model_copy(update={"events": events}))
        listed = ", ".join(f"events[{j}]" for j in early[:MAX_LISTED])
        more = f" and {len(early) - MAX_LISTED} more" if len(early) > MAX_LISTED else ""
        warnings.append(
            {
                "code": "events_before_created_at",
                "message": f"{len(early)} event(s) before the lead's created_at were ignored: "
                f"{listed}{more}.",
                "count": len(early),
            }
        )
    return kept, warnings


def _early_positions(lead: LeadIn) -> list[int]:
    created = lead.created_at  # UTC: LeadIn normalises it
    if created is None or not lead.events:
        return []
    times = [event.occurred_at for event in lead.events]
    try:
        # The common case in one C-level pass: no event before creation.
        if min(times) >= created:
            return []
    except TypeError:  # times with and without a zone cannot be ordered together: check each
        pass
    return [j for j, moment in enumerate(times) if _aware(moment) < created]


def _aware(moment: datetime) -> datetime:
    """A time without a zone is UTC (as in the data contract)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment

"""Events dated before their lead was created: settled before scoring as the import settled them, with a
warning naming them.

By default training refuses (strict) or quarantines (lenient) such events, or leaves them out
(``before_created = "skip"``), so the model never learned from them: the API drops them too. Where the
import counted them at the lead's creation (``before_created = "creation"``: the anonymous visits a CRM
ties to the contact they led to), the model card says so and the API counts them there as well, so a lead
scores the same here as in batch scoring of the imported data.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from training.data.live import LeadIn

#: Most event positions a warning lists.
MAX_LISTED = 20


def drop_early_events(
    leads: Sequence[LeadIn], at_creation: bool = False
) -> tuple[list[LeadIn], list[dict[str, Any] | None]]:
    """The leads without their events before ``created_at`` (``at_creation``: with them moved to it), and
    per lead a ``Warning`` dict (or None) naming the positions of those events in the request."""
    kept: list[LeadIn] = []
    warnings: list[dict[str, Any] | None] = []
    for lead in leads:
        early = _early_positions(lead)
        if not early:
            kept.append(lead)
            warnings.append(None)
            continue
        settled = set(early)
        if at_creation:
            events = [
                event.model_copy(update={"occurred_at": lead.created_at}) if j in settled else event
                for j, event in enumerate(lead.events)
            ]
            what = "were counted at it, as the import counted them (before_created = creation)"
        else:
            events = [event for j, event in enumerate(lead.events) if j not in settled]
            what = "were ignored"
        kept.append(lead.model_copy(update={"events": events}))
        listed = ", ".join(f"events[{j}]" for j in early[:MAX_LISTED])
        more = f" and {len(early) - MAX_LISTED} more" if len(early) > MAX_LISTED else ""
        warnings.append(
            {
                "code": "events_before_created_at",
                "message": f"{len(early)} event(s) before the lead's created_at {what}: {listed}{more}.",
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

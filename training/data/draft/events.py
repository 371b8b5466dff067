"""The ``[events]`` section of a drafted mapping: which column of an activity export links each row to a
lead, which holds its time and which its type, and whether it covers leads the leads file lacks."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from training.data.date_formats import EPOCH_UNITS
from training.data.draft.column_profile import ColumnProfile
from training.data.draft.event_kinds import EventKinds, event_kinds
from training.data.draft.hand_raising import hand_raising_values
from training.data.draft.links import linked
from training.data.draft.roles import id_like, personal, words

#: An event type column has at most this many distinct values.
MAX_EVENT_TYPES = 500

# Matched against names in words (``roles.words``): "ActivityType" -> "activity type".
_TIME_NAME = re.compile(r"date|time|when|occurred|timestamp|created|\bat$", re.I)
#: Names of an event type column, the surest first.
_TYPE_NAMES = (
    re.compile(r"^(activity |event |action |task )?type$", re.I),
    re.compile(r"\btype\b|\bkind\b", re.I),
    re.compile(r"activit|event|action|subject|channel", re.I),
)


@dataclass
class EventsDraft:
    """The events file's keys, as far as its values tell."""

    lead_id: str | None
    occurred_at: str | None
    event_type_column: str | None
    date_format: str | None
    rows: int
    #: rows whose lead id is not a lead of the leads file
    unknown: int
    todos: list[str] = field(default_factory=list)
    #: event type values read as hand-raises, onto the names the decision policy knows
    hand_raisers: dict[str, str] = field(default_factory=dict)
    #: the time column holds dates without times: a task on the lead's creation day reads as midnight
    dates_only: bool = False
    #: values the file writes for "no value" ("N/D", "-")
    missing: tuple[str, ...] = ()
    #: types to leave out and the detail typing (``training.data.draft.event_kinds``)
    kinds: EventKinds | None = None
    #: events before their lead's creation, of the events of known leads (``draft.early_events``)
    early: tuple[int, int] = (0, 0)


def decide_events(
    frame: pd.DataFrame, profiles: list[ColumnProfile], lead_ids: pd.Series | None
) -> EventsDraft:
    """The events section from the file's columns; ``lead_ids``: the leads file's ids (None: generated,
    so nothing can link to them)."""
    todos: list[str] = []
    link, unknown = linked(frame, profiles, lead_ids, "events", "events", todos)
    dates = [p for p in profiles if p.is_date]
    when = next((p for p in dates if _TIME_NAME.search(words(p.name))), dates[0] if dates else None)
    if when is None:
        todos.append("no column of the events file holds dates: set [events] occurred_at")
    elif when.date_ambiguous:
        todos.append(f"every date of {when.name!r} fits both day/month orders: set [events] date_format")
    # Never a person's name, an email or an id (Salesforce's WhoId / WhatId): a type has few values.
    kinds = [
        p
        for p in profiles
        if p.name not in (link, when.name if when else None)
        and not p.is_date
        and not p.is_number
        and 2 <= p.distinct <= MAX_EVENT_TYPES
        and p.at_share < 0.5
        and not personal(p.name)
        and not id_like(p.name)
    ]
    named = (next((p for p in kinds if pattern.search(words(p.name))), None) for pattern in _TYPE_NAMES)
    kind = next((p for p in named if p is not None), kinds[0] if kinds else None)
    if kind is None:
        todos.append(
            'no column holds an event type: set event_type_column, or event_type = "..." for one kind'
        )
    return EventsDraft(
        lead_id=link,
        occurred_at=None if when is None else when.name,
        event_type_column=None if kind is None else kind.name,
        date_format=None if when is None else when.date_order,
        rows=len(frame),
        unknown=unknown,
        todos=todos,
        hand_raisers={} if kind is None else hand_raising_values([value for value, _ in kind.top]),
        dates_only=when is not None and when.date_order not in EPOCH_UNITS and _dates_only(frame[when.name]),
        missing=tuple(sorted({marker for profile in profiles for marker in profile.markers})),
        kinds=None
        if kind is None
        else event_kinds(
            frame,
            profiles,
            kind.name,
            {name for name in (link, when.name if when else None) if name},
            hand_raising_values([value for value, _ in kind.top]),
        ),
    )


def _dates_only(values: pd.Series) -> bool:
    """Whether a text date column writes no time of day (Salesforce's task "Activity Date")."""
    if not pd.api.types.is_string_dtype(values.dtype) and values.dtype != object:
        return False
    text = values.dropna().astype("str").str.strip()
    text = text[text != ""]
    return len(text) > 0 and not text.str.contains(":").any()

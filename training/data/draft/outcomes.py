"""The ``[outcome]`` section of a drafted mapping when the outcome is a second file (deals, won
opportunities) joined to the leads by id: which column links, whether it says won / lost itself or is a
list of won deals, and when each was closed. Only the named columns of that file are ever read: its
other columns exist for closed deals only and would leak the outcome."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from training.data.draft.column_profile import ColumnProfile
from training.data.draft.fill_by_outcome import stage_outcomes
from training.data.draft.links import linked
from training.data.draft.roles import (
    CONVERTED,
    MAX_STAGES,
    MILESTONES,
    LeadsDraft,
    close_dates,
    outcome_value,
    words,
)

_STATUS_NAME = re.compile(r"status|stage|outcome|result|\bwon\b|\blost\b|closed", re.I)


@dataclass
class OutcomeFileDraft:
    """The outcome file's keys, as far as its values tell."""

    lead_id: str | None
    #: the column with the stages (None: every row is a won deal)
    status_column: str | None
    status_values: dict[str, str]
    closed_at: str | None
    #: a lost date beside the won one (``closed_at``), used where that is empty
    closed_at_fallback: str | None
    date_format: str | None
    rows: int
    #: rows whose lead id is no lead of the leads file
    unknown: int
    todos: list[str] = field(default_factory=list)
    #: share of the open rows that have a close date (an expected close: ``close_date_of_open``)
    open_with_close_date: float = 0.0
    #: milestone role -> a date column of the leads file that dates it (``milestones_from_leads``)
    from_leads: dict[str, str] = field(default_factory=dict)


def decide_outcome_file(
    frame: pd.DataFrame, profiles: list[ColumnProfile], lead_ids: pd.Series | None
) -> OutcomeFileDraft:
    todos: list[str] = []
    link, unknown = linked(frame, profiles, lead_ids, "outcome", "outcome rows", todos)
    stages = [
        p
        for p in profiles
        if p.name != link
        and 2 <= p.distinct <= MAX_STAGES
        and not p.is_date
        and _STATUS_NAME.search(words(p.name))
    ]
    status = stages[0] if stages else None
    values = {} if status is None else {value: outcome_value(value) for value, _ in status.top}
    dates = [p for p in profiles if p.is_date]
    # By the leads file's preference (a won date before a lost one); else the file's first date: a file
    # of won deals may call its close anything.
    closed_name, fallback = close_dates(dates)
    closed = next((p for p in dates if p.name == closed_name), dates[0] if dates else None)
    if closed is not None and closed.date_ambiguous:
        todos.append(f"every date of {closed.name!r} fits both day/month orders: set [outcome] date_format")
    return OutcomeFileDraft(
        lead_id=link,
        status_column=None if status is None else status.name,
        status_values={
            **{value: outcome for value, outcome in values.items() if value.lower() != outcome},
            # blank stages: deals nobody has moved yet, still open
            **({"": "open"} if status is not None and status.present < status.rows else {}),
        },
        closed_at=None if closed is None else closed.name,
        closed_at_fallback=fallback,
        date_format=None if closed is None else closed.date_order,
        rows=len(frame),
        unknown=unknown,
        todos=todos,
        open_with_close_date=0.0
        if status is None or closed is None
        else open_with_close_date(frame, status.name, values, closed.name),
    )


def open_with_close_date(frame: pd.DataFrame, status: str, values: dict[str, str], closed: str) -> float:
    """The share of the rows whose stage reads as open that have a close date: Salesforce keeps an
    expected close date on every open opportunity (0 where no row is open)."""
    is_open = stage_outcomes(frame[status], values) == "open"
    if not is_open.any():
        return 0.0
    dated = frame[closed].notna() & (frame[closed].astype("str").str.strip() != "")
    return float(dated[is_open].mean())


def milestones_from_leads(leads: LeadsDraft, lead_profiles: list[ColumnProfile]) -> dict[str, str]:
    """Milestone role -> the leads file's date column that dates it, where the outcome is a second file.

    The leads file's dates are then no outcome of its own (``decide_leads`` drops them), but a hand-over
    it records (an MQL date, a conversion: Salesforce's Converted Date, Zoho's Converted Date Time) is
    still the lead's: without it, the snapshots go on while sales works the lead, and the activity sales
    logs on it reads as the lead ripening. The import takes these columns per lead
    (``training.data.lead_milestones``)."""
    dropped = {role.column for role in leads.roles if role.role == "drop"}
    dates = [p for p in lead_profiles if p.is_date and p.name in dropped]
    found: dict[str, str] = {}
    for role, pattern in MILESTONES:
        named = [p.name for p in dates if p.name not in found.values() and pattern.search(words(p.name))]
        if role == "handed_over_at" and not named:
            named = [
                p.name for p in dates if p.name not in found.values() and CONVERTED.search(words(p.name))
            ]
        if named:
            found[role] = named[0]
    return found

"""Draft a mapping config from an export (``leadripe draft-mapping``): read the leads file (and an
activity file), decide each column's role from its values and name, and write a commented TOML that the
user reviews before ``leadripe import``. Nothing here is specific to any CRM.

A draft is a starting point, not an import: what the values cannot decide is left as a to-do that the
import refuses until the user settles it (the day/month order of ambiguous dates, the row order of an
export without dates), and columns that could leak the outcome or are personal data are kept out of
the features, with the reason written beside each.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from training.data.draft.column_profile import MOSTLY, ColumnProfile, profile_columns
from training.data.draft.events import EventsDraft, decide_events
from training.data.draft.outcomes import OutcomeFileDraft, decide_outcome_file
from training.data.draft.render import render_mapping
from training.data.draft.roles import ColumnRole, LeadsDraft, decide_leads
from training.data.io import read_table
from training.data.number_format import NumberFormat, NumberFormatError, to_plain_numbers
from training.data.report_footer import ReportFooterError

#: Profiles are read from at most this many rows (a random sample of larger files).
PROFILE_ROWS = 100_000

__all__ = ["MappingDraft", "draft_mapping"]


@dataclass(frozen=True)
class MappingDraft:
    """The drafted config's text, each leads column's role and what is left to the user."""

    text: str
    roles: list[ColumnRole]
    todos: list[str]
    events: EventsDraft | None
    outcome_file: OutcomeFileDraft | None = None


def draft_mapping(
    leads_path: Path,
    config_path: Path,
    *,
    events_path: Path | None = None,
    outcomes_path: Path | None = None,
    name: str | None = None,
    sheet: str | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
) -> MappingDraft:
    """Draft the mapping config that ``config_path`` will hold for the export at ``leads_path``."""
    try:
        leads_raw = read_table(leads_path, delimiter=delimiter, encoding=encoding or "utf-8", sheet=sheet)
        skip_footer = 0
    except ReportFooterError as footer:  # a report's footer: declared in the draft, with its reason
        skip_footer = footer.lines
        leads_raw = read_table(
            leads_path,
            delimiter=delimiter,
            encoding=encoding or "utf-8",
            sheet=sheet,
            skip_footer=skip_footer,
        )
    profiles = profile_columns(_sample(leads_raw))
    leads = decide_leads(profiles, outcome_in_file=outcomes_path is None)
    number_format = _section_numbers(profiles, leads)
    events = None
    if events_path is not None:
        events_raw = read_table(events_path, encoding=encoding or "utf-8", table="events")
        lead_id = leads.column("lead_id")
        events = decide_events(
            events_raw, profile_columns(_sample(events_raw)), None if lead_id is None else leads_raw[lead_id]
        )
    outcome_file = None
    if outcomes_path is not None:
        outcomes_raw = read_table(outcomes_path, encoding=encoding or "utf-8", table="outcomes")
        lead_id = leads.column("lead_id")
        outcome_file = decide_outcome_file(
            outcomes_raw,
            profile_columns(_sample(outcomes_raw)),
            None if lead_id is None else leads_raw[lead_id],
        )
    base = config_path.resolve().parent
    text = render_mapping(
        name or _name(leads_path),
        _relative(leads_path, base),
        leads,
        sheet=sheet,
        delimiter=delimiter,
        encoding=encoding,
        skip_footer=skip_footer,
        missing=[marker for profile in profiles for marker in profile.markers],
        number_format=number_format,
        events_file=None if events_path is None else _relative(events_path, base),
        events=events,
        outcome_file_path=None if outcomes_path is None else _relative(outcomes_path, base),
        outcome_file=outcome_file,
        source=", ".join(path.name for path in (leads_path, outcomes_path, events_path) if path is not None),
    )
    todos = [
        *leads.todos,
        *(outcome_file.todos if outcome_file is not None else []),
        *(events.todos if events is not None else []),
    ]
    return MappingDraft(text=text, roles=leads.roles, todos=todos, events=events, outcome_file=outcome_file)


def _sample(frame: pd.DataFrame) -> pd.DataFrame:
    return frame if len(frame) <= PROFILE_ROWS else frame.sample(PROFILE_ROWS, random_state=0)


def _section_numbers(profiles: list[ColumnProfile], leads: LeadsDraft) -> NumberFormat | None:
    """The number convention of the leads section: the one its numeric columns need most. A column it
    does not read becomes a to-do (the keys are per file, not per column)."""
    numeric = {*leads.columns("numeric"), *leads.columns("activity")}
    used = [p for p in profiles if p.name in numeric]
    for profile in used:
        if profile.number_ambiguous:
            leads.todos.append(
                f"the numbers of {profile.name!r} ({', '.join(profile.examples)}) read with a decimal "
                'comma and with commas between thousands: set decimal = "," or thousands = ","'
            )
    formats = [p.number_format for p in used if p.number_format is not None and not p.number_ambiguous]
    if not formats:
        return None
    # Decimal mark and thousands separator as most columns need them, with every column's units.
    marks = Counter((f.decimal, f.thousands) for f in formats if f.decimal != "." or f.thousands is not None)
    decimal, thousands = marks.most_common(1)[0][0] if marks else (".", None)
    units = tuple(dict.fromkeys(unit for f in formats for unit in f.units))
    chosen = NumberFormat(decimal, thousands, units)
    for profile in used:
        values = pd.Series([value for value, _ in profile.top], dtype=object)
        try:
            read = pd.to_numeric(to_plain_numbers(values, chosen, "draft"), errors="coerce").notna().mean()
        except NumberFormatError:
            read = 0.0
        if read < MOSTLY:
            leads.todos.append(
                f"{profile.name!r} writes numbers unlike the file's other numeric columns "
                f"({chosen.describe()}): clean it, or list it under categorical"
            )
    return chosen


def _name(path: Path) -> str:
    stem = "".join(c if c.isalnum() else "_" for c in path.stem.lower()).strip("_")
    return stem or "crm"


def _relative(path: Path, base: Path) -> str:
    return Path(os.path.relpath(path.resolve(), base)).as_posix()

"""Draft a mapping config from an export (``leadripe draft-mapping``): read the leads file (and an
activity file, an outcome file), decide each column's role from its values and name, and write a
commented TOML that the user reviews before ``leadripe import``. Nothing here is specific to any CRM.

A draft is a starting point, not an import: what the values cannot decide is left as a to-do, most as a
placeholder the import refuses until the user settles it (the day/month order of ambiguous dates, the
row order of an export without dates, which of two yes/no columns is the outcome), and columns that
could leak the outcome or are personal data are kept out of the features, with the reason written
beside each. Modules: ``sources`` (reading, footers, titles), ``column_profile`` (what the values
are), ``roles`` / ``fill_by_outcome`` / ``numbers`` / ``events`` / ``outcomes`` (the decisions),
``render`` (the TOML).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from training.data.draft.column_profile import profile_columns
from training.data.draft.early_events import early_share
from training.data.draft.events import EventsDraft, decide_events
from training.data.draft.fill_by_outcome import mark_filled_by_outcome, outcomes_of_leads
from training.data.draft.numbers import section_numbers
from training.data.draft.outcomes import (
    OutcomeFileDraft,
    decide_outcome_file,
    milestones_from_leads,
    open_with_close_date,
)
from training.data.draft.render import render_mapping
from training.data.draft.roles import OUTCOME_DATE_ROLES, ColumnRole, LeadsDraft, decide_leads
from training.data.draft.sources import read_export
from training.data.draft.time_zone import offset_columns, time_zone_line, time_zone_todo

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
    events_sheet: str | None = None,
    outcomes_sheet: str | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
) -> MappingDraft:
    """Draft the mapping config that ``config_path`` will hold for the export at ``leads_path``
    (``delimiter`` applies to the leads file; the other files' delimiters are sniffed)."""
    config_dir = config_path.resolve().parent
    leads_file = read_export(leads_path, config_dir, sheet=sheet, delimiter=delimiter, encoding=encoding)
    profiles = profile_columns(_sample(leads_file.frame))
    leads = decide_leads(profiles, outcome_in_file=outcomes_path is None)
    if events_path is not None:
        _drop_export_totals(leads)
    status, closed = leads.column("status"), leads.column("closed_at")
    if status is not None and closed is not None:
        leads.open_with_close_date = open_with_close_date(
            leads_file.frame, status, {**leads.status_values}, closed
        )
    markers = {marker for profile in profiles for marker in profile.markers}
    number_format = section_numbers(profiles, leads)
    lead_id = leads.column("lead_id")
    lead_ids = None if lead_id is None else leads_file.frame[lead_id]
    leads_dates = {role.column for role in leads.roles if role.role in _DATE_ROLES}
    with_offset, without = offset_columns(leads_file.frame, profiles, leads_dates)
    outcomes = None
    if outcomes_path is not None:
        outcomes_file = read_export(outcomes_path, config_dir, sheet=outcomes_sheet, encoding=encoding)
        frame, file_profiles = outcomes_file.frame, profile_columns(_sample(outcomes_file.frame))
        outcomes = (outcomes_file, decide_outcome_file(frame, file_profiles, lead_ids))
        outcomes[1].from_leads = milestones_from_leads(leads, profiles)
        link, stage = outcomes[1].lead_id, outcomes[1].status_column
        if lead_ids is not None and link is not None:
            # A field filled as the lead moves shows in the outcome file's stages just as well.
            of_leads = outcomes_of_leads(
                lead_ids, frame[link], None if stage is None else frame[stage], outcomes[1].status_values
            )
            mark_filled_by_outcome(leads_file.frame, leads, markers, of_leads)
        outcome_dates = {outcomes[1].closed_at, outcomes[1].closed_at_fallback}
        with_offset, without = _more(
            offset_columns(frame, file_profiles, outcome_dates), with_offset, without
        )
    else:
        mark_filled_by_outcome(leads_file.frame, leads, markers)
    events = None
    if events_path is not None:
        events_file = read_export(events_path, config_dir, sheet=events_sheet, encoding=encoding)
        frame, file_profiles = events_file.frame, profile_columns(_sample(events_file.frame))
        events = (events_file, decide_events(frame, file_profiles, lead_ids))
        created = leads.column("created_at")
        drafted = events[1]
        if lead_id is not None and created is not None and drafted.lead_id and drafted.occurred_at:
            drafted.early = early_share(
                leads_file.frame,
                lead_id,
                created,
                leads.date_formats.get(created),
                frame,
                drafted.lead_id,
                drafted.occurred_at,
                drafted.date_format,
            )
        event_dates = {events[1].occurred_at}
        with_offset, without = _more(offset_columns(frame, file_profiles, event_dates), with_offset, without)
    exports = [leads_file, *(item[0] for item in (outcomes, events) if item is not None)]
    todos = [
        *(
            f"{export.file} ends with {export.skip_footer} lines read as a report's footer "
            f"({export.footer[0][:50]!r}, ...): skip_footer leaves them out; set it to 0 if they are data"
            for export in exports
            if export.skip_footer
        ),
        *(
            f"{export.file}'s first row is a title ({export.title[:50]!r}): header_row = {export.header_row} "
            "reads the table below it; check that row is the header"
            for export in exports
            if export.header_row is not None
        ),
        *leads.todos,
        *filter(None, [time_zone_todo(with_offset, without)]),
        *(outcomes[1].todos if outcomes is not None else []),
        *(events[1].todos if events is not None else []),
    ]
    text = render_mapping(
        name or _name(leads_path),
        leads_file,
        leads,
        todos=todos,
        missing=sorted(markers),
        number_format=number_format,
        outcomes=outcomes,
        events=events,
        source=", ".join(path.name for path in (leads_path, outcomes_path, events_path) if path is not None),
        time_zone=time_zone_line(with_offset, without),
    )
    return MappingDraft(
        text=text,
        roles=leads.roles,
        todos=todos,
        events=None if events is None else events[1],
        outcome_file=None if outcomes is None else outcomes[1],
    )


#: The leads file's roles whose dates the import reads.
_DATE_ROLES = frozenset({"created_at", *OUTCOME_DATE_ROLES})


def _drop_export_totals(leads: LeadsDraft) -> None:
    """With an events file, the leads file's activity counts ("Number of Pageviews") are totals at export
    time: on every earlier snapshot they would count visits after it, the close included. The events give
    the same counts as of each snapshot."""
    leads.roles = [
        ColumnRole(
            role.column,
            "drop",
            "an activity total counted at export time: it includes activity after each snapshot (and after "
            "the close); the events file gives these counts as of each snapshot",
        )
        if role.role == "activity"
        else role
        for role in leads.roles
    ]


def _more(
    found: tuple[list[str], list[str]], with_offset: list[str], without: list[str]
) -> tuple[list[str], list[str]]:
    return [*with_offset, *found[0]], [*without, *found[1]]


def _sample(frame: pd.DataFrame) -> pd.DataFrame:
    return frame if len(frame) <= PROFILE_ROWS else frame.sample(PROFILE_ROWS, random_state=0)


def _name(path: Path) -> str:
    stem = "".join(c if c.isalnum() else "_" for c in path.stem.lower()).strip("_")
    return stem or "crm"

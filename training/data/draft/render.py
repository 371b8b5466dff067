"""A drafted mapping as TOML text: every decision beside its reason as a comment, and what is left for the
user at the top, so that reviewing the draft is reading it once."""

from __future__ import annotations

import json
from collections.abc import Iterable

from training.data.date_formats import EPOCH_UNITS
from training.data.draft.early_events import MIN_EARLY_SHARE
from training.data.draft.events import EventsDraft
from training.data.draft.outcomes import OutcomeFileDraft
from training.data.draft.roles import OUTCOME_DATE_ROLES, ColumnRole, LeadsDraft
from training.data.draft.sources import ExportFile
from training.data.mapping_sections import RESERVED_NAMES
from training.data.number_format import NumberFormat


def quoted(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text, ensure_ascii=False)


def render_mapping(
    name: str,
    leads_file: ExportFile,
    leads: LeadsDraft,
    *,
    todos: list[str],
    missing: Iterable[str],
    number_format: NumberFormat | None,
    outcomes: tuple[ExportFile, OutcomeFileDraft] | None,
    events: tuple[ExportFile, EventsDraft] | None,
    source: str,
    time_zone: str | None = None,
) -> str:
    """The config's text: the to-dos, then each section with every decision's reason beside it."""
    lines = [
        f"# Drafted by `leadripe draft-mapping` from {source}. Review every line before importing:",
        "# each column's role is the draft's reading of its values and name, with the reason beside it.",
        "# The mapping reference: data/mappings/README.md.",
        f"name = {quoted(name)}",
        *([time_zone] if time_zone else []),
    ]
    if todos:
        lines += ["", "# TO DO before importing (a 'TO DO' placeholder or an undeclared order is refused):"]
        lines += [f"#   - {todo}" for todo in todos]
    lines += ["", "[leads]", *_file_keys(leads_file)]
    lead_id = leads.column("lead_id")
    lines.append(
        f"lead_id = {quoted(lead_id)}"
        if lead_id
        else 'lead_id = { generate = "row_number", prefix = "lead-" }   # no column is unique per row'
    )
    created = leads.column("created_at")
    if created:
        lines.append(f"created_at = {quoted(created)}")
    else:
        lines.append('# row_order = "oldest_first"   # TO DO: or "newest_first"; how is the file sorted?')
    created_format = {k: v for k, v in leads.date_formats.items() if k == created}
    if created_format:
        notes = {_format_note(order) for order in created_format.values()}
        lines.append(f"date_formats = {_inline(created_format)}   # {'; '.join(sorted(notes))}")
    for role in ("categorical", "numeric", "activity", "drop"):
        lines += _listed(role, [r for r in leads.roles if r.role == role])
    # A profile column named like a contract column ("status" beside the outcome) gets another name.
    taken = {r.column for r in leads.roles}
    reserved = {
        r.column: _free_name(f"{r.column}_attribute", taken)
        for r in leads.roles
        if r.role in ("categorical", "numeric", "activity") and r.column in RESERVED_NAMES
    }
    if reserved:
        lines.append(f"rename = {_inline(reserved)}   # the data contract reserves these names")
    after_contact = {r.column: r.known_at for r in leads.roles if r.known_at}
    if after_contact:
        lines.append(
            f"known_at = {_inline(after_contact)}   # set as the lead is worked (by sales or the CRM): "
            "audited, never features"
        )
    markers = sorted(set(missing))
    if markers:
        lines.append(_missing(markers))
    lines += _number_keys(number_format)
    lines += _outcome(leads) if outcomes is None else _outcome_file(*outcomes, leads.date_formats)
    if events is not None:
        lines += _events(*events)
    return "\n".join(lines) + "\n"


def _file_keys(export: ExportFile) -> list[str]:
    """``file`` and the keys beside it that reading the file needs."""
    keys = [f"file = {quoted(export.file)}"]
    if export.sheet is not None:
        keys.append(f"sheet = {quoted(export.sheet)}")
    if export.delimiter is not None:
        keys.append(f"delimiter = {quoted(export.delimiter)}")
    if export.encoding is not None:
        keys.append(f"encoding = {quoted(export.encoding)}")
    if export.header_row is not None:
        keys.append(f"header_row = {export.header_row}   # below the title {export.title[:50]!r}")
    if export.skip_footer:
        first = export.footer[0][:50] if export.footer else ""
        keys.append(
            f"skip_footer = {export.skip_footer}   # a report's footer, from {first!r}: check it is no data"
        )
    return keys


def _listed(key: str, roles: list[ColumnRole]) -> list[str]:
    if not roles:
        return [f"{key} = []"]
    width = max(len(quoted(r.column)) for r in roles) + 1
    return [f"{key} = [", *(f"    {(quoted(r.column) + ','):<{width}}   # {r.why}" for r in roles), "]"]


def _number_keys(number_format: NumberFormat | None) -> list[str]:
    if number_format is None:
        return []
    keys = []
    if number_format.decimal != ".":
        keys.append(f"decimal = {quoted(number_format.decimal)}")
    if number_format.thousands is not None:
        keys.append(f"thousands = {quoted(number_format.thousands)}")
    if number_format.units:
        keys.append(f"units = [{', '.join(quoted(u) for u in number_format.units)}]")
    return [*keys[:-1], f"{keys[-1]}   # how the file writes its numbers"] if keys else []


def _outcome(leads: LeadsDraft) -> list[str]:
    lines = ["", "[outcome]"]
    status = leads.column("status")
    if status is None:
        lines.append('status_column = "TO DO"   # the column saying won / lost / open')
    else:
        lines.append(f"status_column = {quoted(status)}")
    for role in OUTCOME_DATE_ROLES:
        column = leads.column(role)
        if column:
            lines.append(f"{role} = {quoted(column)}")
    lines += _expected_closes(leads.open_with_close_date)
    outcome_dates = {leads.column(role) for role in OUTCOME_DATE_ROLES}
    formats = {k: v for k, v in leads.date_formats.items() if k in outcome_dates}
    if formats:
        lines.append(f"date_formats = {_inline(formats)}")
    if leads.status_values:
        lines += ["", "[outcome.status_values]   # every stage before the close is open: check each line"]
        lines += [
            f"{quoted(value)} = {quoted(outcome)}"
            + ("   # blank: no stage recorded yet" if value == "" else "")
            for value, outcome in leads.status_values.items()
        ]
    return lines


def _expected_closes(share: float) -> list[str]:
    """``close_date_of_open = "ignore"`` where most open leads have a close date: an expected close."""
    if share < 0.5:
        return []
    return [
        f'close_date_of_open = "ignore"   # {share:.0%} of the open leads have a close date: an expected '
        "close (Salesforce keeps one on every open opportunity), not a close"
    ]


def _outcome_file(export: ExportFile, outcome: OutcomeFileDraft, leads_orders: dict[str, str]) -> list[str]:
    lines = [
        "",
        "[outcome]   # only the columns named here are read: the file's others exist for closed deals only",
        *_file_keys(export),
        f"lead_id = {quoted(outcome.lead_id)}" if outcome.lead_id else 'lead_id = "TO DO"',
    ]
    if outcome.status_column is None:
        lines.append('status = "won"   # every row is a won deal (no stage column): check')
    else:
        lines.append(f"status_column = {quoted(outcome.status_column)}")
    if outcome.closed_at:
        lines.append(f"closed_at = {quoted(outcome.closed_at)}")
    if outcome.closed_at_fallback:
        lines.append(
            f"closed_at_fallback = {quoted(outcome.closed_at_fallback)}   # the close date where "
            "closed_at is empty"
        )
    lines += _expected_closes(outcome.open_with_close_date)
    for role, column in outcome.from_leads.items():
        lines.append(f"{role} = {quoted(column)}   # from the leads file (the outcome file has no such date)")
    if outcome.date_format:
        lines.append(f"date_format = {quoted(outcome.date_format)}   # {_format_note(outcome.date_format)}")
    # A leads-file milestone is read in this section's date formats: give its own where it has one.
    orders = {
        column: leads_orders[column] for column in outcome.from_leads.values() if column in leads_orders
    }
    differing = {column: order for column, order in orders.items() if order != outcome.date_format}
    if differing:
        lines.append(f"date_formats = {_inline(differing)}")
    lines.append('absent = "open"   # leads not in the file had not been won when it was exported')
    if outcome.unknown:
        lines.append(
            f'unknown_leads = "skip"   # {outcome.unknown:,} of {outcome.rows:,} rows: unknown leads'
        )
    if outcome.status_values:
        lines += ["", "[outcome.status_values]   # every stage before the close is open: check each line"]
        lines += [f"{quoted(value)} = {quoted(result)}" for value, result in outcome.status_values.items()]
    return lines


def _events(export: ExportFile, events: EventsDraft) -> list[str]:
    lines = ["", "[events]", *_file_keys(export)]
    lines.append(f"lead_id = {quoted(events.lead_id)}" if events.lead_id else 'lead_id = "TO DO"')
    lines.append(
        f"occurred_at = {quoted(events.occurred_at)}" if events.occurred_at else 'occurred_at = "TO DO"'
    )
    if events.date_format:
        lines.append(f"date_format = {quoted(events.date_format)}   # {_format_note(events.date_format)}")
    if events.event_type_column:
        lines.append(f"event_type_column = {quoted(events.event_type_column)}")
        if events.hand_raisers:
            lines.append(
                f"event_type_values = {_inline(events.hand_raisers)}   # read as the prospect asking for "
                "contact: the names the decision policy's hand-raising events go by; check"
            )
    else:
        lines.append('event_type_column = "TO DO"   # the column of the event types, or event_type = "..."')
    kinds = events.kinds
    if kinds is not None and kinds.skip:
        lines.append("skip_types = [   # left out of the import (and ignored by the API): check each line")
        lines += [f"    {quoted(value)},   # {why}" for value, why in kinds.skip.items()]
        lines.append("]")
    if kinds is not None and kinds.detail_column:
        lines.append(
            f"detail_column = {quoted(kinds.detail_column)}   # its text types a generic event by the "
            "[events.detail_types] below"
        )
    if events.unknown:
        lines.append(f'unknown_leads = "skip"   # {events.unknown:,} of {events.rows:,} rows: unknown leads')
    if events.missing:
        lines.append(_missing(events.missing))
    early, linked = events.early
    if events.dates_only:
        # A date without a time reads as midnight: a task on the creation day would land before the lead.
        lines.append(
            'before_created = "creation"   # the file has dates without times: a task on the day a lead was '
            "created reads as midnight, before it; counted at the creation"
        )
    elif linked and early / linked > MIN_EARLY_SHARE:
        lines.append(
            f'before_created = "creation"   # {early:,} of {linked:,} events ({early / linked:.1%}) are '
            "dated before their lead's creation (the visits a CRM ties to the contact they led to): "
            'counted at it; "reject" refuses them, "skip" leaves them out'
        )
    else:
        lines.append(
            '# before_created = "creation"   # events before their lead\'s creation (visits a CRM ties to '
            'the contact they led to): "reject" (default), "creation" (counted at it) or "skip"'
        )
    if kinds is not None and kinds.detail_types:
        lines += ["", "[events.detail_types]   # 'type | detail' pattern -> event type; the first match wins"]
        lines += [f"{quoted(key)} = {quoted(name)}" for key, name in kinds.detail_types.items()]
    return lines


def _free_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name_2``, ``name_3``, ... when a column of the file already has it."""
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        candidate = f"{name}_{number}"
    taken.add(candidate)
    return candidate


def _inline(table: dict[str, str]) -> str:
    return "{ " + ", ".join(f"{quoted(k)} = {quoted(v)}" for k, v in table.items()) + " }"


def _format_note(date_format: str) -> str:
    """Why the draft declares ``date_format``: the order the values show, or Unix times."""
    if date_format in EPOCH_UNITS:
        return "the values are Unix times (whole numbers of seconds or milliseconds since 1970, UTC)"
    return "the values show the day/month order"


def _missing(markers: Iterable[str]) -> str:
    """A file section's ``missing`` line."""
    return f"missing = [{', '.join(map(quoted, markers))}]   # written for 'no value' in the file"

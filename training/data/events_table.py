"""The events table of an export: the ``[events]`` section's columns as the contract's, still strings.

Types are refined by the detail column's patterns and renamed by ``event_type_values`` here; the types
in ``skip_types`` are left out afterwards by ``without_skipped_types`` (counted, as the rows of unknown
leads are), so that rows skipped never reach validation.
"""

from __future__ import annotations

import pandas as pd

from training.data.contract import EVENT_TYPE, LEAD_ID, OCCURRED_AT
from training.data.date_formats import EPOCH_UNITS
from training.data.event_types import refined_types, skipped
from training.data.events_config import EventsMapping
from training.data.mapping_columns import as_text, clean_columns, require_all, require_columns, section_dates
from training.data.mapping_config import MappingConfig


def events_table(
    config: MappingConfig, events: EventsMapping, raw: pd.DataFrame, warnings: list[str]
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The events file's ``raw`` rows as the contract's columns (lead, time, type and the ``extra`` ones),
    types refined and renamed, and which export column each came from; notes go to ``warnings``."""
    file = events.source.file
    require_columns(
        config,
        "events",
        file,
        raw,
        {
            "lead_id": events.lead_id,
            "occurred_at": events.occurred_at,
            "event_type_column": events.event_type_column,
        },
    )
    require_all(config, "events", file, raw, "extra", events.extra)
    if events.detail_column is not None:
        require_columns(config, "events", file, raw, {"detail_column": events.detail_column})
    used = [
        events.lead_id,
        events.occurred_at,
        *([events.event_type_column] if events.event_type_column else []),
        *([events.detail_column] if events.detail_column else []),
    ]
    cleaned = clean_columns(config, "events", file, raw, [*used, *events.extra], events.rules, warnings)
    table = pd.DataFrame(
        {
            LEAD_ID: cleaned[events.lead_id],
            OCCURRED_AT: section_dates(
                config, "events", events, file, events.occurred_at, cleaned[events.occurred_at], warnings
            ),
        },
        index=raw.index,
    )
    original = {LEAD_ID: events.lead_id, OCCURRED_AT: events.occurred_at}
    if events.event_type_column is not None:
        exported = as_text(cleaned[events.event_type_column])
        event_types = exported.replace(events.event_type_values) if events.event_type_values else exported
        if events.detail_column is not None:
            refined = refined_types(exported, as_text(cleaned[events.detail_column]), events.type_rules())
            event_types = event_types.where(refined.isna(), refined)
            _count_refined(refined, file, events.detail_column, warnings)
        table[EVENT_TYPE] = event_types
        original[EVENT_TYPE] = events.event_type_column
    else:
        table[EVENT_TYPE] = str(events.event_type)
    for column in events.extra:
        name = events.rename.get(column, column)
        table[name] = cleaned[column]
        if name != column:
            original[name] = column
    repeated = int(table.duplicated(keep="first").sum())
    if repeated:
        # Kept: two identical rows can be two real events logged in the same second; a sync that wrote
        # every row twice doubles every count, which the user must hear about.
        times = cleaned[events.occurred_at].dropna().astype("str")
        unix = events.format_of(events.occurred_at) in EPOCH_UNITS  # numbers, with times to the second
        dated = len(times) > 0 and not unix and not times.str.contains(":").any()  # dates without times
        note = " (the file has dates without times: two calls on one day look alike)" if dated else ""
        warnings.append(
            f"{repeated:,} of {len(table):,} rows of {file} repeat an earlier row exactly (same lead, "
            f"{'day' if dated else 'time'}, type and fields); they are kept as separate events{note}: if the "
            "export duplicated them, remove the copies"
        )
    return table, original


def _count_refined(refined: pd.Series, file: str, column: str, warnings: list[str]) -> None:
    """Say how many rows the detail patterns typed, by type: a pattern that matches nothing is a typo."""
    counts = refined.dropna().value_counts()
    if counts.empty:
        warnings.append(f"no row of {file} matched [events.detail_types] on {column!r}: check the patterns")
        return
    shown = ", ".join(f"{name} ({count:,})" for name, count in counts.head(8).items())
    typed = int(counts.sum())
    warnings.append(f"{typed:,} rows of {file} typed by {column!r} ([events.detail_types]): {shown}")


def without_skipped_types(
    events: pd.DataFrame, mapping: EventsMapping, file: str, warnings: list[str]
) -> pd.DataFrame:
    """``events`` without the rows of ``skip_types``, with a warning counting them by type, and one naming
    the ``skip_types`` no row has (a typo, or a type the export does not log)."""
    if not mapping.skip_types:
        return events
    types = events[EVENT_TYPE]
    present = set(types.dropna().unique())
    renames = mapping.event_type_values
    absent = [name for name in mapping.skip_types if name not in present and renames.get(name) not in present]
    if absent:
        listed = ", ".join(repr(name) for name in absent)
        warnings.append(f"[events] skip_types names types no row of {file} has: {listed}; check the names")
    left_out = skipped(types, mapping.skip_types, renames).to_numpy(dtype=bool)
    if not left_out.any():
        return events
    counts = events.loc[left_out, EVENT_TYPE].value_counts()
    shown = ", ".join(f"{name} ({count:,})" for name, count in counts.head(8).items())
    warnings.append(
        f"{int(left_out.sum()):,} of {len(events):,} rows of {file} left out by [events] skip_types: {shown}"
    )
    return events.loc[~left_out]

"""Apply a mapping config to the raw export: read its files and shape them into the contract's raw tables.

The result still holds strings (validation parses and checks them) and keeps each frame's index as
the 1-based data row number of its source file, so that every problem found later can name the file
and row the user has open. ``original_columns`` remembers, per file, which source column each
output column came from, so that problems can name the export's column rather than ours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from training.data.contract import (
    CLOSED_AT,
    CREATED_AT,
    LEAD_ID,
    PROFILE_HISTORY,
    ROW_ORDER,
    STATUS,
)
from training.data.date_order import AmbiguousDatesError, with_fallback, without_open_close_dates
from training.data.early_events import settle_early_events
from training.data.events_table import events_table, without_skipped_types
from training.data.joins import JoinSummary, join_lookup
from training.data.lead_milestones import (
    absent_outcomes,
    milestone_columns_of_leads,
    milestones_in_leads,
    with_lead_milestones,
)
from training.data.mapping_columns import (
    as_text,
    clean_columns,
    id_text,
    read_source,
    require_all,
    require_columns,
    section_dates,
    section_numbers,
)
from training.data.mapping_config import (
    MappingConfig,
    MappingConfigError,
    OutcomeMapping,
)
from training.data.mapping_history import history_table
from training.data.number_format import NumberFormatError
from training.data.row_order import RowOrderError, row_positions
from training.data.unknown_leads import without_unknown_leads


@dataclass
class RawTables:
    """The export shaped like the contract's tables, still unvalidated strings.

    ``outcomes`` is ``None`` when the outcome columns are columns of ``leads`` (one file). Outcome
    rows that the mapping adds for leads absent from a joined outcome file (``absent = "open"``) have
    row numbers <= 0: they are in no file, and ``training.data.mapping`` keeps them out of messages.
    """

    leads: pd.DataFrame
    outcomes: pd.DataFrame | None
    events: pd.DataFrame | None
    #: Table name -> the file it came from, as written in the config (for messages).
    files: dict[str, str]
    #: File -> {output column: source column}, for the columns whose names differ.
    original_columns: dict[str, dict[str, str]]
    #: File -> the frame as read, to quote a rejected row as the user's file has it.
    raw_frames: dict[str, pd.DataFrame]
    warnings: list[str] = field(default_factory=list)
    #: How each lookup table of ``[[joins]]`` matched the leads.
    joins: list[JoinSummary] = field(default_factory=list)
    #: The field-history export as the contract's profile history table (``None``: none mapped).
    profile_history: pd.DataFrame | None = None

    #: Rows of a file left out on purpose before validation (events of unknown leads), per file
    rows_skipped: dict[str, int] = field(default_factory=dict)

    @property
    def rows_read(self) -> dict[str, int]:
        """Data rows read per source file."""
        return {file: len(frame) for file, frame in self.raw_frames.items()}

    @property
    def rows_validated(self) -> dict[str, int]:
        """Data rows per source file that validation judged: read, less those skipped on purpose."""
        return {file: rows - self.rows_skipped.get(file, 0) for file, rows in self.rows_read.items()}


def build_raw_tables(
    config: MappingConfig, data_root: Path | None = None, *, encoding: str | None = None
) -> RawTables:
    """Read every file the config names and map it onto the contract's column names (no validation).

    ``encoding`` (e.g. from ``--encoding``) wins over the encodings the config gives its files."""
    try:
        return _build_raw_tables(config, data_root, encoding)
    # The data contradicts (or needs) a setting.
    except (AmbiguousDatesError, NumberFormatError, RowOrderError) as error:
        raise MappingConfigError(str(error)) from None


def _build_raw_tables(config: MappingConfig, data_root: Path | None, encoding: str | None) -> RawTables:
    root = Path(data_root) if data_root is not None else config.root
    warnings: list[str] = []
    leads_file = config.leads.source.file
    leads_raw = read_source(config, "leads", config.leads.source, root, encoding)
    leads, lead_columns, join_keys = _leads_table(config, leads_raw, warnings)
    files = {"leads": leads_file}
    raw_frames = {leads_file: leads_raw}
    joins = []
    for index in range(len(config.joins)):
        joined = join_lookup(config, index, join_keys, root, encoding, warnings)
        leads = pd.concat([leads, joined.columns], axis=1)
        lead_columns.update(joined.original)
        raw_frames.setdefault(joined.summary.file, joined.raw)
        joins.append(joined.summary)
    original_columns = {leads_file: lead_columns}

    outcome = config.outcome
    outcomes: pd.DataFrame | None
    rows_skipped: dict[str, int] = {}
    if outcome.source is None:
        embedded, outcome_columns = _outcome_table(config, outcome, leads_raw, leads[LEAD_ID], warnings)
        leads = pd.concat([leads, embedded.drop(columns=LEAD_ID)], axis=1)
        lead_columns.update(outcome_columns)
        outcomes = None
    else:
        outcome_file = outcome.source.file
        outcome_raw = read_source(config, "outcome", outcome.source, root, encoding)
        require_columns(config, "outcome", outcome_file, outcome_raw, {"lead_id": outcome.lead_id})
        lead_ids = outcome_raw[str(outcome.lead_id)]
        from_leads = milestones_in_leads(outcome, outcome_raw, leads_raw)
        outcomes, outcome_columns = _outcome_table(
            config, outcome, outcome_raw, lead_ids, warnings, set(from_leads)
        )
        outcome_columns[LEAD_ID] = str(outcome.lead_id)
        if outcome.unknown_leads == "skip":
            kept = without_unknown_leads(
                outcomes, leads[LEAD_ID], outcome_file, leads_file, "outcomes", warnings
            )
            rows_skipped[outcome_file] = len(outcomes) - len(kept)
            outcomes = kept
        outcomes = absent_outcomes(outcomes, leads[LEAD_ID], str(outcome.absent))
        outcomes = with_lead_milestones(config, outcomes, from_leads, leads_raw, leads[LEAD_ID], warnings)
        unmatched = int((~id_text(lead_ids).isin(id_text(leads[LEAD_ID]))).sum())
        if unmatched and outcome.unknown_leads != "skip":
            warnings.append(
                f"{unmatched:,} of {len(outcome_raw):,} rows of {outcome_file} match no lead of {leads_file}"
            )
        files["outcomes"] = outcome_file
        raw_frames[outcome_file] = outcome_raw
        original_columns.setdefault(outcome_file, {}).update(outcome_columns)

    events = None
    if config.events is not None:
        events_file = config.events.source.file
        events_raw = read_source(config, "events", config.events.source, root, encoding)
        events, event_columns = events_table(config, config.events, events_raw, warnings)
        kept = without_skipped_types(events, config.events, events_file, warnings)
        rows_skipped[events_file] = len(events) - len(kept)
        events = kept
        if config.events.unknown_leads == "skip":
            kept = without_unknown_leads(events, leads[LEAD_ID], events_file, leads_file, "events", warnings)
            rows_skipped[events_file] += len(events) - len(kept)
            events = kept
        settled = settle_early_events(
            events, leads, config.events.before_created, events_file, leads_file, warnings
        )
        rows_skipped[events_file] = rows_skipped.get(events_file, 0) + len(events) - len(settled)
        events = settled
        files["events"] = events_file
        raw_frames[events_file] = events_raw
        original_columns.setdefault(events_file, {}).update(event_columns)
    history = None
    if config.profile_history is not None:
        history_file = config.profile_history.file
        history, history_columns, history_raw = history_table(config, root, encoding, warnings)
        files[PROFILE_HISTORY] = history_file
        raw_frames[history_file] = history_raw
        original_columns.setdefault(history_file, {}).update(history_columns)
    return RawTables(
        leads, outcomes, events, files, original_columns, raw_frames, warnings, joins, history, rows_skipped
    )


def _leads_table(
    config: MappingConfig, raw: pd.DataFrame, warnings: list[str]
) -> tuple[pd.DataFrame, dict[str, str], pd.DataFrame]:
    """The leads table, the export's name of each renamed column, and the join key columns (cleaned)."""
    leads = config.leads
    file = leads.source.file
    require_columns(
        config,
        "leads",
        file,
        raw,
        {
            "lead_id": leads.lead_id,
            "created_at": leads.created_at,
            "created_at_fallback": leads.created_at_fallback,
            "sequence_column": leads.sequence_column,
        },
    )
    for key, columns in (
        ("categorical", leads.categorical),
        ("numeric", leads.numeric),
        ("activity", leads.activity),
        ("drop", leads.drop),
    ):
        require_all(config, "leads", file, raw, key, columns)
    for index, join in enumerate(config.joins):
        require_columns(config, f"joins.{index}", file, raw, {"on": join.on})
    profile = list(dict.fromkeys([*leads.categorical, *leads.numeric, *leads.activity]))
    outcome = config.outcome
    outcome_columns = [outcome.status_column, *outcome.date_columns()] if outcome.source is None else []
    leaking = sorted(set(profile) & {column for column in outcome_columns if column is not None})
    if leaking:
        raise MappingConfigError(
            f"{config.path}: key 'leads': outcome columns {leaking} may not also be profile attributes"
        )
    time_axis = [leads.created_at, leads.created_at_fallback, leads.sequence_column]
    join_keys = [join.on for join in config.joins]
    milestones = milestone_columns_of_leads(config, raw)  # dates a separate outcome file takes from here
    accounted = {leads.lead_id, *time_axis, *profile, *leads.drop, *outcome_columns, *join_keys, *milestones}
    accounted -= {None}
    others = [str(column) for column in raw.columns if column not in accounted]
    if others and leads.other_columns == "error":
        raise MappingConfigError(
            f"{config.path}: key 'leads': columns {others} of {file} are not mentioned; list each under "
            'categorical, numeric, activity or drop (or set other_columns = "drop")'
        )
    if others:
        warnings.append(f"dropped columns of {file} the mapping does not mention: {others}")

    timestamp_columns = [leads.created_at] if leads.created_at else []
    if leads.created_at_fallback is not None:
        timestamp_columns.append(leads.created_at_fallback)
    cleaned = clean_columns(
        config,
        "leads",
        file,
        raw,
        list(
            dict.fromkeys(
                [*timestamp_columns, *profile, *([leads.lead_id] if leads.lead_id else []), *join_keys]
            )
        ),
        leads.rules,
        warnings,
    )
    section_numbers(config, "leads", leads, file, cleaned, [*leads.numeric, *leads.activity])
    table = pd.DataFrame(index=raw.index)
    original: dict[str, str] = {}
    if leads.lead_id is None:
        table[LEAD_ID] = leads.lead_id_prefix + raw.index.astype(str)
    else:
        table[LEAD_ID] = cleaned[leads.lead_id]
        original[LEAD_ID] = leads.lead_id
    if leads.created_at is not None:
        created = section_dates(
            config, "leads", leads, file, leads.created_at, cleaned[leads.created_at], warnings
        )
        fallback = leads.created_at_fallback
        if fallback is not None:  # each column in its own declared format, then merged
            fallback_dates = section_dates(
                config, "leads", leads, file, fallback, cleaned[fallback], warnings
            )
            created = with_fallback(created, fallback_dates, file, warnings)
        table[CREATED_AT] = created
        original[CREATED_AT] = leads.created_at
    else:
        table[ROW_ORDER] = row_positions(raw, leads.row_order, leads.sequence_column, str(config.path), file)
    for column in profile:
        name = leads.rename.get(column, column)
        table[name] = cleaned[column]
        if name != column:
            original[name] = column
    return table, original, cleaned[list(dict.fromkeys(join_keys))]


def _outcome_table(
    config: MappingConfig,
    outcome: OutcomeMapping,
    raw: pd.DataFrame,
    lead_ids: pd.Series,
    warnings: list[str],
    from_leads: set[str] | None = None,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """``from_leads``: milestone keys whose dates the leads file gives (``training.data.lead_milestones``)."""
    file = outcome.source.file if outcome.source is not None else config.leads.source.file
    timestamps = {
        key: column for key, column in outcome.outcome_dates().items() if key not in (from_leads or ())
    }
    fallback = outcome.closed_at_fallback
    require_columns(
        config,
        "outcome",
        file,
        raw,
        {"status_column": outcome.status_column, **timestamps, "closed_at_fallback": fallback},
    )
    used = [c for c in [outcome.status_column, *timestamps.values(), fallback] if c is not None]
    cleaned = clean_columns(config, "outcome", file, raw, used, outcome.rules, warnings)
    table = pd.DataFrame({LEAD_ID: lead_ids}, index=raw.index)
    original: dict[str, str] = {}
    if outcome.status_column is not None:
        status = as_text(cleaned[outcome.status_column])
        if "" in outcome.status_values:  # a blank stage: a lead nobody has moved yet
            status = status.fillna(outcome.status_values[""])
        if outcome.status_values:
            never_seen = sorted(set(outcome.status_values) - set(status.unique()) - {""})
            if never_seen:
                warnings.append(
                    f"outcome.status_values: {never_seen} never occur in column "
                    f"{outcome.status_column!r} of {file}"
                )
            status = status.replace(outcome.status_values)
        table[STATUS] = status
        original[STATUS] = outcome.status_column
    else:
        table[STATUS] = str(outcome.status)
    for name, column in timestamps.items():
        table[name] = section_dates(config, "outcome", outcome, file, column, cleaned[column], warnings)
        original[name] = column
    if fallback is not None:  # each column in its own declared format, then merged, for closed leads
        dates = section_dates(config, "outcome", outcome, file, fallback, cleaned[fallback], warnings)
        # Only a won or lost lead closed: an open lead's "Modified On" is no close date.
        closed_lead = table[STATUS].astype("str").str.strip().str.lower().isin(["won", "lost"])
        primary = table[CLOSED_AT].rename(outcome.closed_at)
        table[CLOSED_AT] = with_fallback(primary, dates.where(closed_lead), file, warnings)
    if outcome.close_date_of_open == "ignore":
        closed = table[CLOSED_AT].rename(outcome.closed_at)
        table[CLOSED_AT] = without_open_close_dates(table[STATUS], closed, file, warnings)
    return table, original

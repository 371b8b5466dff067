"""The checks of the data contract, table by table: whole-table problems (errors in both modes) and
row-level findings (leads, outcomes, events), all vectorised. Internal to ``training.data``."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import numpy as np
import pandas as pd

from training.data.contract import (
    CLOSED_AT,
    CREATED_AT,
    EVENT_REQUIRED,
    EVENT_TYPE,
    HANDED_OVER_AT,
    LEAD_ID,
    OCCURRED_AT,
    OUTCOME_REQUIRED,
    OUTCOME_TIMESTAMPS,
    ROW_ORDER,
    STATUS,
    TARGET_DATES,
    DatasetMetadata,
    Outcome,
    TimeBasis,
)
from training.data.date_order import timestamp_problem
from training.data.findings import (
    Bounds,
    Describe,
    EventColumns,
    Findings,
    IdIndex,
    LeadColumns,
    OutcomeColumns,
    Source,
    as_bool,
    same_for_all,
    values_at,
)
from training.data.number_format import number_problem
from training.data.parsing import (
    STATUSES,
    TIMESTAMP_DTYPE,
    UNIX_EPOCH,
    as_text,
    implausible,
    looks_numeric,
    parse_numbers,
    parse_timestamps,
    show,
    take,
    to_category,
)
from training.data.problems import Problem


def table_problems(
    leads: Source, events: Source, outcomes: Source, embedded: bool, metadata: DatasetMetadata
) -> list[Problem]:
    """Problems that make a whole table unusable; errors in both modes."""
    problems: list[Problem] = []

    def require(source: Source, columns: Iterable[str], hint: str = "") -> None:
        problems.extend(
            Problem(source.file, None, column, f"required column '{column}' is missing{hint}")
            for column in columns
            if column not in source.raw.columns
        )

    if len(leads) == 0:
        problems.append(Problem(leads.file, None, None, "the leads table has no rows"))
    require(leads, [LEAD_ID])
    if metadata.time_basis == TimeBasis.TIMESTAMPS:
        require(
            leads, [CREATED_AT], " (for data without timestamps set the dataset's time_basis to 'row_order')"
        )
    declared = [*metadata.categorical_columns, *metadata.numeric_columns, *metadata.activity_columns]
    problems.extend(
        Problem(leads.file, None, column, f"column '{column}' is listed in the dataset metadata but missing")
        for column in dict.fromkeys(declared)
        if column not in leads.raw.columns
    )
    if embedded:
        if STATUS not in leads.raw.columns:
            problems.append(
                Problem(
                    leads.file,
                    None,
                    STATUS,
                    f"there is no outcomes table and the leads table has no '{STATUS}' column "
                    f"({' / '.join(STATUSES)} per lead)",
                )
            )
    else:
        require(outcomes, OUTCOME_REQUIRED)
        if len(outcomes) == 0 and len(leads) > 0:
            problems.append(Problem(outcomes.file, None, None, "the outcomes table has no rows"))
        problems.extend(
            Problem(
                leads.file,
                None,
                column,
                f"outcome column '{column}' is in the leads table but outcomes come from {outcomes.file}; "
                "keep it in one place",
            )
            for column in (STATUS, *OUTCOME_TIMESTAMPS, *TARGET_DATES)
            if column in leads.raw.columns
        )
    if len(events) > 0:
        require(events, EVENT_REQUIRED)
        if metadata.time_basis == TimeBasis.ROW_ORDER:
            problems.append(
                Problem(events.file, None, None, "a row_order dataset (no timestamps) cannot have events")
            )
    return problems


def _check_timestamp_column(
    source: Source, column: str, bounds: Bounds, findings: Findings, *, required: bool
) -> pd.Series:
    """Parse and check one timestamp column; returns UTC timestamps, NaT where missing or bad."""
    raw = source.raw[column]
    values, bad = parse_timestamps(raw)
    findings.add(
        source.key,
        bad,
        column,
        lambda pos: [timestamp_problem(v) for v in values_at(raw, pos)],
    )
    if required:
        findings.add(source.key, values.isna().to_numpy() & ~bad, column, same_for_all(f"missing {column}"))
    early = implausible(values)
    late = as_bool(values > bounds.latest)
    findings.add(
        source.key,
        early,
        column,
        lambda pos: [
            f"{column} {v} is {'the Unix epoch, a null date' if v == UNIX_EPOCH else 'implausibly early'}"
            for v in values_at(values, pos)
        ],
    )
    findings.add(
        source.key,
        late,
        column,
        lambda pos: [f"{column} {v} {bounds.latest_reason}" for v in values_at(values, pos)],
    )
    # Blank what was reported, so that the rest fits the contract's nanosecond timestamps.
    return values.where(~(early | late)).dt.as_unit("ns")


def _check_ids(source: Source, findings: Findings) -> pd.Series:
    """Lead ids as text; files the missing ones."""
    ids = as_text(source.raw[LEAD_ID])
    findings.add(source.key, ids.isna(), LEAD_ID, same_for_all(f"missing {LEAD_ID}"))
    return ids


def _check_unique(
    source: Source, ids: pd.Series, duplicated: np.ndarray, findings: Findings, first: str, again: str
) -> None:
    """Files every row whose id occurs more than once, naming another row with the same id."""
    if not duplicated.any():
        return
    dup = pd.DataFrame({"id": ids[duplicated].to_numpy(dtype=object), "row": source.rows[duplicated]})
    later = dup["id"].duplicated(keep="first").to_numpy()
    first_row = dup[~later].set_index("id")["row"]
    second_row = dup[later].drop_duplicates("id").set_index("id")["row"]
    shown = dup["id"].map(show)
    seen_before = again + " " + shown + ": first seen in row " + dup["id"].map(first_row).astype(str)
    seen_after = first + " " + shown + " appears again in row " + dup["id"].map(second_row).astype(str)
    messages = np.where(later, seen_before, seen_after)
    findings.add(source.key, duplicated, LEAD_ID, lambda pos: messages.tolist())


def check_leads(
    source: Source, metadata: DatasetMetadata, embedded: bool, bounds: Bounds, findings: Findings
) -> LeadColumns:
    raw = source.raw
    ids = _check_ids(source, findings)
    lookup = IdIndex.build(ids)
    _check_unique(source, ids, lookup.duplicated, findings, first=LEAD_ID, again=f"duplicate {LEAD_ID}")
    if CREATED_AT in raw.columns:
        required = metadata.time_basis == TimeBasis.TIMESTAMPS
        created_at = _check_timestamp_column(source, CREATED_AT, bounds, findings, required=required)
    else:
        created_at = pd.Series(pd.NaT, index=raw.index, dtype=TIMESTAMP_DTYPE)
    row_order = _check_row_order(source, findings) if metadata.time_basis == TimeBasis.ROW_ORDER else None

    categorical = list(dict.fromkeys(metadata.categorical_columns))
    numeric = list(dict.fromkeys([*metadata.numeric_columns, *metadata.activity_columns]))
    if not categorical and not numeric:
        # Nothing declared: numbers are numeric, the rest categorical; the returned metadata says so.
        reserved = {LEAD_ID, CREATED_AT, ROW_ORDER, STATUS, *OUTCOME_TIMESTAMPS, *TARGET_DATES}
        candidates = [column for column in raw.columns if column not in reserved]
        numeric = [column for column in candidates if looks_numeric(raw[column])]
        categorical = [column for column in candidates if column not in numeric]
        metadata = dataclasses.replace(metadata, categorical_columns=categorical, numeric_columns=numeric)

    profile = {column: to_category(raw[column]) for column in categorical}
    for column in numeric:
        values, bad = parse_numbers(raw[column])
        findings.add(source.key, bad, column, _not_a_number(raw[column]))
        profile[column] = values
    return LeadColumns(ids, created_at, row_order, profile, metadata, lookup)


def _not_a_number(original: pd.Series) -> Describe:
    return lambda pos: [_number_problem(v) for v in values_at(original, pos)]


def _number_problem(value: object) -> str:
    try:
        infinite = bool(np.isinf(float(str(value))))
    except ValueError:
        infinite = False
    if infinite:
        return f"{show(value)} is not a finite number"
    return number_problem(value)


def _check_row_order(source: Source, findings: Findings) -> pd.Series:
    if ROW_ORDER not in source.raw.columns:
        return pd.Series(np.arange(len(source), dtype=np.int64))
    raw = source.raw[ROW_ORDER]
    values, _ = parse_numbers(raw)
    bad = (values.isna() | (values % 1 != 0)).to_numpy()
    findings.add(
        source.key,
        bad,
        ROW_ORDER,
        lambda pos: [f"{ROW_ORDER} must be a whole number, not {show(v)}" for v in values_at(raw, pos)],
    )
    return values.where(~bad, 0).astype("int64")


def check_outcomes(
    source: Source,
    leads: Source,
    lead_columns: LeadColumns,
    embedded: bool,
    bounds: Bounds,
    findings: Findings,
) -> OutcomeColumns:
    raw = source.raw
    if embedded:
        lead_position = np.arange(len(source))
    else:
        ids = _check_ids(source, findings)
        duplicated = IdIndex.build(ids).duplicated
        _check_unique(
            source, ids, duplicated, findings, first="outcome for lead", again="another outcome for lead"
        )
        lead_position = lead_columns.lookup.find(ids)
        findings.add(
            source.key,
            (lead_position < 0) & ids.notna().to_numpy(),
            LEAD_ID,
            lambda pos: [
                f"outcome for unknown lead {show(v)} (not in {leads.file})" for v in values_at(ids, pos)
            ],
        )
        _check_every_lead_has_outcome(source, leads, lead_columns, lead_position, findings)

    status = as_text(raw[STATUS]).str.lower()
    findings.add(source.key, status.isna(), STATUS, same_for_all(f"missing {STATUS}"))
    expected = (
        f"expected one of {', '.join(STATUSES)}; a mapping's outcome.status_values maps a CRM's stages "
        'onto them, e.g. "Negotiation" = "open"'
    )
    findings.add(
        source.key,
        status.notna() & ~status.isin(STATUSES),
        STATUS,
        lambda pos: [f"unknown {STATUS} {show(v)} ({expected})" for v in values_at(raw[STATUS], pos)],
    )

    stamps = {
        column: (
            _check_timestamp_column(source, column, bounds, findings, required=False)
            if column in raw.columns
            else pd.Series(pd.NaT, index=raw.index, dtype=TIMESTAMP_DTYPE)
        )
        for column in OUTCOME_TIMESTAMPS
    }
    handed, closed = stamps[HANDED_OVER_AT], stamps[CLOSED_AT]
    findings.add(
        source.key,
        as_bool(status == str(Outcome.OPEN)) & closed.notna().to_numpy(),
        CLOSED_AT,
        lambda pos: [f"{STATUS} is 'open' but {CLOSED_AT} is set ({v})" for v in values_at(closed, pos)],
    )
    findings.add(
        source.key,
        as_bool(closed < handed),
        CLOSED_AT,
        lambda pos: [
            f"{CLOSED_AT} {c} is before {HANDED_OVER_AT} {h}"
            for c, h in zip(values_at(closed, pos), values_at(handed, pos), strict=True)
        ],
    )

    created = take(lead_columns.created_at, lead_position)

    def before_creation(values: pd.Series, column: str) -> Describe:
        def describe(pos: np.ndarray) -> list[str]:
            where = (
                [""] * len(pos)
                if embedded
                else [f", {leads.file} row {r}" for r in leads.rows[lead_position[pos]]]
            )
            return [
                f"{column} {v} is before the lead was created ({CREATED_AT} {c}{w})"
                for v, c, w in zip(values_at(values, pos), values_at(created, pos), where, strict=True)
            ]

        return describe

    findings.add(
        source.key, as_bool(handed < created), HANDED_OVER_AT, before_creation(handed, HANDED_OVER_AT)
    )
    findings.add(source.key, as_bool(closed < created), CLOSED_AT, before_creation(closed, CLOSED_AT))
    # Target dates are read only when the input has them: a target needing an absent one is refused
    # before training (``training.features.targets``), not silently learnt from an empty column.
    target_dates = {}
    for column in (c for c in TARGET_DATES if c in raw.columns):
        dates = _check_timestamp_column(source, column, bounds, findings, required=False)
        findings.add(source.key, as_bool(dates < created), column, before_creation(dates, column))
        target_dates[column] = dates
    return OutcomeColumns(lead_position, status, handed, closed, target_dates)


def _check_every_lead_has_outcome(
    outcomes: Source,
    leads: Source,
    lead_columns: LeadColumns,
    lead_position: np.ndarray,
    findings: Findings,
) -> None:
    has_outcome = np.zeros(len(leads), dtype=bool)
    has_outcome[lead_position[lead_position >= 0]] = True
    ids = lead_columns.ids
    # Rows with a missing or duplicated id are reported as such; "no outcome" would only confuse.
    identifiable = ids.notna().to_numpy() & ~lead_columns.lookup.duplicated
    findings.add(
        leads.key,
        identifiable & ~has_outcome,
        LEAD_ID,
        lambda pos: [
            f"lead {show(v)} has no outcome in {outcomes.file} "
            f"(add a row with {STATUS} 'open' if it is still open)"
            for v in values_at(ids, pos)
        ],
    )


def check_events(
    source: Source, leads: Source, lead_columns: LeadColumns, bounds: Bounds, findings: Findings
) -> EventColumns:
    raw = source.raw
    ids = _check_ids(source, findings)
    lead_position = lead_columns.lookup.find(ids)
    findings.add(
        source.key,
        (lead_position < 0) & ids.notna().to_numpy(),
        LEAD_ID,
        lambda pos: [
            f"event for unknown lead {show(v)} (not in {leads.file}; if the events cover more leads than "
            'that file, a mapping\'s [events] unknown_leads = "skip" leaves them out)'
            for v in values_at(ids, pos)
        ],
    )
    occurred = _check_timestamp_column(source, OCCURRED_AT, bounds, findings, required=True)
    event_type = (
        raw[EVENT_TYPE]
        if isinstance(raw[EVENT_TYPE].dtype, pd.CategoricalDtype)
        else as_text(raw[EVENT_TYPE])
    )
    findings.add(source.key, event_type.isna(), EVENT_TYPE, same_for_all(f"missing {EVENT_TYPE}"))

    created = take(lead_columns.created_at, lead_position)
    findings.add(
        source.key,
        as_bool(occurred < created),
        OCCURRED_AT,
        lambda pos: [
            f"{OCCURRED_AT} {o} is before the lead was created ({CREATED_AT} {c}, {leads.file} row {r}; "
            'a mapping\'s [events] before_created = "creation" or "skip" takes such events)'
            for o, c, r in zip(
                values_at(occurred, pos), values_at(created, pos), leads.rows[lead_position[pos]], strict=True
            )
        ],
    )
    return EventColumns(lead_position, ids, occurred, event_type.astype("category"))

"""Validation of the data contract: raw tables in, a ``LeadDataset`` (or precise complaints) out.

The input frames are "raw": values as read from a file (usually strings, sometimes already typed, e.g.
from Parquet) and an index that holds each row's 1-based data row number in its source file, so that
every complaint can name file, row and column.

Two modes:

``strict``   every problem in every table is collected and raised together as a ``DataValidationError``.
``lenient``  exactly the bad rows are quarantined and reported in ``ValidationReport.rejects``; a
             rejected lead takes its outcome and events with it (and a rejected outcome its lead, as a
             lead without an outcome cannot be learned from). Nothing is dropped silently:
             ``rows_read == rows_kept + rejected`` for every table.

Problems with a whole table (a missing required column, an empty leads table) are errors in both modes.
All checks are vectorised; only the failing rows cost Python-level work.

This module is the entry point and the quarantine; the rest is split by job: ``checks`` (the contract's
rules, table by table), ``parsing`` (raw values into the contract's types), ``findings`` (bookkeeping of
the rows found bad) and ``problems`` (what is reported: ``Problem``, ``DataValidationError``,
``ValidationReport``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from training.data.checks import check_events, check_leads, check_outcomes, table_problems
from training.data.contract import (
    CLOSED_AT,
    CREATED_AT,
    EVENT_TYPE,
    HANDED_OVER_AT,
    LEAD_ID,
    OCCURRED_AT,
    OUTCOME_TIMESTAMPS,
    ROW_ORDER,
    STATUS,
    TARGET_DATES,
    DatasetMetadata,
    LeadDataset,
    TimeBasis,
    empty_events,
)
from training.data.coverage import events_cut_short
from training.data.findings import Bounds, EventColumns, Findings, LeadColumns, OutcomeColumns, Source
from training.data.parsing import STATUS_DTYPE, as_utc
from training.data.problem_groups import empty_problems, problems_frame
from training.data.problems import (
    MAX_LISTED_PROBLEMS,
    DataValidationError,
    Problem,
    ValidationReport,
    empty_rejects,
    write_rejects,
)

__all__ = [
    "MAX_LISTED_PROBLEMS",
    "DataValidationError",
    "Mode",
    "Problem",
    "ValidationReport",
    "validate_tables",
    "write_rejects",
]

Mode = Literal["strict", "lenient"]

_DEFAULT_FILES = {"leads": "leads", "events": "events", "outcomes": "outcomes"}


# --------------------------------------------------------------------------------------------------
# Entry point


def validate_tables(
    leads: pd.DataFrame,
    events: pd.DataFrame | None,
    outcomes: pd.DataFrame | None,
    metadata: DatasetMetadata,
    *,
    mode: Mode = "strict",
    files: Mapping[str, str] | None = None,
    now: pd.Timestamp | None = None,
) -> tuple[LeadDataset, ValidationReport]:
    """Check raw tables against the data contract and convert them into a ``LeadDataset``.

    ``outcomes=None`` means the outcome columns are columns of ``leads``; ``events=None`` means no
    events. ``files`` maps "leads"/"events"/"outcomes" to the file names problems should name;
    ``now`` (default: the current UTC time) is what "in the future" is judged against, together with
    ``metadata.observed_until``. Raises ``DataValidationError`` for table-level problems, and in
    strict mode for any problem; in lenient mode bad rows end up in the report's ``rejects``.

    The result has the contract's dtypes and fresh RangeIndexes: leads sorted by ``created_at``
    (stable; by ``row_order`` for row-order datasets), outcomes one per lead in the leads' order,
    events in input order with any extra columns as they were. When the metadata declares no profile
    columns they are inferred (numeric when every value parses as a number) and the returned
    metadata lists them.
    """
    if mode not in ("strict", "lenient"):
        raise ValueError(f"mode must be 'strict' or 'lenient', not {mode!r}")
    names = {**_DEFAULT_FILES, **(files or {})}
    current = as_utc(now) if now is not None else pd.Timestamp.now(tz="UTC")
    bounds = Bounds.make(current, metadata.observed_until)
    lead_source = Source("leads", names["leads"], leads)
    event_source = Source("events", names["events"], events if events is not None else empty_events())
    embedded = outcomes is None
    outcome_source = lead_source if outcomes is None else Source("outcomes", names["outcomes"], outcomes)

    whole_table = table_problems(lead_source, event_source, outcome_source, embedded, metadata)
    if whole_table:
        raise DataValidationError(whole_table)

    findings = Findings()
    lead_columns = check_leads(lead_source, metadata, embedded, bounds, findings)
    outcome_columns = check_outcomes(outcome_source, lead_source, lead_columns, embedded, bounds, findings)
    event_columns = (
        check_events(event_source, lead_source, lead_columns, bounds, findings) if len(event_source) else None
    )
    sources = [lead_source] if embedded else [lead_source, outcome_source]
    sources.append(event_source)
    if event_columns is not None:
        # Judged on the rows that parsed; a table-level problem in both modes (nothing to quarantine).
        cut_short = events_cut_short(
            event_source.file, lead_source.file, event_columns.occurred_at, lead_columns.created_at
        )
        if cut_short is not None:
            raise DataValidationError([cut_short])
    if findings.any() and mode == "strict":
        raise DataValidationError(_collect_problems(findings, sources))

    keep = _quarantine(
        findings, lead_source, outcome_source, event_source, embedded, outcome_columns, event_columns
    )
    dataset = _assemble(lead_source, lead_columns, outcome_columns, event_source, event_columns, keep)
    report = ValidationReport(
        rows_read={source.key: len(source) for source in sources},
        rows_kept={source.key: int(keep[source.key].sum()) for source in sources},
        rejects=_rejects(findings, sources),
        problems=_problem_frame(findings, sources, direct_only=False),
    )
    return dataset, report


def _collect_problems(findings: Findings, sources: Sequence[Source]) -> list[Problem]:
    """Every problem found, table by table and in row order within a table."""
    frame = _problem_frame(findings, sources, direct_only=True)
    return [
        Problem(file, int(row), column if isinstance(column, str) else None, message)
        for file, row, column, message in frame.itertuples(index=False)
    ]


def _problem_frame(findings: Findings, sources: Sequence[Source], direct_only: bool) -> pd.DataFrame:
    """Every problem found as a ``PROBLEM_COLUMNS`` frame, table by table and in row order within a
    table; ``direct_only``: without the rows rejected only because another row was (an event of a
    rejected lead), which a strict error leaves out and a report of what was quarantined counts."""
    parts = []
    for source in sources:
        found = findings.frame(source.key)
        if direct_only:
            found = found[found["direct"].to_numpy(dtype=bool)]
        rows = source.rows[found["position"].to_numpy(dtype=np.int64)]
        order = np.argsort(rows, kind="stable")
        parts.append(
            problems_frame(
                [source.file] * len(rows),
                rows[order],
                found["column"].to_numpy()[order],
                found["message"].to_numpy()[order],
            )
        )
    parts = [part for part in parts if len(part)]
    return pd.concat(parts, ignore_index=True) if parts else empty_problems()


def _quarantine(
    findings: Findings,
    leads: Source,
    outcomes: Source,
    events: Source,
    embedded: bool,
    outcome_columns: OutcomeColumns,
    event_columns: EventColumns | None,
) -> dict[str, np.ndarray]:
    """Which rows survive, per table, once every bad row has taken its dependants with it."""
    if not embedded:
        # A lead without a usable outcome cannot be learned from: its outcome's rejection rejects it.
        _cascade(findings, leads, outcomes, outcome_columns.lead_position, "outcome rejected: ")
        _cascade(
            findings, outcomes, leads, outcome_columns.lead_position, "lead rejected: ", to_dependants=True
        )
    if event_columns is not None:
        _cascade(findings, events, leads, event_columns.lead_position, "lead rejected: ", to_dependants=True)
    return {source.key: ~findings.bad_mask(source.key, len(source)) for source in (leads, outcomes, events)}


def _cascade(
    findings: Findings,
    target: Source,
    cause: Source,
    lead_position: np.ndarray,
    prefix: str,
    *,
    to_dependants: bool = False,
) -> None:
    """Reject ``target`` rows tied to a rejected ``cause`` row, quoting the cause's reasons.

    ``lead_position`` maps each dependant row (outcome or event) to its lead. With ``to_dependants``
    the leads are the cause and the dependants the target; otherwise a bad dependant rejects its lead.
    """
    cause_bad = findings.bad_mask(cause.key, len(cause))
    target_bad = findings.bad_mask(target.key, len(target))
    reasons = findings.reasons(cause.key)
    linked = lead_position >= 0
    if to_dependants:
        hit = linked & cause_bad[np.maximum(lead_position, 0)] & ~target_bad
        findings.add(
            target.key,
            hit,
            None,
            lambda pos: (prefix + reasons.reindex(lead_position[pos]).astype(object)).tolist(),
            direct=False,
        )
        return
    dependants = np.flatnonzero(cause_bad & linked)
    first_dependant = pd.Series(dependants, index=lead_position[dependants])
    first_dependant = first_dependant[~first_dependant.index.duplicated()]
    hit = np.zeros(len(target), dtype=bool)
    hit[first_dependant.index.to_numpy()] = True
    findings.add(
        target.key,
        hit & ~target_bad,
        None,
        lambda pos: (prefix + reasons.reindex(first_dependant.loc[pos].to_numpy()).astype(object)).tolist(),
        direct=False,
    )


def _rejects(findings: Findings, sources: Sequence[Source]) -> pd.DataFrame:
    parts = []
    for source in sources:
        found = findings.frame(source.key)
        if found.empty:
            continue
        by_row = found.groupby("position", sort=True).agg(
            column=(
                "column",
                lambda columns: ", ".join(dict.fromkeys(c for c in columns if isinstance(c, str))),
            ),
            reason=("message", "; ".join),
        )
        positions = by_row.index.to_numpy(dtype=np.int64)
        records = source.raw.iloc[positions].astype(object)
        plain = records.where(records.notna(), None)
        parts.append(
            pd.DataFrame(
                {
                    "file": source.file,
                    "row": source.rows[positions],
                    "column": by_row["column"].to_numpy(),
                    "reason": by_row["reason"].to_numpy(),
                    "record": [json.dumps(record, default=str) for record in plain.to_dict(orient="records")],
                }
            )
        )
    if not parts:
        return empty_rejects()
    return pd.concat(parts, ignore_index=True).astype({"row": "int64", "file": "str", "column": "str"})


def _assemble(
    leads: Source,
    lead_columns: LeadColumns,
    outcome_columns: OutcomeColumns,
    events: Source,
    event_columns: EventColumns | None,
    keep: Mapping[str, np.ndarray],
) -> LeadDataset:
    """The kept rows in the contract's shapes and dtypes, with fresh RangeIndexes."""
    metadata = lead_columns.metadata
    columns: dict[str, pd.Series] = {LEAD_ID: lead_columns.ids, CREATED_AT: lead_columns.created_at}
    if lead_columns.row_order is not None:
        columns[ROW_ORDER] = lead_columns.row_order
    outcome_names = {STATUS, *OUTCOME_TIMESTAMPS, *TARGET_DATES}
    for column in leads.raw.columns:
        if column not in columns and column not in outcome_names:
            columns[column] = lead_columns.profile.get(column, leads.raw[column])
    kept_leads = np.flatnonzero(keep[leads.key])
    lead_frame = pd.DataFrame(columns).iloc[kept_leads]
    if metadata.time_basis == TimeBasis.ROW_ORDER:
        sort_key = lead_frame[ROW_ORDER].to_numpy()
    else:  # naive UTC datetime64, not an object array of Timestamps; NaT sorts last
        sort_key = lead_frame[CREATED_AT].dt.tz_localize(None).to_numpy()
    order = np.argsort(sort_key, kind="stable")
    lead_frame = lead_frame.iloc[order].reset_index(drop=True)
    lead_order = kept_leads[order]

    # Outcomes follow the leads' output order: exactly one per kept lead once bad rows are out.
    slot = np.full(len(leads), -1)
    slot[lead_order] = np.arange(len(lead_order))
    outcome_rows = np.flatnonzero(keep.get("outcomes", keep[leads.key]))
    outcome_rows = outcome_rows[np.argsort(slot[outcome_columns.lead_position[outcome_rows]], kind="stable")]
    outcome_frame = pd.DataFrame(
        {
            LEAD_ID: lead_frame[LEAD_ID],
            STATUS: outcome_columns.status.iloc[outcome_rows].reset_index(drop=True).astype(STATUS_DTYPE),
            HANDED_OVER_AT: outcome_columns.handed_over_at.iloc[outcome_rows].reset_index(drop=True),
            CLOSED_AT: outcome_columns.closed_at.iloc[outcome_rows].reset_index(drop=True),
            **{
                column: dates.iloc[outcome_rows].reset_index(drop=True)
                for column, dates in outcome_columns.target_dates.items()
            },
        }
    )

    if event_columns is None:
        event_frame = empty_events()
    else:
        kept_events = np.flatnonzero(keep[events.key])
        typed = {
            LEAD_ID: event_columns.ids,
            OCCURRED_AT: event_columns.occurred_at,
            EVENT_TYPE: event_columns.event_type,
        }
        extras = {column: events.raw[column] for column in events.raw.columns if column not in typed}
        event_frame = pd.DataFrame({**typed, **extras}).iloc[kept_events].reset_index(drop=True)
    return LeadDataset(leads=lead_frame, events=event_frame, outcomes=outcome_frame, metadata=metadata)

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
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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
    REJECTS_FILE,
    ROW_ORDER,
    STATUS,
    DatasetMetadata,
    LeadDataset,
    Outcome,
    TimeBasis,
    empty_events,
)

Mode = Literal["strict", "lenient"]

#: How many problems an error message lists before it summarises the rest.
MAX_LISTED_PROBLEMS = 20
#: Timestamps before this are sentinels or typos (0001-01-01, 1900-01-01 exports), not CRM history.
EARLIEST_PLAUSIBLE = pd.Timestamp("1900-01-02", tz="UTC")
TIMESTAMP_DTYPE = "datetime64[ns, UTC]"
REJECT_COLUMNS = ("file", "row", "column", "reason", "record")

_STATUSES = tuple(str(outcome) for outcome in Outcome)
#: Outcome status in validated data: a category with every possible value (as the simulator writes it).
STATUS_DTYPE = pd.CategoricalDtype(list(_STATUSES))
_TABLE_ORDER = ("leads", "outcomes", "events")
_DEFAULT_FILES = {"leads": "leads", "events": "events", "outcomes": "outcomes"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, and where: file, data row (1-based) and column when known."""

    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}"


class DataValidationError(ValueError):
    """The input breaks the data contract; ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(_describe_problems(self.problems))


def _describe_problems(problems: Sequence[Problem]) -> str:
    count = len(problems)
    lines = [f"{count} problem{'s' if count != 1 else ''} in the input data:"]
    lines += [f"  {problem}" for problem in problems[:MAX_LISTED_PROBLEMS]]
    if count > MAX_LISTED_PROBLEMS:
        lines.append(f"  ... and {count - MAX_LISTED_PROBLEMS} more")
    return "\n".join(lines)


def _empty_rejects() -> pd.DataFrame:
    return pd.DataFrame(
        {name: pd.Series(dtype="int64" if name == "row" else "str") for name in REJECT_COLUMNS}
    )


@dataclass
class ValidationReport:
    """What validation read, kept and quarantined, per table ("leads", "events", "outcomes").

    ``rejects`` has one row per rejected source row: ``file``, ``row`` (1-based data row), ``column``
    (the offending columns, comma-separated), ``reason`` (all problems of the row, "; "-separated) and
    ``record`` (the raw row's values as JSON).
    """

    rows_read: dict[str, int]
    rows_kept: dict[str, int]
    rejects: pd.DataFrame = field(default_factory=_empty_rejects)

    @property
    def rows_rejected(self) -> dict[str, int]:
        return {table: self.rows_read[table] - self.rows_kept.get(table, 0) for table in self.rows_read}

    def summary(self) -> str:
        """A few human-readable lines: counts per table and where the rejected rows went wrong."""
        lines = [
            f"{table}: {self.rows_read[table]:,} rows read, {self.rows_kept.get(table, 0):,} kept, "
            f"{rejected:,} rejected"
            for table, rejected in self.rows_rejected.items()
        ]
        if len(self.rejects):
            columns = self.rejects["column"].fillna("").replace("", "(whole row)")
            counts = self.rejects.assign(column=columns).groupby(["file", "column"], sort=False).size()
            lines.append("rejected rows by file and column:")
            lines += [
                f"  {file}, {column}: {count:,}"
                for file, column, count in counts.reset_index(name="rows").itertuples(index=False)
            ]
        return "\n".join(lines)


def write_rejects(report: ValidationReport, directory: Path) -> Path | None:
    """Write the quarantined rows to ``directory / REJECTS_FILE``; returns its path, None if none."""
    if report.rejects.empty:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / REJECTS_FILE
    tmp = path.with_name(f".{path.name}.tmp")
    report.rejects.to_csv(tmp, index=False)
    tmp.replace(path)
    return path


# --------------------------------------------------------------------------------------------------
# Internal bookkeeping


class _Source:
    """One raw input table: the key its problems are filed under, its display file name, its rows.

    ``raw`` is re-indexed by position so that every derived column lines up; ``rows`` keeps the
    source file's row numbers for messages.
    """

    def __init__(self, key: str, file: str, raw: pd.DataFrame) -> None:
        self.key = key
        self.file = file
        index = raw.index
        if pd.api.types.is_integer_dtype(index.dtype):
            self.rows = np.asarray(index, dtype=np.int64)
        else:  # no row numbers given: count data rows from 1 like a file would
            self.rows = np.arange(1, len(raw) + 1, dtype=np.int64)
        self.raw = raw.reset_index(drop=True)

    def __len__(self) -> int:
        return len(self.raw)


_Describe = Callable[[np.ndarray], Iterable[str]]


class _Findings:
    """Row-level problems, kept as small frames per table so that only failing rows cost anything."""

    def __init__(self) -> None:
        self._parts: dict[str, list[pd.DataFrame]] = {}

    def add(
        self,
        table: str,
        mask: np.ndarray | pd.Series,
        column: str | None,
        describe: _Describe,
        *,
        direct: bool = True,
    ) -> None:
        """File a problem for every row where ``mask`` holds; ``describe`` words them (given positions)."""
        positions = np.flatnonzero(_as_bool(mask))
        if positions.size == 0:
            return
        messages = list(describe(positions))
        part = pd.DataFrame(
            {"position": positions, "column": column, "message": messages, "direct": direct}
        ).astype({"column": object, "message": object})
        self._parts.setdefault(table, []).append(part)

    def frame(self, table: str) -> pd.DataFrame:
        parts = self._parts.get(table)
        if not parts:
            return pd.DataFrame(
                {
                    "position": pd.Series(dtype="int64"),
                    "column": pd.Series(dtype=object),
                    "message": pd.Series(dtype=object),
                    "direct": pd.Series(dtype=bool),
                }
            )
        return pd.concat(parts, ignore_index=True)

    def any(self) -> bool:
        return bool(self._parts)

    def bad_mask(self, table: str, size: int) -> np.ndarray:
        mask = np.zeros(size, dtype=bool)
        mask[self.frame(table)["position"].to_numpy(dtype=np.int64)] = True
        return mask

    def reasons(self, table: str) -> pd.Series:
        """Position -> all messages of that row, "; "-joined."""
        return self.frame(table).groupby("position", sort=True)["message"].agg("; ".join)


def _as_bool(mask: np.ndarray | pd.Series) -> np.ndarray:
    if isinstance(mask, pd.Series):
        return mask.to_numpy(dtype=bool, na_value=False)
    return np.asarray(mask, dtype=bool)


def _at(values: pd.Series | np.ndarray, positions: np.ndarray) -> list[object]:
    """The values at some positions, as Python objects (only ever called for failing rows)."""
    if isinstance(values, pd.Series):
        return values.iloc[positions].tolist()
    return values[positions].tolist()


def _same_for_all(message: str) -> _Describe:
    return lambda positions: [message] * len(positions)


@dataclass(frozen=True)
class _Bounds:
    """The plausible range of a timestamp: not before 1900, not after now or the end of observation."""

    latest: pd.Timestamp
    latest_reason: str

    @classmethod
    def make(cls, now: pd.Timestamp, observed_until: pd.Timestamp | None) -> _Bounds:
        if observed_until is not None and _utc(observed_until) < now:
            until = _utc(observed_until)
            return cls(until, f"is after the end of observation (observed_until {until})")
        return cls(now, f"is in the future (now is {now.floor('s')})")


def _arrow_strings(values: pd.Series) -> pa.Array:
    """One contiguous Arrow array (large offsets: no 2 GB limit) of a text column; NaN becomes null."""
    array = pa.array(values, type=pa.large_string(), from_pandas=True)
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


@dataclass
class _IdIndex:
    """One hash pass over a column of ids: which rows repeat an id, and where each id first occurs."""

    #: The distinct ids, in order of first occurrence.
    distinct: pa.Array
    #: Row position of each distinct id's first occurrence.
    first_positions: np.ndarray
    #: Rows whose (present) id occurs more than once, every occurrence included.
    duplicated: np.ndarray

    @classmethod
    def build(cls, ids: pd.Series) -> _IdIndex:
        encoded = pc.dictionary_encode(_arrow_strings(ids))
        codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        present = codes >= 0
        counts = np.bincount(codes[present], minlength=len(encoded.dictionary))
        duplicated = present & (counts[np.maximum(codes, 0)] > 1)
        # Codes are handed out in order of first appearance: a row is a first occurrence exactly
        # when its code exceeds every code before it.
        earlier_max = np.maximum.accumulate(np.concatenate(([-1], codes[:-1])))
        return cls(encoded.dictionary, np.flatnonzero(codes > earlier_max), duplicated)

    def find(self, ids: pd.Series) -> np.ndarray:
        """Position of the first row holding each of ``ids`` (-1 when none does)."""
        # Arrow's hash lookup: several times faster than pandas' on tens of millions of event ids.
        found = pc.index_in(_arrow_strings(ids), value_set=self.distinct)
        index = found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        if len(self.first_positions) == 0:
            return index
        return np.where(index >= 0, self.first_positions[np.maximum(index, 0)], -1)


@dataclass
class _LeadColumns:
    """The leads table's checked columns (full length, positional index)."""

    ids: pd.Series
    created_at: pd.Series
    row_order: pd.Series | None
    profile: dict[str, pd.Series]
    metadata: DatasetMetadata
    lookup: _IdIndex


@dataclass
class _OutcomeColumns:
    lead_position: np.ndarray
    status: pd.Series
    handed_over_at: pd.Series
    closed_at: pd.Series


@dataclass
class _EventColumns:
    lead_position: np.ndarray
    ids: pd.Series
    occurred_at: pd.Series
    event_type: pd.Series


# --------------------------------------------------------------------------------------------------
# Value parsing


def _utc(value: pd.Timestamp) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _show(value: object, limit: int = 60) -> str:
    text = str(value)
    return f"'{text if len(text) <= limit else text[: limit - 3] + '...'}'"


def _text(series: pd.Series) -> pd.Series:
    """Values as stripped strings; missing, empty and blank values become NaN."""
    if pd.api.types.is_float_dtype(series.dtype):
        # Ids read from typed files may be floats (because of a missing value): 12.0 means "12".
        integral = (series.notna() & (series % 1 == 0)).to_numpy()
        as_text = series.astype("str")
        as_text[integral] = series[integral].astype("int64").astype("str")
        series = as_text
    text = series.astype("str").str.strip()
    return text.where(text != "")


def _parse_timestamps(series: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Parse into UTC timestamps (naive means UTC); returns the values and a mask of unparseable ones."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert("UTC"), np.zeros(len(series), dtype=bool)
    if pd.api.types.is_datetime64_dtype(series.dtype):
        return series.dt.tz_localize("UTC"), np.zeros(len(series), dtype=bool)
    text = _text(series)
    fast = _parse_clean_iso(text)
    if fast is not None:
        return fast, np.zeros(len(series), dtype=bool)
    parsed = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
    failed = (parsed.isna() & text.notna()).to_numpy()
    if failed.any():
        # Not ISO 8601: let pandas infer the format of the rest, then fall back to value by value.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for retry_format in (None, "mixed"):
                retry = pd.to_datetime(text[failed], format=retry_format, utc=True, errors="coerce")
                parsed, retry = _same_unit(parsed, retry)
                parsed[failed] = retry
                failed = (parsed.isna() & text.notna()).to_numpy()
                if not failed.any():
                    break
    return parsed, failed


def _same_unit(first: pd.Series, second: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Both in the finer of their units; microseconds if nanoseconds cannot hold a (far-off) value."""
    unit = "ns" if "ns" in (first.dt.unit, second.dt.unit) else "us"
    try:
        return first.dt.as_unit(unit), second.dt.as_unit(unit)
    except pd.errors.OutOfBoundsDatetime:
        return first.dt.as_unit("us"), second.dt.as_unit("us")


def _parse_clean_iso(text: pd.Series) -> pd.Series | None:
    """Arrow's ISO 8601 parser, several times faster than pandas', for the common case of a column of
    valid timestamps that are all naive or all with an offset; None when it cannot take them all."""
    values = pa.array(text, type=pa.string(), from_pandas=True)
    # Nanoseconds keep every digit a file can hold; years outside 1677-2262 fail here and are left to
    # pandas (and then flagged as implausible).
    for target in (pa.timestamp("ns"), pa.timestamp("ns", tz="UTC")):
        try:
            parsed = pc.cast(values, target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        stamps = pd.Series(parsed.to_pandas(), index=text.index).dt.as_unit("ns")
        return stamps.dt.tz_localize("UTC") if target.tz is None else stamps.dt.tz_convert("UTC")
    return None


def _parse_numbers(series: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Parse into float64; returns the values and a mask of present but non-numeric ones."""
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        return series.astype("float64"), np.zeros(len(series), dtype=bool)
    text = _text(series)
    numbers = pd.to_numeric(text, errors="coerce").astype("float64")
    return numbers, (numbers.isna() & text.notna()).to_numpy()


def _to_category(series: pd.Series) -> pd.Series:
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series  # keep the categories a typed file (or an earlier validation) gave it
    return _text(series).astype("category")


def _looks_numeric(series: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(series.dtype):
        return False
    if pd.api.types.is_numeric_dtype(series.dtype):
        return True
    if isinstance(series.dtype, pd.CategoricalDtype) or pd.api.types.is_datetime64_any_dtype(series.dtype):
        return False
    numbers, bad = _parse_numbers(series)
    return bool(numbers.notna().any()) and not bad.any()


def _take(values: pd.Series, positions: np.ndarray) -> pd.Series:
    """``values`` at ``positions`` (-1 gives missing), as a fresh positional series."""
    if len(values) == 0:
        return pd.Series(pd.NaT, index=range(len(positions)), dtype=values.dtype)
    taken = values.iloc[np.maximum(positions, 0)].reset_index(drop=True)
    return taken.where(positions >= 0)


# --------------------------------------------------------------------------------------------------
# Checks


def _table_problems(
    leads: _Source, events: _Source, outcomes: _Source, embedded: bool, metadata: DatasetMetadata
) -> list[Problem]:
    """Problems that make a whole table unusable; errors in both modes."""
    problems: list[Problem] = []

    def require(source: _Source, columns: Iterable[str], hint: str = "") -> None:
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
                    f"({' / '.join(_STATUSES)} per lead)",
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
            for column in (STATUS, *OUTCOME_TIMESTAMPS)
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
    source: _Source, column: str, bounds: _Bounds, findings: _Findings, *, required: bool
) -> pd.Series:
    """Parse and check one timestamp column; returns UTC timestamps, NaT where missing or bad."""
    raw = source.raw[column]
    values, bad = _parse_timestamps(raw)
    findings.add(
        source.key,
        bad,
        column,
        lambda pos: [f"cannot parse {_show(v)} as a timestamp" for v in _at(raw, pos)],
    )
    if required:
        findings.add(source.key, values.isna().to_numpy() & ~bad, column, _same_for_all(f"missing {column}"))
    early = _as_bool(values < EARLIEST_PLAUSIBLE)
    late = _as_bool(values > bounds.latest)
    findings.add(
        source.key,
        early,
        column,
        lambda pos: [f"{column} {v} is implausibly early" for v in _at(values, pos)],
    )
    findings.add(
        source.key,
        late,
        column,
        lambda pos: [f"{column} {v} {bounds.latest_reason}" for v in _at(values, pos)],
    )
    # Blank what was reported, so that the rest fits the contract's nanosecond timestamps.
    return values.where(~(early | late)).dt.as_unit("ns")


def _check_ids(source: _Source, findings: _Findings) -> pd.Series:
    """Lead ids as text; files the missing ones."""
    ids = _text(source.raw[LEAD_ID])
    findings.add(source.key, ids.isna(), LEAD_ID, _same_for_all(f"missing {LEAD_ID}"))
    return ids


def _check_unique(
    source: _Source, ids: pd.Series, duplicated: np.ndarray, findings: _Findings, first: str, again: str
) -> None:
    """Files every row whose id occurs more than once, naming another row with the same id."""
    if not duplicated.any():
        return
    dup = pd.DataFrame({"id": ids[duplicated].to_numpy(dtype=object), "row": source.rows[duplicated]})
    later = dup["id"].duplicated(keep="first").to_numpy()
    first_row = dup[~later].set_index("id")["row"]
    second_row = dup[later].drop_duplicates("id").set_index("id")["row"]
    shown = dup["id"].map(_show)
    seen_before = again + " " + shown + ": first seen in row " + dup["id"].map(first_row).astype(str)
    seen_after = first + " " + shown + " appears again in row " + dup["id"].map(second_row).astype(str)
    messages = np.where(later, seen_before, seen_after)
    findings.add(source.key, duplicated, LEAD_ID, lambda pos: messages.tolist())


def _check_leads(
    source: _Source, metadata: DatasetMetadata, embedded: bool, bounds: _Bounds, findings: _Findings
) -> _LeadColumns:
    raw = source.raw
    ids = _check_ids(source, findings)
    lookup = _IdIndex.build(ids)
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
        reserved = {LEAD_ID, CREATED_AT, ROW_ORDER, STATUS, *OUTCOME_TIMESTAMPS}
        candidates = [column for column in raw.columns if column not in reserved]
        numeric = [column for column in candidates if _looks_numeric(raw[column])]
        categorical = [column for column in candidates if column not in numeric]
        metadata = dataclasses.replace(metadata, categorical_columns=categorical, numeric_columns=numeric)

    profile = {column: _to_category(raw[column]) for column in categorical}
    for column in numeric:
        values, bad = _parse_numbers(raw[column])
        findings.add(source.key, bad, column, _not_a_number(raw[column]))
        profile[column] = values
    return _LeadColumns(ids, created_at, row_order, profile, metadata, lookup)


def _not_a_number(original: pd.Series) -> _Describe:
    return lambda pos: [f"cannot parse {_show(v)} as a number" for v in _at(original, pos)]


def _check_row_order(source: _Source, findings: _Findings) -> pd.Series:
    if ROW_ORDER not in source.raw.columns:
        return pd.Series(np.arange(len(source), dtype=np.int64))
    raw = source.raw[ROW_ORDER]
    values, _ = _parse_numbers(raw)
    bad = (values.isna() | (values % 1 != 0)).to_numpy()
    findings.add(
        source.key,
        bad,
        ROW_ORDER,
        lambda pos: [f"{ROW_ORDER} must be a whole number, not {_show(v)}" for v in _at(raw, pos)],
    )
    return values.where(~bad, 0).astype("int64")


def _check_outcomes(
    source: _Source,
    leads: _Source,
    lead_columns: _LeadColumns,
    embedded: bool,
    bounds: _Bounds,
    findings: _Findings,
) -> _OutcomeColumns:
    raw = source.raw
    if embedded:
        lead_position = np.arange(len(source))
    else:
        ids = _check_ids(source, findings)
        duplicated = _IdIndex.build(ids).duplicated
        _check_unique(
            source, ids, duplicated, findings, first="outcome for lead", again="another outcome for lead"
        )
        lead_position = lead_columns.lookup.find(ids)
        findings.add(
            source.key,
            (lead_position < 0) & ids.notna().to_numpy(),
            LEAD_ID,
            lambda pos: [f"outcome for unknown lead {_show(v)} (not in {leads.file})" for v in _at(ids, pos)],
        )
        _check_every_lead_has_outcome(source, leads, lead_columns, lead_position, findings)

    status = _text(raw[STATUS]).str.lower()
    findings.add(source.key, status.isna(), STATUS, _same_for_all(f"missing {STATUS}"))
    expected = f"expected one of {', '.join(_STATUSES)}"
    findings.add(
        source.key,
        status.notna() & ~status.isin(_STATUSES),
        STATUS,
        lambda pos: [f"unknown {STATUS} {_show(v)} ({expected})" for v in _at(raw[STATUS], pos)],
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
        _as_bool(status == str(Outcome.OPEN)) & closed.notna().to_numpy(),
        CLOSED_AT,
        lambda pos: [f"{STATUS} is 'open' but {CLOSED_AT} is set ({v})" for v in _at(closed, pos)],
    )
    findings.add(
        source.key,
        _as_bool(closed < handed),
        CLOSED_AT,
        lambda pos: [
            f"{CLOSED_AT} {c} is before {HANDED_OVER_AT} {h}"
            for c, h in zip(_at(closed, pos), _at(handed, pos), strict=True)
        ],
    )

    created = _take(lead_columns.created_at, lead_position)

    def before_creation(values: pd.Series, column: str) -> _Describe:
        def describe(pos: np.ndarray) -> list[str]:
            where = (
                [""] * len(pos)
                if embedded
                else [f", {leads.file} row {r}" for r in leads.rows[lead_position[pos]]]
            )
            return [
                f"{column} {v} is before the lead was created ({CREATED_AT} {c}{w})"
                for v, c, w in zip(_at(values, pos), _at(created, pos), where, strict=True)
            ]

        return describe

    findings.add(
        source.key, _as_bool(handed < created), HANDED_OVER_AT, before_creation(handed, HANDED_OVER_AT)
    )
    findings.add(source.key, _as_bool(closed < created), CLOSED_AT, before_creation(closed, CLOSED_AT))
    return _OutcomeColumns(lead_position, status, handed, closed)


def _check_every_lead_has_outcome(
    outcomes: _Source,
    leads: _Source,
    lead_columns: _LeadColumns,
    lead_position: np.ndarray,
    findings: _Findings,
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
            f"lead {_show(v)} has no outcome in {outcomes.file} "
            f"(add a row with {STATUS} 'open' if it is still open)"
            for v in _at(ids, pos)
        ],
    )


def _check_events(
    source: _Source, leads: _Source, lead_columns: _LeadColumns, bounds: _Bounds, findings: _Findings
) -> _EventColumns:
    raw = source.raw
    ids = _check_ids(source, findings)
    lead_position = lead_columns.lookup.find(ids)
    findings.add(
        source.key,
        (lead_position < 0) & ids.notna().to_numpy(),
        LEAD_ID,
        lambda pos: [f"event for unknown lead {_show(v)} (not in {leads.file})" for v in _at(ids, pos)],
    )
    occurred = _check_timestamp_column(source, OCCURRED_AT, bounds, findings, required=True)
    event_type = (
        raw[EVENT_TYPE] if isinstance(raw[EVENT_TYPE].dtype, pd.CategoricalDtype) else _text(raw[EVENT_TYPE])
    )
    findings.add(source.key, event_type.isna(), EVENT_TYPE, _same_for_all(f"missing {EVENT_TYPE}"))

    created = _take(lead_columns.created_at, lead_position)
    findings.add(
        source.key,
        _as_bool(occurred < created),
        OCCURRED_AT,
        lambda pos: [
            f"{OCCURRED_AT} {o} is before the lead was created ({CREATED_AT} {c}, {leads.file} row {r})"
            for o, c, r in zip(
                _at(occurred, pos), _at(created, pos), leads.rows[lead_position[pos]], strict=True
            )
        ],
    )
    return _EventColumns(lead_position, ids, occurred, event_type.astype("category"))


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
    current = _utc(now) if now is not None else pd.Timestamp.now(tz="UTC")
    bounds = _Bounds.make(current, metadata.observed_until)
    lead_source = _Source("leads", names["leads"], leads)
    event_source = _Source("events", names["events"], events if events is not None else empty_events())
    embedded = outcomes is None
    outcome_source = lead_source if outcomes is None else _Source("outcomes", names["outcomes"], outcomes)

    table_problems = _table_problems(lead_source, event_source, outcome_source, embedded, metadata)
    if table_problems:
        raise DataValidationError(table_problems)

    findings = _Findings()
    lead_columns = _check_leads(lead_source, metadata, embedded, bounds, findings)
    outcome_columns = _check_outcomes(outcome_source, lead_source, lead_columns, embedded, bounds, findings)
    event_columns = (
        _check_events(event_source, lead_source, lead_columns, bounds, findings)
        if len(event_source)
        else None
    )
    sources = [lead_source] if embedded else [lead_source, outcome_source]
    sources.append(event_source)
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
    )
    return dataset, report


def _collect_problems(findings: _Findings, sources: Sequence[_Source]) -> list[Problem]:
    """Every problem found, table by table and in row order within a table."""
    problems: list[Problem] = []
    for source in sources:
        found = findings.frame(source.key)
        found = found[found["direct"].to_numpy(dtype=bool)]
        rows = source.rows[found["position"].to_numpy(dtype=np.int64)]
        order = np.argsort(rows, kind="stable")
        problems.extend(
            Problem(source.file, int(row), column, message)
            for row, column, message in zip(
                rows[order],
                found["column"].to_numpy()[order],
                found["message"].to_numpy()[order],
                strict=True,
            )
        )
    return problems


def _quarantine(
    findings: _Findings,
    leads: _Source,
    outcomes: _Source,
    events: _Source,
    embedded: bool,
    outcome_columns: _OutcomeColumns,
    event_columns: _EventColumns | None,
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
    findings: _Findings,
    target: _Source,
    cause: _Source,
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


def _rejects(findings: _Findings, sources: Sequence[_Source]) -> pd.DataFrame:
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
        return _empty_rejects()
    return pd.concat(parts, ignore_index=True).astype({"row": "int64", "file": "str", "column": "str"})


def _assemble(
    leads: _Source,
    lead_columns: _LeadColumns,
    outcome_columns: _OutcomeColumns,
    events: _Source,
    event_columns: _EventColumns | None,
    keep: Mapping[str, np.ndarray],
) -> LeadDataset:
    """The kept rows in the contract's shapes and dtypes, with fresh RangeIndexes."""
    metadata = lead_columns.metadata
    columns: dict[str, pd.Series] = {LEAD_ID: lead_columns.ids, CREATED_AT: lead_columns.created_at}
    if lead_columns.row_order is not None:
        columns[ROW_ORDER] = lead_columns.row_order
    outcome_names = {STATUS, *OUTCOME_TIMESTAMPS}
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

"""Parsed live leads (``training.data.live.LeadIn``) as the inputs of the features.

``arrays_from_leads``: the API's path, straight to ``SnapshotArrays``. ``batch_from_records``: the
pyfunc's and batch scoring's path, records -> ``LeadIn`` -> ``SnapshotBatch`` (the shape training uses).
Both check a lead the same way (``check_leads``).


One snapshot per lead, at its ``as_of`` (or the request's default); lead codes are the leads' positions,
so duplicate lead ids can never mix; events are laid out lead after lead, in request order. No pandas
object is built: for the few leads of an API call, building frames cost more than the features.
The same values as ``training.features.snapshots.batch_from_columns`` (tests compare the features exactly).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from training.data.contract import CREATED_AT, EVENT_TYPE, LEAD_ID, OCCURRED_AT
from training.data.event_types import EventNaming
from training.data.live import LeadIn, LeadInputError, describe_lead_error, parse_leads
from training.features.snapshot_arrays import NAT_NS, Coded, SnapshotArrays
from training.features.snapshots import CUTOFF, SnapshotBatch
from training.features.timestamps import timestamps_ns

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# int64 nanoseconds (the unit of every time in the pipeline) reach from 1677 to 2262.
EARLIEST = pd.Timestamp.min.ceil("s").to_pydatetime().replace(tzinfo=UTC)
LATEST = pd.Timestamp.max.floor("s").to_pydatetime().replace(tzinfo=UTC)


__all__ = ["LeadInputError", "arrays_from_leads", "batch_from_leads", "batch_from_records", "check_leads"]


#: Text like "12.000" or "1.500.000": digit groups of three after a dot, as European thousands are written.
_GROUPED = re.compile(r"^\s*[-+]?[1-9]\d{0,2}(\.\d{3})+\s*$")


def check_leads(
    leads: Sequence[LeadIn], numeric_columns: Sequence[str], default_as_of: datetime | None = None
) -> None:
    """Values the request models accept but the model cannot use: numeric profile fields that are not
    numbers, times outside the supported range. Raises ``LeadInputError`` naming the lead and field."""
    for i, lead in enumerate(leads):
        for column in numeric_columns:
            value = lead.profile.get(column)
            if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
                continue
            try:
                float(value)
            except (TypeError, ValueError):
                # The message names the field, never the value (error answers do not echo input).
                raise LeadInputError(i, ("profile", column), f"'{column}' must be a number") from None
            if isinstance(value, str) and _GROUPED.match(value):
                # "12.000" is twelve to Python and twelve thousand to a German CRM: never read one way.
                raise LeadInputError(
                    i,
                    ("profile", column),
                    f"'{column}' is text that reads two ways (a thousands separator or a decimal point): "
                    "send it as a JSON number",
                )
        for field, moment in (("as_of", lead.as_of or default_as_of), ("created_at", lead.created_at)):
            if moment is not None and not _in_range(moment):
                raise LeadInputError(i, (field,), _range_message())
        times = [event.occurred_at for event in lead.events]
        if not _all_in_range(times):
            j = next(j for j, moment in enumerate(times) if not _in_range(moment))
            raise LeadInputError(i, ("events", j, "occurred_at"), _range_message())


def arrays_from_leads(
    leads: Sequence[LeadIn],
    default_as_of: datetime,
    categorical_columns: Sequence[str],
    numeric_columns: Sequence[str],
    naming: EventNaming | None = None,
) -> SnapshotArrays:
    """The leads as ``SnapshotArrays`` (see the module docstring); ``check_leads`` must have passed.
    ``naming`` names a CRM's event types as the model's (per distinct name, or name and detail)."""
    n = len(leads)
    n_events = sum(len(lead.events) for lead in leads)
    by_detail = naming is not None and bool(naming.rules)
    type_index: dict[Any, int] = {}
    keys = (
        ((event.event_type, event.detail) if by_detail else event.event_type)
        for lead in leads
        for event in lead.events
    )
    event_types = np.fromiter(
        (type_index.setdefault(key, len(type_index)) for key in keys), np.int64, n_events
    )
    type_names: list[str] = list(type_index)
    if naming is not None:
        renamed = [naming.name(*key) if by_detail else naming.name(key) for key in type_index]
        if by_detail or renamed != type_names:
            # Two names (or two details) of one type share its code.
            type_names = list(dict.fromkeys(renamed))
            codes = {name: code for code, name in enumerate(type_names)}
            event_types = np.asarray([codes[name] for name in renamed], dtype=np.int64)[event_types]
    return SnapshotArrays(
        lead_codes=np.arange(n, dtype=np.int64),
        n_leads=n,
        cutoff_ns=np.fromiter((ns_of(lead.as_of or default_as_of) for lead in leads), np.int64, n),
        created_ns=np.fromiter(
            (NAT_NS if lead.created_at is None else ns_of(lead.created_at) for lead in leads), np.int64, n
        ),
        event_lead_codes=np.repeat(np.arange(n, dtype=np.int64), [len(lead.events) for lead in leads]),
        event_ns=np.fromiter(
            (ns_of(event.occurred_at) for lead in leads for event in lead.events), np.int64, n_events
        ),
        event_types=(event_types, type_names),
        numeric={
            column: np.fromiter((_number(lead.profile.get(column)) for lead in leads), np.float64, n)
            for column in numeric_columns
        },
        categorical={
            column: _coded([lead.profile.get(column) for lead in leads]) for column in categorical_columns
        },
    )


def batch_from_records(
    records: Sequence[Mapping[str, Any]] | pd.DataFrame,
    *,
    categorical_columns: Sequence[str] = (),
    numeric_columns: Sequence[str] = (),
    default_as_of: pd.Timestamp,
    naming: EventNaming | None = None,
) -> SnapshotBatch:
    """Live lead records as a ``SnapshotBatch``: one snapshot per record, for the pyfunc and batch scoring.

    A record is a ``LeadIn`` (``lead_id``, optional ``as_of`` and ``created_at``, ``profile``,
    ``events``), or the same with the profile fields flat next to ``lead_id`` (see ``parse_leads``). The
    cutoff is ``as_of`` or else ``default_as_of``; timestamps without a zone are taken as UTC. Missing
    profile fields become missing values; extra event fields are ignored (features do not use them).
    Raises ``ValueError`` naming the record (and event) when a value cannot be read.
    """
    leads = parse_leads(records)
    try:
        check_leads(leads, numeric_columns, default_as_of.to_pydatetime())
    except LeadInputError as error:
        raise ValueError(describe_lead_error(error, leads)) from None
    return batch_from_leads(leads, default_as_of, categorical_columns, numeric_columns, naming)


def batch_from_leads(
    leads: Sequence[LeadIn],
    default_as_of: pd.Timestamp,
    categorical_columns: Sequence[str] = (),
    numeric_columns: Sequence[str] = (),
    naming: EventNaming | None = None,
) -> SnapshotBatch:
    """Parsed leads as a ``SnapshotBatch``, values taken as parsed (no per-event dicts are built);
    ``naming`` names a CRM's event types as the model's, as the API does."""
    event_types = [event.event_type for lead in leads for event in lead.events]
    if naming is not None:
        details = [event.detail for lead in leads for event in lead.events] if naming.rules else None
        event_types = naming.names(event_types, details)
    return batch_from_columns(
        [lead.lead_id for lead in leads],
        as_of=[lead.as_of for lead in leads],
        created_at=[lead.created_at for lead in leads],
        profile={
            column: [lead.profile.get(column) for lead in leads]
            for column in (*categorical_columns, *numeric_columns)
        },
        event_counts=[len(lead.events) for lead in leads],
        event_times=[event.occurred_at for lead in leads for event in lead.events],
        event_types=event_types,
        categorical_columns=categorical_columns,
        numeric_columns=numeric_columns,
        default_as_of=default_as_of,
    )


def ns_of(moment: datetime) -> int:
    """Nanoseconds since the epoch; a time without a zone is UTC (as in the data contract)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # The timedelta's parts in integer arithmetic: exact, and about half the cost of flooring it by a
    # one-microsecond timedelta (this runs once per event of every request).
    elapsed = moment - _EPOCH
    return ((elapsed.days * 86_400 + elapsed.seconds) * 1_000_000 + elapsed.microseconds) * 1000


def _in_range(moment: datetime) -> bool:
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return EARLIEST <= aware <= LATEST


def _all_in_range(times: list[datetime]) -> bool:
    """Whether every time is in range, by its extremes: two checks, not one per event (tens of thousands
    per batch)."""
    if not times:
        return True
    try:
        earliest, latest = min(times), max(times)
    except TypeError:  # times with and without a zone cannot be ordered together: check each
        return all(_in_range(moment) for moment in times)
    return _in_range(earliest) and _in_range(latest)


def _range_message() -> str:
    return f"the time is outside the supported time range ({EARLIEST.isoformat()} to {LATEST.isoformat()})"


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


def blank(value: Any) -> bool:
    """A profile value that says nothing: None, or a text of spaces only (the import reads an empty
    cell as missing, so the API does too, rather than as an unseen level)."""
    return value is None or (isinstance(value, str) and not value.strip())


def _coded(values: list[Any]) -> Coded:
    """``(codes, distinct values as strings)``; a blank value is missing (-1)."""
    index: dict[str, int] = {}
    codes = np.fromiter(
        (-1 if blank(value) else index.setdefault(str(value), len(index)) for value in values),
        np.int64,
        len(values),
    )
    return codes, list(index)


# ------------------------------------------------------------------------ parsed columns -> batch


def batch_from_columns(
    lead_ids: Sequence[str],
    *,
    as_of: Sequence[Any],
    created_at: Sequence[Any],
    profile: Mapping[str, Sequence[Any]],
    event_counts: np.ndarray | Sequence[int],
    event_times: Sequence[Any],
    event_types: Sequence[Any],
    categorical_columns: Sequence[str] = (),
    numeric_columns: Sequence[str] = (),
    default_as_of: pd.Timestamp,
) -> SnapshotBatch:
    """Live leads as a ``SnapshotBatch`` (``training.data.live_arrays.batch_from_records``), already split
    into columns (one value per lead; events flattened
    lead after lead, ``event_counts[i]`` of them for lead ``i``), so that a caller holding parsed values
    (the API) builds no per-event dicts. Times are ISO strings, ``datetime``s or None; those without a
    zone are UTC. ``profile`` maps each profile column to its values (a missing column: all missing).
    Raises ``ValueError`` naming the record (by position) when a value cannot be read.
    """
    default_ns = int(timestamps_ns([default_as_of])[0])
    if default_ns == NAT_NS:
        raise ValueError("batch_from_columns: default_as_of must be a timestamp, got NaT/None")
    n = len(lead_ids)
    sizes = np.asarray(event_counts, dtype=np.int64)
    if len(sizes) != n or int(sizes.sum()) != len(event_times) or len(event_times) != len(event_types):
        raise ValueError(
            f"batch_from_columns: {n} leads, {len(sizes)} event counts (sum {int(sizes.sum())}), "
            f"{len(event_times)} event times and {len(event_types)} event types do not line up"
        )
    as_of_ns = _parse_times(as_of, "'as_of'", None)
    as_of_ns[as_of_ns == NAT_NS] = default_ns
    frame: dict[str, Any] = {
        LEAD_ID: pd.array(lead_ids, dtype="str"),
        CUTOFF: _utc_times(as_of_ns),
        CREATED_AT: _utc_times(_parse_times(created_at, f"'{CREATED_AT}'", None)),
    }
    missing = [None] * n
    for column in categorical_columns:
        # Plain strings: LeadFeatures maps them onto its training categories itself.
        values = profile.get(column, missing)
        frame[column] = pd.array([None if blank(v) else str(v) for v in values], dtype="str")
    for column in numeric_columns:
        frame[column] = _parse_numbers(list(profile.get(column, missing)), column)

    occurred_ns = _parse_times(event_times, f"event '{OCCURRED_AT}'", sizes)
    if (occurred_ns == NAT_NS).any():
        record_no = _record_of(int(np.flatnonzero(occurred_ns == NAT_NS)[0]), sizes)
        raise ValueError(f"record {record_no} ('{lead_ids[record_no]}'): an event has no '{OCCURRED_AT}'")
    # Events name their lead and type by category codes: one hash per distinct lead and per type,
    # not one string per event.
    lead_codes, distinct_leads = pd.factorize(np.asarray(lead_ids, dtype=object))
    type_codes, distinct_types = pd.factorize(
        np.fromiter(map(str, event_types), dtype=object, count=len(event_types))
    )
    events = pd.DataFrame(
        {
            LEAD_ID: pd.Categorical.from_codes(
                np.repeat(lead_codes, sizes), dtype=pd.CategoricalDtype(pd.Index(distinct_leads, dtype="str"))
            ),
            OCCURRED_AT: _utc_times(occurred_ns),
            EVENT_TYPE: pd.Categorical.from_codes(
                type_codes, dtype=pd.CategoricalDtype(pd.Index(distinct_types, dtype="str"))
            ),
        }
    )
    return SnapshotBatch(pd.DataFrame(frame), events, tuple(categorical_columns), tuple(numeric_columns))


def _utc_times(ns: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(ns.view("datetime64[ns]")).tz_localize("UTC")


def _record_of(position: int, sizes: np.ndarray) -> int:
    """The record holding flattened event ``position``."""
    return int(np.searchsorted(np.cumsum(sizes), position, side="right"))


_DATETIME_TYPES = frozenset({datetime, pd.Timestamp, type(None)})
_PLAIN_NUMBER_TYPES = frozenset({float, int, type(None)})  # not bool: it goes through pd.to_numeric


def _parse_times(values: Sequence[Any], what: str, sizes: np.ndarray | None) -> np.ndarray:
    """ISO strings/datetimes/None -> int64 ns (NaT as int64.min); naive times are UTC. On failure name
    the record holding the bad value."""
    if not len(values):
        return np.zeros(0, dtype=np.int64)
    if set(map(type, values)) <= _DATETIME_TYPES:
        # Already datetimes (e.g. parsed by the API's request models): no string parsing; mixed zones
        # and naive times (UTC) alike.
        try:
            return timestamps_ns(pd.to_datetime(list(values), utc=True))
        except (ValueError, TypeError, OverflowError):
            pass
    try:
        return timestamps_ns(pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="ISO8601"))
    except (ValueError, TypeError, OverflowError):
        pass
    for position, value in enumerate(values):
        try:
            pd.to_datetime(value, utc=True, format="ISO8601")
        except (ValueError, TypeError, OverflowError):
            record_no = position if sizes is None else _record_of(position, sizes)
            raise ValueError(f"record {record_no}: {what} is not an ISO timestamp: {value!r}") from None
    raise ValueError(f"{what}: values are not ISO timestamps")  # mixed zones and the like


def _parse_numbers(values: list[Any], column: str) -> np.ndarray:
    if set(map(type, values)) <= _PLAIN_NUMBER_TYPES:
        return np.asarray(values, dtype=np.float64)  # the common case: JSON numbers, no parsing needed
    try:
        return pd.to_numeric(pd.Series(values, dtype=object), errors="raise").astype("float64").to_numpy()
    except (ValueError, TypeError):
        numbers = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
        bad = int(np.flatnonzero(numbers.isna().to_numpy() & pd.notna(pd.Series(values, dtype=object)))[0])
        raise ValueError(f"record {bad}: field '{column}' is not a number: {values[bad]!r}") from None

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
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from training.data.live import LeadIn, LeadInputError, describe_lead_error, parse_leads
from training.features.snapshot_arrays import NAT_NS, Coded, SnapshotArrays
from training.features.snapshots import SnapshotBatch, batch_from_columns

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# int64 nanoseconds (the unit of every time in the pipeline) reach from 1677 to 2262.
EARLIEST = pd.Timestamp.min.ceil("s").to_pydatetime().replace(tzinfo=UTC)
LATEST = pd.Timestamp.max.floor("s").to_pydatetime().replace(tzinfo=UTC)


__all__ = ["LeadInputError", "arrays_from_leads", "batch_from_leads", "batch_from_records", "check_leads"]


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
) -> SnapshotArrays:
    """The leads as ``SnapshotArrays`` (see the module docstring); ``check_leads`` must have passed."""
    n = len(leads)
    n_events = sum(len(lead.events) for lead in leads)
    type_index: dict[str, int] = {}
    event_types = np.fromiter(
        (type_index.setdefault(event.event_type, len(type_index)) for lead in leads for event in lead.events),
        np.int64,
        n_events,
    )
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
        event_types=(event_types, list(type_index)),
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
    return batch_from_leads(leads, default_as_of, categorical_columns, numeric_columns)


def batch_from_leads(
    leads: Sequence[LeadIn],
    default_as_of: pd.Timestamp,
    categorical_columns: Sequence[str] = (),
    numeric_columns: Sequence[str] = (),
) -> SnapshotBatch:
    """Parsed leads as a ``SnapshotBatch``, values taken as parsed (no per-event dicts are built)."""
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
        event_types=[event.event_type for lead in leads for event in lead.events],
        categorical_columns=categorical_columns,
        numeric_columns=numeric_columns,
        default_as_of=default_as_of,
    )


def ns_of(moment: datetime) -> int:
    """Nanoseconds since the epoch; a time without a zone is UTC (as in the data contract)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MICROSECOND * 1000


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


def _coded(values: list[Any]) -> Coded:
    """``(codes, distinct values as strings)``; None is missing (-1)."""
    index: dict[str, int] = {}
    codes = np.fromiter(
        (-1 if value is None else index.setdefault(str(value), len(index)) for value in values),
        np.int64,
        len(values),
    )
    return codes, list(index)

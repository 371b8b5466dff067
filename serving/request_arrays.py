"""The API's leads as ``SnapshotArrays``, straight from the parsed request models.

One snapshot per lead, at its ``as_of`` (or the request's default); lead codes are the leads' positions,
so duplicate lead ids can never mix; events are laid out lead after lead, in request order. No pandas
object is built: for the few leads of an API call, building frames cost more than the features.
The same values as ``training.features.snapshots.batch_from_columns`` (tests compare the features exactly).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from serving.schemas import LeadIn
from training.features.snapshot_arrays import NAT_NS, Coded, SnapshotArrays

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# int64 nanoseconds (the unit of every time in the pipeline) reach from 1677 to 2262.
EARLIEST = pd.Timestamp.min.ceil("s").to_pydatetime().replace(tzinfo=UTC)
LATEST = pd.Timestamp.max.floor("s").to_pydatetime().replace(tzinfo=UTC)


class LeadInputError(ValueError):
    """A lead's value cannot be used; ``loc`` is the field path inside the lead (e.g. ("profile", "size"))."""

    def __init__(self, index: int, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.index = index
        self.loc = loc


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

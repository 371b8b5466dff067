"""Local times in an export: the mapping's ``timezone`` names the zone a CRM writes times without a UTC
offset in (``"Europe/Berlin"``); without it they are read as UTC.

CRMs mix the two: HubSpot writes a contact's "Create Date" in the portal's local time and its engagement
log with an offset. Read as UTC, a Berlin form submission at 10:15+02:00 (08:15 UTC) lands before the
contact it created (10:15 read as UTC), and the import rejects it as an event before its lead. With the
zone declared, every time without an offset is that zone's wall-clock time and is converted to UTC; a time
with an offset keeps it. A wall-clock time that occurs twice when clocks go back is read as the first
(summer) one; one that does not exist when they go forward is moved forward to the first one that does.
An hour either way does not change a feature counted in days.
"""

from __future__ import annotations

import re
import warnings
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

#: A time of day followed by a UTC offset ("10:15+02:00", "10:15:00Z"); a date alone has none.
_WITH_OFFSET = re.compile(
    r"\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)\s*$", re.I
)
#: How converted values are written: ISO 8601 with the UTC offset, which validation reads as is.
ISO_UTC = "%Y-%m-%dT%H:%M:%S.%f+00:00"


def checked_time_zone(name: str) -> str:
    """``name`` if it is an IANA time zone this machine knows, else ``ValueError`` saying what would do."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}: an IANA name such as 'Europe/Berlin', 'America/New_York' or 'UTC'"
        ) from None
    return name


def has_offset(values: pd.Series) -> pd.Series:
    """True where a text timestamp carries a UTC offset (missing values: False)."""
    return values.astype("str").str.strip().str.contains(_WITH_OFFSET) & values.notna()


def wall_times_to_utc(stamps: pd.Series, zone: str) -> pd.Series:
    """Timestamps that hold wall-clock times of ``zone`` (naive, or labelled UTC by a parser that was given
    no zone) as the UTC instants they are."""
    naive = stamps.dt.tz_localize(None) if isinstance(stamps.dtype, pd.DatetimeTZDtype) else stamps
    local = naive.dt.tz_localize(zone, ambiguous=np.ones(len(naive), dtype=bool), nonexistent="shift_forward")
    return local.dt.tz_convert("UTC")


def local_times_to_utc(values: pd.Series, zone: str) -> pd.Series:
    """``values`` with every time that has no UTC offset read as a wall-clock time of ``zone``.

    Typed timestamps without a zone (Parquet, Excel) are converted; text ones (ISO 8601, or any format
    validation would infer, "01 Mar 2024 10:15 AM") are rewritten as ISO 8601 UTC text. Times with an
    offset, typed ones with a zone, and text that is no timestamp are left as they are (validation reads
    the first and reports the last)."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return wall_times_to_utc(values, zone)
    if not pd.api.types.is_string_dtype(values.dtype) and values.dtype != object:
        return values
    text = values.astype("str").str.strip()
    local = values.notna() & (text != "") & ~has_offset(values)
    if not local.any():
        return values
    parsed = pd.to_datetime(text.where(local), format="ISO8601", errors="coerce")
    other = local & parsed.isna()
    if other.any():
        # Not ISO ("01 Mar 2024 10:15 AM"): read as validation would read it, value by value, then
        # localised like the rest; a value that still does not parse is left for validation to report.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            retry = pd.to_datetime(text.where(other), format="mixed", errors="coerce")
        if pd.api.types.is_datetime64_dtype(retry.dtype):  # no offsets hidden in the text
            parsed = parsed.where(~other, retry.dt.as_unit(parsed.dt.unit))
    read = parsed.notna()
    if not read.any():
        return values
    converted = wall_times_to_utc(parsed[read], zone).dt.strftime(ISO_UTC)
    return values.where(~read, converted.reindex(values.index))

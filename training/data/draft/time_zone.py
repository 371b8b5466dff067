"""Whether an export's times carry UTC offsets: where some do and some do not, the times without one are
local times of a zone the values cannot tell (``training.data.time_zones``), so the draft asks for it."""

from __future__ import annotations

from collections.abc import Collection

import pandas as pd

from training.data.date_formats import EPOCH_UNITS
from training.data.draft.column_profile import ColumnProfile
from training.data.time_zones import has_offset


def offset_columns(
    frame: pd.DataFrame, profiles: list[ColumnProfile], used: Collection[str | None]
) -> tuple[list[str], list[str]]:
    """The date columns of ``frame`` that the draft maps (``used``: a dropped date is never read, so its
    zone does not matter) with times that carry a UTC offset, and those with times that do not (a column
    that mixes both is in both lists). Unix times are instants: they count as carrying one."""
    with_offset: list[str] = []
    without: list[str] = []
    for profile in profiles:
        values = frame[profile.name]
        if not profile.is_date or profile.name not in used:
            continue
        if isinstance(values.dtype, pd.DatetimeTZDtype) or profile.date_order in EPOCH_UNITS:
            with_offset.append(profile.name)
            continue
        if not pd.api.types.is_string_dtype(values.dtype):
            without.append(profile.name)  # an Excel workbook's dates: wall-clock times, no offset
            continue
        present = values[values.notna() & (values.astype("str").str.strip() != "")]
        offset = has_offset(present)
        if offset.any():
            with_offset.append(profile.name)
        if not offset.all():
            without.append(profile.name)
    return with_offset, without


def time_zone_todo(with_offset: list[str], without: list[str]) -> str | None:
    """The to-do for an export whose times mix offsets and none, or None."""
    if not with_offset or not without:
        return None
    mixed = [column for column in with_offset if column in without]
    groups = [
        ("carry a UTC offset", [column for column in with_offset if column not in mixed]),
        ("carry none", [column for column in without if column not in mixed]),
        ("mix both", mixed),
    ]
    said = "; ".join(
        f"times in {', '.join(map(repr, columns))} {what}" for what, columns in groups if columns
    )
    return (
        f'{said}: set timezone to the zone the CRM writes local times in (e.g. "Europe/Berlin"; "UTC" if '
        "they are UTC), or an event can land before the lead it created"
    )


def time_zone_line(with_offset: list[str], without: list[str]) -> str | None:
    """The draft's ``timezone`` line: a placeholder the import refuses where times mix offsets and none,
    a commented key where times have none (they are read as UTC), nothing where all have one."""
    if with_offset and without:
        return 'timezone = "TO DO"   # the zone of times written without a UTC offset, e.g. "Europe/Berlin"'
    if without:
        return '# timezone = "Europe/Berlin"   # the zone of times written without a UTC offset (unset: UTC)'
    return None

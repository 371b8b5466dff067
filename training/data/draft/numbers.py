"""The number convention of a drafted leads section: the keys are per file, not per column, so the
convention most numeric columns need is declared, with every column's units, and a column it does not
read becomes a to-do."""

from __future__ import annotations

from collections import Counter

import pandas as pd

from training.data.draft.column_profile import MOSTLY, ColumnProfile
from training.data.draft.roles import LeadsDraft
from training.data.number_format import NumberFormat, NumberFormatError, to_plain_numbers


def section_numbers(profiles: list[ColumnProfile], leads: LeadsDraft) -> NumberFormat | None:
    """The number convention of the leads section: the one its numeric columns need most. A column it
    does not read becomes a to-do (the keys are per file, not per column)."""
    numeric = {*leads.columns("numeric"), *leads.columns("activity")}
    used = [p for p in profiles if p.name in numeric]
    for profile in used:
        if profile.number_ambiguous:
            leads.todos.append(
                f"the numbers of {profile.name!r} ({', '.join(profile.examples)}) read with a decimal "
                'comma and with commas between thousands: set decimal = "," or thousands = ","'
            )
    formats = [p.number_format for p in used if p.number_format is not None]
    if not formats:
        return None
    # Decimal mark and thousands separator as most columns need them (an ambiguous column's are the
    # user's to-do), with every column's units.
    sure = [p.number_format for p in used if p.number_format is not None and not p.number_ambiguous]
    marks = Counter((f.decimal, f.thousands) for f in sure if f.decimal != "." or f.thousands is not None)
    decimal, thousands = marks.most_common(1)[0][0] if marks else (".", None)
    units = tuple(dict.fromkeys(unit for f in formats for unit in f.units))
    chosen = NumberFormat(decimal, thousands, units)
    for profile in used:
        if profile.number_ambiguous:
            continue  # its to-do above already says what to set
        values = pd.Series([value for value, _ in profile.top], dtype=object)
        try:
            read = pd.to_numeric(to_plain_numbers(values, chosen, "draft"), errors="coerce").notna().mean()
        except NumberFormatError:
            read = 0.0
        if read < MOSTLY:
            leads.todos.append(
                f"{profile.name!r} writes numbers unlike the file's other numeric columns "
                f"({chosen.describe()}): clean it, or list it under categorical"
            )
    return chosen

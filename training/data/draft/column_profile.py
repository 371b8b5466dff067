"""What each column of an export holds, as far as its values tell: numbers (in which convention), dates
(in which day/month order), categories, identifiers, missing markers. The facts a drafted mapping is
decided from (``training.data.draft.roles``), read with the import's own parsers so that a column the
draft calls numeric or a date is one the import reads as such."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from training.data.date_formats import DAY_FIRST, EPOCH_MILLISECONDS, EPOCH_SECONDS, EPOCH_UNITS, MONTH_FIRST
from training.data.date_order import AmbiguousDatesError, day_month_order, shown_orders
from training.data.draft.words import words
from training.data.number_format import NumberFormat, NumberFormatError, to_plain_numbers, units_shown
from training.data.parsing import MISSING_LOOKING, parse_timestamps

#: A column is numeric (or dates) when at least this share of its non-missing values read as such.
MOSTLY = 0.95
#: A column named like a moment ("activityDate", "Created At", "timestamp"), in words.
_TIME_NAME = re.compile(r"date|time|stamp|\bat$|\bon$|\bwhen\b|created|updated|modified|occurred|datum|fecha")
#: What every date shows: a four-digit year, or day, month and year as numbers.
_DATE_LIKE = r"\d{4}|\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2}"
_EXAMPLES = 3


@dataclass(frozen=True)
class ColumnProfile:
    """The facts of one column (``present``: values that are neither empty nor a missing marker)."""

    name: str
    rows: int
    present: int
    distinct: int
    #: missing markers written in the column ("N/A", "-"), as written
    markers: tuple[str, ...]
    #: share of present values read as numbers, and the convention that reads them (None: plain)
    number_share: float
    number_format: NumberFormat | None
    #: both a decimal comma and commas between thousands read every number ("1,200"): the user decides
    number_ambiguous: bool
    #: numbers no mapping key reads as one column: scaled by suffixes (1.2M), or in different units
    unreadable_numbers: str | None
    date_share: float
    #: "day_first" / "month_first" when the values show it, None for ISO and other self-evident dates
    date_order: str | None
    #: every d/m/y value fits both orders: the user decides
    date_ambiguous: bool
    #: median of the dates (dates only), to tell a creation date from later ones
    median_date: pd.Timestamp | None
    #: share of present values with an "@" (emails)
    at_share: float
    #: every number is whole (counts, codes, ids)
    whole_numbers: bool
    #: whole numbers spanning at most ten times as many values as there are rows (a running number)
    whole_numbers_in_sequence: bool
    #: the commonest values with their counts (at most 30)
    top: tuple[tuple[str, int], ...]
    examples: tuple[str, ...]

    @property
    def is_number(self) -> bool:
        return self.present > 0 and self.number_share >= MOSTLY

    @property
    def is_date(self) -> bool:
        return self.present > 0 and not self.is_number and self.date_share >= MOSTLY

    @property
    def is_unique(self) -> bool:
        """Every row has a value and no two share one: an identifier."""
        return self.present == self.rows and self.distinct == self.rows

    @property
    def unique_share(self) -> float:
        return self.distinct / self.present if self.present else 0.0


def profile_columns(frame: pd.DataFrame) -> list[ColumnProfile]:
    """A profile of every column of a raw frame (text values, as ``read_table`` gives them)."""
    return [profile_column(str(name), frame[name]) for name in frame.columns]


def profile_column(name: str, values: pd.Series) -> ColumnProfile:
    text = values.astype("str").str.strip().where(values.notna())
    text = text.where(text != "")
    is_marker = text.str.lower().isin(MISSING_LOOKING).fillna(False).astype(bool)
    markers = tuple(str(value) for value in text[is_marker].value_counts().index)
    present = text[~is_marker].dropna()
    counts = present.value_counts()
    number_share, number_format, ambiguous = _numbers(present)
    unreadable = _unreadable_numbers(present) if number_share < MOSTLY else None
    date_share, order, date_ambiguous, median = (0.0, None, False, None)
    if number_share < MOSTLY and len(present):
        date_share, order, date_ambiguous, median = _dates(present)
    epoch = _epoch_unit(name, present) if number_share >= MOSTLY else None
    if epoch is not None:  # Unix times: a date column, not a number a model would learn from
        number_share, date_share, order = 0.0, 1.0, epoch
        # A few values that are no number (a typo, a marker) are the import's to report by row.
        numbers = pd.to_numeric(present, errors="coerce")
        median = _median(pd.to_datetime(numbers, unit=EPOCH_UNITS[epoch], utc=True, errors="coerce"))
    return ColumnProfile(
        name=name,
        rows=len(values),
        present=len(present),
        distinct=len(counts),
        markers=markers,
        number_share=number_share,
        number_format=number_format,
        number_ambiguous=ambiguous,
        unreadable_numbers=unreadable,
        date_share=date_share,
        date_order=order,
        date_ambiguous=date_ambiguous,
        median_date=median,
        at_share=float(present.str.contains("@", regex=False).mean()) if len(present) else 0.0,
        whole_numbers=_whole(present) if number_share >= MOSTLY else False,
        whole_numbers_in_sequence=_in_sequence(present) if number_share >= MOSTLY else False,
        top=tuple((str(value), int(count)) for value, count in counts.head(30).items()),
        examples=tuple(str(value) for value in counts.index[:_EXAMPLES]),
    )


def _numbers(present: pd.Series) -> tuple[float, NumberFormat | None, bool]:
    """Share read as numbers and the convention that reads the most (None: plain); whether both a
    decimal comma and commas between thousands read them all."""
    if present.empty:
        return 0.0, None, False
    plain = _share_read(present, NumberFormat())
    if plain >= MOSTLY:
        return plain, None, False
    units = units_shown(present)
    if len(units) > 1:
        return plain, None, False  # different units in one column: no convention reads them as one
    if units and _share_read(present, NumberFormat(units=units)) >= MOSTLY:
        return _share_read(present, NumberFormat(units=units)), NumberFormat(units=units), False
    candidates = [
        NumberFormat(".", ",", units),
        NumberFormat(",", ".", units),
        NumberFormat(",", None, units),
    ]
    shares = [(_share_read(present, candidate), candidate) for candidate in candidates]
    best_share, best = max(shares, key=lambda pair: pair[0])
    if best_share < MOSTLY:
        return plain, None, False
    # Only commas between digit groups of three ("1,200") fit both readings; the import asks which.
    ambiguous = shares[0][0] >= MOSTLY and shares[2][0] >= MOSTLY
    return best_share, best, ambiguous


def _whole(present: pd.Series) -> bool:
    numbers = pd.to_numeric(present, errors="coerce").dropna()
    return bool(len(numbers)) and bool((numbers % 1 == 0).all())


def _in_sequence(present: pd.Series) -> bool:
    if not _whole(present):
        return False
    numbers = pd.to_numeric(present, errors="coerce").dropna()
    return float(numbers.max() - numbers.min()) <= 10 * len(numbers)


def _unreadable_numbers(present: pd.Series) -> str | None:
    """Why a column of numbers is none the mapping can read: what the import would say."""
    try:
        to_plain_numbers(present, NumberFormat(), "the column")
    except NumberFormatError as error:
        reason = str(error).removeprefix("the column: ")
        if "scaled by a suffix" in reason or "carry different units" in reason:
            return reason
    return None


def _share_read(present: pd.Series, number_format: NumberFormat) -> float:
    try:
        plain = to_plain_numbers(present, number_format, "draft")
    except NumberFormatError:
        return 0.0
    return float(pd.to_numeric(plain, errors="coerce").notna().mean())


def _epoch_unit(name: str, present: pd.Series) -> str | None:
    """``epoch_ms`` / ``epoch_s`` for a column named like a time whose whole numbers nearly all fall
    between 2000 and 2100 as Unix milliseconds / seconds (HubSpot's and Marketo's API exports); None
    otherwise. The name decides too: ten-digit phone numbers fall in the seconds' range. A few values
    outside (a ``0`` written for "no time") do not hide the rest: the import reports them by row."""
    if not _TIME_NAME.search(words(name)):
        return None
    numbers = pd.to_numeric(present, errors="coerce")
    for unit, (low, high) in (
        (EPOCH_MILLISECONDS, (946_684_800_000, 4_102_444_800_000)),
        (EPOCH_SECONDS, (946_684_800, 4_102_444_800)),
    ):
        if numbers.between(low, high).mean() >= MOSTLY:
            return unit
    return None


def _dates(present: pd.Series) -> tuple[float, str | None, bool, pd.Timestamp | None]:
    """Share read as dates, the day/month order the values show, whether it is ambiguous, the median.
    A value without a year or a d/m/y-like part is no date ("may", "monday", "Q3"), whatever a lenient
    parser makes of it."""
    dated = present.str.contains(_DATE_LIKE, regex=True).fillna(False).astype(bool)
    if dated.mean() < MOSTLY:
        return float(dated.mean()), None, False, None
    try:
        shown = day_month_order(present, "draft")
    except AmbiguousDatesError as error:
        if "mix day-first and month-first" not in str(error):
            return 1.0, None, True, None
        shown = _dominant_order(present)
        if shown is None:
            return 0.0, None, False, None  # a mixed column is no date column a mapping can read
    if shown is not None:
        order, formats = shown
        parsed = pd.to_datetime(present, format=formats[0], errors="coerce", utc=True)
        for other in formats[1:]:
            parsed = parsed.where(
                parsed.notna(), pd.to_datetime(present, format=other, errors="coerce", utc=True)
            )
        return float(parsed.notna().mean()), order, False, _median(parsed)
    parsed, bad = parse_timestamps(present.reset_index(drop=True))
    return float(1.0 - bad.mean()), None, False, _median(parsed)


def _dominant_order(present: pd.Series) -> tuple[str, list[str]] | None:
    """The order nearly every value shows, where a few typos show the other ("15.13.2025" among thousands
    of day-first dates): drafted as declared, the import then reports the typos with their rows. None
    where the two orders are both common: a truly mixed column."""
    counts = shown_orders(present)
    if counts is None:
        return None
    day_first, month_first, day_formats, month_formats = counts
    if min(day_first, month_first) > (1 - MOSTLY) * max(day_first, month_first):
        return None
    return (DAY_FIRST, day_formats) if day_first > month_first else (MONTH_FIRST, month_formats)


def _median(parsed: pd.Series) -> pd.Timestamp | None:
    value = parsed.dropna().sort_values()
    return None if value.empty else pd.Timestamp(value.iloc[len(value) // 2])

"""Day/month order of non-ISO dates: read it from the values when they show it, never guess it.

``03/04/2024`` is the 3rd of April or the 4th of March. A column whose values are all of the form
``d/m/y`` (or with ``.`` or ``-``) without a ``date_format`` in the mapping is checked: when some value
has a first part above 12 the column is day-first, when some has a second part above 12 it is
month-first; when no value tells (every date fits both readings) the import is refused until the
mapping sets ``date_format``, and when values tell both ways the column mixes formats and is refused too.
"""

from __future__ import annotations

import re

import pandas as pd

from training.data.date_formats import DAY_FIRST, EPOCH_MILLISECONDS, EPOCH_SECONDS, EPOCH_UNITS, MONTH_FIRST
from training.data.parsing import missing_marker_hint, show
from training.data.time_zones import ISO_UTC, wall_times_to_utc

# d/m/y (or m/d/y) with "/", "." or "-", then maybe a time after a space, a "T" or a comma (Salesforce
# writes "1/5/2024, 1:45 PM").
_NUMERIC_DATE = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2,4})(?:(T|,?\s+|,)(.*))?$")


#: What ``to_iso_dates`` appends to a value that does not fit the format, before the format and " date)";
#: ``timestamp_problem`` reads it back.
_UNFIT_MARK = " (not a "


class AmbiguousDatesError(ValueError):
    """A date column whose day/month order the values cannot tell, or that mixes both orders."""


def day_month_order(values: pd.Series, where: str) -> tuple[str, list[str]] | None:
    """The order of a ``d/m/y``-style column, ``DAY_FIRST`` or ``MONTH_FIRST``, with the formats that
    read it (``None`` if the column is not one), or ``AmbiguousDatesError`` naming ``where`` (the config
    key and file) and the formats to choose from."""
    layout = _layout(values)
    if layout is None:
        return None
    text, first, second, day_formats, month_formats = layout
    day_first, month_first = bool((first > 12).any()), bool((second > 12).any())
    if day_first and month_first:
        raise AmbiguousDatesError(
            f"{where}: the dates mix day-first and month-first values (e.g. {_example(text, first > 12)} "
            f"and {_example(text, second > 12)}); clean the column or import the parts separately"
        )
    if not day_first and not month_first:
        raise AmbiguousDatesError(
            f"{where}: all {len(text):,} dates (e.g. {text.iloc[0]!r}) read as day/month and as month/day; "
            f'set date_format = "{DAY_FIRST}" ({day_formats[0]}) or "{MONTH_FIRST}" ({month_formats[0]}) '
            "in the mapping"
        )
    return (DAY_FIRST, day_formats) if day_first else (MONTH_FIRST, month_formats)


def shown_orders(values: pd.Series) -> tuple[int, int, list[str], list[str]] | None:
    """How many ``d/m/y``-style values show day-first (a first part above 12) and how many month-first,
    with the formats of each order; None when no value is ``d/m/y``-like."""
    layout = _layout(values)
    if layout is None:
        return None
    _, first, second, day_formats, month_formats = layout
    return int((first > 12).sum()), int((second > 12).sum()), day_formats, month_formats


#: Time parts a ``d/m/y`` date may carry, by the ``strftime`` pattern that reads them; values of one
#: column may differ (midnight exported without a time, some rows with seconds).
_TIME_STYLES = {
    "%H:%M": re.compile(r"\d{1,2}:\d{2}"),
    "%H:%M:%S": re.compile(r"\d{1,2}:\d{2}:\d{2}"),
    "%H:%M:%S.%f": re.compile(r"\d{1,2}:\d{2}:\d{2}\.\d{1,6}"),
    "%I:%M %p": re.compile(r"\d{1,2}:\d{2}\s+[AaPp][Mm]"),
    "%I:%M:%S %p": re.compile(r"\d{1,2}:\d{2}:\d{2}\s+[AaPp][Mm]"),
    "%I:%M%p": re.compile(r"\d{1,2}:\d{2}[AaPp][Mm]"),
}


def _layout(values: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series, list[str], list[str]] | None:
    """A column's ``d/m/y``-style values, their first and second parts, and the day-first and
    month-first formats (one per way of writing the time that the values show, the most common first);
    ``None`` when no value is ``d/m/y``-like (ISO or other). A time written in none of these ways
    (``13h45``) gets no format, so its value is reported with its row rather than read some other way.

    Other values beside them (an ``N/A``, an ISO date) do not hide the column's order: they once sent
    the whole column to a parser that reads ``01/05/2023`` month first. ISO dates are then read as ISO;
    anything else does not fit the order and is reported with its row."""
    text = values.dropna().astype(str)
    text = text[text.str.strip() != ""]
    parts = text.str.extract(_NUMERIC_DATE)
    dated = parts[0].notna()
    if not dated.any():
        return None
    text, parts = text[dated], parts[dated]
    separator = re.search(r"[/.\-]", str(text.iloc[0]))
    sep = separator.group(0) if separator else "/"
    year = "%Y" if parts[2].str.len().max() == 4 else "%y"
    # strptime reads a space in a format as any run of spaces: ", " stands for ",  " too.
    gaps = parts[3].fillna("").map(lambda gap: gap if gap in ("T", ",") else ", " if "," in gap else " ")
    times = parts[4].fillna("").str.strip()
    counts: dict[str, int] = {"": int((times == "").sum())}
    for style, pattern in _TIME_STYLES.items():
        fits = times.str.fullmatch(pattern)
        for gap, count in gaps[fits].value_counts().items():
            counts[f"{gap}{style}"] = int(count)
    # Every time style the values show, most common first; a style nobody uses is not tried.
    suffixes = sorted((s for s in counts if counts[s]), key=lambda s: -counts[s]) or [""]
    day = [f"%d{sep}%m{sep}{year}{suffix}" for suffix in suffixes]
    month = [f"%m{sep}%d{sep}{year}{suffix}" for suffix in suffixes]
    return text, parts[0].astype(int), parts[1].astype(int), day, month


def _order_formats(values: pd.Series, order: str) -> list[str]:
    """The formats that read ``values`` in ``order`` (``DAY_FIRST`` or ``MONTH_FIRST``)."""
    matching = values[values.astype("str").str.match(_NUMERIC_DATE) & values.notna()]
    layout = _layout(matching)
    day, month = (layout[3], layout[4]) if layout is not None else (["%d/%m/%Y"], ["%m/%d/%Y"])
    return day if order == DAY_FIRST else month


def to_iso_dates(
    values: pd.Series,
    date_format: str | None,
    where: str,
    warnings: list[str] | None = None,
    zone: str | None = None,
) -> pd.Series:
    """Rewrite dates as ISO 8601, in the declared ``date_format`` (a pattern, or ``day_first`` /
    ``month_first``) when there is one. Typed timestamps (Parquet) need no format.

    Without a format, d/m/y-style dates are read in the order their values show (with a warning
    saying so) and refused (``AmbiguousDatesError``) when they fit both orders: never guessed
    silently; other values (ISO, ...) are left for validation to parse or report. An order,
    declared or shown, reads every time style the values show (``13:45``, ``13:45:10``, ``1:45 PM``,
    none) and leaves ISO 8601 values to validation. A non-empty value that does not fit the declared
    format or the order is not guessed either: it is rewritten as ``value (not a <format> date)``, which
    validation reports (or quarantines) as an unparseable timestamp with its row and column
    (``timestamp_problem``). ``zone``: the mapping's time zone, in which times read without a UTC offset
    are wall-clock times (``training.data.time_zones``); None: UTC."""
    if date_format in EPOCH_UNITS:
        return _from_epoch(values, date_format)
    if not pd.api.types.is_string_dtype(values.dtype):
        return values
    if date_format is None:
        shown = day_month_order(values, where)
        if shown is None:
            return values
        date_format, formats = shown
        if warnings is not None:
            warnings.append(
                f'{where}: non-ISO dates read as "{date_format}" (the values show it); set date_format = '
                f'"{date_format}" to make it explicit'
            )
    elif date_format in (DAY_FIRST, MONTH_FIRST):
        formats = _order_formats(values, date_format)
    else:
        formats = [date_format]
    parsed = pd.to_datetime(values, format=formats[0], errors="coerce", utc=True)
    for other in formats[1:]:
        parsed = parsed.where(parsed.notna(), pd.to_datetime(values, format=other, errors="coerce", utc=True))
    if zone is not None and not any("%z" in f or "%Z" in f for f in formats):
        parsed = wall_times_to_utc(parsed, zone)
    iso = parsed.dt.strftime(ISO_UTC)
    present = values.notna() & (values.astype("str").str.strip() != "")
    unfit = parsed.isna() & present
    if date_format in (DAY_FIRST, MONTH_FIRST):
        # An ISO 8601 date beside d/m/y ones says itself which part is which: left for validation to
        # read. (A declared pattern is a promise every value keeps, so there it does not fit.)
        unfit &= pd.to_datetime(values.where(unfit), format="ISO8601", errors="coerce", utc=True).isna()
    values = values.where(~unfit, values.astype("str") + f"{_UNFIT_MARK}{date_format} date)")
    return values.where(parsed.isna(), iso)


def _from_epoch(values: pd.Series, date_format: str) -> pd.Series:
    """Unix times (``epoch_s`` / ``epoch_ms``) as ISO 8601 UTC; a value that is no number is marked
    unfit, as for the other formats. Epoch times are instants, so no time zone applies."""
    text = values.astype("str").str.strip().where(values.notna())
    numbers = pd.to_numeric(text, errors="coerce")
    parsed = pd.to_datetime(numbers, unit=EPOCH_UNITS[date_format], utc=True, errors="coerce")
    present = text.notna() & (text != "")
    unfit = parsed.isna() & present
    marked = text.where(~unfit, text + f"{_UNFIT_MARK}{date_format} date)")
    return marked.where(parsed.isna(), parsed.dt.strftime(ISO_UTC))


def epoch_hint(value: object) -> str:
    """ " (Unix epoch milliseconds? ...)" for a value of 13 (or 10) digits, else ""."""
    text = str(value).strip()
    if text.isdigit() and len(text) in (10, 13):
        unit = EPOCH_MILLISECONDS if len(text) == 13 else EPOCH_SECONDS
        kind = "milliseconds" if len(text) == 13 else "seconds"
        return f' (Unix epoch {kind}? set the date format to "{unit}")'
    return ""


def timestamp_problem(value: object) -> str:
    """What is wrong with a date that could not be parsed, e.g. "cannot parse 'N/A' as a timestamp (a
    missing value? ...)" or, for one that did not fit its declared or shown format, "cannot parse
    '05/01/2024 13h45' as a day_first date"."""
    text = str(value)
    if text.endswith(" date)") and _UNFIT_MARK in text:
        written, date_format = text[: -len(" date)")].rsplit(_UNFIT_MARK, 1)
        return f"cannot parse {show(written)} as a {date_format} date{missing_marker_hint(written)}"
    return f"cannot parse {show(value)} as a timestamp{missing_marker_hint(value) or epoch_hint(value)}"


def _example(text: pd.Series, mask: pd.Series) -> str:
    return repr(str(text[mask].iloc[0]))


def with_fallback(primary: pd.Series, fallback: pd.Series, file: str, warnings: list[str]) -> pd.Series:
    """``primary`` dates, with ``fallback``'s where the primary is empty (a field added late, a failed
    sync, a lost lead's date beside the won ones); how many were filled goes into ``warnings``."""

    def empty(values: pd.Series) -> pd.Series:
        return values.isna() | (values.astype("str").str.strip() == "")

    filled = int((empty(primary) & ~empty(fallback)).sum())
    if filled:
        used = f"{fallback.name!r} used instead"
        warnings.append(f"{filled:,} leads of {file} have no {primary.name!r}: {used}")
    return primary.where(~empty(primary), fallback)


def without_open_close_dates(
    status: pd.Series, closed: pd.Series, file: str, warnings: list[str]
) -> pd.Series:
    """``closed`` blanked where ``status`` is open (``close_date_of_open = "ignore"``): an expected close
    date, as Salesforce keeps on every open opportunity, is no close. How many goes into ``warnings``."""
    present = closed.notna() & (closed.astype("str").str.strip() != "")
    expected = present & (status.astype("str").str.strip().str.lower() == "open")
    if expected.any():
        warnings.append(
            f"{int(expected.sum()):,} open leads of {file} have a {closed.name!r}: an expected close, "
            'ignored (close_date_of_open = "ignore")'
        )
    return closed.where(~expected)

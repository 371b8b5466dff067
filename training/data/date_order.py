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

from training.data.date_formats import DAY_FIRST, MONTH_FIRST

_NUMERIC_DATE = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2,4})(?:[ T](.*))?$")


class AmbiguousDatesError(ValueError):
    """A date column whose day/month order the values cannot tell, or that mixes both orders."""


def day_month_format(values: pd.Series, where: str) -> str | None:
    """The ``strftime`` format of a ``d/m/y``-style column (``None`` if the column is not one), or
    ``AmbiguousDatesError`` naming ``where`` (the config key and file) and the formats to choose from."""
    layout = _layout(values)
    if layout is None:
        return None
    text, first, second, day_format, month_format = layout
    day_first, month_first = bool((first > 12).any()), bool((second > 12).any())
    if day_first and month_first:
        raise AmbiguousDatesError(
            f"{where}: the dates mix day-first and month-first values (e.g. {_example(text, first > 12)} "
            f"and {_example(text, second > 12)}); clean the column or import the parts separately"
        )
    if not day_first and not month_first:
        raise AmbiguousDatesError(
            f"{where}: all {len(text):,} dates (e.g. {text.iloc[0]!r}) read as day/month and as month/day; "
            f'set date_format = "{day_format}" (day first) or "{month_format}" (month first) in the mapping'
        )
    return day_format if day_first else month_format


def _layout(values: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series, str, str] | None:
    """A ``d/m/y``-style column's non-empty values, first and second parts, and its day-first and
    month-first formats; ``None`` when some value is not ``d/m/y``-like (ISO or other)."""
    text = values.dropna().astype(str)
    text = text[text.str.strip() != ""]
    if text.empty:
        return None
    parts = text.str.extract(_NUMERIC_DATE)
    if parts[0].isna().any():
        return None
    separator = re.search(r"[/.\-]", str(text.iloc[0]))
    sep = separator.group(0) if separator else "/"
    year = "%Y" if parts[2].str.len().max() == 4 else "%y"
    times = parts[3].dropna()
    suffix = "" if times.empty else (" %H:%M:%S" if times.iloc[0].count(":") >= 2 else " %H:%M")
    day_format = f"%d{sep}%m{sep}{year}{suffix}"
    month_format = f"%m{sep}%d{sep}{year}{suffix}"
    return text, parts[0].astype(int), parts[1].astype(int), day_format, month_format


def declared_format(values: pd.Series, date_format: str) -> str:
    """A declared format as a ``strftime`` pattern: ``day_first`` / ``month_first`` take the separator,
    year length and time part from the values (``%d/%m/%Y`` when they do not show one)."""
    if date_format not in (DAY_FIRST, MONTH_FIRST):
        return date_format
    matching = values[values.astype("str").str.match(_NUMERIC_DATE) & values.notna()]
    layout = _layout(matching)
    day_format, month_format = layout[3:] if layout is not None else ("%d/%m/%Y", "%m/%d/%Y")
    return day_format if date_format == DAY_FIRST else month_format


def _example(text: pd.Series, mask: pd.Series) -> str:
    return repr(str(text[mask].iloc[0]))


def to_iso_dates(
    values: pd.Series, date_format: str | None, where: str, warnings: list[str] | None = None
) -> pd.Series:
    """Rewrite dates as ISO 8601, in the declared ``date_format`` (a pattern, or ``day_first`` /
    ``month_first``) when there is one. Typed timestamps (Parquet) need no format.

    Without a format, d/m/y-style dates are read in the order their values show (with a warning
    saying so) and refused (``AmbiguousDatesError``) when they fit both orders: never guessed
    silently; other values are left for validation to parse or report. With a format, a non-empty
    value that does not match it is not guessed either: it is rewritten as ``value (not a <format> date)``,
    which validation reports (or quarantines) as an unparseable timestamp with its row and column."""
    if not pd.api.types.is_string_dtype(values.dtype):
        return values
    if date_format is None:
        date_format = day_month_format(values, where)
        if date_format is None:
            return values
        if warnings is not None:
            warnings.append(
                f'{where}: non-ISO dates read as "{date_format}" (the values show it); set date_format '
                "to make it explicit"
            )
        declared = False
    else:
        date_format = declared_format(values, date_format)
        declared = True
    parsed = pd.to_datetime(values, format=date_format, errors="coerce", utc=True)
    iso = parsed.dt.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
    if declared:
        present = values.notna() & (values.astype("str").str.strip() != "")
        values = values.where(
            ~(parsed.isna() & present), values.astype("str") + f" (not a {date_format} date)"
        )
    return values.where(parsed.isna(), iso)


def with_fallback(primary: pd.Series, fallback: pd.Series, file: str, warnings: list[str]) -> pd.Series:
    """``primary`` dates, with ``fallback``'s where the primary is empty (a field added late, a failed
    sync); how many were filled goes into ``warnings``."""
    absent = primary.isna() | (primary.astype("str").str.strip() == "")
    if int(absent.sum()):
        warnings.append(
            f"{int(absent.sum()):,} leads of {file} have no {primary.name!r}: {fallback.name!r} used instead"
        )
    return primary.where(~absent, fallback)

"""Numbers as an export writes them: the ``decimal`` / ``thousands`` / ``units`` keys of a mapping section.

Exports from European CRMs (and spreadsheets saved from them) write ``1.234,5``; formatted US reports
write ``1,234.5``, often with a currency or percent sign (``$1,234.50``, ``45%``, ``1.234 EUR``), which
``units`` names so that it is removed before the number is read. A section that declares its convention
gets every value of its numeric columns rewritten as a plain number (``1234.5``) before validation; a
value that does not fit the declared convention is not guessed: it becomes ``value (not a number with
decimal ",")``, which validation reports (or quarantines) with its file, row and column, as it does dates
that do not fit their format.

A section that declares nothing keeps plain numbers. When most values of one of its numeric columns are
evidently written in another convention or carry a unit, the import stops and says which key to set, and
when they fit both readings (``1,200``: 1.2 or 1200?) it says so: numbers are never reread silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal

import pandas as pd
from pydantic import BaseModel, Field, model_validator

from training.config_errors import KeyProblem
from training.data.parsing import missing_marker_hint, show

#: Separators a ``thousands`` key may name: comma, dot, space, no-break space, apostrophe (Swiss).
ThousandsSeparator = Literal[",", ".", " ", "\u00a0", "\u202f", "'"]
#: Examples quoted in a message about a column's numbers.
_EXAMPLES = 3
#: Share of a column's non-empty values that must be written in another convention before the import
#: refuses the column; fewer are typos, left for validation to report row by row.
_MOSTLY = 0.5

# Numbers that plain parsing cannot read, by the conventions they fit.
_DECIMAL_COMMA = re.compile(r"[+-]?(\d+|\d{1,3}(\.\d{3})+),\d+")
_GROUPED_BY_COMMA = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")
# A number with a short non-numeric prefix or suffix: "$1,234.50", "45 %", "1.234,5 EUR", "-€12".
# A unit is a symbol ("$", "€", "%") or an upper-case currency code ("USD", "EUR"): letters in lower or
# mixed case beside a number are codes ("ind5", "Q3", "v2"), never stripped as a unit.
_AFFIX = r"(?:[^\w\s.,'+\-()]{1,3}|[A-Z]{3})"
#: Suffixes that scale a number ("1.2M", "500K", "3 Mio"): no unit to strip, since 1.2M is 1,200,000.
MULTIPLIERS = frozenset(
    {"k", "m", "mm", "mn", "b", "bn", "t", "tn", "mio", "mrd", "tsd", "tsd.", "lakh", "cr"}
)
#: A second unit on at least this share of a column's values makes it a column of mixed units.
_MIXED = 0.05
_WITH_UNIT = re.compile(
    rf"(?P<sign>[+-]?)\s*(?P<prefix>{_AFFIX})?\s*"
    rf"(?P<number>[+-]?\d[\d.,'\u00a0\u202f ]*)\s*(?P<suffix>{_AFFIX})?"
)


#: What ``to_plain_numbers`` appends to a value that does not fit the declared convention, before the
#: convention itself and a closing parenthesis; ``number_problem`` reads it back.
_UNFIT_MARK = " (not a number with "


@dataclass(frozen=True)
class NumberFormat:
    """How a file writes numbers: its decimal mark and its thousands separator (``None``: none)."""

    decimal: str = "."
    thousands: str | None = None
    #: signs written next to numbers and removed before reading them ("$", "%", "EUR")
    units: tuple[str, ...] = ()

    @property
    def plain(self) -> bool:
        return self.decimal == "." and self.thousands is None

    def describe(self) -> str:
        thousands = "none" if self.thousands is None else repr(self.thousands)
        units = f" and units {', '.join(repr(unit) for unit in self.units)}" if self.units else ""
        return f"decimal {self.decimal!r} and thousands {thousands}{units}"

    def without_units(self, text: pd.Series) -> pd.Series:
        """``text`` with a declared unit removed from the start or end of each value (after a sign:
        ``-$12`` and ``$-12`` are both -12); values without one are left as they are."""
        if not self.units:
            return text
        unit = "|".join(re.escape(u) for u in sorted(self.units, key=len, reverse=True))
        stripped = text.str.replace(rf"^([+-]?)\s*(?:{unit})\s*", r"\1", regex=True)
        return stripped.str.replace(rf"\s*(?:{unit})$", "", regex=True)

    def pattern(self) -> re.Pattern[str]:
        """A whole value in this convention: sign, digits (grouped by threes if they have a
        separator, or not grouped at all), then an optional fraction."""
        digits = r"\d+"
        if self.thousands is not None:
            separator = re.escape(self.thousands)
            digits = rf"(\d{{1,3}}({separator}\d{{3}})+|\d+)"
        return re.compile(rf"[+-]?({digits}({re.escape(self.decimal)}\d*)?|{re.escape(self.decimal)}\d+)")


class NumberFormatKeys(BaseModel):
    """The ``decimal`` / ``thousands`` keys of a mapping section with numeric columns (a mixin)."""

    decimal: Literal[".", ","] = "."
    thousands: ThousandsSeparator | None = None
    units: tuple[Annotated[str, Field(min_length=1, max_length=8)], ...] = ()

    @property
    def number_format(self) -> NumberFormat:
        return NumberFormat(self.decimal, self.thousands, self.units)

    @model_validator(mode="after")
    def _distinct_marks(self) -> NumberFormatKeys:
        if self.thousands == self.decimal:
            other = "," if self.decimal == "." else "."
            raise KeyProblem(
                "thousands", f'cannot be the decimal mark {self.decimal!r} too (set decimal = "{other}")'
            )
        for unit in self.units:
            if re.search(r"[\d.,'+\-]", unit) or unit != unit.strip():
                raise KeyProblem(
                    "units", f"{unit!r} is not a unit: it may not hold digits, signs, separators or spaces"
                )
            if unit.lower() in MULTIPLIERS:
                raise KeyProblem(
                    "units",
                    f"{unit!r} scales a number (1.2{unit} is not 1.2): convert such values in the export",
                )
        return self


class NumberFormatError(ValueError):
    """A numeric column is written in another convention than its section declares (see module)."""


def to_plain_numbers(values: pd.Series, number_format: NumberFormat, where: str) -> pd.Series:
    """``values`` (text from a file) as plain numbers in ``number_format``; ``where`` names the key,
    column and file for messages. Typed numbers (Parquet) are returned as they are.

    Raises ``NumberFormatError`` when the section declares nothing and most values are numbers written
    with a decimal comma or grouped thousands."""
    if not pd.api.types.is_string_dtype(values.dtype) and not pd.api.types.is_object_dtype(values.dtype):
        return values
    text = number_format.without_units(values.astype("str").str.strip())
    present = values.notna() & (text != "")
    if number_format.plain:
        _refuse_other_convention(text[present], where, number_format.units)
        if not number_format.units:
            return values
        # Where removing the unit left a number, that number; anything else stays as written, for
        # validation to report with its row.
        readable = present & pd.to_numeric(text, errors="coerce").notna()
        return values.where(~readable, text)
    fits = text.str.fullmatch(number_format.pattern()).fillna(False).astype(bool)
    plain = text
    if number_format.thousands is not None:
        plain = plain.str.replace(number_format.thousands, "", regex=False)
    plain = plain.str.replace(number_format.decimal, ".", regex=False)
    # A value without a digit ("N/A", "pending") is no number in any convention: it stays as written, so
    # that its problem reads as plainly as in a section that declares nothing.
    unfit = present & ~fits & text.str.contains(r"\d", regex=True).fillna(False).astype(bool)
    written = values.astype("str").str.strip()
    rewritten = values.where(~unfit, written + f"{_UNFIT_MARK}{number_format.describe()})")
    return rewritten.where(~(present & fits), plain)


def _refuse_other_convention(text: pd.Series, where: str, declared_units: tuple[str, ...] = ()) -> None:
    """Refuse a column whose values are mostly numbers with an undeclared unit or in another convention;
    fewer such values are typos, left for validation to report row by row."""
    unreadable = text[pd.to_numeric(text, errors="coerce").isna()]
    if unreadable.empty:
        return
    scaled = unreadable.str.fullmatch(_SCALED).fillna(False).astype(bool)
    if int(scaled.sum()) >= _MOSTLY * len(text):
        raise NumberFormatError(
            f"{where}: {_counted(unreadable[scaled], len(text))} are scaled by a suffix (K, M, Mio, ...): no "
            "mapping key reads them (1.2M is 1,200,000); export the column as plain numbers"
        )
    with_units = _unit_advice(unreadable, declared_units)
    if with_units is not None:
        carries, units, numbers = with_units
        if int(carries.sum()) >= _MOSTLY * len(text) and len(units) > max(1, len(declared_units)):
            raise NumberFormatError(
                f"{where}: {_counted(unreadable[carries], len(text))} carry different units "
                f"({', '.join(units)}): amounts in different currencies or units are no one number; "
                "convert them to one unit in the export"
            )
        if int(carries.sum()) >= _MOSTLY * len(text):
            listed = ", ".join(f'"{unit}"' for unit in units)
            convention = _convention_advice(numbers)
            also = "" if convention is None else f"; the numbers then {convention[1]}"
            raise NumberFormatError(
                f"{where}: {_counted(unreadable[carries], len(text))} carry a unit or currency sign: "
                f"set units = [{listed}]{also} (numbers are never reread silently)"
            )
    convention = _convention_advice(unreadable)
    if convention is not None and int(convention[0].sum()) >= _MOSTLY * len(text):
        other, advice = convention
        raise NumberFormatError(
            f"{where}: {_counted(unreadable[other], len(text))} {advice} (numbers are never reread silently)"
        )


def _unit_advice(
    unreadable: pd.Series, declared_units: tuple[str, ...]
) -> tuple[pd.Series, list[str], pd.Series] | None:
    """Which unreadable values are a number with a unit before or after it: the mask, the units to
    declare (the declared ones first, then the commonest found) and those values' numbers without it."""
    parts = unreadable.str.extract(f"^(?:{_WITH_UNIT.pattern})$")
    unit = parts["prefix"].where(parts["suffix"].isna(), parts["suffix"].where(parts["prefix"].isna()))
    unit = unit.where(~unit.str.lower().isin(MULTIPLIERS))  # "1.2M" carries no unit but a scale
    carries = unit.notna()
    if not carries.any():
        return None
    counts = unit[carries].value_counts()
    # Units on a handful of values are typos for validation to report, not a second unit of the column.
    found = [str(u) for u, n in counts.items() if u not in declared_units and n >= _MIXED * len(unreadable)]
    numbers = (parts["sign"].fillna("") + parts["number"].fillna("").str.strip())[carries]
    return carries, [*declared_units, *found[:_EXAMPLES]], numbers


_SCALED = re.compile(
    rf"(?:{_AFFIX})?\s*[+-]?\s*(?:{_AFFIX})?\s*\d[\d.,]*\s*"
    rf"(?i:{'|'.join(re.escape(m) for m in sorted(MULTIPLIERS, key=len, reverse=True))})"
)


def units_shown(values: pd.Series) -> tuple[str, ...]:
    """The units written next to most of ``values`` (text) that plain parsing cannot read, commonest
    first ("$", "%"); empty when there are none. For drafting a mapping."""
    text = values.dropna().astype("str").str.strip()
    unreadable = text[pd.to_numeric(text, errors="coerce").isna() & (text != "")]
    advice = _unit_advice(unreadable, ()) if len(unreadable) else None
    if advice is None or int(advice[0].sum()) < _MOSTLY * len(text):
        return ()
    return tuple(advice[1])


def _convention_advice(unreadable: pd.Series) -> tuple[pd.Series, str] | None:
    """Which unreadable values are numbers with a decimal comma or commas between thousands, and the key
    that reads them; None when none are."""
    comma = unreadable.str.fullmatch(_DECIMAL_COMMA).fillna(False).astype(bool)
    grouped = unreadable.str.fullmatch(_GROUPED_BY_COMMA).fillna(False).astype(bool)
    other = comma | grouped
    if not other.any():
        return None
    only_comma, only_grouped = bool((comma & ~grouped).any()), bool((grouped & ~comma).any())
    if only_comma and only_grouped:
        advice = "mix decimal commas with commas between thousands: clean the column, then declare one"
    elif only_comma:
        advice = 'are written with a decimal comma: set decimal = ","' + (
            ' and thousands = "."' if unreadable[comma].str.contains(".", regex=False).any() else ""
        )
    elif only_grouped:
        advice = 'group thousands with commas: set thousands = ","'
    else:
        advice = (
            "fit both a decimal comma and commas between thousands (is 1,200 1.2 or 1200?): "
            'set decimal = "," or thousands = "," to say which'
        )
    return other, advice


def _counted(values: pd.Series, non_empty: int) -> str:
    """E.g. "2,000 of its 2,000 non-empty values ('$1.50', '$2', '$3', ...)"."""
    distinct = values.unique()
    examples = ", ".join(repr(value) for value in distinct[:_EXAMPLES])
    examples += ", ..." if len(distinct) > _EXAMPLES else ""
    return f"{len(values):,} of its {non_empty:,} non-empty values ({examples})"


def number_problem(value: object) -> str:
    """What is wrong with a numeric column's value that could not be parsed, e.g. "cannot parse '$5' as a
    number (a unit or currency sign? ...)" or, for one that did not fit its section's declared
    convention, "cannot parse '980.25' as a number with decimal ',' and thousands none"."""
    text = str(value)
    if text.endswith(")") and _UNFIT_MARK in text:
        written, convention = text[:-1].rsplit(_UNFIT_MARK, 1)
        return f"cannot parse {show(written)} as a number with {convention}"
    return f"cannot parse {show(value)} as a number{other_convention_hint(value)}{missing_marker_hint(value)}"


def other_convention_hint(value: object) -> str:
    """A hint for a value that plain parsing refused, when it is a number in another convention or with a
    unit."""
    text = str(value).strip()
    parts = _WITH_UNIT.fullmatch(text)
    # The number without a unit decides first: "$1,234" with "$" declared lacks thousands, not a unit.
    number = (parts.group("sign") + parts.group("number").strip()) if parts else text
    if _DECIMAL_COMMA.fullmatch(number) or _GROUPED_BY_COMMA.fullmatch(number):
        return (
            " (a decimal comma or commas between thousands? a mapping's decimal / thousands keys read them)"
        )
    if _SCALED.fullmatch(text):
        return " (scaled by a suffix such as K or M: export the column as plain numbers)"
    if _unit_advice(pd.Series([text]), ()) is not None:
        return " (a unit or currency sign? a mapping's units key removes it)"
    return ""

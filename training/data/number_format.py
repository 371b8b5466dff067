"""Numbers as an export writes them: the ``decimal`` / ``thousands`` keys of a mapping section.

Exports from European CRMs (and spreadsheets saved from them) write ``1.234,5``; formatted US reports
write ``1,234.5``. A section that declares its convention gets every value of its numeric columns
rewritten as a plain number (``1234.5``) before validation; a value that does not fit the declared
convention is not guessed: it becomes ``value (not a number with decimal ",")``, which validation
reports (or quarantines) with its file, row and column, as it does dates that do not fit their format.

A section that declares nothing keeps plain numbers. When most values of one of its numeric columns are
evidently written in another convention, the import stops and says which key to set, and when they fit
both readings (``1,200``: 1.2 or 1200?) it says so: numbers are never reread silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import pandas as pd
from pydantic import BaseModel, model_validator

from training.config_errors import KeyProblem

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


@dataclass(frozen=True)
class NumberFormat:
    """How a file writes numbers: its decimal mark and its thousands separator (``None``: none)."""

    decimal: str = "."
    thousands: str | None = None

    @property
    def plain(self) -> bool:
        return self.decimal == "." and self.thousands is None

    def describe(self) -> str:
        thousands = "none" if self.thousands is None else repr(self.thousands)
        return f"decimal {self.decimal!r} and thousands {thousands}"

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

    @property
    def number_format(self) -> NumberFormat:
        return NumberFormat(self.decimal, self.thousands)

    @model_validator(mode="after")
    def _distinct_marks(self) -> NumberFormatKeys:
        if self.thousands == self.decimal:
            other = "," if self.decimal == "." else "."
            raise KeyProblem(
                "thousands", f'cannot be the decimal mark {self.decimal!r} too (set decimal = "{other}")'
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
    text = values.astype("str").str.strip()
    present = values.notna() & (text != "")
    if number_format.plain:
        _refuse_other_convention(text[present], where)
        return values
    fits = text.str.fullmatch(number_format.pattern()).fillna(False).astype(bool)
    plain = text
    if number_format.thousands is not None:
        plain = plain.str.replace(number_format.thousands, "", regex=False)
    plain = plain.str.replace(number_format.decimal, ".", regex=False)
    unfit = present & ~fits
    rewritten = values.where(~unfit, text + f" (not a number with {number_format.describe()})")
    return rewritten.where(~(present & fits), plain)


def _refuse_other_convention(text: pd.Series, where: str) -> None:
    unreadable = text[pd.to_numeric(text, errors="coerce").isna()]
    if unreadable.empty:
        return
    comma = unreadable.str.fullmatch(_DECIMAL_COMMA).fillna(False).astype(bool)
    grouped = unreadable.str.fullmatch(_GROUPED_BY_COMMA).fillna(False).astype(bool)
    other = comma | grouped
    if int(other.sum()) < _MOSTLY * len(text):
        return  # typos among plain numbers: validation reports each with its row
    distinct = unreadable[other].unique()
    examples = ", ".join(repr(value) for value in distinct[:_EXAMPLES])
    examples += ", ..." if len(distinct) > _EXAMPLES else ""
    count = f"{int(other.sum()):,} of its {len(text):,} non-empty values ({examples})"
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
    raise NumberFormatError(f"{where}: {count} {advice} (numbers are never reread silently)")


def other_convention_hint(value: object) -> str:
    """A hint for a value that plain parsing refused, when it is a number in another convention."""
    text = str(value).strip()
    if _DECIMAL_COMMA.fullmatch(text) or _GROUPED_BY_COMMA.fullmatch(text):
        return (
            " (a decimal comma or commas between thousands? a mapping's decimal / thousands keys read them)"
        )
    return ""

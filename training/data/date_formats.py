"""Declared date formats of a mapping section: ``date_format`` for all of its date columns, and
``date_formats`` per column, which wins over it.

A format is a ``strftime`` pattern (``"%d/%m/%Y %H:%M"``) or a shorthand: ``"day_first"`` or
``"month_first"`` for ``d/m/y``-style dates whose separator, year length and time part the values
show, ``"epoch_s"`` / ``"epoch_ms"`` for Unix times in seconds or milliseconds (instants: no time zone
applies). A declared format is used instead of any guessing, and every non-empty value must match it:
one that does not is reported by validation with its file, row and column (``training.data.date_order``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, model_validator

from training.config_errors import KeyProblem

DAY_FIRST = "day_first"
MONTH_FIRST = "month_first"
#: Unix epoch seconds or milliseconds (HubSpot's and Marketo's API exports): instants in UTC.
EPOCH_SECONDS = "epoch_s"
EPOCH_MILLISECONDS = "epoch_ms"
EPOCH_UNITS: dict[str, Literal["s", "ms"]] = {EPOCH_SECONDS: "s", EPOCH_MILLISECONDS: "ms"}
_SHORTHANDS = (DAY_FIRST, MONTH_FIRST, *EPOCH_UNITS)
#: A moment whose fields all differ, to check that a pattern reads back what it writes.
_PROBE = dt.datetime(2001, 2, 3, 4, 5, 6)


def _readable_format(value: str) -> str:
    if value in _SHORTHANDS:
        return value
    if "%" not in value:
        raise ValueError(
            f'must be a strftime pattern such as "%d/%m/%Y", or "{DAY_FIRST}" / "{MONTH_FIRST}" / '
            f'"{EPOCH_SECONDS}" / "{EPOCH_MILLISECONDS}"'
        )
    try:
        dt.datetime.strptime(_PROBE.strftime(value), value)
    except ValueError as error:
        raise ValueError(f"a date written in this pattern cannot be read back ({error})") from None
    return value


DateFormat = Annotated[str, AfterValidator(_readable_format)]


class DateFormatKeys(BaseModel):
    """The ``date_format`` / ``date_formats`` keys of a mapping section (a mixin of its model)."""

    #: the format of every date column of the section (``None``: ISO 8601, or told by the values)
    date_format: DateFormat | None = None
    #: source column -> its format; wins over ``date_format`` for that column
    date_formats: dict[str, DateFormat] = Field(default_factory=dict)

    def date_columns(self) -> tuple[str, ...]:
        """The section's source columns holding dates (each section names its own)."""
        return ()

    def format_of(self, column: str) -> str | None:
        """The declared format of ``column`` (``None``: not declared)."""
        return self.date_formats.get(column, self.date_format)

    def format_key(self, column: str) -> str:
        """The key, relative to the section, that declares ``column``'s format (for messages)."""
        return f"date_formats.{column}" if column in self.date_formats else "date_format"

    @model_validator(mode="after")
    def _formats_name_date_columns(self) -> DateFormatKeys:
        columns = self.date_columns()
        if self.date_format is not None and not columns:
            raise KeyProblem("date_format", "there is no date column in this section to parse")
        for column in self.date_formats:
            if column not in columns:
                raise KeyProblem(
                    f"date_formats.{column}",
                    f"{column!r} is not a date column of this section (its date columns: {list(columns)})",
                )
        return self

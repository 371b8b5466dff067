"""The building blocks of the mapping config's sections: column lists, value maps, and the keys every
file section shares (where the file is, how to read it, how to clean its values).

``training.data.mapping_config`` assembles the whole config from them; sections that live in their own
modules (``training.data.join_config``, ``training.data.history_config``) use them too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from training.data.contract import (
    CLOSED_AT,
    CREATED_AT,
    EVENT_TYPE,
    HANDED_OVER_AT,
    LEAD_ID,
    OCCURRED_AT,
    ROW_ORDER,
    STATUS,
    TARGET_DATES,
)
from training.data.report_footer import MAX_FOOTER_LINES

#: Names that the contract reserves; a renamed profile column may not take one of them.
RESERVED_NAMES = frozenset(
    {
        LEAD_ID,
        CREATED_AT,
        OCCURRED_AT,
        EVENT_TYPE,
        STATUS,
        HANDED_OVER_AT,
        CLOSED_AT,
        ROW_ORDER,
        *TARGET_DATES,
    }
)


class MappingConfigError(ValueError):
    """A mapping config is unreadable, incomplete or inconsistent (with the export it describes)."""


def _no_duplicates(value: tuple[str, ...]) -> tuple[str, ...]:
    duplicates = sorted({item for item in value if value.count(item) > 1})
    if duplicates:
        raise ValueError(f"lists {duplicates} more than once")
    return value


ColumnList = Annotated[tuple[str, ...], AfterValidator(_no_duplicates)]
ColumnName = Annotated[str, Field(min_length=1)]
#: ``"raw value" = "replacement"`` pairs; ``""`` means missing.
ValueMap = dict[str, str]


class ConfigSection(BaseModel):
    """A section of the mapping config: unknown keys are refused, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class SourceFile:
    """Where one table of the export comes from and how to read it."""

    file: str
    delimiter: str | None = None
    encoding: str = "utf-8"
    table: str | None = None
    #: the worksheet of an Excel file (None: its only sheet)
    sheet: str | None = None
    #: lines (CSV) or rows (Excel) at the end that are a report's footer, not data (None: undeclared,
    #: so a sheet's footer is refused; 0: the file has none)
    skip_footer: int | None = None
    #: an Excel sheet's row holding the header, below a title (None: row 1)
    header_row: int | None = None


@dataclass(frozen=True)
class ColumnRules:
    """Value cleaning shared by every file section: missing markers and per-column value maps.

    ``missing`` lists values meaning "missing" in any mapped column of the file; ``values`` maps, per
    source column, raw values to replacements ("" = missing). Maps are applied before ``missing``.
    """

    missing: tuple[str, ...] = ()
    values: dict[str, dict[str, str]] = field(default_factory=dict)


class FileSection(ConfigSection):
    """Keys every file section shares: where the file is, how to read it, how to clean its values."""

    file: ColumnName | None = None
    delimiter: Annotated[str, Field(min_length=1, max_length=1)] | None = None
    encoding: str = "utf-8"
    table: str | None = None
    sheet: ColumnName | None = None
    skip_footer: int | None = Field(default=None, ge=0, le=MAX_FOOTER_LINES)
    header_row: int | None = Field(default=None, ge=1, le=1000)
    missing: ColumnList = ()
    values: dict[str, ValueMap] = Field(default_factory=dict)

    def _source(self) -> SourceFile | None:
        if self.file is None:
            return None
        return SourceFile(
            file=self.file,
            delimiter=self.delimiter,
            encoding=self.encoding,
            table=self.table,
            sheet=self.sheet,
            skip_footer=self.skip_footer,
            header_row=self.header_row,
        )

    @property
    def required_source(self) -> SourceFile:
        """The section's file and how to read it, for sections whose ``file`` is required."""
        source = self._source()
        assert source is not None  # ``file`` is required in this section
        return source

    @property
    def rules(self) -> ColumnRules:
        return ColumnRules(missing=self.missing, values=self.values)

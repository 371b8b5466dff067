"""Reading an Excel workbook (``.xlsx`` / ``.xlsm``), as CRMs export reports, into the same raw frame as a
CSV file: one column per header cell, every value as text, empty cells missing.

Values become the text a CSV export of the same sheet would hold, so that the mapping reads them the same
way (date order, number conventions, value maps): a date cell is written ISO 8601 (``2024-01-05
13:45:00``, or ``2024-01-05`` at midnight), a whole number without a fraction (``12``, also for ids Excel
stored as numbers), other numbers as Python writes them, ``TRUE`` / ``FALSE`` for booleans. Cells Excel
could not compute (``#N/A``, ``#DIV/0!``) stay as that text, for validation to report (or a ``missing``
marker to clear). The first row is the header; rows after the last non-empty one are ignored (Excel keeps
formatted empty rows), a value beyond the header's last column is refused with its cell. The frame's index
is the row number Excel shows (the first data row is 2), which problems then name.

The streaming reader of openpyxl keeps memory flat on large sheets. A workbook with more than one sheet
must say which (``sheet`` in the mapping section); the old binary ``.xls`` format is refused with the way
out (save as ``.xlsx`` or CSV).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from training.data.file_errors import DataFileError
from training.data.report_footer import ReportFooterError, looks_like_footer, sheet_footer

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
#: Rows below a one-value first row searched for the table's header.
_TITLE_ROWS = 20
#: Whole numbers up to this size are written without ".0" (beyond it a float is no exact integer).
_EXACT_INTEGERS = 2**53


def read_excel_table(
    path: Path, label: str, sheet: str | None, skip_footer: int | None = None, header_row: int | None = None
) -> pd.DataFrame:
    """The sheet (the only one, or ``sheet``) as a frame of text, its header on ``header_row`` (None:
    row 1, and a title above the table is refused naming the row), without its last ``skip_footer``
    non-empty rows (a report's footer; None: undeclared, so a footer is refused, 0: none, read every
    row); ``DataFileError`` names the problem."""
    try:
        from openpyxl import load_workbook
    except ImportError as error:  # the training extra brings it
        raise DataFileError(
            f"{label}: reading Excel files needs openpyxl (pip install 'leadripe[training]')"
        ) from error
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise DataFileError(f"{label}: cannot read as an Excel workbook (.xlsx): {error}") from error
    try:
        names = list(workbook.sheetnames)
        if sheet is None and len(names) > 1:
            raise DataFileError(
                f"{label}: the workbook has {len(names)} sheets ({_listed(names)}); set sheet = "
                f'"{names[0]}" (or another) in the mapping section'
            )
        chosen = names[0] if sheet is None else sheet
        if chosen not in names:
            raise DataFileError(
                f"{label}: no sheet {chosen!r} in the workbook (its sheets: {_listed(names)})"
            )
        sheet_of_chosen = workbook[chosen]
        if not hasattr(sheet_of_chosen, "iter_rows"):
            raise DataFileError(f"{label}: sheet {chosen!r} is a chart, not a table of rows")
        rows = sheet_of_chosen.iter_rows(values_only=True)
        where = f"{label}, sheet {chosen!r}"
        first_row = _header_row(where, rows) if header_row is None else header_row
        rows = sheet_of_chosen.iter_rows(min_row=first_row, values_only=True)
        return _frame(where, rows, skip_footer, first_row)
    finally:
        workbook.close()


class TitleRowError(DataFileError):
    """A sheet's first row is a title: ``header_row`` is where the table's header seems to be."""

    def __init__(self, message: str, header_row: int, title: str) -> None:
        super().__init__(message)
        self.header_row = header_row
        self.title = title


def _header_row(label: str, rows: Iterator[tuple[Any, ...]]) -> int:
    """Row 1, unless it holds a title rather than a header: one value, then an empty row (a header that
    names only its first column is no title: its data is refused cell by cell). Then the import stops,
    naming as ``header_row`` the widest of the next rows, the first of them on a tie (a header is as
    wide as its data and comes first), never guessed."""
    head = [[_text(cell) for cell in cells] for cells in itertools.islice(rows, _TITLE_ROWS + 1)]
    filled = [sum(value is not None for value in row) for row in head]
    if len(head) < 3 or filled[0] != 1 or filled[1] != 0 or not any(filled[2:]):
        return 1
    number = 3 + max(range(len(filled) - 2), key=lambda k: (filled[k + 2], -k))
    title = next(value for value in head[0] if value is not None)
    raise TitleRowError(
        f"{label}: row 1 holds one value ({title[:60]!r}) above an empty row, a title rather than a "
        f"header; the widest row below it is row {number}: set header_row = {number} in the mapping "
        "section if the header is there",
        number,
        title,
    )


def _frame(
    label: str, rows: Iterator[tuple[Any, ...]], skip_footer: int | None, header_row: int = 1
) -> pd.DataFrame:
    header_cells = next(rows, None)
    if header_cells is None or all(cell is None for cell in header_cells):
        raise DataFileError(f"{label}: row {header_row} is empty; expected a header with the column names")
    header = list(header_cells)
    while header and header[-1] is None:  # formatted but empty cells after the last column
        header.pop()
    names = [_text(cell) or "" for cell in header]
    names = [name.strip() for name in names]
    for position, name in enumerate(names, start=1):
        if not name:
            raise DataFileError(
                f"{label}, row {header_row}: column {_letter(position)} of the header has no name"
            )
    if len(set(names)) != len(names):
        twice = next(name for name in names if names.count(name) > 1)
        raise DataFileError(
            f"{label}, row {header_row}: column {twice!r} appears more than once in the header"
        )
    width = len(names)
    data: list[list[str | None]] = []
    last_filled = 0
    for excel_row, cells in enumerate(rows, start=header_row + 1):
        values = [_text(cell) for cell in cells]
        beyond = [i for i in range(width, len(values)) if values[i] is not None]
        if beyond:
            raise DataFileError(
                f"{label}, cell {_letter(beyond[0] + 1)}{excel_row}: a value beyond the header's last column "
                f"({names[-1]!r}); give it a header or remove it"
            )
        values = (values + [None] * width)[:width]
        data.append(values)
        if any(value is not None for value in values):
            last_filled = len(data)
    del data[last_filled:]
    if skip_footer is None:  # undeclared: a footer is refused, naming the count that skips it
        found = sheet_footer(data)
        if found is not None and looks_like_footer(found[1], width):
            count, footer = found
            raise ReportFooterError(
                f"{label}: the sheet ends with {count} row{'s' if count != 1 else ''} of one value after an "
                f"empty row ({footer[0][:60]!r}, ...: a report's footer, such as Salesforce's copyright and "
                f"'Generated By' lines): set skip_footer = {count} in the mapping section (or 0 if they "
                "are data), or remove them",
                count,
                tuple(footer),
            )
    elif skip_footer:
        _cut_footer(data, skip_footer, label, header_row)
    if not data:
        raise DataFileError(f"{label}: the sheet has a header but no data rows")
    # Rows are numbered as Excel shows them (the header is row 1), so that a problem's row is the row
    # the user finds in the sheet.
    frame = pd.DataFrame(
        data, columns=names, dtype=object, index=pd.RangeIndex(header_row + 1, header_row + 1 + len(data))
    )
    return frame.astype("str").where(frame.notna())


def _cut_footer(data: list[list[str | None]], lines: int, label: str, header_row: int) -> None:
    """Cut a declared footer of ``lines`` non-empty rows off ``data``, in place, after checking that
    they are one: one value each, after an empty row (so that a count never cuts a data row)."""
    filled = [index for index, row in enumerate(data) if any(value is not None for value in row)]
    if lines > len(filled):
        raise DataFileError(f"{label}: skip_footer = {lines}, but the sheet has {len(filled)} rows of data")
    first = filled[-lines]
    if first == 0 or any(value is not None for value in data[first - 1]):
        raise DataFileError(
            f"{label}: skip_footer = {lines}, but no empty row comes before row {first + header_row + 1}: "
            f"the last {lines} rows are no report footer; fix the count, or remove the key"
        )
    for index in filled[-lines:]:
        if sum(value is not None for value in data[index]) > 1:
            raise DataFileError(
                f"{label}: skip_footer = {lines}, but row {index + header_row + 1} has more than one value: "
                "it is a row, not a footer; fix the count, or remove the key"
            )
    del data[first:]
    while data and all(value is None for value in data[-1]):
        data.pop()


def _text(cell: Any) -> str | None:
    """A cell's value as a CSV export would write it; None when empty."""
    if cell is None:
        return None
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, dt.datetime):
        # Excel keeps a date as a datetime at midnight: written as the date a CSV export shows.
        return cell.date().isoformat() if cell.time() == dt.time() else cell.isoformat(sep=" ")
    if isinstance(cell, dt.date | dt.time):
        return cell.isoformat()
    if isinstance(cell, float):
        if math.isfinite(cell) and cell.is_integer() and abs(cell) < _EXACT_INTEGERS:
            return str(int(cell))
        return repr(cell)
    text = str(cell)
    return text if text.strip() else None


def _letter(column: int) -> str:
    """Excel's name of a 1-based column: 1 -> A, 27 -> AA."""
    letters = ""
    while column:
        column, remainder = divmod(column - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _listed(names: Sequence[str]) -> str:
    return ", ".join(repr(name) for name in names[:10]) + (", ..." if len(names) > 10 else "")

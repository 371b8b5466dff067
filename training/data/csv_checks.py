"""Checks of a CSV file's shape that a parser accepts without complaint, and row numbers for lines.

Arrow's CSV reader (with quoted newlines allowed, as CRM notes need) reads an unbalanced quote as one
field running to the end of the file, silently swallowing every row after it, and reads a file cut off
mid-line as if its last row were complete. These checks find both, and a value too long to be a real
field, and say where: the data row (1 = first row after the header) and the line in the file.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

#: Longest value accepted in a CSV field (Python's csv module has the same default limit): anything
#: longer is almost always rows swallowed by an unbalanced quote, not a real CRM value.
MAX_FIELD_CHARS = 128 * 1024
QUOTE = ord('"')
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Place:
    """Where something is in a CSV file: the data row (0 = the header) and the line (1-based)."""

    row: int
    line: int

    def __str__(self) -> str:
        return f"line {self.line} (header)" if self.row == 0 else f"row {self.row} (line {self.line})"


def place_of_line(path: Path, line: int) -> Place:
    """The data row holding ``line`` (quoted newlines make one row span several lines)."""
    row, current, odd = 0, 1, False
    with path.open("rb") as handle:
        for text in handle:
            if current == line:
                return Place(row, line)
            row, odd = _advance(row, odd, text)
            current += 1
    return Place(row, line)


def _advance(row: int, odd: bool, text: bytes) -> tuple[int, bool]:
    """The row and quote parity after one more line: a line ends a record when no quote is open;
    blank lines between records are not rows (the parser skips them)."""
    if not odd and not text.strip(b"\r\n"):
        return row, odd
    odd ^= text.count(b'"') % 2 == 1
    return (row if odd else row + 1), odd


def unclosed_quote(path: Path) -> Place | None:
    """Where a quoted field opens that is never closed (an odd number of quotes in the file), if any.

    Doubled quotes inside a quoted field come in pairs, so a well-formed file has an even count.
    """
    total = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            total += chunk.count(b'"')
    if total % 2 == 0:
        return None
    # The runaway quote is on the last line where the running count turned odd for good.
    row, line, odd = 0, 1, False
    opened: Place | None = None
    with path.open("rb") as handle:
        for text in handle:
            was_odd = odd
            next_row, odd = _advance(row, odd, text)
            if odd and not was_odd:
                opened = Place(row, line)
            row = next_row
            line += 1
    return opened


def overlong_field(table: pa.Table, names: list[str]) -> tuple[int, str, int] | None:
    """(data row, column, length) of the first value longer than ``MAX_FIELD_CHARS``, if any."""
    for position, column in enumerate(table.columns):
        lengths = pc.utf8_length(column)
        longest = pc.max(lengths).as_py()
        if longest is not None and longest > MAX_FIELD_CHARS:
            index = pc.index(pc.greater(lengths, MAX_FIELD_CHARS), True).as_py()
            return int(index) + 1, names[position], int(longest if index < 0 else lengths[index].as_py())
    return None


def ends_without_line_break(path: Path) -> bool:
    """True when the last byte of the file is not a line break."""
    with path.open("rb") as handle:
        handle.seek(-1, 2)
        return handle.read(1) not in (b"\n", b"\r")


def cut_off_value(table: pa.Table, names: list[str]) -> str | None:
    """The column whose last value looks cut off, for a file that ends without a line break.

    Many exporters omit the final line break, so that alone proves nothing. But when the last value
    of the last column occurs nowhere else in a column that otherwise repeats its values (an event type,
    a status, a flag), the line was most likely cut mid-value (``email_`` for ``email_open``).
    Numbers and timestamps are left to validation, which refuses a cut ``2024-01-0``.
    """
    if table.num_rows < 3 or not table.num_columns:
        return None
    column = table.column(table.num_columns - 1)
    last = column[table.num_rows - 1].as_py()
    if not last or _is_number(last):
        return None
    before = column.slice(0, table.num_rows - 1)
    distinct = pc.count_distinct(before).as_py()
    repeats = distinct <= (table.num_rows - 1) / 2
    if repeats and not pc.any(pc.equal(before, last)).as_py():
        return names[-1]
    return None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def first_ragged_line(path: Path, text_encoding: str, delimiter: str, width: int) -> tuple[int, int] | None:
    """(line, fields) of the first record whose field count differs from the header's, if any."""
    with path.open(encoding=text_encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        start = 1
        try:
            for record in reader:
                if record and len(record) != width:
                    return start, len(record)
                start = reader.line_num + 1
        except csv.Error:
            # A field beyond the csv module's limit: the record starting here is the broken one.
            return start, -1
    return None

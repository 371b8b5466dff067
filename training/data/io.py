"""Reading tables from files: CSV (sniffed, strictly checked), Parquet and Excel (``training.data.excel``),
and whole dataset folders.

File-level trouble (no such file, an empty file, the wrong delimiter or encoding, ragged rows, an
unreadable Parquet file) raises ``DataFileError`` naming the file and, where it can, the line. What is
inside the tables is judged afterwards by ``training.data.validation``.
"""

from __future__ import annotations

import codecs
import csv
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from training.data.contract import (
    METADATA_FILE,
    PROFILE_HISTORY,
    TABLE_SUFFIXES,
    DatasetMetadata,
    LeadDataset,
)
from training.data.csv_checks import (
    MAX_FIELD_CHARS,
    Place,
    cut_off_value,
    ends_without_line_break,
    first_ragged_line,
    overlong_field,
    place_of_line,
    unclosed_quote,
)
from training.data.excel import EXCEL_SUFFIXES, read_excel_table
from training.data.file_errors import DataFileError
from training.data.profile_history import attach_profile_history
from training.data.report_footer import footer_error, footer_lines, without_footer
from training.data.validation import Mode, ValidationReport, validate_tables

#: Delimiters tried when none is given, in order of preference on a tie.
DELIMITER_CANDIDATES = (",", ";", "\t", "|")
_CSV_SUFFIXES = (".csv", ".tsv", ".txt")
_PARQUET_SUFFIXES = (".parquet", ".pq")


def read_table(
    path: Path,
    *,
    delimiter: str | None = None,
    encoding: str = "utf-8",
    table: str | None = None,
    sheet: str | None = None,
    skip_footer: int | None = None,
    header_row: int | None = None,
) -> pd.DataFrame:
    """Read a CSV, Parquet or Excel file into a raw frame whose index is the 1-based data row number
    (for an Excel sheet: the row number Excel shows, the header being row 1).

    CSV values are all read as strings (empty means missing); the delimiter is sniffed among
    ``, ; \\t |`` unless given. Parquet is read as typed. An Excel sheet (``sheet``, or the only one)
    is read as the text a CSV export of it would hold. ``skip_footer``: lines (CSV) or rows (Excel) at
    the end that are a report's footer, not data (``training.data.report_footer``); ``header_row``: an
    Excel sheet's row holding the header (below a title). ``table``
    ("leads", ...) only makes messages clearer. Raises ``DataFileError`` for file-level problems.
    """
    path = Path(path)
    label = f"{path}" + (f" ({table} table)" if table else "")
    if not path.exists() and not path.is_symlink():
        raise DataFileError(f"{label}: file not found")
    _require_regular_file(path, label)
    if path.stat().st_size == 0:
        raise DataFileError(f"{label}: the file is empty (0 bytes)")
    suffix = path.suffix.lower()
    if sheet is not None and suffix not in EXCEL_SUFFIXES:
        raise DataFileError(f"{label}: a sheet ({sheet!r}) is named, but the file is not an Excel workbook")
    if skip_footer and suffix not in (*_CSV_SUFFIXES, *EXCEL_SUFFIXES):
        raise DataFileError(f"{label}: skip_footer applies to CSV and Excel files, not '{suffix}'")
    if header_row is not None and suffix not in EXCEL_SUFFIXES:
        raise DataFileError(f"{label}: header_row applies to Excel sheets, not '{suffix}' files")
    if suffix in _PARQUET_SUFFIXES:
        frame = _read_parquet(path, label)
    elif suffix in _CSV_SUFFIXES:
        frame = _read_csv(path, label, delimiter, encoding, skip_footer)
    elif suffix in EXCEL_SUFFIXES:
        frame = read_excel_table(path, label, sheet, skip_footer, header_row)
    elif suffix == ".xls":
        raise DataFileError(
            f"{label}: the old binary Excel format (.xls) is not read; save the sheet as .xlsx or CSV"
        )
    else:
        raise DataFileError(
            f"{label}: unsupported file type '{suffix}' (expected .csv, .parquet or an Excel .xlsx)"
        )
    if suffix not in EXCEL_SUFFIXES:  # an Excel sheet's rows keep the numbers Excel shows
        frame.index = pd.RangeIndex(1, len(frame) + 1)
    return frame


def find_table(directory: Path, name: str) -> Path | None:
    """The file holding table ``name`` in ``directory``, if any.

    Anything under a table's name must be a regular file: a directory, a FIFO or a dangling link named
    ``events.csv`` is refused, not read as "no events". Two files for one table (``leads.csv`` beside
    ``leads.parquet``) are refused as ambiguous rather than one silently winning.
    """
    present = [
        Path(directory) / f"{name}{suffix}"
        for suffix in TABLE_SUFFIXES
        if (Path(directory) / f"{name}{suffix}").exists()
        or (Path(directory) / f"{name}{suffix}").is_symlink()
    ]
    if len(present) > 1:
        raise DataFileError(
            f"{directory}: the {name} table is in more than one file "
            f"({', '.join(path.name for path in present)}); keep one and move the others away"
        )
    if not present:
        return None
    _require_regular_file(present[0], f"{present[0]} ({name} table)")
    return present[0]


def _require_regular_file(path: Path, label: str) -> None:
    if path.is_symlink() and not path.exists():
        raise DataFileError(f"{label}: a symbolic link to {path.readlink()}, which does not exist")
    if path.is_dir():
        raise DataFileError(f"{label}: a directory, not a file")
    if not path.is_file():
        raise DataFileError(
            f"{label}: not a regular file (a pipe, socket or device cannot be read as a table)"
        )


def load_dataset(
    directory: Path,
    *,
    mode: Mode = "strict",
    now: pd.Timestamp | None = None,
    encoding: str = "utf-8",
    delimiter: str | None = None,
) -> tuple[LeadDataset, ValidationReport]:
    """Read and validate a dataset folder: leads, optional events and outcomes, optional dataset.json,
    optional profile history (``training.data.profile_history``).

    Without an outcomes table the outcome columns must be columns of the leads table. Without
    ``dataset.json`` the metadata is a default one named after the folder (profile columns inferred).
    ``encoding`` and ``delimiter`` apply to every CSV file. See ``validate_tables`` for ``mode`` and ``now``.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise DataFileError(f"{directory}: no such directory")
    paths = {name: find_table(directory, name) for name in ("leads", "events", "outcomes")}
    leads_path = paths["leads"]
    if leads_path is None:
        expected = " or ".join(f"leads{suffix}" for suffix in TABLE_SUFFIXES)
        raise DataFileError(f"{directory}: no leads table (expected {expected})")
    frames = {
        name: read_table(path, delimiter=delimiter, encoding=encoding, table=name)
        for name, path in paths.items()
        if path is not None
    }
    files = {name: path.name for name, path in paths.items() if path is not None}
    dataset, report = validate_tables(
        frames["leads"],
        frames.get("events"),
        frames.get("outcomes"),
        _read_metadata(directory),
        mode=mode,
        files=files,
        now=now,
    )
    history_path = find_table(directory, PROFILE_HISTORY)
    if history_path is None:
        return dataset, report
    history = read_table(history_path, delimiter=delimiter, encoding=encoding, table=PROFILE_HISTORY)
    return attach_profile_history(dataset, report, history, file=history_path.name, strict=mode == "strict")


def _read_metadata(directory: Path) -> DatasetMetadata:
    path = directory / METADATA_FILE
    if not path.is_file():
        return DatasetMetadata(name=directory.resolve().name)
    try:
        return DatasetMetadata.from_json(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError, ValueError) as error:
        raise DataFileError(f"{path}: invalid dataset metadata: {error}") from error


def _read_parquet(path: Path, label: str) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except (pa.ArrowException, OSError, ValueError) as error:
        raise DataFileError(f"{label}: cannot read as Parquet: {error}") from error
    if frame.index.name is not None or isinstance(frame.index, pd.MultiIndex):
        frame = frame.reset_index()  # a named index is data the writer meant to keep
    return frame.reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# CSV


def _read_csv(
    path: Path, label: str, delimiter: str | None, encoding: str, skip_footer: int | None = None
) -> pd.DataFrame:
    try:
        codec = codecs.lookup(encoding).name
    except LookupError as error:
        raise DataFileError(f"{label}: unknown encoding {encoding!r}") from error
    # utf-8-sig also reads plain UTF-8, and drops the byte-order mark Excel likes to write.
    text_encoding = "utf-8-sig" if codec == "utf-8" else encoding
    header_line = _first_line(path, label, text_encoding, encoding)
    if not header_line.strip():
        raise DataFileError(f"{label}: the first line is empty; expected a header with the column names")
    if delimiter is not None and len(delimiter) != 1:
        raise DataFileError(f"{label}: the delimiter must be a single character, not {delimiter!r}")
    chosen = delimiter if delimiter is not None else _sniff_delimiter(header_line)
    header = next(csv.reader([header_line], delimiter=chosen))
    _check_header(label, header, chosen)
    if skip_footer:
        try:
            with without_footer(path, label, text_encoding, chosen, len(header), skip_footer) as trimmed:
                return _read_csv(trimmed, label, chosen, encoding)
        except UnicodeDecodeError as error:
            located = _encoding_error(path, label, text_encoding, encoding)
            raise (located or DataFileError(f"{label}: cannot decode as {encoding}: {error}")) from error

    try:
        arrow_table = pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(
                encoding=text_encoding if codec != "utf-8" else "utf8",
                column_names=[f"column_{i}" for i in range(len(header))],
                skip_rows=1,
            ),
            parse_options=pa_csv.ParseOptions(delimiter=chosen, newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types={f"column_{i}": pa.string() for i in range(len(header))},
                strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as error:
        raise _explain_csv_failure(
            path, label, text_encoding, encoding, chosen, len(header), error
        ) from error
    names = [name.strip() for name in header]
    _check_shape(path, label, arrow_table, names)
    frame = arrow_table.to_pandas()
    frame.columns = names
    if frame.empty:
        raise DataFileError(f"{label}: the file has a header but no data rows")
    # "" is how CSV says "missing"; literal strings such as "NA" stay values.
    return frame.where(frame != "")


def _check_shape(path: Path, label: str, table: pa.Table, names: list[str]) -> None:
    """What the parser accepted but the file gets wrong: see ``training.data.csv_checks``."""
    opened = unclosed_quote(path)
    if opened is not None:
        raise _unclosed_quote_error(label, opened)
    overlong = overlong_field(table, names)
    if overlong is not None:
        row, column, length = overlong
        raise DataFileError(
            f"{label}, row {row}, column {column}: a value of {length:,} characters, more than the "
            f"{MAX_FIELD_CHARS // 1024} KiB a field may hold (a broken quote or a binary column?)"
        )
    if ends_without_line_break(path):
        cut = cut_off_value(table, names)
        if cut is not None:
            raise DataFileError(
                f"{label}, row {table.num_rows}, column {cut}: the file ends in the middle of this row "
                f"(no final line break, and its {cut} value occurs nowhere else in the column); the "
                "export looks truncated: export it again"
            )


def _first_line(path: Path, label: str, text_encoding: str, encoding: str) -> str:
    try:
        with path.open(encoding=text_encoding, newline="") as handle:
            return handle.readline().rstrip("\r\n")
    except UnicodeDecodeError as error:
        located = _encoding_error(path, label, text_encoding, encoding)
        raise (located or DataFileError(f"{label}: cannot decode as {encoding}: {error}")) from error


def _sniff_delimiter(header_line: str) -> str:
    """The candidate that splits the header into the most fields (',' when none splits it)."""
    widths = {
        candidate: len(next(csv.reader([header_line], delimiter=candidate)))
        for candidate in DELIMITER_CANDIDATES
    }
    best = max(DELIMITER_CANDIDATES, key=lambda candidate: widths[candidate])
    return best if widths[best] > 1 else ","


def _check_header(label: str, header: list[str], delimiter: str) -> None:
    if len(header) == 1:
        others = [
            candidate
            for candidate in DELIMITER_CANDIDATES
            if candidate != delimiter and candidate in header[0]
        ]
        if others:
            raise DataFileError(
                f"{label}: the header is a single column {header[0][:80]!r} but looks like "
                f"{others[0]!r}-separated; set delimiter={others[0]!r}"
            )
    names = [name.strip() for name in header]
    for position, name in enumerate(names, start=1):
        if not name:
            raise DataFileError(f"{label}, line 1: column {position} of the header has no name")
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise DataFileError(f"{label}, line 1: column {name!r} appears more than once in the header")
        seen.add(name)


def _explain_csv_failure(
    path: Path, label: str, text_encoding: str, encoding: str, delimiter: str, width: int, error: Exception
) -> DataFileError:
    """Turn a parser failure into a message naming the line: bad bytes first, then ragged rows."""
    encoding_error = _encoding_error(path, label, text_encoding, encoding)
    if encoding_error is not None:
        return encoding_error
    opened = unclosed_quote(path)
    if opened is not None:
        return _unclosed_quote_error(label, opened)
    ragged = first_ragged_line(path, text_encoding, delimiter, width)
    if ragged is not None:
        line, found = ragged
        where = f"{label}, {place_of_line(path, line)}"
        footer = footer_lines(path, text_encoding, delimiter, width, line) if found > 0 else None
        if footer is not None:
            return footer_error(where, footer)
        if found < 0:
            return DataFileError(
                f"{where}: a field runs on for more than {MAX_FIELD_CHARS // 1024} KiB (a broken quote?)"
            )
        return DataFileError(
            f"{where}: expected {width} fields like the header but found {found} "
            f"(delimiter {delimiter!r}; check quoting and stray delimiters)"
        )
    return DataFileError(f"{label}: cannot parse as CSV: {error}")


def _unclosed_quote_error(label: str, opened: Place) -> DataFileError:
    return DataFileError(
        f"{label}, {opened}: a quoted field opens here and is never closed (unbalanced quote); "
        "every row after it would be read as part of this value"
    )


def _encoding_error(path: Path, label: str, text_encoding: str, encoding: str) -> DataFileError | None:
    """Where the first undecodable byte is, as an error; None if the whole file decodes."""
    decoder = codecs.getincrementaldecoder(text_encoding)(errors="strict")
    line, offset = 1, 0
    with path.open("rb") as handle:
        for chunk in handle:
            try:
                line += decoder.decode(chunk).count("\n")
            except UnicodeDecodeError as error:
                bad_line = line + chunk[: error.start].count(b"\n")
                byte = chunk[error.start]
                suggestion = _likely_encoding(path, offset + error.start + 4)
                return DataFileError(
                    f"{label}, {place_of_line(path, bad_line)}: byte 0x{byte:02x} at offset "
                    f"{offset + error.start} is not "
                    f"valid {encoding}; the file is in another encoding, likely {suggestion}: pass "
                    f'--encoding {suggestion} (or encoding = "{suggestion}" in the mapping)'
                )
            offset += len(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return DataFileError(f"{label}: the file ends in the middle of a {encoding} character")
    return None


def _likely_encoding(path: Path, through: int) -> str:
    """UTF-16 by its byte-order mark; else Windows' cp1252 where it decodes the file's start through the
    byte that failed (its 0x80-0x9f are € and typographic quotes, which latin-1 reads as invisible control
    characters); else latin-1."""
    with path.open("rb") as handle:
        start = handle.read(max(1 << 20, through))
    if start[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16"
    try:
        start.decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1"  # decodes any byte
    return "cp1252"

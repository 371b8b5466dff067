"""The files of an export as a draft reads them: where each is (relative to the config), how it is read
(sheet, delimiter, encoding) and whether it ends with a report's footer, which the draft then declares."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from training.data.excel import TitleRowError
from training.data.file_errors import DataFileError
from training.data.io import read_table
from training.data.report_footer import ReportFooterError


@dataclass(frozen=True)
class ExportFile:
    """One file of the export, read; ``file`` is relative to the drafted config's directory."""

    file: str
    frame: pd.DataFrame
    sheet: str | None = None
    delimiter: str | None = None
    encoding: str | None = None
    #: a report footer the draft found and declares (None: none found)
    skip_footer: int | None = None
    #: the footer's lines, shown in the draft's to-do
    footer: tuple[str, ...] = ()
    #: an Excel sheet's header row below a title the draft found (None: row 1), and the title
    header_row: int | None = None
    title: str = ""


def read_export(
    path: Path,
    config_dir: Path,
    *,
    sheet: str | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
) -> ExportFile:
    """Read one file of the export; a report footer is measured and declared, not an error."""
    text_encoding = encoding or "utf-8"
    skip_footer: int | None = None
    footer: tuple[str, ...] = ()
    header_row: int | None = None
    title = ""
    # A title above the table, then a footer below it: each found is declared and the file read again;
    # an error of a read with a found header row says which row the draft took for the header.
    for _ in range(3):
        try:
            frame = read_table(
                path,
                delimiter=delimiter,
                encoding=text_encoding,
                sheet=sheet,
                skip_footer=skip_footer,
                header_row=header_row,
            )
            break
        except TitleRowError as found:
            header_row, title = found.header_row, found.title
        except ReportFooterError as found:
            skip_footer, footer = found.lines, found.footer
        except DataFileError as error:
            if header_row is None:
                raise
            under = f"the widest row under the title {title[:40]!r}"
            raise DataFileError(f"read with header_row = {header_row} ({under}): {error}") from error
    else:  # unreachable: a read that finds a title or a footer declares it, and the next one reads past it
        raise DataFileError(f"{path}: could not find where the table starts and ends")
    relative = Path(os.path.relpath(path.resolve(), config_dir)).as_posix()
    return ExportFile(relative, frame, sheet, delimiter, encoding, skip_footer, footer, header_row, title)

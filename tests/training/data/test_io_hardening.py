"""Files a parser would accept but that are broken: refused with the file, row and line or column."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from training.data.csv_checks import MAX_FIELD_CHARS
from training.data.io import DataFileError, find_table, load_dataset, read_table

HEADER = "lead_id,occurred_at,event_type\n"
TYPES = ("email_open", "site_visit", "webinar_attended")


def events_text(n: int = 30) -> str:
    return HEADER + "".join(f"L{i},2024-01-{1 + i % 28:02d}T00:00:00Z,{TYPES[i % 3]}\n" for i in range(n))


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_unbalanced_quote_is_refused_naming_where_it_opens(tmp_path: Path) -> None:
    lines = events_text().splitlines(keepends=True)
    lines[5] = (
        lines[5].replace(",email", ',"email').replace(",site", ',"site').replace(",webinar", ',"webinar')
    )
    path = write(tmp_path / "events.csv", "".join(lines))
    with pytest.raises(DataFileError, match=r"events\.csv, row 5 \(line 6\): a quoted field opens here"):
        read_table(path)


def test_quoted_newlines_and_doubled_quotes_still_read(tmp_path: Path) -> None:
    path = write(tmp_path / "leads.csv", 'a,b\n1,"x\ny"\n2,"say ""hi"""\n3,z\n')
    assert read_table(path)["b"].tolist() == ["x\ny", 'say "hi"', "z"]


def test_a_field_over_128_kib_is_refused(tmp_path: Path) -> None:
    lines = events_text().splitlines(keepends=True)
    lines[3] = f"L3,2024-01-03T00:00:00Z,{'x' * (MAX_FIELD_CHARS + 1)}\n"
    path = write(tmp_path / "events.csv", "".join(lines))
    with pytest.raises(DataFileError, match=r"events\.csv, row 3, column event_type: a value of 131,073"):
        read_table(path)


def test_ragged_row_with_a_huge_field_is_no_traceback(tmp_path: Path) -> None:
    # Python's csv module (used to find the ragged row) stops at 128 KiB with _csv.Error.
    lines = events_text().splitlines(keepends=True)
    lines[2] = f'L2,2024-01-02T00:00:00Z,"{"y" * (MAX_FIELD_CHARS + 10)}",extra\n'
    path = write(tmp_path / "events.csv", "".join(lines))
    with pytest.raises(DataFileError, match=r"events\.csv, row 2 \(line 3\)"):
        read_table(path)


def test_a_file_cut_mid_line_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "events.csv", events_text() + "L99,2024-01-05T00:00:00Z,email_")
    with pytest.raises(DataFileError, match=r"row 31, column event_type: the file ends in the middle"):
        read_table(path)


def test_a_complete_last_line_without_a_line_break_is_fine(tmp_path: Path) -> None:
    # Many exporters omit the final line break: a known value or a number is a complete row.
    assert (
        len(read_table(write(tmp_path / "a.csv", events_text() + "L99,2024-01-05T00:00:00Z,email_open")))
        == 31
    )
    assert len(read_table(write(tmp_path / "b.csv", "a,b\n1,2\n3,2\n4,2\n5,17"))) == 4


def test_latin1_error_says_row_like_the_others(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes("lead_id,city\nL1,Paris\nL2,Z\xfcrich\n".encode("latin-1"))
    with pytest.raises(DataFileError, match=r"leads\.csv, row 2 \(line 3\): byte 0xfc"):
        read_table(path)


@pytest.mark.parametrize("kind", ["directory", "dangling symlink", "fifo"])
def test_table_names_that_are_not_regular_files_are_refused(tmp_path: Path, kind: str) -> None:
    write(tmp_path / "leads.csv", "lead_id,created_at\nL1,2024-01-01\n")
    target = tmp_path / "events.csv"
    if kind == "directory":
        target.mkdir()
    elif kind == "dangling symlink":
        target.symlink_to(tmp_path / "gone.csv")
    else:
        os.mkfifo(target)
    for mode in ("strict", "lenient"):
        with pytest.raises(
            DataFileError, match=r"events\.csv \(events table\): (a directory|a symbolic link|not a regular)"
        ):
            load_dataset(tmp_path, mode=mode)  # type: ignore[arg-type]
    with pytest.raises(DataFileError):
        read_table(target)


def test_both_csv_and_parquet_for_one_table_are_refused(tmp_path: Path) -> None:
    write(tmp_path / "leads.csv", "lead_id,created_at\nL1,2024-01-01\n")
    pd.DataFrame({"lead_id": ["x"], "created_at": ["2024-01-01"]}).to_parquet(tmp_path / "leads.parquet")
    with pytest.raises(DataFileError, match="more than one file"):
        load_dataset(tmp_path)
    assert find_table(tmp_path, "events") is None

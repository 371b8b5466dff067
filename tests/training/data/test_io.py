"""Tests for training.data.io: reading CSV/Parquet strictly, and loading whole dataset folders."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from training.data.contract import METADATA_FILE, REJECTS_FILE, DatasetMetadata, TimeBasis
from training.data.io import DataFileError, find_table, load_dataset, read_table
from training.data.validation import DataValidationError, validate_tables, write_rejects

NOW = pd.Timestamp("2021-01-01", tz="UTC")
BANK = (
    Path(__file__).resolve().parents[3]
    / ".."
    / "shared"
    / "datasets"
    / "uci_bank_marketing"
    / "bank-additional-full.csv"
)

LEADS_CSV = """lead_id,created_at,source,employees,status,closed_at
L1,2020-03-01,ads,10,won,2020-04-01
L2,2020-01-01T12:00:00+02:00,webinar,250,lost,
L3,2020-02-01 08:30,ads,,open,
"""
EVENTS_CSV = """lead_id,occurred_at,event_type,channel
L1,2020-03-02,email_click,mail
L2,2020-01-05,webinar_attended,web
L3,2020-02-03,email_click,
"""


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# -------------------------------------------------------------------------------------------------
# read_table


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed(tmp_path: Path, delimiter: str) -> None:
    rows = [["lead_id", "note", "size"], ["L1", "NA", "3"], ["L2", "", "4"]]
    path = write(tmp_path / "leads.csv", "\n".join(delimiter.join(row) for row in rows) + "\n")
    frame = read_table(path)
    assert list(frame.columns) == ["lead_id", "note", "size"]
    assert frame.index.tolist() == [1, 2]
    assert frame.loc[1, "note"] == "NA"  # a literal value, not "missing"
    assert pd.isna(frame.loc[2, "note"])  # empty means missing
    assert frame.loc[2, "size"] == "4"  # everything is read as text


def test_quoted_fields_bom_and_padded_header(tmp_path: Path) -> None:
    text = '\ufefflead_id , note\nL1,"a, b"\nL2,"two\nlines"\n'
    frame = read_table(write(tmp_path / "leads.csv", text))
    assert list(frame.columns) == ["lead_id", "note"]
    assert frame["note"].tolist() == ["a, b", "two\nlines"]


def test_wrong_delimiter_is_explained(tmp_path: Path) -> None:
    path = write(tmp_path / "leads.csv", "lead_id;created_at\nL1;2020-01-01\n")
    with pytest.raises(DataFileError, match=r"leads\.csv.*looks like ';'-separated; set delimiter=';'"):
        read_table(path, delimiter=",")
    assert read_table(path, delimiter=";").loc[1, "created_at"] == "2020-01-01"


def test_bad_encoding_names_file_line_and_suggests_the_option(tmp_path: Path) -> None:
    path = write(tmp_path / "leads.csv", "lead_id,city\nL1,Paris\nL2,Z\xfcrich\n".encode("latin-1"))
    with pytest.raises(DataFileError) as caught:
        read_table(path)
    message = str(caught.value)
    assert "leads.csv, row 2 (line 3)" in message
    assert "0xfc" in message and "likely cp1252: pass --encoding cp1252" in message
    assert read_table(path, encoding="cp1252").loc[2, "city"] == "Zürich"


def test_a_windows_euro_sign_suggests_cp1252_and_a_byte_it_lacks_latin1(tmp_path: Path) -> None:
    # 0x80 is "€" in cp1252 and an invisible control character in latin-1.
    path = write(tmp_path / "deals.csv", "id;Wert\nL1;41.054,64 \u20ac\n".encode("cp1252"))
    with pytest.raises(DataFileError, match=r"0x80 .*likely cp1252: pass --encoding cp1252"):
        read_table(path)
    assert read_table(path, encoding="cp1252").loc[1, "Wert"] == "41.054,64 €"
    # 0x81 is no cp1252 character: latin-1 is what decodes the file.
    undefined = write(tmp_path / "other.csv", b"id,name\nL1,A\x81B\n")
    with pytest.raises(DataFileError, match="likely latin-1"):
        read_table(undefined)


def test_utf16_file_read_as_utf8_suggests_utf16(tmp_path: Path) -> None:
    path = write(tmp_path / "leads.csv", "lead_id,city\nL1,Zürich\n".encode("utf-16"))
    with pytest.raises(DataFileError, match=r"leads\.csv, line 1 \(header\): .*--encoding utf-16"):
        read_table(path)
    assert read_table(path, encoding="utf-16").loc[1, "city"] == "Zürich"


def test_delimiter_must_be_one_character(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="single character"):
        read_table(write(tmp_path / "leads.csv", "a;;b\n1;;2\n"), delimiter=";;")


@pytest.mark.parametrize(
    ("text", "where", "found"),
    [
        ("a,b,c\n1,2,3\n4,5\n", "row 2 (line 3)", 2),
        ("a,b\n1,2\n3,4,5\n", "row 2 (line 3)", 3),
        # A quoted newline makes one row of two lines; a blank line is no row (the parser skips it).
        ('a,b\n1,"x\ny"\n\n2,3,4\n', "row 2 (line 5)", 3),
    ],
)
def test_ragged_rows_name_the_row_and_line(tmp_path: Path, text: str, where: str, found: int) -> None:
    path = write(tmp_path / "events.csv", text)
    with pytest.raises(
        DataFileError,
        match=rf"events\.csv, {re.escape(where)}: expected \d fields like the header but found {found}",
    ):
        read_table(path)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "empty (0 bytes)"),
        (b"lead_id,created_at\n", "header but no data rows"),
        (b"\nL1,2020\n", "first line is empty"),
        (b"lead_id,lead_id\nL1,L2\n", "'lead_id' appears more than once"),
        (b"lead_id,,x\nL1,2,3\n", "column 2 of the header has no name"),
    ],
)
def test_empty_and_malformed_files(tmp_path: Path, content: bytes, fragment: str) -> None:
    path = write(tmp_path / "leads.csv", content)
    with pytest.raises(DataFileError, match=r"leads\.csv") as caught:
        read_table(path)
    assert fragment in str(caught.value)


def test_missing_and_unsupported_files(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="not found"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(
        DataFileError, match=r"unsupported file type '\.json' \(expected \.csv, \.parquet or an Excel"
    ):
        read_table(write(tmp_path / "leads.json", b"[]"))


def test_parquet_is_read_typed_with_row_numbers(tmp_path: Path) -> None:
    frame = pd.DataFrame({"lead_id": ["a", "b"], "n": [1.5, 2.0]})
    frame.to_parquet(tmp_path / "leads.parquet", index=False)
    read = read_table(tmp_path / "leads.parquet")
    assert read.index.tolist() == [1, 2]
    assert read["n"].dtype == "float64"


def test_unreadable_parquet(tmp_path: Path) -> None:
    path = write(tmp_path / "leads.parquet", b"this is not parquet at all")
    with pytest.raises(DataFileError, match=r"leads\.parquet.*cannot read as Parquet"):
        read_table(path)


@pytest.mark.skipif(not BANK.exists(), reason="shared datasets not available")
def test_reads_a_real_semicolon_export() -> None:
    frame = read_table(BANK)
    assert frame.shape == (41188, 21)
    assert frame.columns[0] == "age" and frame.loc[1, "y"] == "no"


# -------------------------------------------------------------------------------------------------
# find_table and load_dataset


def test_find_table_refuses_two_files_for_one_table(tmp_path: Path) -> None:
    assert find_table(tmp_path, "leads") is None
    write(tmp_path / "leads.csv", LEADS_CSV)
    assert find_table(tmp_path, "leads") == tmp_path / "leads.csv"
    pd.DataFrame({"lead_id": ["x"]}).to_parquet(tmp_path / "leads.parquet")
    with pytest.raises(
        DataFileError, match=r"leads table is in more than one file \(leads\.parquet, leads\.csv\)"
    ):
        find_table(tmp_path, "leads")


def test_load_hand_made_csvs_with_outcomes_in_the_leads_table(tmp_path: Path) -> None:
    write(tmp_path / "acme" / "leads.csv", LEADS_CSV)
    write(tmp_path / "acme" / "events.csv", EVENTS_CSV)
    dataset, report = load_dataset(tmp_path / "acme", now=NOW)
    assert dataset.metadata.name == "acme"
    assert dataset.metadata.categorical_columns == ["source"]
    assert dataset.metadata.numeric_columns == ["employees"]
    assert dataset.leads["lead_id"].tolist() == ["L2", "L3", "L1"]
    assert dataset.outcomes["status"].tolist() == ["lost", "open", "won"]
    assert len(dataset.events) == 3
    assert report.rows_read == {"leads": 3, "events": 3}


def test_load_names_the_file_in_validation_errors(tmp_path: Path) -> None:
    write(tmp_path / "leads.csv", LEADS_CSV)
    write(tmp_path / "events.csv", EVENTS_CSV.replace("L3,2020-02-03", "L3,2020-01-03"))
    with pytest.raises(DataValidationError) as caught:
        load_dataset(tmp_path, now=NOW)
    (problem,) = caught.value.problems
    assert str(problem).startswith("events.csv, row 3, column occurred_at: occurred_at 2020-01-03")
    assert "leads.csv row 3" in problem.message


def test_load_lenient_quarantines_and_writes_rejects(tmp_path: Path) -> None:
    write(tmp_path / "leads.csv", LEADS_CSV.replace("L3,2020-02-01 08:30", "L3,2020-02-31"))
    write(tmp_path / "events.csv", EVENTS_CSV)
    dataset, report = load_dataset(tmp_path, mode="lenient", now=NOW)
    assert dataset.leads["lead_id"].tolist() == ["L2", "L1"]
    assert report.rejects[["file", "row"]].values.tolist() == [["leads.csv", 3], ["events.csv", 3]]
    assert write_rejects(report, tmp_path) == tmp_path / REJECTS_FILE


def test_load_reports_file_level_problems(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="no such directory"):
        load_dataset(tmp_path / "missing")
    with pytest.raises(DataFileError, match="no leads table"):
        load_dataset(tmp_path)
    write(tmp_path / "leads.csv", LEADS_CSV)
    write(tmp_path / "events.csv", "lead_id,occurred_at,event_type\n")
    with pytest.raises(
        DataFileError, match=r"events\.csv \(events table\): the file has a header but no data rows"
    ):
        load_dataset(tmp_path)
    (tmp_path / "events.csv").unlink()
    write(tmp_path / METADATA_FILE, "{not json")
    with pytest.raises(DataFileError, match=r"dataset\.json: invalid dataset metadata"):
        load_dataset(tmp_path)


def test_load_passes_encoding_and_delimiter(tmp_path: Path) -> None:
    text = LEADS_CSV.replace(",", ";").replace("webinar", "séminaire")
    write(tmp_path / "leads.csv", text.encode("cp1252"))
    with pytest.raises(DataFileError, match=r"row 2 \(line 3\)"):
        load_dataset(tmp_path, now=NOW)
    dataset, _ = load_dataset(tmp_path, now=NOW, encoding="cp1252")
    assert "séminaire" in set(dataset.leads["source"])


def raw_tables() -> dict[str, pd.DataFrame]:
    def frame(columns: dict[str, list]) -> pd.DataFrame:
        built = pd.DataFrame(columns, dtype="str")
        built.index = pd.RangeIndex(1, len(built) + 1)
        return built

    return {
        "leads": frame(
            {
                "lead_id": ["a", "b", "c"],
                "created_at": ["2020-01-03", "2020-01-01", "2020-01-02T05:00:00-05:00"],
                "industry": ["retail", None, "tech"],
                "employees": ["5", "50", None],
                "visits": ["1", "0", "7"],
            }
        ),
        "events": frame(
            {
                "lead_id": ["a", "b", "c", "c"],
                "occurred_at": ["2020-01-04", "2020-01-02", "2020-01-03", "2020-01-02 10:00:00.123456"],
                "event_type": ["click", "open", "click", "webinar"],
                "duration": ["1.5", "", "3", "4"],
            }
        ),
        "outcomes": frame(
            {
                "lead_id": ["c", "a", "b"],
                "status": ["won", "open", "lost"],
                "handed_over_at": ["2020-02-01", None, None],
                "closed_at": ["2020-03-01", None, "2020-02-15"],
            }
        ),
    }


def test_round_trip_save_then_load(tmp_path: Path) -> None:
    tables = raw_tables()
    meta = DatasetMetadata(
        name="rt",
        observed_until=pd.Timestamp("2020-12-31", tz="UTC"),
        categorical_columns=["industry"],
        numeric_columns=["employees"],
        activity_columns=["visits"],
        source="unit test",
    )
    dataset, _ = validate_tables(tables["leads"], tables["events"], tables["outcomes"], meta, now=NOW)
    dataset.save(tmp_path / "ds")
    loaded, report = load_dataset(tmp_path / "ds", now=NOW)
    for name in ("leads", "events", "outcomes"):
        pd.testing.assert_frame_equal(getattr(loaded, name), getattr(dataset, name), check_exact=True)
    assert loaded.metadata == dataset.metadata
    assert report.rejects.empty


def test_round_trip_of_a_row_order_dataset(tmp_path: Path) -> None:
    tables = raw_tables()
    leads = tables["leads"].drop(columns="created_at")
    outcomes = tables["outcomes"].drop(columns=["handed_over_at", "closed_at"])
    meta = DatasetMetadata(name="rows", time_basis=TimeBasis.ROW_ORDER)
    dataset, _ = validate_tables(leads, None, outcomes, meta, now=NOW)
    assert dataset.metadata.numeric_columns == ["employees", "visits"]
    dataset.save(tmp_path)
    loaded, _ = load_dataset(tmp_path, now=NOW)
    for name in ("leads", "events", "outcomes"):
        pd.testing.assert_frame_equal(getattr(loaded, name), getattr(dataset, name), check_exact=True)
    assert loaded.metadata == dataset.metadata


def test_simulator_output_loads_back_unchanged(tmp_path: Path) -> None:
    simulator = pytest.importorskip("training.simulation.simulator")
    result = simulator.simulate(300, seed=3)
    simulator.write_simulation(result, tmp_path)
    loaded, report = load_dataset(tmp_path)
    for name in ("leads", "events", "outcomes"):
        pd.testing.assert_frame_equal(getattr(loaded, name), getattr(result.dataset, name), check_exact=True)
    assert loaded.metadata == result.dataset.metadata
    assert report.rows_kept == report.rows_read

"""Excel exports (.xlsx): typed cells read as the text a CSV export would hold, rows named as Excel
numbers them, and a workbook's trouble (several sheets, a stray cell, the old .xls) named plainly."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference

from training.data.io import DataFileError, read_table
from training.data.mapping import MappingConfigError, import_export
from training.data.validation import DataValidationError


def _workbook(path: Path, rows: list[list[object]], extra_sheet: bool = False) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Leads"
    for row in rows:
        sheet.append(row)
    if extra_sheet:
        book.create_sheet("Notes").append(["written by hand"])
    book.save(path)
    return path


HEADER = ["Lead ID", "Created", "Source", "Employees", "Converted", "Closed"]


def _lead(i: int, employees: object = 50.0) -> list[object]:
    created = dt.datetime(2024, 1, 1, 9, 30) + dt.timedelta(days=i)
    return [
        1000 + i,
        created,
        "Web" if i % 2 else "Ads",
        employees,
        i % 3 == 0,
        created + dt.timedelta(days=20),
    ]


def _config(tmp_path: Path, sheet: str = "") -> Path:
    config = tmp_path / "crm.toml"
    config.write_text(
        f"""
name = "excel"
observed_until = 2025-01-01
[leads]
file = "export.xlsx"
{sheet}
lead_id = "Lead ID"
created_at = "Created"
categorical = ["Source"]
numeric = ["Employees"]
missing = ["#N/A"]
[outcome]
status_column = "Converted"
status_values = {{ "TRUE" = "won", "FALSE" = "lost" }}
closed_at = "Closed"
"""
    )
    return config


def test_typed_cells_are_read_as_a_csv_export_would_write_them(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "export.xlsx",
        [
            ["Id", "When", "Day", "Count", "Ratio", "Flag", "Note", "Big"],
            [1001.0, dt.datetime(2024, 3, 5, 13, 45), dt.date(2024, 3, 6), 12, 0.25, True, "#N/A", 1e300],
            [1002, None, None, None, None, False, "  ", None],
            [None] * 8,  # a formatted empty row at the end: not data
        ],
    )
    frame = read_table(path)
    assert frame.index.tolist() == [2, 3]  # as Excel numbers the rows: the header is row 1
    assert frame.loc[2].tolist() == [
        "1001",
        "2024-03-05 13:45:00",
        "2024-03-06",
        "12",
        "0.25",
        "TRUE",
        "#N/A",
        "1e+300",
    ]
    assert frame.loc[3, "Id"] == "1002" and frame.loc[3, "Flag"] == "FALSE"
    assert frame.loc[3, ["When", "Count", "Note"]].isna().all()  # empty and blank cells are missing


def test_an_excel_export_imports_and_its_problems_name_the_row_excel_shows(tmp_path: Path) -> None:
    rows = [HEADER, *(_lead(i) for i in range(6))]
    rows[3][3] = "#N/A"  # a missing marker, in Excel's row 4 (lead 1002)
    _workbook(tmp_path / "export.xlsx", rows)
    summary = import_export(_config(tmp_path), tmp_path / "d", mode="strict")
    assert summary.leads == 6 and summary.outcome_counts["won"] == 2
    leads = pd.read_parquet(tmp_path / "d" / "leads.parquet").set_index("lead_id")
    assert leads.index.tolist()[:2] == ["1000", "1001"]  # ids stored as numbers lose no ".0"
    assert leads.loc["1000", "created_at"] == pd.Timestamp("2024-01-01 09:30", tz="UTC")
    assert pd.isna(leads.loc["1002", "Employees"]) and leads.loc["1001", "Employees"] == 50.0

    rows[4][3] = "lots"  # Excel's row 5
    _workbook(tmp_path / "export.xlsx", rows)
    with pytest.raises(DataValidationError) as caught:
        import_export(_config(tmp_path), tmp_path / "e", mode="strict")
    [problem] = caught.value.problems
    assert (problem.file, problem.row, problem.column) == ("export.xlsx", 5, "Employees")


def test_a_workbook_with_several_sheets_must_name_one(tmp_path: Path) -> None:
    _workbook(tmp_path / "export.xlsx", [HEADER, *(_lead(i) for i in range(4))], extra_sheet=True)
    with pytest.raises(DataFileError, match=r"2 sheets \('Leads', 'Notes'\); set sheet = \"Leads\""):
        import_export(_config(tmp_path), tmp_path / "d")
    assert import_export(_config(tmp_path, 'sheet = "Leads"'), tmp_path / "d").leads == 4
    with pytest.raises(
        DataFileError, match=r"no sheet 'Contacts' in the workbook \(its sheets: 'Leads', 'Notes'\)"
    ):
        import_export(_config(tmp_path, 'sheet = "Contacts"'), tmp_path / "e")


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [HEADER, [*_lead(0), None, "stray"]],
            r"sheet 'Leads', cell H2: a value beyond the header's last column",
        ),
        ([["Lead ID", None, "Source"], [1, 2, 3]], r"row 1: column B of the header has no name"),
        ([["Lead ID", "Source", "Source"], [1, 2, 3]], r"column 'Source' appears more than once"),
        ([[None, None], [1, 2]], r"row 1 is empty"),
        ([HEADER], r"a header but no data rows"),
    ],
)
def test_a_broken_sheet_is_refused_naming_where(
    tmp_path: Path, rows: list[list[object]], message: str
) -> None:
    with pytest.raises(DataFileError, match=message):
        read_table(_workbook(tmp_path / "export.xlsx", rows))


def test_not_a_workbook_the_old_format_and_a_sheet_for_a_csv_are_refused(tmp_path: Path) -> None:
    (tmp_path / "fake.xlsx").write_text("Lead ID,Source\n1,Web\n")
    with pytest.raises(DataFileError, match=r"fake\.xlsx: cannot read as an Excel workbook"):
        read_table(tmp_path / "fake.xlsx")
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0 not really")
    with pytest.raises(
        DataFileError, match=r"old binary Excel format \(\.xls\) is not read; save the sheet as \.xlsx"
    ):
        read_table(tmp_path / "old.xls")
    (tmp_path / "leads.csv").write_text("Lead ID,Source\n1,Web\n")
    with pytest.raises(
        DataFileError, match=r"a sheet \('Leads'\) is named, but the file is not an Excel workbook"
    ):
        read_table(tmp_path / "leads.csv", sheet="Leads")


def test_an_empty_sheet_key_is_refused_by_the_config(tmp_path: Path) -> None:
    with pytest.raises(MappingConfigError, match=r"'leads\.sheet'"):
        import_export(_config(tmp_path, 'sheet = ""'), tmp_path / "d")


def test_a_chart_sheet_is_no_table(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [["Source", "Leads"], ["Web", 3], ["Ads", 5]]:
        sheet.append(row)
    chart = BarChart()
    chart.add_data(Reference(sheet, min_col=2, min_row=1, max_row=3), titles_from_data=True)
    book.create_chartsheet("Chart").add_chart(chart)
    book.save(tmp_path / "export.xlsx")
    with pytest.raises(DataFileError, match=r"sheet 'Chart' is a chart, not a table of rows"):
        read_table(tmp_path / "export.xlsx", sheet="Chart")


def test_a_title_above_the_table_is_named_and_header_row_reads_below_it(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["Leads report, Q1"],
        [],
        ["Filtered by: owner = me"],
        HEADER,
        _lead(0),
        _lead(1),
    ]
    path = _workbook(tmp_path / "export.xlsx", rows)
    with pytest.raises(
        DataFileError, match=r"row 1 holds one value \('Leads report, Q1'\).*set header_row = 4"
    ):
        read_table(path)
    frame = read_table(path, header_row=4)
    assert frame.index.tolist() == [5, 6]  # Excel's own row numbers
    assert frame.loc[5, "Lead ID"] == "1000" and list(frame.columns) == HEADER
    (tmp_path / "a.csv").write_text("a,b\n1,2\n")
    with pytest.raises(DataFileError, match=r"header_row applies to Excel sheets"):
        read_table(tmp_path / "a.csv", header_row=2)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # A header that names only its first column is no title: its data is refused cell by cell.
        ([["Lead ID"], ["L1", "x"]], r"cell B2: a value beyond the header's last column"),
        # A one-column table under a title (the empty row tells).
        ([["Contacts export"], [], ["email"], ["a@x.org"]], r"set header_row = 3"),
        # A title, a subtitle row, then the header: the widest row is the header.
        (
            [
                ["Report"],
                [],
                ["Period:", "2024 Q1"],
                [],
                ["Id", "Created", "Source"],
                ["L1", "2024-01-02", "Web"],
            ],
            r"set header_row = 5",
        ),
        # A blank-looking cell next to the title does not hide it.
        ([["Report", " "], [], ["Id", "Source"], ["L1", "Web"]], r"set header_row = 3"),
    ],
)
def test_a_title_is_one_value_above_an_empty_row(
    tmp_path: Path, rows: list[list[object]], expected: str
) -> None:
    with pytest.raises(DataFileError, match=expected):
        read_table(_workbook(tmp_path / "export.xlsx", rows))

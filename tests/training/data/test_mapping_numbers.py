"""Numbers written with a decimal comma or thousands separators (``decimal`` / ``thousands``): read as
declared, a value that does not fit named by file, row and column, and an undeclared convention
refused with the key to set, never reread silently."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from training.cli import app
from training.data.io import load_dataset
from training.data.mapping import MappingConfigError, import_export, load_mapping
from training.data.number_format import NumberFormat, NumberFormatError, to_plain_numbers, units_shown
from training.data.validation import DataValidationError

# A German CRM export: semicolons, decimal commas, dots between thousands.
LEADS = """
Id;Created;Region;Revenue;Visits;Won
L1;2024-01-02;Nord, Ost;1.234.567,5;3;ja
L2;2024-01-03;Süd;980,25;12;nein
L3;2024-01-04;West;-1.000;0;nein
L4;2024-01-05;Nord, Ost;;7;ja
"""


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


def _config(tmp_path: Path, numbers: str, leads: str = LEADS, extra: str = "") -> Path:
    _write(tmp_path / "leads.csv", leads)
    return _write(
        tmp_path / "crm.toml",
        f"""
name = "numbers"
observed_until = 2025-01-01
[leads]
file = "leads.csv"
delimiter = ";"
lead_id = "Id"
created_at = "Created"
categorical = ["Region"]
numeric = ["Revenue"]
activity = ["Visits"]
{numbers}
[outcome]
status_column = "Won"
status_values = {{ ja = "won", nein = "lost" }}
{extra}
""",
    )


def _leads(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "leads.parquet").set_index("lead_id")


def test_declared_decimal_comma_and_thousands_dots_are_read_as_numbers(tmp_path: Path) -> None:
    import_export(_config(tmp_path, 'decimal = ","\nthousands = "."'), tmp_path / "d", mode="strict")
    leads = _leads(tmp_path / "d")
    assert leads["Revenue"].tolist()[:3] == [1234567.5, 980.25, -1000.0]
    assert pd.isna(leads.loc["L4", "Revenue"])  # empty stays missing
    assert leads["Visits"].tolist() == [3.0, 12.0, 0.0, 7.0]  # activity columns too
    assert leads.loc["L1", "Region"] == "Nord, Ost"  # categories are text: never rewritten


def test_a_value_that_does_not_fit_the_declared_convention_is_named_by_file_row_and_column(
    tmp_path: Path,
) -> None:
    # Row 2 writes a dot decimal, which plain parsing would happily read as 980.25: the mapping says
    # the file uses decimal commas, so it is reported, not read some other way.
    leads = LEADS.replace("980,25", "980.25")
    config = _config(tmp_path, 'decimal = ","', leads=leads.replace("1.234.567,5", "1234567,5"))
    with pytest.raises(DataValidationError) as caught:
        import_export(config, tmp_path / "d", mode="strict")
    problems = {(p.file, p.row, p.column): str(p) for p in caught.value.problems}
    assert set(problems) == {("leads.csv", 2, "Revenue"), ("leads.csv", 3, "Revenue")}  # -1.000 too
    assert problems["leads.csv", 2, "Revenue"].endswith(
        "cannot parse '980.25' as a number with decimal ',' and thousands none"
    )
    assert not (tmp_path / "d").exists()
    summary = import_export(config, tmp_path / "d", mode="lenient", max_reject_share=0.6)
    assert summary.leads == 2 and summary.rejects == 2
    assert _leads(tmp_path / "d").loc["L1", "Revenue"] == 1234567.5


@pytest.mark.parametrize(
    ("revenue", "message"),
    [
        (["1,5", "2,25", "3"], r'decimal comma: set decimal = ","'),
        (["1.234,5", "2,5", "7"], r'set decimal = "," and thousands = "\."'),
        (["1,234.5", "12,000,000", "3"], r'group thousands with commas: set thousands = ","'),
        (["1,200", "12,345", "3"], r"fit both .* \(is 1,200 1\.2 or 1200\?\)"),
    ],
)
def test_an_undeclared_convention_is_refused_with_the_key_to_set(
    tmp_path: Path, revenue: list[str], message: str
) -> None:
    rows = "\n".join(f"L{i};2024-01-0{i};West;{value};1;nein" for i, value in enumerate(revenue, start=1))
    config = _config(tmp_path, "", leads=f"Id;Created;Region;Revenue;Visits;Won\n{rows}")
    with pytest.raises(MappingConfigError, match=message) as caught:
        import_export(config, tmp_path / "d", mode="lenient")
    assert "key 'leads.decimal / thousands / units' (column 'Revenue' of leads.csv)" in str(caught.value)
    assert "2 of its 3 non-empty values" in str(caught.value)
    assert not (tmp_path / "d").exists()


def test_a_stray_decimal_comma_among_plain_numbers_is_a_row_problem_with_a_hint(tmp_path: Path) -> None:
    leads = "Id;Created;Region;Revenue;Visits;Won\n" + "\n".join(
        f"L{i};2024-01-0{i};West;{value};1;nein" for i, value in enumerate(["10.5", "7", "3,5", "1"], 1)
    )
    with pytest.raises(DataValidationError) as caught:
        import_export(_config(tmp_path, "", leads=leads), tmp_path / "d", mode="strict")
    [problem] = caught.value.problems
    assert (problem.file, problem.row, problem.column) == ("leads.csv", 3, "Revenue")
    assert "cannot parse '3,5' as a number (a decimal comma" in str(problem)
    assert "decimal / thousands" in str(problem)


def test_joined_and_history_numbers_use_their_own_files_convention(tmp_path: Path) -> None:
    _write(tmp_path / "accounts.csv", "Key;Employees\nA;1.200\nB;35\n")
    _write(
        tmp_path / "history.csv",
        "Lead;Field;Old;New;At\nL1;Revenue;1.000,5;1.234.567,5;2024-03-01\nL2;Region;Süd;West;2024-03-02\n",
    )
    leads = (
        LEADS.replace("Won\n", "Won;Account\n").replace(";ja\n", ";ja;A\n").replace(";nein\n", ";nein;B\n")
    )
    extra = """
[[joins]]
file = "accounts.csv"
delimiter = ";"
on = "Account"
key = "Key"
numeric = ["Employees"]
decimal = ","
thousands = "."
[profile_history]
file = "history.csv"
delimiter = ";"
lead_id = "Lead"
field = "Field"
old_value = "Old"
new_value = "New"
changed_at = "At"
decimal = ","
thousands = "."
"""
    config = _config(tmp_path, 'decimal = ","\nthousands = "."', leads=leads, extra=extra)
    import_export(config, tmp_path / "d", mode="strict")
    assert _leads(tmp_path / "d")["Employees"].tolist()[:3] == [1200.0, 35.0, 35.0]
    dataset, _ = load_dataset(tmp_path / "d")
    history = dataset.profile_history
    assert history is not None
    revenue = history.set_index("field").loc["Revenue"]
    assert float(revenue["old_value"]) == 1000.5 and float(revenue["new_value"]) == 1234567.5
    assert history.set_index("field").loc["Region", "new_value"] == "West"  # categories untouched


@pytest.mark.parametrize(
    ("numbers", "extra", "message"),
    [
        ('decimal = ","\nthousands = ","', "", r"'leads\.thousands': cannot be the decimal mark ','"),
        ('thousands = "."', "", r"'leads\.thousands': .*\(set decimal = \",\"\)"),
        ('decimal = ";"', "", r"'leads\.decimal'"),
        ('thousands = "_"', "", r"'leads\.thousands'"),
        (
            "",
            '[events]\nfile = "leads.csv"\nlead_id = "Id"\noccurred_at = "Created"\nevent_type = "x"\n'
            'decimal = ","',
            r"'events\.decimal'",
        ),
    ],
)
def test_bad_number_settings_are_refused_naming_the_key(
    tmp_path: Path, numbers: str, extra: str, message: str
) -> None:
    with pytest.raises(MappingConfigError, match=message):
        load_mapping(_config(tmp_path, numbers, extra=extra))


def test_cli_import_exits_2_with_the_key_to_set(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["import", "--mapping", str(_config(tmp_path, "")), "--out", str(tmp_path / "d")]
    )
    assert result.exit_code == 2, result.output
    assert 'set decimal = ","' in " ".join(result.output.split()) and "Traceback" not in result.output


def test_plain_numbers_typed_numbers_and_swiss_apostrophes() -> None:
    typed = pd.Series([1.5, None])
    assert to_plain_numbers(typed, NumberFormat(","), "here") is typed  # Parquet numbers are numbers
    swiss = to_plain_numbers(pd.Series(["1'234.50", "12", "1'2"]), NumberFormat(".", "'"), "here")
    assert swiss.tolist()[:2] == ["1234.50", "12"] and swiss[2].endswith(
        "(not a number with decimal '.' and thousands \"'\")"
    )
    assert to_plain_numbers(pd.Series(["1", "2.5", "n/a"]), NumberFormat(), "here").tolist() == [
        "1",
        "2.5",
        "n/a",
    ]
    with pytest.raises(NumberFormatError, match="here: 2 of its 2 non-empty values"):
        to_plain_numbers(pd.Series(["1,5", "2,5", None]), NumberFormat(), "here")


# --- units: currency and percent signs --------------------------------------------------------------


def _revenue_export(tmp_path: Path, numbers: str, revenue: list[str]) -> Path:
    rows = "\n".join(f"L{i};2024-01-0{i};West;{value};1;nein" for i, value in enumerate(revenue, start=1))
    return _config(tmp_path, numbers, leads=f"Id;Created;Region;Revenue;Visits;Won\n{rows}")


@pytest.mark.parametrize(
    ("revenue", "message"),
    [
        (
            ["$1,234.50", "$980", "-$5"],
            r'set units = \["\$"\]; the numbers then group thousands with commas: ',
        ),
        (["45%", "12 %", "7"], r'set units = \["%"\] \(numbers are never reread silently\)'),
        (["1.234,5 EUR", "980,25 EUR"], r'units = \["EUR"\]; .* set decimal = "," and thousands = "\."'),
    ],
)
def test_numbers_with_an_undeclared_unit_are_refused_naming_the_units_and_the_convention(
    tmp_path: Path, revenue: list[str], message: str
) -> None:
    with pytest.raises(MappingConfigError, match=message) as caught:
        import_export(_revenue_export(tmp_path, "", revenue), tmp_path / "d", mode="lenient")
    assert "key 'leads.decimal / thousands / units' (column 'Revenue' of leads.csv)" in str(caught.value)
    assert "carry a unit or currency sign" in str(caught.value)
    assert not (tmp_path / "d").exists()


def test_declared_units_are_removed_and_a_value_with_another_is_named_by_row(tmp_path: Path) -> None:
    revenue = ["$1,234.50", "-$5", "$-7", "980", "12 %"]
    config = _revenue_export(tmp_path, 'thousands = ","\nunits = ["$", "%"]', revenue)
    import_export(config, tmp_path / "d", mode="strict")
    assert _leads(tmp_path / "d")["Revenue"].tolist() == [1234.5, -5.0, -7.0, 980.0, 12.0]

    other = _revenue_export(tmp_path / "other", 'thousands = ","\nunits = ["$"]', ["$1,234.50", "€3", "$2"])
    with pytest.raises(DataValidationError) as caught:
        import_export(other, tmp_path / "d2", mode="strict")
    [problem] = caught.value.problems
    assert (problem.row, problem.column) == (2, "Revenue")
    assert str(problem).endswith(
        "cannot parse '€3' as a number with decimal '.' and thousands ',' and units '$'"
    )


@pytest.mark.parametrize("unit", ['"1"', '" $"', '"."', '""'])
def test_a_unit_that_could_be_part_of_a_number_is_refused(tmp_path: Path, unit: str) -> None:
    with pytest.raises(MappingConfigError, match=r"'leads\.units"):
        load_mapping(_config(tmp_path, f"units = [{unit}]"))


def test_a_stray_unit_among_plain_numbers_is_a_row_problem_with_a_hint(tmp_path: Path) -> None:
    config = _revenue_export(tmp_path, "", ["10.5", "7", "$5", "1"])
    with pytest.raises(DataValidationError) as caught:
        import_export(config, tmp_path / "d", mode="strict")
    [problem] = caught.value.problems
    assert problem.row == 3
    assert "cannot parse '$5' as a number (a unit or currency sign? a mapping's units key removes it)" in str(
        problem
    )


def test_units_alone_and_a_value_without_digits() -> None:
    read = to_plain_numbers(pd.Series(["55%", "12 %", "3", "x%", None]), NumberFormat(units=("%",)), "here")
    assert read.tolist()[:4] == ["55", "12", "3", "x%"] and pd.isna(read[4])  # 'x%' is left for validation
    # A value without a digit is no number in any convention: it stays as written (a missing marker?).
    declared = to_plain_numbers(pd.Series(["1,5", "N/A"]), NumberFormat(","), "here")
    assert declared.tolist() == ["1.5", "N/A"]


@pytest.mark.parametrize(
    ("revenue", "message"),
    [
        (["1.2M", "500K", "3M", "750k"], r"scaled by a suffix \(K, M, Mio, ...\): no mapping key reads them"),
        (["$1.6M", "$2.4M", "-$3M", "$750K"], r"scaled by a suffix \(K, M, Mio, ...\)"),
        (["$5", "€7", "$9", "€1"], r"carry different units \(\$, €\): amounts in different currencies"),
    ],
)
def test_scaled_numbers_and_mixed_units_are_refused_not_stripped(
    tmp_path: Path, revenue: list[str], message: str
) -> None:
    """A "units" reading of 1.2M would import 1.2; dollars beside euros would be summed as one scale."""
    with pytest.raises(MappingConfigError, match=message):
        import_export(_revenue_export(tmp_path, "", revenue), tmp_path / "d", mode="lenient")


@pytest.mark.parametrize("unit", ['"K"', '"Mio"'])
def test_a_multiplier_is_no_unit(tmp_path: Path, unit: str) -> None:
    with pytest.raises(MappingConfigError, match=r"'leads\.units'.*scales a number"):
        load_mapping(_config(tmp_path, f"units = [{unit}]"))


def test_a_stray_grouped_number_with_a_declared_unit_is_hinted_at_thousands(tmp_path: Path) -> None:
    config = _revenue_export(tmp_path, 'units = ["$"]', ["$5", "$1,234", "$7", "$9"])
    with pytest.raises(DataValidationError) as caught:
        import_export(config, tmp_path / "d", mode="strict")
    [problem] = caught.value.problems
    assert "cannot parse '$1,234' as a number (a decimal comma or commas between thousands?" in str(problem)


def test_codes_with_letters_are_no_numbers_with_units() -> None:
    """ "ind5" or "Q3" are codes: a unit is a symbol or an upper-case currency code, never stripped from
    them (the draft once read an industry column "ind0".."ind29" as numbers with units = ["ind"])."""
    for codes in (["ind5", "ind7", "ind9"], ["Q1", "Q3", "Q4"], ["v2", "v3", "v10"]):
        assert to_plain_numbers(pd.Series(codes, dtype=object), NumberFormat(), "here").tolist() == codes
    assert units_shown(pd.Series(["ind5", "ind7"], dtype=object)) == ()
    assert units_shown(pd.Series(["12 USD", "7 USD"], dtype=object)) == ("USD",)

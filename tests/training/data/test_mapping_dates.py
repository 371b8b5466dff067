"""Declared date formats per column (``date_formats``): used instead of guessing, and a value that does
not match its declared format is named by file, row and column, never read some other way."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from training.data.mapping import MappingConfigError, import_export, load_mapping
from training.data.validation import DataValidationError

LEADS = """
id,Created,Added,Closed,Handed,Won
c1,03/04/2024,2024-01-01,2024.05.06,2024-04-10,yes
c2,05/06/2024,2024-01-01,2024.07.01,,no
c3,11/12/2024,2024-01-01,,,open
"""


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


def _config(tmp_path: Path, leads_formats: str, outcome_formats: str = "", table: str = LEADS) -> Path:
    _write(tmp_path / "leads.csv", table)
    return _write(
        tmp_path / "leads.toml",
        f"""
name = "dated"
observed_until = 2025-06-01
[leads]
file = "leads.csv"
lead_id = "id"
created_at = "Created"
drop = ["Added"]
{leads_formats}
[outcome]
status_column = "Won"
status_values = {{ yes = "won", no = "lost" }}
closed_at = "Closed"
handed_over_at = "Handed"
{outcome_formats}
""",
    )


def _frame(out: Path, table: str) -> pd.DataFrame:
    return pd.read_parquet(out / f"{table}.parquet").set_index("lead_id")


def test_each_column_is_read_in_its_declared_format(tmp_path: Path) -> None:
    # Every Created date fits day/month and month/day: without a declaration the import is refused.
    config = _config(
        tmp_path, 'date_formats = { Created = "%m/%d/%Y" }', 'date_formats = { Closed = "%Y.%m.%d" }'
    )
    summary = import_export(config, tmp_path / "d", mode="strict")
    assert not any("read as" in warning for warning in summary.warnings)  # declared: nothing inferred
    leads, outcomes = _frame(tmp_path / "d", "leads"), _frame(tmp_path / "d", "outcomes")
    assert leads.loc["c1", "created_at"] == pd.Timestamp("2024-03-04", tz="UTC")  # month first
    assert outcomes.loc["c1", "closed_at"] == pd.Timestamp("2024-05-06", tz="UTC")
    # A column without its own format keeps the ISO reading.
    assert outcomes.loc["c1", "handed_over_at"] == pd.Timestamp("2024-04-10", tz="UTC")


def test_day_first_shorthand_and_column_format_winning_over_the_section_format(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        'date_formats = { Created = "day_first" }',
        'date_format = "%Y-%m-%d"\ndate_formats = { Closed = "%Y.%m.%d" }',
    )
    import_export(config, tmp_path / "d", mode="strict")
    leads, outcomes = _frame(tmp_path / "d", "leads"), _frame(tmp_path / "d", "outcomes")
    assert leads.loc["c1", "created_at"] == pd.Timestamp("2024-04-03", tz="UTC")  # day first
    assert outcomes.loc["c2", "closed_at"] == pd.Timestamp("2024-07-01", tz="UTC")
    assert outcomes.loc["c1", "handed_over_at"] == pd.Timestamp("2024-04-10", tz="UTC")


def test_a_value_that_does_not_match_its_declared_format_is_named_by_file_row_and_column(
    tmp_path: Path,
) -> None:
    # Row 2's close is ISO, which a guessing parser would happily read: the declaration says otherwise.
    table = LEADS.replace("2024.07.01", "2024-07-01")
    config = _config(tmp_path, 'date_format = "%d/%m/%Y"', 'date_formats = { Closed = "%Y.%m.%d" }', table)
    with pytest.raises(DataValidationError) as caught:
        import_export(config, tmp_path / "d", mode="strict")
    [problem] = caught.value.problems
    assert (problem.file, problem.row, problem.column) == ("leads.csv", 2, "Closed")
    assert "cannot parse '2024-07-01' as a %Y.%m.%d date" in str(problem)
    assert not (tmp_path / "d").exists()
    # Lenient: the row is quarantined with the same reason, the rest imported.
    summary = import_export(config, tmp_path / "d", mode="lenient", max_reject_share=0.5)
    assert summary.leads == 2 and summary.rejects == 1
    rejects = pd.read_csv(tmp_path / "d" / "rejects.csv", dtype=str)
    assert rejects.loc[0, ["file", "row", "column"]].tolist() == ["leads.csv", "2", "Closed"]


@pytest.mark.parametrize(
    ("leads_formats", "message"),
    [
        ('date_formats = { Won = "%Y" }', r"'leads\.date_formats\.Won': 'Won' is not a date column"),
        ('date_formats = { Created = "dd/mm/yyyy" }', r"'leads\.date_formats\.Created'.*strftime pattern"),
        ('date_format = "%d/%Q/%Y"', r"'leads\.date_format'.*cannot be read back"),
    ],
)
def test_bad_date_format_settings_are_refused_naming_the_key(
    tmp_path: Path, leads_formats: str, message: str
) -> None:
    with pytest.raises(MappingConfigError, match=message):
        load_mapping(_config(tmp_path, leads_formats))


def test_the_fallback_date_column_is_read_in_its_own_format(tmp_path: Path) -> None:
    table = """
id,Created,Added,Closed,Handed,Won
c1,03/04/2024,2023.12.01,,,open
c2,,2024.02.01,,,open
"""
    config = _config(tmp_path, 'date_format = "%d/%m/%Y"\ndate_formats = { Added = "%Y.%m.%d" }', table=table)
    text = config.read_text().replace('drop = ["Added"]', 'created_at_fallback = "Added"')
    config.write_text(text)
    import_export(config, tmp_path / "d", mode="strict")
    leads = _frame(tmp_path / "d", "leads")
    assert leads.loc["c1", "created_at"] == pd.Timestamp("2024-04-03", tz="UTC")
    assert leads.loc["c2", "created_at"] == pd.Timestamp("2024-02-01", tz="UTC")  # from Added, as %Y.%m.%d

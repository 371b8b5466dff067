"""A field-history export mapped through ``[profile_history]``: imported beside the tables, checked by
file, row and column, read back with the dataset, and used as of each snapshot's cutoff."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from training.cli import app
from training.data.io import load_dataset
from training.data.mapping import MappingConfigError, import_export, load_mapping
from training.data.validation import DataValidationError
from training.features.snapshots import CUTOFF, SnapshotPolicy, build_snapshots

LEADS = """
Id,Created,Lead Source,Employees,Stage,Closed
L1,2024-01-01,Partner Referral,500,won,2024-02-20
L2,2024-01-02,web,40,lost,2024-02-15
L3,2024-01-03,ads,n/a,open,
"""
# Salesforce-style: the field is named by its API name; Status is tracked but is no profile column.
HISTORY = """
LeadId,Field,OldValue,NewValue,CreatedDate
L1,LeadSource,web,Partner Referral,2024-01-15T10:00:00Z
L1,NumberOfEmployees,10,500,2024-03-01T09:00:00Z
L1,Status,Open,Working,2024-01-05T09:00:00Z
L2,Status,Open,Closed,2024-02-15T09:00:00Z
"""


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


def _config(tmp_path: Path, history: str = HISTORY, extra: str = "") -> Path:
    _write(tmp_path / "leads.csv", LEADS)
    _write(tmp_path / "lead_history.csv", history)
    return _write(
        tmp_path / "crm.toml",
        f"""
name = "history"
observed_until = 2024-06-01
[leads]
file = "leads.csv"
lead_id = "Id"
created_at = "Created"
categorical = ["Lead Source"]
numeric = ["Employees"]
rename = {{ "Lead Source" = "source" }}
missing = ["n/a"]
[leads.values]
"Lead Source" = {{ "Partner Referral" = "partner" }}
[outcome]
status_column = "Stage"
closed_at = "Closed"
[profile_history]
file = "lead_history.csv"
lead_id = "LeadId"
field = "Field"
old_value = "OldValue"
new_value = "NewValue"
changed_at = "CreatedDate"
fields = {{ LeadSource = "Lead Source", NumberOfEmployees = "Employees" }}
{extra}
""",
    )


def test_history_is_imported_and_snapshots_read_fields_as_of_their_cutoff(tmp_path: Path) -> None:
    summary = import_export(_config(tmp_path), tmp_path / "d", mode="strict")
    assert summary.profile_changes == 2 and dict(summary.to_table())["profile changes"] == "2"
    assert any(
        "2 rows of lead_history.csv change fields that are not profile columns" in w and "Status (2)" in w
        for w in summary.warnings
    )
    dataset, report = load_dataset(tmp_path / "d")
    history = dataset.profile_history
    assert history is not None and report.rows_read["profile_history"] == 2
    # Named by output columns; the leads' value map applies to history values too.
    assert history.set_index("field").loc["source", "new_value"] == "partner"
    result = build_snapshots(dataset, SnapshotPolicy(every_days=7, horizon_days=90))
    snapshots = result.batch.snapshots
    l1 = snapshots[snapshots["lead_id"] == "L1"]
    days = (l1[CUTOFF] - pd.Timestamp("2024-01-01", tz="UTC")).dt.days.tolist()
    sources = l1["source"].astype(str).tolist()
    assert sources == ["web" if day < 14.5 else "partner" for day in days]  # changed on day 14, 10:00
    assert set(l1["Employees"]) == {10.0}  # corrected after the close: never seen
    l2 = snapshots[snapshots["lead_id"] == "L2"]
    assert set(l2["source"].astype(str)) == {"web"} and set(l2["Employees"]) == {40.0}  # no history


def test_bad_history_rows_are_named_strict_and_quarantined_lenient(tmp_path: Path) -> None:
    history = HISTORY + "L9,LeadSource,web,ads,2024-01-10\nL2,NumberOfEmployees,40,many,2024-01-20\n"
    config = _config(tmp_path, history)
    with pytest.raises(DataValidationError) as caught:
        import_export(config, tmp_path / "d", mode="strict")
    found = {(p.file, p.row, p.column) for p in caught.value.problems}
    assert found == {("lead_history.csv", 5, "LeadId"), ("lead_history.csv", 6, "NewValue")}
    assert "cannot parse 'many' as a number" in str(caught.value)
    summary = import_export(config, tmp_path / "d", mode="lenient", max_reject_share=0.5)
    assert summary.profile_changes == 2 and summary.rejects == 2
    rejects = pd.read_csv(tmp_path / "d" / "rejects.csv", dtype=str)
    assert set(rejects["file"]) == {"lead_history.csv"} and set(rejects["row"]) == {"5", "6"}


def test_history_needs_timestamps_and_its_columns(tmp_path: Path) -> None:
    config = _config(tmp_path)
    text = config.read_text().replace('changed_at = "CreatedDate"', 'changed_at = "When"')
    config.write_text(text)
    with pytest.raises(MappingConfigError, match=r"'profile_history.changed_at': column 'When' is not in"):
        import_export(config, tmp_path / "d")
    no_dates = _config(tmp_path).read_text().replace('created_at = "Created"', 'row_order = "oldest_first"')
    no_dates = no_dates.replace('closed_at = "Closed"', "")
    (tmp_path / "crm.toml").write_text(no_dates)
    with pytest.raises(MappingConfigError, match=r"'profile_history': a profile history needs lead time"):
        load_mapping(tmp_path / "crm.toml")


def test_cli_train_reads_a_dataset_folder_history_file_exit_2_on_a_bad_one(tmp_path: Path) -> None:
    import_export(_config(tmp_path), tmp_path / "d", mode="strict")
    (tmp_path / "d" / "profile_history.parquet").unlink()
    _write(tmp_path / "d" / "profile_history.csv", "lead_id,field,old_value,new_value\nL1,source,web,ads\n")
    result = CliRunner().invoke(app, ["train", "--data", str(tmp_path / "d")])
    assert result.exit_code == 2, result.output
    assert "changed_at" in result.output and "Traceback" not in result.output

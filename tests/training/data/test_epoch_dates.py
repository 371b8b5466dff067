"""Unix epoch times (``date_format = "epoch_ms"`` / ``"epoch_s"``): HubSpot's and Marketo's API exports
write times as whole numbers of milliseconds since 1970. Read as instants, offered by the draft where a
time column holds them, and named in the error when undeclared."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.training.data.test_mapping import _write
from training.data.date_order import timestamp_problem, to_iso_dates
from training.data.draft import draft_mapping
from training.data.draft.column_profile import profile_column
from training.data.io import load_dataset
from training.data.mapping import MappingConfigError, import_export
from training.data.validation import DataValidationError

# 2025-03-14 09:12:00 UTC
MS = "1741943520000"


def test_epoch_values_read_as_utc_instants_and_others_are_refused() -> None:
    values = pd.Series([MS, "1741943520", " ", None, "14/03/2025"], dtype="str")
    ms = to_iso_dates(values.iloc[[0]], "epoch_ms", "test")
    seconds = to_iso_dates(values.iloc[[1]], "epoch_s", "test", zone="Europe/Berlin")  # no zone applies
    expected = pd.Timestamp("2025-03-14 09:12", tz="UTC")
    assert pd.to_datetime(ms, format="ISO8601", utc=True).iloc[0] == expected
    assert pd.to_datetime(seconds, format="ISO8601", utc=True).iloc[0] == expected
    unfit = to_iso_dates(values, "epoch_ms", "test")
    assert timestamp_problem(unfit.iloc[4]) == "cannot parse '14/03/2025' as a epoch_ms date"
    assert unfit.iloc[2].strip() == "" and pd.isna(unfit.iloc[3])


def test_an_undeclared_epoch_is_named_in_the_error() -> None:
    assert 'Unix epoch milliseconds? set the date format to "epoch_ms"' in timestamp_problem(MS)
    assert 'Unix epoch seconds? set the date format to "epoch_s"' in timestamp_problem("1741943520")
    assert "epoch" not in timestamp_problem("2025-13-45")


LEADS = """
Id,Created At,Stage,Customer Date,Phone,Acquisition Date,Updated At
1,1741600000000,Customer,1744000000000,2125551234,2025-03-01,2025-04-01T10:00:00Z
2,1741700000000,Known,,2125559876,2025-03-02,2025-04-02T10:00:00Z
3,1741800000000,Known,,2125554321,2025-03-03,2025-04-03T10:00:00Z
"""
ACTIVITIES = f"""
leadId,activityDate,Activity Type Name
1,{MS},Visit Webpage
2,1741950000000,Fill Out Form
3,1741960000000,Visit Webpage
"""


def test_the_draft_reads_epoch_columns_as_dates_and_the_import_as_drafted(tmp_path: Path) -> None:
    leads = _write(tmp_path / "leads.csv", LEADS)
    activities = _write(tmp_path / "activities.csv", ACTIVITIES)
    draft = draft_mapping(leads, tmp_path / "crm.toml", events_path=activities)
    roles = {role.column: role.role for role in draft.roles}
    assert roles["Created At"] == "created_at" and roles["Customer Date"] == "closed_at"
    assert roles["Phone"] == "numeric"  # ten digits too, but no time by its name: no date
    assert draft.events is not None and draft.events.date_format == "epoch_ms"
    assert not draft.events.dates_only  # whole numbers have no ":", yet carry their time
    # Unix times are instants, and the dropped dates are never read: no zone to ask for.
    assert roles["Acquisition Date"] == "drop" and roles["Updated At"] == "drop"
    assert not any("timezone" in todo for todo in draft.todos)
    text = draft.text
    assert 'date_format = "epoch_ms"   # the values are Unix times' in text
    (tmp_path / "crm.toml").write_text(text)
    import_export(tmp_path / "crm.toml", tmp_path / "out", mode="strict")
    dataset, _ = load_dataset(tmp_path / "out")
    first = dataset.events.sort_values("occurred_at")["occurred_at"].iloc[0]
    assert first == pd.Timestamp("2025-03-14 09:12", tz="UTC")
    assert dataset.leads["created_at"].min() == pd.Timestamp(1741600000000, unit="ms", tz="UTC")


def test_without_the_format_the_import_says_what_the_numbers_look_like(tmp_path: Path) -> None:
    _write(tmp_path / "leads.csv", LEADS)
    _write(tmp_path / "activities.csv", ACTIVITIES)
    mapping = """
name = "crm"
root = "."
[leads]
file = "leads.csv"
lead_id = "Id"
created_at = "Created At"
date_format = "epoch_ms"
drop = ["Phone", "Acquisition Date", "Updated At"]
[outcome]
status_column = "Stage"
status_values = { Customer = "won", Known = "open" }
closed_at = "Customer Date"
date_format = "epoch_ms"
[events]
file = "activities.csv"
lead_id = "leadId"
occurred_at = "activityDate"
event_type_column = "Activity Type Name"
"""
    config = _write(tmp_path / "crm.toml", mapping)
    with pytest.raises(DataValidationError, match="Unix epoch milliseconds"):
        import_export(config, tmp_path / "out", mode="strict")
    with pytest.raises(MappingConfigError, match="epoch_ms"):
        bad = mapping.replace('date_format = "epoch_ms"\ndrop', 'date_format = "epoch"\ndrop')
        import_export(_write(tmp_path / "bad.toml", bad), tmp_path / "out2", mode="strict")


def test_a_stray_non_number_in_an_epoch_column_does_not_stop_the_draft() -> None:
    # 60 Unix milliseconds and one typo: the draft still calls it a date column (the import reports the
    # typo by row); it used to stop with a traceback reading the median.
    profile = profile_column("createdate", pd.Series(["1700000000000"] * 60 + ["oops"]))
    assert profile.is_date and profile.date_order == "epoch_ms"
    assert profile.median_date == pd.Timestamp(1_700_000_000_000, unit="ms", tz="UTC")

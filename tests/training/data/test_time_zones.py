"""A mapping's ``timezone``: times an export writes without a UTC offset are wall-clock times of that zone,
converted to UTC; times with an offset keep theirs. The draft asks for the zone where an export mixes both."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.training.data.test_mapping import _write
from training.data.date_order import to_iso_dates
from training.data.draft import draft_mapping
from training.data.io import load_dataset
from training.data.mapping import MappingConfigError, import_export, load_mapping
from training.data.reject_cap import TooManyRejectsError
from training.data.time_zones import local_times_to_utc


def _utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def test_times_without_an_offset_are_wall_clock_times_of_the_zone() -> None:
    values = pd.Series(
        [
            "2025-03-14 09:12",  # winter: UTC+1
            "2025-07-14T09:12:00",  # summer: UTC+2
            "2025-03-14T09:12:00+01:00",  # an offset wins over the zone
            "2025-06-01T10:00:00Z",
            "2025-03-14",  # a date alone: local midnight
            "2025-10-26 02:30",  # clocks go back: the first (summer) 02:30
            "2025-03-30 02:30",  # clocks go forward: no 02:30, read as 03:00 summer time
            "14 Mar 2025 09:12 AM",  # not ISO: read as validation would, then localised
            "not a date",
            None,
        ],
        dtype="str",
    )
    converted = local_times_to_utc(values, "Europe/Berlin")
    parsed = pd.to_datetime(converted.iloc[:8], format="ISO8601", utc=True)
    assert parsed.tolist() == [
        _utc("2025-03-14 08:12"),
        _utc("2025-07-14 07:12"),
        _utc("2025-03-14 08:12"),
        _utc("2025-06-01 10:00"),
        _utc("2025-03-13 23:00"),
        _utc("2025-10-26 00:30"),
        _utc("2025-03-30 01:00"),
        _utc("2025-03-14 08:12"),
    ]
    assert converted.iloc[8] == "not a date" and pd.isna(converted.iloc[9])  # left for validation
    typed = local_times_to_utc(pd.Series(pd.to_datetime(["2025-07-01 12:00", None])), "America/New_York")
    assert typed.iloc[0] == _utc("2025-07-01 16:00") and pd.isna(typed.iloc[1])


def test_a_declared_date_format_reads_its_times_in_the_zone() -> None:
    values = pd.Series(["14.03.2025 09:12", "03.12.2025 14:05"], dtype="str")
    iso = to_iso_dates(values, "day_first", "test", zone="Europe/Berlin")
    assert pd.to_datetime(iso, format="ISO8601", utc=True).tolist() == [
        _utc("2025-03-14 08:12"),
        _utc("2025-12-03 13:05"),
    ]
    assert to_iso_dates(values, "day_first", "test").iloc[0].startswith("2025-03-14T09:12:00")  # UTC


MAPPING = """
name = "crm"
root = "."
{zone}

[leads]
file = "contacts.csv"
lead_id = "Record ID"
created_at = "Create Date"

[outcome]
status_column = "Stage"
status_values = {{ customer = "won", lead = "open" }}
closed_at = "Close Date"

[events]
file = "activities.csv"
lead_id = "Contact ID"
occurred_at = "Activity Date"
event_type_column = "Type"
event_type_values = {{ "Form Submission" = "form_submit", "Page View" = "page_view" }}
"""

CONTACTS = """
Record ID,Create Date,Stage,Close Date
1,2025-03-14 09:12,customer,2025-04-01 10:00
2,2025-07-14 18:30,lead,
"""

# The form that created each contact, logged with an offset at the contact's local creation time, and
# a later page view without one.
ACTIVITIES = """
Contact ID,Activity Date,Type
1,2025-03-14T09:12:00+01:00,Form Submission
1,2025-03-20 11:00,Page View
2,2025-07-14T18:30:00+02:00,Form Submission
"""


def _export(root: Path, zone: str) -> Path:
    _write(root / "contacts.csv", CONTACTS)
    _write(root / "activities.csv", ACTIVITIES)
    return _write(root / "crm.toml", MAPPING.format(zone=zone))


def test_read_as_utc_the_form_that_created_a_contact_lands_before_it(tmp_path: Path) -> None:
    with pytest.raises(TooManyRejectsError, match="before the lead was created"):
        import_export(_export(tmp_path, ""), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_with_the_zone_declared_every_event_lands_where_it_happened(tmp_path: Path) -> None:
    summary = import_export(_export(tmp_path, 'timezone = "Europe/Berlin"'), tmp_path / "out", mode="strict")
    assert summary.rejects == 0 and summary.events == 3
    dataset, _ = load_dataset(tmp_path / "out")
    # The mapping's event type renames are recorded, for the scoring API to take the CRM's names.
    assert dataset.metadata.event_type_aliases == {"Form Submission": "form_submit", "Page View": "page_view"}
    leads = dataset.leads.set_index("lead_id")
    assert leads.loc["1", "created_at"] == _utc("2025-03-14 08:12")
    assert leads.loc["2", "created_at"] == _utc("2025-07-14 16:30")
    assert dataset.outcomes.set_index("lead_id").loc["1", "closed_at"] == _utc("2025-04-01 08:00")
    events = dataset.events.sort_values("occurred_at")["occurred_at"].tolist()
    assert events == [_utc("2025-03-14 08:12"), _utc("2025-03-20 10:00"), _utc("2025-07-14 16:30")]


def test_an_unknown_zone_is_refused_naming_the_key(tmp_path: Path) -> None:
    with pytest.raises(MappingConfigError, match=r"key 'timezone': .*unknown time zone 'Berlin'"):
        load_mapping(_export(tmp_path, 'timezone = "Berlin"'))


def test_the_draft_asks_for_the_zone_where_times_mix_offsets_and_none(tmp_path: Path) -> None:
    _export(tmp_path, "")
    contacts, activities = tmp_path / "contacts.csv", tmp_path / "activities.csv"
    draft = draft_mapping(contacts, tmp_path / "draft.toml", events_path=activities)
    assert any(
        todo.startswith("times in 'Create Date', 'Close Date' carry none; times in 'Activity Date' mix both:")
        for todo in draft.todos
    ), draft.todos
    assert '\ntimezone = "TO DO"' in draft.text
    (tmp_path / "draft.toml").write_text(draft.text)
    with pytest.raises(MappingConfigError, match="unknown time zone 'TO DO'"):
        load_mapping(tmp_path / "draft.toml")
    # Times that all lack an offset are read as UTC, and the draft shows the key to change that.
    alone = draft_mapping(contacts, tmp_path / "alone.toml")
    assert '\n# timezone = "Europe/Berlin"' in alone.text
    assert not any("UTC offset" in todo for todo in alone.todos)

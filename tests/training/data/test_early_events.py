"""``[events] before_created``: events logged before their lead's creation (the anonymous visits a CRM
ties to the contact they led to) are quarantined by default, or moved to the creation, or left out."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.training.data.test_mapping import _write
from tests.training.data.test_time_zones import CONTACTS
from tests.training.data.test_time_zones import MAPPING as ZONED_MAPPING
from training.data.io import load_dataset
from training.data.mapping import import_export
from training.data.validation import DataValidationError


def _mapping(policy: str) -> str:
    """The time-zone tests' HubSpot-style mapping, read as UTC, with ``policy`` in its last section
    ([events])."""
    return ZONED_MAPPING.format(zone="") + policy + "\n"


# Contact 1's two page views before the form that created it, then the form and a later visit.
ACTIVITIES = """
Contact ID,Activity Date,Type
1,2025-03-12 20:00,Page View
1,2025-03-14 09:00,Page View
1,2025-03-14 09:12,Form Submission
1,2025-03-20 11:00,Page View
2,2025-07-14 18:30,Form Submission
"""


def _import(root: Path, policy: str, mode: str = "strict") -> tuple[object, pd.DataFrame]:
    _write(root / "contacts.csv", CONTACTS)
    _write(root / "activities.csv", ACTIVITIES)
    config = _write(root / "crm.toml", _mapping(policy))
    summary = import_export(config, root / "out", mode=mode)
    dataset, _ = load_dataset(root / "out")
    return summary, dataset.events.sort_values("occurred_at").reset_index(drop=True)


def test_by_default_early_events_are_refused_naming_the_key(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match='before_created = "creation" or "skip"'):
        _import(tmp_path, "")


def test_an_implausible_date_is_never_moved_to_the_creation(tmp_path: Path) -> None:
    # 1900-01-01 is a placeholder, not early engagement: validation still reports it.
    _write(tmp_path / "contacts.csv", CONTACTS)
    _write(tmp_path / "activities.csv", ACTIVITIES + "2,1900-01-01 00:00,Page View\n")
    config = _write(tmp_path / "crm.toml", _mapping('before_created = "creation"'))
    with pytest.raises(DataValidationError, match="implausibly early"):
        import_export(config, tmp_path / "out", mode="strict")


def test_the_unix_epoch_read_in_a_us_zone_is_a_null_date_not_early_engagement(tmp_path: Path) -> None:
    # A zero date written in US Eastern time reads "1969-12-31 19:00": the epoch instant once the zone
    # is applied. It was moved to the lead's creation as if the lead had engaged then.
    _write(tmp_path / "contacts.csv", CONTACTS)
    _write(tmp_path / "activities.csv", ACTIVITIES + "2,1969-12-31 19:00,Page View\n")
    mapping = ZONED_MAPPING.format(zone='timezone = "America/New_York"') + 'before_created = "creation"\n'
    config = _write(tmp_path / "crm.toml", mapping)
    with pytest.raises(DataValidationError, match="the Unix epoch, a null date"):
        import_export(config, tmp_path / "out", mode="strict")


def test_creation_counts_them_at_the_lead_s_creation(tmp_path: Path) -> None:
    summary, events = _import(tmp_path, 'before_created = "creation"')
    assert summary.rejects == 0 and summary.events == 5
    created = pd.Timestamp("2025-03-14 09:12", tz="UTC")
    assert (events["occurred_at"] == created).sum() == 3  # two early views and the form
    assert any(
        "2 of 5 rows of activities.csv are events before their lead's creation in contacts.csv (1 leads): "
        'counted at the creation (before_created = "creation")' in warning
        for warning in summary.warnings
    )


def test_skip_leaves_them_out_and_counts_them(tmp_path: Path) -> None:
    summary, events = _import(tmp_path, 'before_created = "skip"', mode="lenient")
    assert summary.rejects == 0 and summary.events == 3
    assert events["occurred_at"].min() == pd.Timestamp("2025-03-14 09:12", tz="UTC")
    assert any('left out (before_created = "skip")' in warning for warning in summary.warnings)


def test_timestamps_keep_their_rows_whatever_the_index() -> None:
    from training.data.parsing import parse_timestamps

    # Indexed by file row (1, 2, ...), as a mapping's tables are: values once shifted by one row.
    for text in (["2025-03-14 09:12", "2025-07-14 18:30"], ["2025-03-14T09:12:00Z", "2025-07-14T18:30:00Z"]):
        parsed, bad = parse_timestamps(pd.Series(text, index=[1, 2], dtype="str"))
        assert parsed.tolist() == [
            pd.Timestamp("2025-03-14 09:12", tz="UTC"),
            pd.Timestamp("2025-07-14 18:30", tz="UTC"),
        ]
        assert parsed.index.tolist() == [1, 2] and not bad.any()


def test_the_console_shows_the_section_a_hint_names(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from training.cli import app

    _write(tmp_path / "contacts.csv", CONTACTS)
    _write(tmp_path / "activities.csv", ACTIVITIES)
    config = _write(tmp_path / "crm.toml", "max_reject_share = 0.5\n" + _mapping(""))
    result = CliRunner().invoke(app, ["import", "--mapping", str(config), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    # Rich markup once swallowed "[events]" as a style tag.
    assert "[events] before_created" in " ".join(result.output.split())


def test_moved_events_land_exactly_on_the_creation_typed_or_text() -> None:
    from training.data.early_events import settle_early_events

    created = pd.Timestamp("2025-03-14 09:12:00.000000500", tz="UTC")  # nanoseconds, as Parquet holds them
    leads = pd.DataFrame({"lead_id": ["1"], "created_at": pd.Series([created], index=[1])}, index=[1])
    early = created - pd.Timedelta(hours=2)
    for occurred in (pd.Series([early], index=[4]), pd.Series([early.isoformat()], index=[4], dtype="str")):
        events = pd.DataFrame({"lead_id": ["1"], "occurred_at": occurred}, index=[4])
        warnings: list[str] = []
        moved = settle_early_events(events, leads, "creation", "a.csv", "l.csv", warnings)
        assert pd.Timestamp(moved.loc[4, "occurred_at"]) == created and len(warnings) == 1

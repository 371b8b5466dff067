"""Problems grouped by file, column and kind with example values: the reject cap's failure, a strict
import's error and the import's warning name every column that needs a fix, not the first rows' one."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from training.data.mapping import import_export
from training.data.problem_groups import group_problems, problems_frame
from training.data.reject_cap import TooManyRejectsError
from training.data.validation import DataValidationError


def test_groups_count_rows_per_column_and_kind_with_a_few_examples() -> None:
    frame = problems_frame(
        file=["leads.csv"] * 9 + ["events.csv"],
        row=[1, 2, 3, 4, 5, 6, 6, 7, 8, 4],
        column=["Revenue"] * 5 + ["Score"] * 4 + [None],
        message=[
            *(f"cannot parse '${n},000' as a number" for n in range(1, 6)),
            "cannot parse 'N/A' as a number (a missing value? a mapping's missing key reads it as one)",
            "cannot parse 'N/A' as a number (a missing value? a mapping's missing key reads it as one)",
            "cannot parse 'O'Brien' as a number",
            "cannot parse 'null' as a number (a missing value? a mapping's missing key reads it as one)",
            "lead rejected: its outcome row is invalid",
        ],
    )
    groups = group_problems(frame)
    assert [(g.file, g.column, g.rows) for g in groups] == [
        ("leads.csv", "Revenue", 5),
        ("leads.csv", "Score", 2),  # rows 6 and 8: row 6's two problems count once
        ("leads.csv", "Score", 1),
        ("events.csv", None, 1),
    ]
    revenue, missing, name, whole_row = groups
    assert str(revenue) == (
        "leads.csv, column Revenue: cannot parse … as a number (5 rows: '$1,000', '$2,000', '$3,000', ...)"
    )
    # "a mapping's" is no quoted value; a value with an apostrophe is one.
    assert str(missing) == (
        "leads.csv, column Score: cannot parse … as a number (a missing value? a mapping's missing key "
        "reads it as one) (2 rows: 'N/A', 'null')"
    )
    assert name.examples == ("'O'Brien'",)
    assert str(whole_row) == "events.csv (whole row): lead rejected: its outcome row is invalid (1 row)"
    assert group_problems(frame, limit=1) == groups[:1]
    assert group_problems(frame.iloc[:0]) == []


def test_timestamps_and_rows_of_another_file_are_values_too() -> None:
    frame = problems_frame(
        file=["events.csv"] * 2,
        row=[3, 9],
        column=["occurred_at"] * 2,
        message=[
            "occurred_at 2024-01-02 10:00:00+00:00 is before the lead was created "
            "(created_at 2024-01-05 00:00:00+00:00, leads.csv row 4)",
            "occurred_at 2023-12-30 08:15:00+00:00 is before the lead was created "
            "(created_at 2024-02-01 00:00:00+00:00, leads.csv row 17)",
        ],
    )
    [group] = group_problems(frame)
    assert str(group) == (
        "events.csv, column occurred_at: occurred_at … is before the lead was created (created_at …, "
        "leads.csv row …) (2 rows: 2024-01-02 10:00:00+00:00, 2023-12-30 08:15:00+00:00)"
    )


def _export(tmp_path: Path) -> Path:
    """30 leads: every Revenue a currency amount the mapping does not declare as text, and three Scores
    written as "N/A" (the first rows show only Revenue's trouble)."""
    scores = ["N/A" if i in (10, 20, 25) else str(i) for i in range(30)]
    rows = [
        f"L{i},2024-01-{i % 28 + 1:02d},{score},USD{i}x,{'won' if i % 3 else 'lost'}"
        for i, score in enumerate(scores)
    ]
    (tmp_path / "leads.csv").write_text("Id,Created,Score,Revenue,Status\n" + "\n".join(rows) + "\n")
    config = tmp_path / "crm.toml"
    config.write_text(
        """
name = "grouped"
observed_until = 2025-01-01
[leads]
file = "leads.csv"
lead_id = "Id"
created_at = "Created"
numeric = ["Score", "Revenue"]
[outcome]
status_column = "Status"
status_values = { won = "won", lost = "lost" }
"""
    )
    return config


def test_the_reject_cap_names_every_column_with_its_rows_and_examples(tmp_path: Path) -> None:
    with pytest.raises(TooManyRejectsError) as caught:
        import_export(_export(tmp_path), tmp_path / "d", mode="lenient")
    message = str(caught.value)
    assert "leads.csv: 30 of 30 rows (100.0%) would be quarantined" in message
    assert (
        "leads.csv, column Revenue: cannot parse … as a number (30 rows: 'USD0x', 'USD1x', 'USD2x', ...)"
        in (message)
    )
    assert (
        "leads.csv, column Score: cannot parse … as a number (a missing value? a mapping's missing key reads "
        "it as one) (3 rows: 'N/A')"
    ) in message


def test_a_strict_error_with_many_problems_lists_their_kinds_first(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError) as caught:
        import_export(_export(tmp_path), tmp_path / "d", mode="strict")
    message = str(caught.value)
    assert message.startswith("33 problems in the input data:\nby column, most rows first:\n")
    kinds, first = message.split("the first 20:")
    assert "column Revenue" in kinds and "column Score" in kinds and "(3 rows: 'N/A')" in kinds
    assert "leads.csv, row 1, column Revenue: cannot parse 'USD0x' as a number" in first
    assert "... and 13 more" in first


def test_the_import_warning_names_the_kinds_of_the_quarantined_rows(tmp_path: Path) -> None:
    config = _export(tmp_path)
    config.write_text(
        config.read_text().replace(
            'numeric = ["Score", "Revenue"]', 'numeric = ["Score"]\ndrop = ["Revenue"]'
        )
    )
    summary = import_export(config, tmp_path / "d", mode="lenient", max_reject_share=0.2)
    [warning] = [w for w in summary.warnings if "quarantined" in w]
    assert warning.endswith(
        "\n  leads.csv, column Score: cannot parse … as a number (a missing value? a mapping's missing key "
        "reads it as one) (3 rows: 'N/A')"
    )
    rejects = pd.read_csv(tmp_path / "d" / "rejects.csv")
    assert rejects["row"].tolist() == [11, 21, 26]  # data rows, 1-based: L10, L20, L25


def test_rows_rejected_with_another_files_row_are_a_kind_of_their_own(tmp_path: Path) -> None:
    """Nine events of a lead whose own row is bad: the cap stops on the events file, and says why."""
    (tmp_path / "leads.csv").write_text("Id,Created,Won\nL1,2024-01-02,yes\nL2,someday,no\n")
    events = [f"L2,2024-02-{day:02d},visit" for day in range(1, 10)] + ["L1,2024-02-01,visit"]
    (tmp_path / "events.csv").write_text("Lead,When,What\n" + "\n".join(events) + "\n")
    config = tmp_path / "crm.toml"
    config.write_text(
        """
name = "cascade"
observed_until = 2025-01-01
[leads]
file = "leads.csv"
lead_id = "Id"
created_at = "Created"
[outcome]
status_column = "Won"
status_values = { yes = "won", no = "lost" }
[events]
file = "events.csv"
lead_id = "Lead"
occurred_at = "When"
event_type_column = "What"
"""
    )
    with pytest.raises(TooManyRejectsError) as caught:
        import_export(config, tmp_path / "d", mode="lenient")
    message = str(caught.value)
    assert "events.csv: 9 of 10 rows (90.0%) would be quarantined" in message
    assert (
        "events.csv (whole row): lead rejected: cannot parse … as a timestamp (9 rows: 'someday')" in message
    )

"""Tests for training.data.validation: every fault named precisely, lenient quarantine, output shapes."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from training.data.contract import REJECTS_FILE, DatasetMetadata, TimeBasis, empty_events
from training.data.validation import (
    MAX_LISTED_PROBLEMS,
    DataValidationError,
    Problem,
    ValidationReport,
    validate_tables,
    write_rejects,
)

NOW = pd.Timestamp("2021-01-01", tz="UTC")
FILES = {"leads": "leads.csv", "events": "events.csv", "outcomes": "outcomes.csv"}


def raw(columns: dict[str, list[str | None]]) -> pd.DataFrame:
    """A frame as read_table gives it: strings, NaN for missing, index = 1-based data row number."""
    frame = pd.DataFrame(columns, dtype="str")
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    return frame


def base_tables() -> dict[str, pd.DataFrame]:
    leads = raw(
        {
            "lead_id": ["L1", "L2", "L3", "L4"],
            "created_at": ["2020-03-01", "2020-01-01T12:00:00+02:00", "2020-02-01 08:30", "2020-04-01"],
            "source": ["ads", "webinar", "ads", "referral"],
            "employees": ["10", "250", "3.5", None],
        }
    )
    events = raw(
        {
            "lead_id": ["L1", "L2", "L2", "L3", "L4"],
            "occurred_at": ["2020-03-02", "2020-01-05", "2020-01-06", "2020-02-03", "2020-04-02"],
            "event_type": [
                "email_click",
                "webinar_attended",
                "pricing_page_view",
                "email_click",
                "email_open",
            ],
            "channel": ["mail", "web", "web", "mail", "mail"],
        }
    )
    outcomes = raw(
        {
            "lead_id": ["L1", "L2", "L3", "L4"],
            "status": ["won", "lost", "open", "won"],
            "handed_over_at": ["2020-03-10", None, None, "2020-04-05"],
            "closed_at": ["2020-04-01", "2020-02-01", None, None],
        }
    )
    return {"leads": leads, "events": events, "outcomes": outcomes}


def metadata(**overrides: object) -> DatasetMetadata:
    values: dict[str, object] = {
        "name": "test",
        "categorical_columns": ["source"],
        "numeric_columns": ["employees"],
    }
    values.update(overrides)
    return DatasetMetadata(**values)  # type: ignore[arg-type]


def validate(tables: dict[str, pd.DataFrame | None], meta: DatasetMetadata | None = None, **kwargs: object):
    return validate_tables(
        tables["leads"],  # type: ignore[arg-type]
        tables.get("events"),
        tables.get("outcomes"),
        meta or metadata(),
        files=FILES,
        now=NOW,
        **kwargs,  # type: ignore[arg-type]
    )


def set_value(table: str, row: int, column: str, value: str | None) -> Callable[[dict], None]:
    def change(tables: dict[str, pd.DataFrame]) -> None:
        tables[table].loc[row, column] = value

    return change


def drop_column(table: str, column: str) -> Callable[[dict], None]:
    def change(tables: dict[str, pd.DataFrame]) -> None:
        tables[table] = tables[table].drop(columns=column)

    return change


def embed_outcomes_without_status(tables: dict[str, pd.DataFrame | None]) -> None:
    tables["outcomes"] = None


def empty_leads(tables: dict[str, pd.DataFrame]) -> None:
    tables["leads"] = tables["leads"].iloc[:0]


def empty_outcomes(tables: dict[str, pd.DataFrame]) -> None:
    tables["outcomes"] = tables["outcomes"].iloc[:0]


def drop_outcome_of_l3(tables: dict[str, pd.DataFrame]) -> None:
    tables["outcomes"] = tables["outcomes"].drop(index=3)


def duplicate_outcome(tables: dict[str, pd.DataFrame]) -> None:
    outcomes = tables["outcomes"]
    tables["outcomes"] = raw({column: [*outcomes[column], outcomes[column].iloc[0]] for column in outcomes})


def add_outcome_for_unknown_lead(tables: dict[str, pd.DataFrame]) -> None:
    outcomes = tables["outcomes"]
    extra = {"lead_id": "L99", "status": "open", "handed_over_at": None, "closed_at": None}
    tables["outcomes"] = raw({column: [*outcomes[column], extra[column]] for column in outcomes})


# (change, file, row, column, message fragment): one fault each, and the one problem it must produce.
FAULTS = {
    "missing created_at column": (
        drop_column("leads", "created_at"),
        "leads.csv",
        None,
        "created_at",
        "required",
    ),
    "missing event_type column": (
        drop_column("events", "event_type"),
        "events.csv",
        None,
        "event_type",
        "required",
    ),
    "missing status column": (drop_column("outcomes", "status"), "outcomes.csv", None, "status", "required"),
    "no outcomes anywhere": (embed_outcomes_without_status, "leads.csv", None, "status", "no outcomes table"),
    "empty leads table": (empty_leads, "leads.csv", None, None, "no rows"),
    "empty outcomes table": (empty_outcomes, "outcomes.csv", None, None, "no rows"),
    "unparseable created_at": (
        set_value("leads", 2, "created_at", "2018-13-45"),
        "leads.csv",
        2,
        "created_at",
        "cannot parse '2018-13-45' as a timestamp",
    ),
    "missing created_at": (
        set_value("leads", 4, "created_at", None),
        "leads.csv",
        4,
        "created_at",
        "missing",
    ),
    "unparseable occurred_at": (
        set_value("events", 3, "occurred_at", "yesterday-ish"),
        "events.csv",
        3,
        "occurred_at",
        "cannot parse 'yesterday-ish' as a timestamp",
    ),
    "unparseable closed_at": (
        set_value("outcomes", 2, "closed_at", "soon"),
        "outcomes.csv",
        2,
        "closed_at",
        "cannot parse 'soon' as a timestamp",
    ),
    "event before lead created": (
        set_value("events", 2, "occurred_at", "2019-12-31"),
        "events.csv",
        2,
        "occurred_at",
        "is before the lead was created",
    ),
    "handed over before created": (
        set_value("outcomes", 1, "handed_over_at", "2020-02-01"),
        "outcomes.csv",
        1,
        "handed_over_at",
        "is before the lead was created",
    ),
    "closed before created": (
        set_value("outcomes", 2, "closed_at", "2019-06-01"),
        "outcomes.csv",
        2,
        "closed_at",
        "is before the lead was created",
    ),
    "closed before handed over": (
        set_value("outcomes", 1, "closed_at", "2020-03-05"),
        "outcomes.csv",
        1,
        "closed_at",
        "is before handed_over_at",
    ),
    "created in the future": (
        set_value("leads", 3, "created_at", "2030-01-01"),
        "leads.csv",
        3,
        "created_at",
        "is in the future",
    ),
    "event in the future": (
        set_value("events", 5, "occurred_at", "2022-06-01"),
        "events.csv",
        5,
        "occurred_at",
        "is in the future",
    ),
    "sentinel date": (
        set_value("leads", 1, "created_at", "0001-01-01"),
        "leads.csv",
        1,
        "created_at",
        "implausibly early",
    ),
    "event for unknown lead": (
        set_value("events", 4, "lead_id", "L99"),
        "events.csv",
        4,
        "lead_id",
        "event for unknown lead 'L99'",
    ),
    "outcome for unknown lead": (
        add_outcome_for_unknown_lead,
        "outcomes.csv",
        5,
        "lead_id",
        "outcome for unknown lead 'L99'",
    ),
    "unknown status": (
        set_value("outcomes", 3, "status", "maybe"),
        "outcomes.csv",
        3,
        "status",
        "unknown status 'maybe' (expected one of won, lost, open; a mapping's outcome.status_values",
    ),
    "missing status": (
        set_value("outcomes", 3, "status", None),
        "outcomes.csv",
        3,
        "status",
        "missing status",
    ),
    "open with closed_at": (
        set_value("outcomes", 3, "closed_at", "2020-05-01"),
        "outcomes.csv",
        3,
        "closed_at",
        "status is 'open' but closed_at is set",
    ),
    "numeric garbage": (
        set_value("leads", 2, "employees", "lots"),
        "leads.csv",
        2,
        "employees",
        "cannot parse 'lots' as a number",
    ),
    "missing lead_id": (set_value("leads", 3, "lead_id", "  "), "leads.csv", 3, "lead_id", "missing lead_id"),
    "missing event lead_id": (
        set_value("events", 1, "lead_id", None),
        "events.csv",
        1,
        "lead_id",
        "missing lead_id",
    ),
    "missing event_type": (
        set_value("events", 1, "event_type", ""),
        "events.csv",
        1,
        "event_type",
        "missing",
    ),
    "lead without outcome": (drop_outcome_of_l3, "leads.csv", 3, "lead_id", "has no outcome in outcomes.csv"),
    "declared column missing": (
        drop_column("leads", "employees"),
        "leads.csv",
        None,
        "employees",
        "listed in the dataset metadata",
    ),
}


# Faults whose rows other tables depend on also report those rows (a lead without an id leaves its
# outcome and its event pointing at an unknown lead).
CONSEQUENCES = {"missing lead_id": 2}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_each_fault_is_named_by_file_row_and_column(fault: str) -> None:
    change, file, row, column, fragment = FAULTS[fault]
    tables = base_tables()
    change(tables)
    with pytest.raises(DataValidationError) as caught:
        validate(tables)
    problems = caught.value.problems
    assert len(problems) == CONSEQUENCES.get(fault, 0) + 1, problems
    problem = problems[0]
    assert (problem.file, problem.row, problem.column) == (file, row, column)
    assert fragment in problem.message
    assert str(problem) in str(caught.value)


def test_the_base_tables_are_valid() -> None:
    dataset, report = validate(base_tables())
    assert report.rows_read == report.rows_kept == {"leads": 4, "outcomes": 4, "events": 5}
    assert report.rejects.empty
    assert len(dataset.leads) == 4


def test_duplicate_lead_ids_name_both_rows() -> None:
    tables = base_tables()
    tables["leads"].loc[4, "lead_id"] = "L2"
    tables["outcomes"] = tables["outcomes"].drop(index=4)
    with pytest.raises(DataValidationError) as caught:
        validate(tables)
    found = {(p.row, p.column): p.message for p in caught.value.problems if p.file == "leads.csv"}
    assert set(found) == {(2, "lead_id"), (4, "lead_id")}
    assert found[(2, "lead_id")] == "lead_id 'L2' appears again in row 4"
    assert found[(4, "lead_id")] == "duplicate lead_id 'L2': first seen in row 2"


def test_duplicate_outcomes_name_both_rows() -> None:
    tables = base_tables()
    duplicate_outcome(tables)
    with pytest.raises(DataValidationError) as caught:
        validate(tables)
    assert [(p.file, p.row) for p in caught.value.problems] == [("outcomes.csv", 1), ("outcomes.csv", 5)]
    assert "appears again in row 5" in caught.value.problems[0].message


def test_observed_until_bounds_events() -> None:
    tables = base_tables()
    tables["events"].loc[5, "occurred_at"] = "2020-04-07"
    meta = metadata(observed_until=pd.Timestamp("2020-04-06"))
    with pytest.raises(DataValidationError) as caught:
        validate(tables, meta)
    assert [(p.file, p.row, p.column) for p in caught.value.problems] == [("events.csv", 5, "occurred_at")]
    assert "after the end of observation" in caught.value.problems[0].message


def test_row_order_dataset_cannot_have_events() -> None:
    tables = base_tables()
    with pytest.raises(DataValidationError, match="row_order dataset"):
        validate(tables, metadata(time_basis=TimeBasis.ROW_ORDER))


def test_strict_mode_collects_every_problem_and_lists_twenty() -> None:
    tables = base_tables()
    tables["events"] = raw(
        {
            "lead_id": [f"X{i}" for i in range(25)],
            "occurred_at": ["2020-05-01"] * 25,
            "event_type": ["a"] * 25,
        }
    )
    tables["leads"].loc[2, "created_at"] = "never"
    with pytest.raises(DataValidationError) as caught:
        validate(tables)
    assert len(caught.value.problems) == 26
    text = str(caught.value)
    assert text.startswith("26 problems")
    assert "leads.csv, row 2, column created_at: cannot parse 'never' as a timestamp" in text
    assert f"... and {26 - MAX_LISTED_PROBLEMS} more" in text
    assert "events.csv, row 25," not in text


def test_problem_text() -> None:
    assert str(Problem("leads.csv", 12, "created_at", "boom")) == "leads.csv, row 12, column created_at: boom"
    assert str(Problem("leads.csv", None, "status", "boom")) == "leads.csv, column status: boom"
    assert str(Problem("leads.csv", None, None, "boom")) == "leads.csv: boom"


@pytest.mark.parametrize("value", [" Won ", "WON", "won", "Won\t"])
def test_status_variants_are_accepted(value: str) -> None:
    tables = base_tables()
    tables["outcomes"].loc[1, "status"] = value
    dataset, _ = validate(tables)
    assert dataset.outcomes.set_index("lead_id").loc["L1", "status"] == "won"


def test_output_follows_the_contract() -> None:
    dataset, _ = validate(base_tables())
    leads, events, outcomes = dataset.leads, dataset.events, dataset.outcomes
    # Sorted by created_at; the +02:00 offset is converted to UTC, naive times are taken as UTC.
    assert leads["lead_id"].tolist() == ["L2", "L3", "L1", "L4"]
    assert leads.loc[0, "created_at"] == pd.Timestamp("2020-01-01 10:00", tz="UTC")
    assert leads.loc[1, "created_at"] == pd.Timestamp("2020-02-01 08:30", tz="UTC")
    assert str(leads["created_at"].dtype) == "datetime64[ns, UTC]"
    assert leads["source"].dtype == "category"
    assert leads["employees"].dtype == "float64"
    assert leads.set_index("lead_id").loc["L3", "employees"] == 3.5
    assert np.isnan(leads.set_index("lead_id").loc["L4", "employees"])
    assert leads["lead_id"].dtype == "str"
    for frame in (leads, events, outcomes):
        assert isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0
    # Outcomes: one per lead, in the leads' order.
    assert outcomes["lead_id"].tolist() == leads["lead_id"].tolist()
    assert outcomes["status"].tolist() == ["lost", "open", "won", "won"]
    assert list(outcomes["status"].cat.categories) == ["won", "lost", "open"]
    assert str(outcomes["closed_at"].dtype) == "datetime64[ns, UTC]"
    assert outcomes["handed_over_at"].isna().tolist() == [True, True, False, False]
    # Events: contract dtypes, input order, extra columns kept as they are.
    assert list(events.columns) == ["lead_id", "occurred_at", "event_type", "channel"]
    assert events["event_type"].dtype == "category"
    assert str(events["occurred_at"].dtype) == "datetime64[ns, UTC]"
    assert events["channel"].tolist() == ["mail", "web", "web", "mail", "mail"]


def test_typed_input_is_accepted() -> None:
    tables = base_tables()
    leads = tables["leads"]
    leads["created_at"] = pd.to_datetime(leads["created_at"], format="ISO8601", utc=True).dt.tz_convert(
        "Europe/Berlin"
    )
    leads["employees"] = pd.to_numeric(leads["employees"])
    leads["source"] = leads["source"].astype("category")
    events = tables["events"]
    events["occurred_at"] = pd.to_datetime(events["occurred_at"])  # naive: taken as UTC
    dataset, _ = validate(tables)
    expected, _ = validate(base_tables())
    pd.testing.assert_frame_equal(dataset.leads, expected.leads)
    pd.testing.assert_frame_equal(dataset.events, expected.events)


def test_non_iso_timestamps_are_parsed() -> None:
    tables = base_tables()
    tables["leads"]["created_at"] = ["03/01/2020", "01/01/2020 10:00", "02/01/2020", "04/01/2020"]
    dataset, _ = validate(tables)
    assert dataset.leads.set_index("lead_id").loc["L1", "created_at"] == pd.Timestamp("2020-03-01", tz="UTC")


def test_profile_columns_are_inferred_when_none_are_declared() -> None:
    tables = base_tables()
    tables["leads"]["zip"] = ["01234", "99999", "12345", None]
    dataset, _ = validate(tables, DatasetMetadata(name="plain"))
    assert dataset.metadata.categorical_columns == ["source"]
    assert dataset.metadata.numeric_columns == ["employees", "zip"]
    assert dataset.leads["source"].dtype == "category"
    assert dataset.leads["zip"].dtype == "float64"


def test_activity_columns_are_numeric() -> None:
    tables = base_tables()
    tables["leads"]["page_views"] = ["1", "2", "x", "4"]
    with pytest.raises(DataValidationError) as caught:
        validate(tables, metadata(activity_columns=["page_views"]))
    assert [(p.row, p.column) for p in caught.value.problems] == [(3, "page_views")]


def test_outcomes_as_columns_of_the_leads_table() -> None:
    tables = base_tables()
    outcomes = tables["outcomes"].drop(columns="lead_id")
    leads = tables["leads"].join(outcomes)
    leads.loc[2, "status"] = "unsure"
    with pytest.raises(DataValidationError) as caught:
        validate({"leads": leads, "events": tables["events"], "outcomes": None})
    assert [(p.file, p.row, p.column) for p in caught.value.problems] == [("leads.csv", 2, "status")]
    leads.loc[2, "status"] = "Lost"
    dataset, report = validate({"leads": leads, "events": tables["events"], "outcomes": None})
    assert "status" not in dataset.leads.columns and "closed_at" not in dataset.leads.columns
    assert dataset.outcomes.set_index("lead_id")["status"].to_dict() == {
        "L1": "won",
        "L2": "lost",
        "L3": "open",
        "L4": "won",
    }
    assert set(report.rows_read) == {"leads", "events"}


def test_no_events_gives_the_empty_events_table() -> None:
    tables = base_tables()
    tables["events"] = None
    dataset, _ = validate(tables)
    pd.testing.assert_frame_equal(dataset.events, empty_events())
    assert not dataset.has_events


def test_row_order_dataset_without_timestamps() -> None:
    tables = base_tables()
    leads = tables["leads"].drop(columns="created_at")
    dataset, _ = validate(
        {"leads": leads, "outcomes": tables["outcomes"]}, metadata(time_basis=TimeBasis.ROW_ORDER)
    )
    assert dataset.leads["lead_id"].tolist() == ["L1", "L2", "L3", "L4"]
    assert dataset.leads["row_order"].tolist() == [0, 1, 2, 3]
    assert dataset.leads["created_at"].isna().all()
    assert str(dataset.leads["created_at"].dtype) == "datetime64[ns, UTC]"


def test_row_order_column_orders_the_leads_and_must_be_whole_numbers() -> None:
    tables = base_tables()
    leads = tables["leads"].drop(columns="created_at").assign(row_order=["3", "1", "2", "0"])
    dataset, _ = validate({"leads": leads, "outcomes": tables["outcomes"]}, metadata(time_basis="row_order"))
    assert dataset.leads["lead_id"].tolist() == ["L4", "L2", "L3", "L1"]
    leads.loc[3, "row_order"] = "second"
    with pytest.raises(DataValidationError) as caught:
        validate({"leads": leads, "outcomes": tables["outcomes"]}, metadata(time_basis="row_order"))
    assert [(p.row, p.column) for p in caught.value.problems] == [(3, "row_order")]


def test_table_level_problems_raise_in_lenient_mode_too() -> None:
    tables = base_tables()
    drop_column("leads", "created_at")(tables)
    with pytest.raises(DataValidationError, match="required column 'created_at'"):
        validate(tables, mode="lenient")


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="mode"):
        validate(base_tables(), mode="relaxed")


# -------------------------------------------------------------------------------------------------
# Lenient mode


def check_counts(report: ValidationReport) -> None:
    for table, read in report.rows_read.items():
        file = FILES[table]
        rejected = int((report.rejects["file"] == file).sum())
        assert read == report.rows_kept[table] + rejected, table


def test_lenient_quarantines_a_bad_lead_with_its_events_and_outcome() -> None:
    tables = base_tables()
    tables["leads"].loc[2, "created_at"] = "not a date"
    dataset, report = validate(tables, mode="lenient")
    assert sorted(dataset.leads["lead_id"]) == ["L1", "L3", "L4"]
    assert "L2" not in set(dataset.events["lead_id"]) and "L2" not in set(dataset.outcomes["lead_id"])
    assert len(dataset.events) == 3 and len(dataset.outcomes) == 3
    rejects = report.rejects
    assert rejects[["file", "row"]].values.tolist() == [
        ["leads.csv", 2],
        ["outcomes.csv", 2],
        ["events.csv", 2],
        ["events.csv", 3],
    ]
    lead_reason = rejects.loc[0, "reason"]
    assert lead_reason == "cannot parse 'not a date' as a timestamp"
    assert rejects.loc[0, "column"] == "created_at"
    assert (rejects.loc[1:, "reason"] == f"lead rejected: {lead_reason}").all()
    assert json.loads(rejects.loc[0, "record"])["created_at"] == "not a date"
    assert json.loads(rejects.loc[2, "record"]) == {
        "lead_id": "L2",
        "occurred_at": "2020-01-05",
        "event_type": "webinar_attended",
        "channel": "web",
    }
    assert report.rows_kept == {"leads": 3, "outcomes": 3, "events": 3}
    check_counts(report)


def test_lenient_quarantines_only_the_bad_event() -> None:
    tables = base_tables()
    tables["events"].loc[3, "occurred_at"] = "2019-01-01"
    tables["events"].loc[5, "lead_id"] = "ghost"
    dataset, report = validate(tables, mode="lenient")
    assert len(dataset.leads) == 4 and len(dataset.outcomes) == 4
    assert dataset.events["event_type"].tolist() == ["email_click", "webinar_attended", "email_click"]
    assert report.rejects["row"].tolist() == [3, 5]
    assert report.rejects["column"].tolist() == ["occurred_at", "lead_id"]
    check_counts(report)


def test_lenient_bad_outcome_takes_its_lead_and_events() -> None:
    tables = base_tables()
    tables["outcomes"].loc[1, "status"] = "maybe"
    dataset, report = validate(tables, mode="lenient")
    assert "L1" not in set(dataset.leads["lead_id"])
    assert "L1" not in set(dataset.events["lead_id"])
    reasons = report.rejects.set_index(["file", "row"])["reason"]
    assert reasons[("outcomes.csv", 1)].startswith("unknown status 'maybe'")
    assert reasons[("leads.csv", 1)].startswith("outcome rejected: unknown status 'maybe'")
    assert reasons[("events.csv", 1)].startswith("lead rejected: outcome rejected:")
    check_counts(report)


def test_lenient_duplicate_leads_are_both_quarantined() -> None:
    tables = base_tables()
    tables["leads"].loc[4, "lead_id"] = "L2"
    tables["outcomes"] = tables["outcomes"].drop(index=4)
    dataset, report = validate(tables, mode="lenient")
    assert sorted(dataset.leads["lead_id"]) == ["L1", "L3"]
    assert sorted(dataset.outcomes["lead_id"]) == ["L1", "L3"]
    assert set(dataset.events["lead_id"]) == {"L1", "L3"}
    # L4's event now points at an unknown lead: reported as such, not as "lead rejected".
    reasons = report.rejects.set_index(["file", "row"])["reason"]
    assert reasons[("events.csv", 5)].startswith("event for unknown lead 'L4' (not in leads.csv; ")
    assert reasons[("events.csv", 2)].startswith("lead rejected: lead_id 'L2' appears again in row 4")
    check_counts(report)


def test_lenient_report_summary_and_rejects_file(tmp_path) -> None:
    tables = base_tables()
    tables["leads"].loc[3, "employees"] = "n/a?"
    _, report = validate(tables, mode="lenient")
    summary = report.summary()
    assert "leads: 4 rows read, 3 kept, 1 rejected" in summary
    assert "leads.csv, employees: 1" in summary
    path = write_rejects(report, tmp_path / "out")
    assert path == tmp_path / "out" / REJECTS_FILE
    written = pd.read_csv(path)
    assert list(written.columns) == ["file", "row", "column", "reason", "record"]
    assert written["row"].tolist() == [3, 3, 4]
    assert written["file"].tolist() == ["leads.csv", "outcomes.csv", "events.csv"]


def test_no_rejects_no_file(tmp_path) -> None:
    _, report = validate(base_tables(), mode="lenient")
    assert write_rejects(report, tmp_path) is None
    assert not (tmp_path / REJECTS_FILE).exists()


def test_lenient_with_many_faults_keeps_counts_consistent() -> None:
    rng = np.random.default_rng(7)
    n = 300
    leads = raw(
        {
            "lead_id": [f"L{i}" for i in range(n)],
            "created_at": [
                str(pd.Timestamp("2020-01-01") + pd.Timedelta(days=int(d))) for d in rng.integers(0, 200, n)
            ],
            "source": rng.choice(["a", "b"], n).tolist(),
        }
    )
    outcomes = raw(
        {"lead_id": leads["lead_id"].tolist(), "status": rng.choice(["won", "lost", "open"], n).tolist()}
    )
    lead_of_event = rng.integers(0, n, 2000)
    events = raw(
        {
            "lead_id": [f"L{i}" for i in lead_of_event],
            "occurred_at": [
                str(pd.Timestamp(leads["created_at"].iloc[i]) + pd.Timedelta(hours=int(h)))
                for i, h in zip(lead_of_event, rng.integers(0, 500, 2000), strict=True)
            ],
            "event_type": rng.choice(["click", "open"], 2000).tolist(),
        }
    )
    bad_leads = rng.choice(n, 20, replace=False) + 1
    leads.loc[bad_leads[:10], "created_at"] = "garbage"
    leads.loc[bad_leads[10:], "lead_id"] = None
    outcomes.loc[rng.choice(n, 5, replace=False) + 1, "status"] = "??"
    events.loc[rng.choice(2000, 30, replace=False) + 1, "occurred_at"] = "2099-01-01"
    tables = {"leads": leads, "events": events, "outcomes": outcomes}
    dataset, report = validate(tables, metadata(numeric_columns=[]), mode="lenient")
    check_counts(report)
    assert report.rows_kept["leads"] == len(dataset.leads) < n - 20
    assert len(dataset.outcomes) == len(dataset.leads)
    assert set(dataset.events["lead_id"]) <= set(dataset.leads["lead_id"])
    assert (dataset.events["occurred_at"] < NOW).all()
    assert not report.rejects.duplicated(["file", "row"]).any()
    # The kept data is itself valid.
    _, again_report = validate_tables(
        dataset.leads, dataset.events, dataset.outcomes, dataset.metadata, now=NOW
    )
    assert again_report.rejects.empty


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # All naive, all with offsets, and a mix: each takes a different parser, all must agree.
        (["2020-01-01T10:00:00", "2020-01-02"], ["2020-01-01 10:00", "2020-01-02 00:00"]),
        (["2020-01-01T10:00:00+02:00", "2020-01-02T00:00:00Z"], ["2020-01-01 08:00", "2020-01-02 00:00"]),
        (["2020-01-01T10:00:00-01:00", "2020-01-02 00:00"], ["2020-01-01 11:00", "2020-01-02 00:00"]),
        (["2020-01-01 10:00:00.123456789", "2020-01-02"], ["2020-01-01 10:00:00.123456789", "2020-01-02"]),
        (["2020-01-01 10:00:00.123456789", "01/02/2020"], ["2020-01-01 10:00:00.123456789", "2020-01-02"]),
    ],
)
def test_timestamp_parsing_paths_agree(values: list[str], expected: list[str]) -> None:
    tables = base_tables()
    tables["leads"] = tables["leads"].iloc[:2]
    tables["leads"]["created_at"] = values
    tables["outcomes"] = (
        tables["outcomes"].iloc[:2].assign(status="open", handed_over_at=None, closed_at=None)
    )
    tables["events"] = None
    dataset, _ = validate(tables)
    created = dataset.leads.set_index("lead_id")["created_at"]
    assert created.tolist() == [pd.Timestamp(value, tz="UTC") for value in expected]


def test_ids_from_concatenated_frames_are_matched_across_chunks() -> None:
    # Frames glued together (or read from multi-row-group Parquet) hold ids in several Arrow chunks.
    tables = base_tables()
    leads = tables["leads"]
    glued = pd.concat([leads.iloc[:2], leads.iloc[2:]])
    glued.loc[4, "lead_id"] = "L1"
    tables["leads"] = glued
    tables["events"] = pd.concat([tables["events"].iloc[:3], tables["events"].iloc[3:]])
    tables["outcomes"] = tables["outcomes"].drop(index=4)
    with pytest.raises(DataValidationError) as caught:
        validate(tables)
    assert [(p.file, p.row, p.column) for p in caught.value.problems] == [
        ("leads.csv", 1, "lead_id"),
        ("leads.csv", 4, "lead_id"),
        ("events.csv", 5, "lead_id"),
    ]
    assert caught.value.problems[1].message == "duplicate lead_id 'L1': first seen in row 1"


def test_id_index_finds_the_first_row_of_each_id_with_and_without_repeats() -> None:
    from training.data.findings import IdIndex

    looked_up = pd.Series(["b", "zz", "a", None, "c", "b"], dtype="str")
    unique = IdIndex.build(pd.Series(["a", "b", "c"], dtype="str"))  # first row of id i is row i
    np.testing.assert_array_equal(unique.find(looked_up), [1, -1, 0, -1, 2, 1])
    repeated = IdIndex.build(pd.Series(["a", None, "b", "a", "c", "b"], dtype="str"))
    np.testing.assert_array_equal(repeated.find(looked_up), [2, -1, 0, -1, 4, 2])
    np.testing.assert_array_equal(repeated.duplicated, [True, False, True, True, False, True])

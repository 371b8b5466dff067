"""Live leads: records -> ``LeadIn`` (``TypeAdapter(list[LeadIn])``) -> ``SnapshotBatch``; errors name the
record and field; the parsed path equals ``batch_from_columns`` on parsed values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd
import pytest

from training.data.contract import EVENT_TYPE, LEAD_ID, OCCURRED_AT
from training.data.live import LeadIn, parse_leads
from training.data.live_arrays import batch_from_columns, batch_from_records, ns_of
from training.features.snapshots import CUTOFF, SnapshotBatch

T0 = pd.Timestamp("2024-01-01", tz="UTC")


def day(d: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(days=d)


def test_batch_from_records_parses_cutoffs_profiles_and_events() -> None:
    records = [
        {
            LEAD_ID: "a",
            "as_of": "2024-03-01T12:00:00+01:00",
            "source": "ads",
            "employees": 12,
            "events": [
                {"occurred_at": "2024-02-01T00:00:00Z", "event_type": "webinar_attended", "extra": 1},
                {"occurred_at": "2024-02-03", "event_type": "email_click"},
            ],
        },
        {LEAD_ID: "b", "as_of": None, "employees": None, "events": []},
    ]
    default = pd.Timestamp("2024-04-01", tz="UTC")
    batch = batch_from_records(
        records, categorical_columns=["source"], numeric_columns=["employees"], default_as_of=default
    )
    assert isinstance(batch, SnapshotBatch)
    assert batch.snapshots[CUTOFF].tolist() == [pd.Timestamp("2024-03-01T11:00:00Z"), default]
    assert batch.snapshots["source"].isna().tolist() == [False, True]
    assert np.isnan(batch.snapshots["employees"].iloc[1])
    assert batch.events[LEAD_ID].tolist() == ["a", "a"]
    assert batch.events[OCCURRED_AT].tolist() == [pd.Timestamp("2024-02-01", tz="UTC"), day(33)]
    assert batch.events[EVENT_TYPE].astype(str).tolist() == ["webinar_attended", "email_click"]


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"as_of": None}, "record 1: missing 'lead_id'"),
        ({LEAD_ID: "x", "as_of": "yesterday"}, "record 1: 'as_of' is not an ISO timestamp"),
        ({LEAD_ID: "x", "employees": "many"}, "record 1: field 'employees' is not a number"),
        ({LEAD_ID: "x", "events": [{"event_type": "a"}]}, r"record 1 \('x'\): an event lacks 'occurred_at'"),
        (
            {LEAD_ID: "x", "events": [{"occurred_at": "soon", "event_type": "a"}]},
            "record 1: event 'occurred_at'",
        ),
        ({LEAD_ID: "x", "events": "lots"}, "record 1: 'events' must be a list"),
    ],
)
def test_batch_from_records_names_the_bad_record(record: dict[str, Any], message: str) -> None:
    records = [{LEAD_ID: "ok", "events": [{"occurred_at": "2024-01-01", "event_type": "a"}]}, record]
    with pytest.raises(ValueError, match=message):
        batch_from_records(records, numeric_columns=["employees"], default_as_of=T0)


def test_batch_from_columns_takes_datetimes_and_equals_records() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    plus_two = timezone(timedelta(hours=2))
    records = [
        {
            LEAD_ID: "a",
            "as_of": "2024-03-01T12:00:00+01:00",
            "source": "ads",
            "employees": 12,
            "events": [
                {"occurred_at": "2024-02-01T00:00:00Z", "event_type": "webinar_attended"},
                {"occurred_at": "2024-02-03T02:00:00+02:00", "event_type": "email_click"},
            ],
        },
        {
            LEAD_ID: "b",
            "as_of": None,
            "employees": None,
            "events": [{"occurred_at": "2024-02-05", "event_type": "x"}],
        },
    ]
    default = pd.Timestamp("2024-04-01", tz="UTC")
    expected = batch_from_records(
        records, categorical_columns=["source"], numeric_columns=["employees"], default_as_of=default
    )
    # The same leads as parsed values: aware datetimes in two zones and a naive one (taken as UTC).
    batch = batch_from_columns(
        ["a", "b"],
        as_of=[datetime(2024, 3, 1, 11, tzinfo=UTC), None],
        created_at=[None, None],
        profile={"source": ["ads", None], "employees": [12, None]},
        event_counts=[2, 1],
        event_times=[
            datetime(2024, 2, 1, tzinfo=UTC),
            datetime(2024, 2, 3, 2, tzinfo=plus_two),
            datetime(2024, 2, 5),
        ],
        event_types=["webinar_attended", "email_click", "x"],
        categorical_columns=["source"],
        numeric_columns=["employees"],
        default_as_of=default,
    )
    pd.testing.assert_frame_equal(batch.snapshots, expected.snapshots)
    for column in (LEAD_ID, OCCURRED_AT, EVENT_TYPE):
        assert batch.events[column].tolist() == expected.events[column].tolist()
    assert batch.events[OCCURRED_AT].tolist()[1] == pd.Timestamp("2024-02-03", tz="UTC")
    assert batch.snapshots["source"].tolist()[0] == "ads" and pd.isna(batch.snapshots["source"].iloc[1])


def test_flat_nested_and_tabular_records_parse_to_the_same_leads() -> None:
    event = {"occurred_at": "2024-01-02T00:00:00Z", "event_type": "email_click", "campaign": "spring"}
    nested = {
        "lead_id": "a",
        "as_of": "2024-02-01",
        "profile": {"size": 3, "source": "ads"},
        "events": [event],
    }
    flat = {"lead_id": "a", "as_of": "2024-02-01", "size": 3, "source": "ads", "events": [event]}
    as_json = {**flat, "profile": '{"size": 3}', "events": [event]}
    frame = pd.DataFrame(
        [{**flat, "events": '[{"occurred_at": "2024-01-02T00:00:00Z", "event_type": "email_click"}]'}]
    )
    parsed = [parse_leads([record])[0] for record in (nested, flat, as_json)] + parse_leads(frame)
    assert all(isinstance(lead, LeadIn) for lead in parsed)
    assert {lead.profile["size"] for lead in parsed} == {3}
    assert {lead.events[0].occurred_at for lead in parsed} == {pd.Timestamp("2024-01-02", tz="UTC")}
    # A CSV read with defaults gives numeric ids and numpy scalars: ids are text, values plain Python.
    numeric = parse_leads(pd.DataFrame({"lead_id": [17], "size": [np.int64(4)]}))[0]
    assert numeric.lead_id == "17" and numeric.profile["size"] == 4 and numeric.events == []


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"lead_id": "x", "profile": "{not json"}, r"record 1: profile is not valid JSON"),
        ({"lead_id": "x", "profile": {"tags": ["a"]}}, r"record 1 \('x'\): field 'profile\.tags'"),
        (
            {"lead_id": "", "as_of": None},
            r"record 1 \(''\): field 'lead_id': string should have at least 1 character",
        ),
        (
            {"lead_id": "x", "created_at": "2024-02-01", "as_of": "2024-01-01"},
            r"record 1 \('x'\): field 'as_of': .*before the lead's created_at",
        ),
        (
            {"lead_id": "x", "as_of": "9999-01-01"},
            r"record 1 \('x'\): field 'as_of': .*outside the supported",
        ),
    ],
)
def test_records_are_checked_like_api_requests(record: dict[str, Any], message: str) -> None:
    records = [{LEAD_ID: "ok"}, record]
    with pytest.raises(ValueError, match=message):
        batch_from_records(records, numeric_columns=["employees"], default_as_of=T0)


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2024, 2, 29, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, 1, tzinfo=UTC),  # before the epoch: negative days
        datetime(1677, 9, 22, 0, 0, 1),  # near the earliest int64 nanosecond, without a zone (UTC)
        datetime(2262, 4, 11, 23, 47, 16, 854_775, tzinfo=UTC),  # near the latest
        datetime(2025, 3, 30, 2, 30, 0, 123_456, tzinfo=timezone(timedelta(hours=-7, minutes=-30))),
    ],
)
def test_ns_of_equals_pandas_nanoseconds(moment: datetime) -> None:
    expected = pd.Timestamp(moment if moment.tzinfo else moment.replace(tzinfo=UTC)).value
    assert ns_of(moment) == expected

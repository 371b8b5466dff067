"""Events that stop long before the leads do are refused as a cut-short export (training.data.coverage)."""

from __future__ import annotations

import pandas as pd

from training.data.coverage import GRACE, MIN_LATE_LEADS, events_cut_short


def stamps(*days: int) -> pd.Series:
    return pd.Series(pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(list(days), unit="D"))


def test_many_leads_after_the_last_event_name_the_files_and_the_date() -> None:
    events = stamps(5, 10, 20)
    leads = stamps(*range(0, 20), *([60] * MIN_LATE_LEADS))
    problem = events_cut_short("events.csv", "leads.csv", events, leads)
    assert problem is not None and problem.file == "events.csv"
    assert "2024-01-21" in problem.message and "leads.csv" in problem.message
    assert f"{MIN_LATE_LEADS} of {20 + MIN_LATE_LEADS}" in problem.message


def test_a_quiet_last_fortnight_or_a_few_late_leads_pass() -> None:
    events = stamps(5, 100)
    within_grace = stamps(*range(0, 100), *([100 + GRACE.days] * 50))
    assert events_cut_short("e", "l", events, within_grace) is None
    few_late = stamps(*range(0, 100), *([200] * (MIN_LATE_LEADS - 1)))
    assert events_cut_short("e", "l", events, few_late) is None
    # Many late leads but a small share of a large table: not enough evidence either.
    small_share = stamps(*([50] * 1000), *([200] * 30))
    assert events_cut_short("e", "l", events, small_share) is None


def test_no_events_at_all_is_not_this_check() -> None:
    assert events_cut_short("e", "l", pd.Series([], dtype="datetime64[ns, UTC]"), stamps(1, 2)) is None

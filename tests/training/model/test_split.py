"""Time split: the horizon gap, row-order splits, and refusing too few outcomes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.model.split import InsufficientDataError, check_class_counts, time_split

HORIZON = pd.Timedelta(days=90)


def weekly_cutoffs(n_weeks: int, per_week: int) -> pd.Series:
    weeks = pd.date_range("2023-01-02", periods=n_weeks, freq="7D", tz="UTC")
    return pd.Series(np.repeat(weeks, per_week)).sample(frac=1.0, random_state=0).reset_index(drop=True)


def test_no_training_label_reaches_into_the_test_period() -> None:
    cutoffs = weekly_cutoffs(104, 10)
    train, test, info = time_split(cutoffs, HORIZON, test_fraction=0.25)
    test_start = cutoffs.iloc[test].min()
    assert info.test_start == test_start
    assert (cutoffs.iloc[train] + HORIZON <= test_start).all()
    assert (cutoffs.iloc[test] >= test_start).all()
    assert len(np.intersect1d(train, test)) == 0
    # About a quarter is test; the gap (one horizon = 13 weeks of 10 snapshots) is used by neither side.
    assert info.n_test == pytest.approx(0.25 * len(cutoffs), abs=10)
    assert info.n_gap == 12 * 10  # cutoffs strictly inside (test_start - 90 days, test_start)
    assert info.n_train + info.n_gap + info.n_test == len(cutoffs)
    assert info.train_end + HORIZON <= info.test_start


def test_ties_at_the_boundary_all_go_to_test() -> None:
    cutoffs = weekly_cutoffs(40, 7)
    _, test, info = time_split(cutoffs, HORIZON, test_fraction=0.1)
    boundary = cutoffs == info.test_start
    assert set(np.flatnonzero(boundary)) <= set(test)


def test_row_order_split_is_plain_and_ordered() -> None:
    positions = np.arange(100)[::-1]  # keys need not arrive sorted
    train, test, info = time_split(positions, None, test_fraction=0.2)
    assert info.kind == "row_order"
    assert sorted(positions[test]) == list(range(80, 100))
    assert sorted(positions[train]) == list(range(80))
    assert info.n_gap == 0


def test_refuses_too_few_positives_with_counts_and_thresholds() -> None:
    cutoffs = weekly_cutoffs(104, 10)
    y = np.zeros(len(cutoffs), dtype=int)
    late = (cutoffs >= cutoffs.quantile(0.75)).to_numpy()
    y[np.flatnonzero(late)[:15]] = 1  # only 15 won snapshots in the test window
    y[np.flatnonzero(~late)[:100]] = 1
    with pytest.raises(InsufficientDataError) as error:
        time_split(cutoffs, HORIZON, y=y)
    message = str(error.value)
    assert "test: 15 positive" in message
    assert "min_positives=40" in message
    assert "min_negatives=40" in message


def test_enough_outcomes_pass_and_are_recorded() -> None:
    cutoffs = weekly_cutoffs(104, 10)
    y = np.random.default_rng(0).random(len(cutoffs)) < 0.3
    train, test, info = time_split(cutoffs, HORIZON, y=y, min_positives=20, min_negatives=20)
    assert info.train_positives == int(y[train].sum())
    assert info.test_positives == int(y[test].sum())
    assert isinstance(info.to_dict()["test_start"], str)


def test_horizon_longer_than_history_is_refused() -> None:
    cutoffs = weekly_cutoffs(10, 5)
    with pytest.raises(InsufficientDataError, match="No training snapshots"):
        time_split(cutoffs, HORIZON)


def test_timestamps_need_a_timedelta_horizon() -> None:
    with pytest.raises(TypeError, match="Timedelta"):
        time_split(weekly_cutoffs(10, 5), 90)


def test_check_class_counts_reports_negatives_too() -> None:
    with pytest.raises(InsufficientDataError, match="train: 50 positive / 3 negative"):
        check_class_counts(np.r_[np.ones(50), np.zeros(3)], np.r_[np.ones(50), np.zeros(50)])


def test_counts_distinct_leads_not_snapshots_and_says_how_many_more() -> None:
    # 12 won leads seen 10 times each: 120 won snapshots, but only 12 won leads.
    y_train = np.r_[np.ones(120), np.zeros(500)]
    leads_train = np.r_[np.repeat(np.arange(12), 10), 100 + np.arange(500)]
    y_test = np.r_[np.ones(60), np.zeros(60)]
    leads_test = np.r_[1000 + np.arange(60), 2000 + np.arange(60)]
    check_class_counts(y_train, y_test)  # by snapshot it would pass
    with pytest.raises(InsufficientDataError) as error:
        check_class_counts(y_train, y_test, groups_train=leads_train, groups_test=leads_test)
    message = str(error.value)
    assert "train: 12 won / 500 not-won leads" in message
    assert "needs 28 more won leads on the train side" in message


def test_a_lead_won_in_any_snapshot_counts_once_as_won() -> None:
    cutoffs = weekly_cutoffs(104, 10)
    y = np.random.default_rng(1).random(len(cutoffs)) < 0.3
    leads = np.arange(len(cutoffs)) // 2  # two snapshots per lead
    train, _, info = time_split(cutoffs, HORIZON, y=y, groups=leads, min_positives=5, min_negatives=5)
    won_train = {lead for lead, label in zip(leads[train], y[train], strict=True) if label}
    assert info.train_won_leads == len(won_train)
    assert info.train_not_won_leads == len(set(leads[train]) - won_train)

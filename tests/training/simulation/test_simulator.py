"""The simulator: reproducible, contract-conforming, marketer-plausible, and its ground truth is true."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from training.data.contract import GROUND_TRUTH_FILE, METADATA_FILE, Outcome, TimeBasis
from training.simulation.model import EVENT_KINDS, HORIZON_DAYS
from training.simulation.simulator import SimulationResult, simulate, write_simulation

DAYS = 540
START = pd.Timestamp("2025-01-01", tz="UTC")
END = START + pd.Timedelta(days=DAYS)
HORIZON = pd.Timedelta(days=HORIZON_DAYS)
EMAIL_TYPES = {kind.name for kind in EVENT_KINDS if kind.email}


@pytest.fixture(scope="module")
def result() -> SimulationResult:
    return simulate(3000, seed=11)


@pytest.fixture(scope="module")
def labelled_grid(result: SimulationResult) -> pd.DataFrame:
    """Ground-truth rows with the realised label, restricted to rows whose label is known."""
    outcomes = result.dataset.outcomes
    grid = result.ground_truth.merge(outcomes, on="lead_id", how="left")
    won = grid["status"].astype(str) == "won"
    grid["label"] = (
        won & (grid["closed_at"] > grid["cutoff"]) & (grid["closed_at"] <= grid["cutoff"] + HORIZON)
    )
    known = (grid["cutoff"] + HORIZON <= END) | (grid["status"].astype(str) != "open")
    return grid[known]


def test_same_seed_gives_identical_tables_and_another_seed_does_not() -> None:
    first, again, other = simulate(400, seed=5), simulate(400, seed=5), simulate(400, seed=6)
    for name in ("leads", "events", "outcomes"):
        pd.testing.assert_frame_equal(getattr(first.dataset, name), getattr(again.dataset, name))
    pd.testing.assert_frame_equal(first.ground_truth, again.ground_truth)
    assert first.dataset.metadata == again.dataset.metadata
    assert not first.dataset.leads["created_at"].equals(other.dataset.leads["created_at"])
    assert len(first.dataset.events) != len(other.dataset.events) or not first.dataset.events.equals(
        other.dataset.events
    )


def test_tables_follow_the_contract(result: SimulationResult) -> None:
    leads, events, outcomes = result.dataset.leads, result.dataset.events, result.dataset.outcomes
    assert str(leads["lead_id"].dtype) == "str" and leads["lead_id"].is_unique
    assert str(leads["created_at"].dtype) == "datetime64[ns, UTC]"
    metadata = result.dataset.metadata
    for column in metadata.categorical_columns:
        assert isinstance(leads[column].dtype, pd.CategoricalDtype), column
        assert leads[column].notna().all(), column
    for column in metadata.numeric_columns:
        assert leads[column].dtype == np.float64 and (leads[column] > 0).all(), column
    assert set(metadata.categorical_columns) >= {"source", "industry", "company_size", "role", "country"}
    assert metadata.activity_columns == []
    assert metadata.name == "simulated" and metadata.time_basis == TimeBasis.TIMESTAMPS
    assert metadata.observed_until == END
    assert leads["created_at"].between(START, END, inclusive="left").all()

    assert str(events["lead_id"].dtype) == "str"
    assert str(events["occurred_at"].dtype) == "datetime64[ns, UTC]"
    assert isinstance(events["event_type"].dtype, pd.CategoricalDtype)
    assert events["lead_id"].isin(leads["lead_id"]).all()
    created = events["lead_id"].map(leads.set_index("lead_id")["created_at"])
    assert (events["occurred_at"] >= created).all()
    assert (events["occurred_at"] < END).all()

    assert outcomes["lead_id"].tolist() == leads["lead_id"].tolist()
    assert set(outcomes["status"].astype(str)) <= {str(o) for o in Outcome}
    for column in ("handed_over_at", "closed_at"):
        assert str(outcomes[column].dtype) == "datetime64[ns, UTC]"
        stamped = outcomes[column].notna()
        assert (outcomes.loc[stamped, column] >= leads.loc[stamped, "created_at"]).all(), column
        assert (outcomes.loc[stamped, column] < END).all(), column
    is_open = outcomes["status"].astype(str) == "open"
    assert outcomes.loc[is_open, "closed_at"].isna().all()
    assert outcomes.loc[~is_open, "closed_at"].notna().all()
    both = outcomes["handed_over_at"].notna() & outcomes["closed_at"].notna()
    assert (outcomes.loc[both, "handed_over_at"] < outcomes.loc[both, "closed_at"]).all()


def test_no_event_after_the_lead_closed(result: SimulationResult) -> None:
    events = result.dataset.events
    closed_at = events["lead_id"].map(result.dataset.outcomes.set_index("lead_id")["closed_at"])
    closed = closed_at.notna()
    assert (events.loc[closed, "occurred_at"] < closed_at[closed]).all()


def test_events_are_sorted_by_lead_and_time(result: SimulationResult) -> None:
    events = result.dataset.events
    ordered = events.sort_values(["lead_id", "occurred_at"], kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(events, ordered)


def test_vocabulary_has_at_least_twelve_types_including_negative_ones(result: SimulationResult) -> None:
    seen = set(result.dataset.events["event_type"].astype(str))
    assert len(seen) >= 12
    assert {"unsubscribe", "email_bounce", "demo_request", "pricing_page_view", "webinar_attended"} <= seen


def test_volume_and_outcome_mix_are_plausible(result: SimulationResult) -> None:
    n = len(result.dataset.leads)
    assert 15 <= len(result.dataset.events) / n <= 50
    status = result.dataset.outcomes["status"].astype(str)
    assert 0.03 <= (status == "won").mean() <= 0.2
    assert (status == "open").mean() > 0.1  # censoring: still undecided at the end of observation
    handed = result.dataset.outcomes["handed_over_at"].notna()
    assert ((status == "lost") & ~handed).sum() > 0  # disqualified after going cold
    assert ((status == "open") & handed).sum() > 0  # in a sales cycle when observation ends


def test_no_email_event_follows_an_unsubscribe_or_bounce(result: SimulationResult) -> None:
    events = result.dataset.events
    enders = events[events["event_type"].isin(["unsubscribe", "email_bounce"])]
    assert len(enders) > 10
    first_end = enders.groupby("lead_id")["occurred_at"].min()
    email = events[events["event_type"].isin(EMAIL_TYPES)]
    ended_at = email["lead_id"].map(first_end)
    after = ended_at.notna() & (email["occurred_at"] > ended_at)
    assert not after.any(), email[after].head()
    # each lead unsubscribes or bounces at most once: nothing is sent afterwards
    assert not enders["lead_id"].duplicated().any()


def test_win_rate_rises_with_ripeness_at_handover(result: SimulationResult) -> None:
    outcomes = result.dataset.outcomes
    decided = outcomes[outcomes["handed_over_at"].notna() & (outcomes["status"].astype(str) != "open")]
    grid = result.ground_truth.merge(decided[["lead_id", "handed_over_at", "status"]], on="lead_id")
    # The last grid point before the handover: the lead's ripeness when it was passed to sales.
    at_handover = grid[grid["cutoff"] <= grid["handed_over_at"]].groupby("lead_id").tail(1)
    won = at_handover["status"].astype(str) == "won"
    green = at_handover["ripeness"] < 0.3
    ripe = at_handover["ripeness"] >= 0.7
    assert green.sum() >= 50 and ripe.sum() >= 50
    assert won[ripe].mean() > 2 * won[green].mean()


def test_ground_truth_grid_is_regular_and_complete(result: SimulationResult) -> None:
    truth = result.ground_truth
    assert list(truth.columns)[:4] == ["lead_id", "cutoff", "ripeness", "p_win_90d"]
    assert truth["p_win_90d"].between(0, 1).all() and truth["ripeness"].between(0, 1).all()
    leads = result.dataset.leads.set_index("lead_id")
    outcomes = result.dataset.outcomes.set_index("lead_id")
    assert set(truth["lead_id"]) == set(leads.index)
    offset = truth["cutoff"] - truth["lead_id"].map(leads["created_at"])
    assert (offset % pd.Timedelta(days=7) == pd.Timedelta(0)).all()
    per_lead = truth.groupby("lead_id", sort=False)["cutoff"]
    assert (per_lead.min() == leads.loc[per_lead.min().index, "created_at"]).all()
    assert (per_lead.diff().dropna() == pd.Timedelta(days=7)).all()
    # until the lead closes or observation ends, and not beyond
    stop = outcomes["closed_at"].fillna(END).clip(upper=END)
    last = per_lead.max()
    assert (last < stop[last.index]).all()
    assert (last + pd.Timedelta(days=7) >= stop[last.index]).all()


def test_grid_spacing_follows_grid_days() -> None:
    truth = simulate(200, seed=2, days=120, grid_days=3).ground_truth
    assert (truth.groupby("lead_id")["cutoff"].diff().dropna() == pd.Timedelta(days=3)).all()


def test_oracle_auc_is_high_but_not_perfect(labelled_grid: pd.DataFrame) -> None:
    assert labelled_grid["label"].sum() > 100
    auc = roc_auc_score(labelled_grid["label"], labelled_grid["p_win_90d"])
    assert 0.8 <= auc <= 0.97
    nurtured = labelled_grid[~labelled_grid["handed_over"]]
    assert 0.8 <= roc_auc_score(nurtured["label"], nurtured["p_win_90d"]) <= 0.97


def test_true_probability_is_calibrated(labelled_grid: pd.DataFrame) -> None:
    """p_win_90d is the true conditional probability: its average matches the realised rate, per band."""
    bands = pd.cut(labelled_grid["p_win_90d"], [0, 0.01, 0.05, 0.2, 1.0], include_lowest=True)
    table = labelled_grid.groupby(bands, observed=True).agg(
        p=("p_win_90d", "mean"), y=("label", "mean"), n=("label", "size")
    )
    assert len(table) == 4
    # Rows of one lead are correlated, so allow a generous band around binomial noise.
    slack = 4 * np.sqrt(table["p"] * (1 - table["p"]) / table["n"] * 10) + 0.002
    assert ((table["y"] - table["p"]).abs() <= slack).all(), table


def test_write_simulation_writes_dataset_and_ground_truth(tmp_path: Path) -> None:
    result = simulate(150, seed=1, days=90)
    write_simulation(result, tmp_path)
    for name in ("leads", "events", "outcomes"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / f"{name}.parquet"),
            getattr(result.dataset, name),
            check_dtype=False,
            check_categorical=False,
        )
    truth = pd.read_parquet(tmp_path / GROUND_TRUTH_FILE)
    pd.testing.assert_frame_equal(truth, result.ground_truth, check_dtype=False)
    assert json.loads((tmp_path / METADATA_FILE).read_text())["name"] == "simulated"


def test_progress_reports_every_block_up_to_the_total() -> None:
    calls: list[tuple[int, int]] = []
    simulate(120, seed=0, days=60, progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1] == (120, 120)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_leads": 0}, "n_leads"),
        ({"n_leads": 10, "days": 0}, "days"),
        ({"n_leads": 10, "grid_days": -1}, "grid_days"),
        ({"n_leads": 10, "start": pd.Timestamp("2025-01-01")}, "timezone"),
        ({"n_leads": 10, "workers": 0}, "workers"),
    ],
)
def test_bad_arguments_are_refused_with_their_name(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        simulate(**kwargs)


def test_blocks_and_worker_processes_do_not_change_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    import training.simulation.simulator as simulator

    monkeypatch.setattr(simulator, "BLOCK_SIZE", 100)
    alone = simulate(250, seed=4, days=60)
    together = simulate(250, seed=4, days=60, workers=2)
    assert alone.dataset.leads["lead_id"].is_unique and len(alone.dataset.leads) == 250
    for name in ("leads", "events", "outcomes"):
        pd.testing.assert_frame_equal(getattr(alone.dataset, name), getattr(together.dataset, name))
    pd.testing.assert_frame_equal(alone.ground_truth, together.ground_truth)

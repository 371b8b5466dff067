"""The linear candidate on drifting exports: extrapolation beyond the training range, rare levels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.config import SelectionConfig, TrainConfig
from training.model.linear import DEFAULT_PERIOD_BINS, IN_THE_LARGE, LinearReadinessModel
from training.model.ranking import roc_auc
from training.model.selection import fit_selected


def _time_and_leads(n: int) -> tuple[pd.Series, pd.Series]:
    time_key = pd.Series(pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(np.arange(n) // 20, "D"))
    return time_key, pd.Series([f"lead-{i}" for i in range(n)])


def test_a_drifting_column_keeps_ranking_beyond_its_training_quantiles() -> None:
    """Training sits mostly in one regime (rate in [0, 1]) with a few rows of an earlier one (rate near
    -3); later leads arrive at rates between -2.5 and -1.5, beyond the 0.5% training quantile but inside
    the training range. The linear effect continues there, and the model must keep ranking by it
    (clipped at one quantile range beyond the quantiles, every later value was the same number)."""
    rng = np.random.default_rng(3)
    n = 3000
    rate = rng.uniform(0.0, 1.0, n)
    rate[rng.choice(n, 12, replace=False)] = rng.uniform(-3.0, -2.8, 12)  # 0.4%: below the 0.5% quantile
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(1.5 * rate - 1.0)))).astype(int)
    X = pd.DataFrame({"rate": rate})
    time_key, leads = _time_and_leads(n)
    model = LinearReadinessModel().fit(X, y, time_key=time_key, groups=leads)

    later_rate = rng.uniform(-2.5, -1.5, 2000)
    later_y = (rng.random(2000) < 1.0 / (1.0 + np.exp(-(1.5 * later_rate + 3.0)))).astype(int)
    later = pd.DataFrame({"rate": later_rate})
    score = model.raw_score(later)
    assert np.unique(np.round(score, 9)).size > 100  # not flattened by the clip
    assert roc_auc(later_y, score) > 0.6


def test_a_rare_level_is_shrunk_not_given_its_raw_log_odds() -> None:
    """A level seen in 12 of 3000 training rows, half of them won (base rate ~10%): its empirical
    log-odds lift is ~2.2. Penalised in 0/1 units it is shrunk towards the pool; standardised, its tiny
    standard deviation all but lifted the penalty and it kept nearly the full lift."""
    rng = np.random.default_rng(4)
    n = 3000
    source = np.where(np.arange(n) % 250 == 0, "rare", rng.choice(["web", "event"], n))
    y = (rng.random(n) < 0.1).astype(int)
    y[source == "rare"] = np.arange(int((source == "rare").sum())) % 2
    X = pd.DataFrame(
        {
            "lead_source": pd.Categorical(source, categories=["web", "event", "rare"]),
            "noise": rng.normal(size=n),
        }
    )
    time_key, leads = _time_and_leads(n)
    model = LinearReadinessModel().fit(X, y, time_key=time_key, groups=leads)
    rows = X.iloc[:3].copy()
    rows["lead_source"] = pd.Categorical(["rare", "web", "event"], categories=X["lead_source"].cat.categories)
    margin = model.raw_score(rows)
    lift = margin[0] - margin[1:].mean()
    assert 0.0 < lift < 1.2


def _young_programme(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Wins are rare and favour web leads for the first 80% of the rows, then a sales programme takes
    off and event leads win 30%: the latest 20% (the held-out leads) reverse the earlier pattern."""
    rng = np.random.default_rng(seed)
    source = rng.choice(["web", "event"], n)
    late = np.arange(n) >= int(0.8 * n)
    rate = np.where(late, np.where(source == "event", 0.30, 0.05), np.where(source == "web", 0.03, 0.01))
    y = (rng.random(n) < rate).astype(int)
    return pd.DataFrame({"lead_source": pd.Categorical(source, categories=["web", "event"])}), y


def test_held_out_leads_the_early_model_cannot_rank_keep_the_refit_scale_not_one_readiness() -> None:
    """The model fitted on the first 80% ranks the held-out leads backwards, so Platt's slope hits its
    floor, which gave every lead the same readiness (Olist: 0.119 for all, ± 3e-8). The refitted model
    learnt from the held-out leads too: it keeps its own log-odds scale, its level is moved to their
    base rate, and event leads now read as readier than web leads."""
    n = 3000
    X, y = _young_programme(n, seed=5)
    time_key, leads = _time_and_leads(n)
    model = LinearReadinessModel().fit(X, y, time_key=time_key, groups=leads)
    assert model.calibration_method_ == IN_THE_LARGE
    assert model.calibration_slope_ == 1.0
    rows = pd.DataFrame({"lead_source": pd.Categorical(["event", "web"], categories=["web", "event"])})
    event, web = model.readiness(rows)
    assert event > web + 0.02
    held_out = np.arange(n) >= int(0.8 * n)
    assert model.readiness(X[held_out]).mean() == pytest.approx(y[held_out].mean(), abs=0.01)


def test_a_model_that_ranks_its_held_out_leads_keeps_platt() -> None:
    rng = np.random.default_rng(6)
    n = 3000
    source = rng.choice(["web", "event"], n)
    y = (rng.random(n) < np.where(source == "event", 0.3, 0.05)).astype(int)
    X = pd.DataFrame({"lead_source": pd.Categorical(source, categories=["web", "event"])})
    time_key, leads = _time_and_leads(n)
    model = LinearReadinessModel().fit(X, y, time_key=time_key, groups=leads)
    assert model.calibration_method_ == "platt"
    assert 0.0 < model.calibration_slope_ != 1.0
    # The level is the refitted model's on the held-out leads (the latest 20%).
    held_out = np.arange(n) >= int(0.8 * n)
    assert model.readiness(X[held_out]).mean() == pytest.approx(y[held_out].mean(), abs=0.005)


def test_the_run_says_when_the_served_linear_model_is_calibrated_in_the_large() -> None:
    n = 3000
    X, y = _young_programme(n, seed=5)
    time_key, leads = _time_and_leads(n)
    config = TrainConfig(selection=SelectionConfig(candidates=("linear",)))
    model, selection = fit_selected(X, y, time_key, leads, None, config, elapsed_features=())
    assert model.calibration_method_ == IN_THE_LARGE
    assert any("did not rank them" in note and "level is set" in note for note in selection.notes)


def test_a_level_common_in_a_period_that_won_little_is_not_blamed_for_the_period() -> None:
    """The win rate rises from 1% to 25% over the training period while webinar leads fall from 90% to
    10% of the leads; at any time they win exactly as often as web leads. Without period intercepts the
    model reads the early periods' low rate as a webinar effect; with them, webinar and web leads read
    alike."""
    rng = np.random.default_rng(7)
    n = 6000
    elapsed = np.arange(n) / n
    source = np.where(rng.random(n) < 0.9 - 0.8 * elapsed, "webinar", "web")
    y = (rng.random(n) < 0.01 + 0.24 * elapsed).astype(int)
    X = pd.DataFrame({"lead_source": pd.Categorical(source, categories=["web", "webinar"])})
    time_key, leads = _time_and_leads(n)
    rows = pd.DataFrame({"lead_source": pd.Categorical(["webinar", "web"], categories=["web", "webinar"])})

    def gap(period_bins: int) -> float:
        model = LinearReadinessModel(period_bins=period_bins).fit(X, y, time_key=time_key, groups=leads)
        margin = model.raw_score(rows)
        return float(margin[1] - margin[0])  # web minus webinar, in log-odds

    assert gap(0) > 0.4  # blamed: the early periods' low rate reads as a webinar effect
    assert abs(gap(DEFAULT_PERIOD_BINS)) < 0.15


def test_days_elapsed_are_held_at_their_training_range_while_a_rate_extrapolates() -> None:
    """Both columns lower the chance linearly. Days since the last click grow by time passing alone: a
    lead scored long after training is held at the oldest training value, as trees hold it (extrapolated,
    a click twice as old as any in training kept lowering the margin). The rate still extrapolates."""
    rng = np.random.default_rng(8)
    n = 3000
    days = rng.uniform(0.0, 300.0, n)
    rate = rng.uniform(0.0, 1.0, n)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(1.0 - days / 60.0 - 1.5 * rate)))).astype(int)
    X = pd.DataFrame({"click_days_since_last": days, "rate": rate})
    time_key, leads = _time_and_leads(n)
    rows = pd.DataFrame({"click_days_since_last": [days.max(), 2 * days.max()], "rate": [0.5, 0.5]})
    held = LinearReadinessModel(elapsed_features=("click_days_since_last",))
    held.fit(X, y, time_key=time_key, groups=leads)
    extrapolating = LinearReadinessModel().fit(X, y, time_key=time_key, groups=leads)

    at_max, at_twice = held.explain(rows).contributions[:, 0]
    assert at_twice == pytest.approx(at_max)
    old_max, old_twice = extrapolating.explain(rows).contributions[:, 0]
    assert old_twice < old_max - 1.0  # without the hold it ran on
    # A rate beyond its training range still extrapolates in the held model.
    rates = pd.DataFrame({"click_days_since_last": [10.0, 10.0], "rate": [1.0, 1.5]})
    assert held.raw_score(rates)[1] < held.raw_score(rates)[0] - 0.05  # held, the two would be equal


def test_a_mostly_missing_column_is_penalised_by_its_spread_where_present() -> None:
    """A recency present in 1% of the rows (a rare hand-raising type), whose 50 rows separate won from
    lost. Filled with its median elsewhere, its spread over all rows is a tenth of its spread where
    present; standardised by the former its penalty all but vanished and the model put ~17 log-odds
    across four days. By its spread where present, it is shrunk like any column."""
    rng = np.random.default_rng(12)
    n = 5000
    present = rng.random(n) < 0.01
    days = np.where(present, rng.uniform(0.0, 4.0, n), np.nan)
    visits = rng.normal(size=n)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(2.5 - visits))).astype(int)
    y[present] = (days[present] < 2).astype(int)
    X = pd.DataFrame({"request_days_since_last": days, "visits": visits})
    time_key, leads = _time_and_leads(n)
    model = LinearReadinessModel().fit(X, y, time_key=time_key, groups=leads)

    matrix = model.encoder().encode(X)
    scales = model._numeric_scales(matrix, model._basis(matrix))
    assert scales[0] == pytest.approx(np.nanstd(np.clip(days, model.low_[0], model.high_[0])), rel=1e-6)
    rows = pd.DataFrame({"request_days_since_last": [0.0, 4.0], "visits": [0.0, 0.0]})
    spread = np.ptp(model.explain(rows).contributions[:, 0])
    assert 1.0 < spread < 12.0  # learnt, and shrunk (all-rows scaling: ~17)

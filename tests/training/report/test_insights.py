"""Insights by business signal: labels, grouped importances, win rates, effects, ripening and backtest."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from training.config import TrainConfig
from training.features.specs import FeatureCatalog, FeatureScope, FeatureSpec, feature_specs
from training.model.readiness import BASE_VALUE
from training.pipeline import TrainingOutcome, fit_and_evaluate
from training.report.backtest import backtest, card_threshold
from training.report.importance import contribution_importance_by_signal, permutation_importance_by_signal
from training.report.insights import partial_dependence, ripening_curves
from training.report.signals import feature_label, signal_label
from training.report.win_rates import signal_win_rates
from training.simulation.simulator import SimulationResult, simulate


@pytest.fixture(scope="module")
def trained() -> tuple[SimulationResult, TrainingOutcome]:
    simulation = simulate(1500, seed=3)
    # A small simulation keeps the test fast; it has fewer than the default 40 won leads per side.
    config = TrainConfig(
        n_bootstrap=20,
        max_snapshots_per_lead=20,
        model={"n_estimators": 150},
        min_positives=10,
        min_negatives=10,
    )
    return simulation, fit_and_evaluate(simulation.dataset, config)


class ColumnModel:
    """A stand-in model whose margin is one column: only that column's signal can matter."""

    def __init__(self, column: str) -> None:
        self.column = column

    def raw_score(self, X: pd.DataFrame) -> np.ndarray:
        return X[self.column].to_numpy(dtype=float)

    def readiness(self, X: pd.DataFrame) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.raw_score(X).clip(-50, 50)))


def specs_of(
    event_types: list[str], numeric: tuple[str, ...] = (), categorical: tuple[str, ...] = (), windows=(30,)
) -> tuple[FeatureSpec, ...]:
    """The specs LeadFeatures publishes for these event types and profile fields (no trend, no decay)."""
    slots = [(t, t, FeatureScope.EVENT_TYPE) for t in event_types]
    return feature_specs(slots, windows, None, (), numeric, categorical)


# ------------------------------------------------------------------------------------------ labels
def test_signals_and_features_are_named_in_marketing_words() -> None:
    assert signal_label("webinar_attended") == "Webinar attended"
    assert signal_label("company_size") == "Company size"
    assert signal_label("engagement").startswith("Overall engagement")
    specs = FeatureCatalog(specs_of(["pricing_page_view", "webinar_attended"], windows=(7, 30)))
    assert feature_label(specs["pricing_page_view_days_since_last"]) == (
        "Days since the last 'pricing page view'"
    )
    assert feature_label(specs["webinar_attended_count_30d"]) == (
        "'webinar attended' events in the last 30 days"
    )
    assert feature_label(specs["events_count_7d"]) == "Events of any kind in the last 7 days"


# --------------------------------------------------------------------------------------- win rates
def hand_built() -> tuple[pd.DataFrame, np.ndarray, tuple[FeatureSpec, ...]]:
    # 10 snapshots: demo requests in the last 30 days for the first 4 (3 of them won), none for the rest
    # (1 of 6 won); source "webinar" for the first 5 (3 won), "ads" for the rest (1 won).
    features = pd.DataFrame(
        {
            "demo_request_count_30d": [1.0, 2.0, 1.0, 3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            "demo_request_days_since_last": [1.0, 2.0, 5.0, 9.0] + [np.nan] * 6,
            "source": pd.Categorical(["webinar"] * 5 + ["ads"] * 5),
        }
    )
    y = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 1])
    return features, y, specs_of(["demo_request"], categorical=("source",))


def test_win_rates_with_and_without_an_event_and_per_level() -> None:
    features, y, groups = hand_built()
    rates = signal_win_rates(features, y, groups).set_index(["signal", "short_level"])
    demo_with, demo_without = rates.loc[("demo_request", "with")], rates.loc[("demo_request", "without")]
    assert demo_with["win_rate"] == pytest.approx(3 / 4) and demo_with["n"] == 4
    assert demo_without["win_rate"] == pytest.approx(1 / 6) and demo_without["n"] == 6
    assert demo_with["overall_win_rate"] == pytest.approx(0.4)
    assert demo_with["lift"] == pytest.approx(0.75 / 0.4)
    assert rates.loc[("source", "webinar"), "win_rate"] == pytest.approx(3 / 5)
    assert rates.loc[("source", "ads"), "win_rate"] == pytest.approx(1 / 5)
    assert demo_with["sentence"] == "Leads with a 'demo request' in the last 30 days: 75% won vs 40% overall"
    assert rates.loc[("source", "webinar"), "sentence"] == "Source = webinar: 60% won vs 40% overall"


# ------------------------------------------------------------------------------------- importances
def test_contributions_are_summed_within_a_signal_before_taking_magnitudes() -> None:
    # Two features of one signal that always cancel out: the signal as a whole moves nothing.
    contributions = pd.DataFrame(
        {
            "a_count_7d": [1.0, -2.0, 3.0],
            "a_count_30d": [-1.0, 2.0, -3.0],
            "b": [0.5, -0.5, 1.0],
            BASE_VALUE: 9.0,
        }
    )
    groups = specs_of(["a"], numeric=("b",), windows=(7, 30))
    table = contribution_importance_by_signal(contributions, groups, n_bootstrap=50).set_index("signal")
    assert set(table.index) == {"a", "b"}
    assert table.loc["a", "mean_abs_contribution"] == pytest.approx(0.0)
    assert table.loc["b", "mean_abs_contribution"] == pytest.approx(2.0 / 3.0)
    assert table.loc["b", "ci_low"] <= table.loc["b", "mean_abs_contribution"] <= table.loc["b", "ci_high"]
    assert table["share"].sum() == pytest.approx(1.0)


def test_permutation_importance_credits_only_the_signal_the_model_uses() -> None:
    rng = np.random.default_rng(0)
    n = 400
    X = pd.DataFrame({"a_count_30d": rng.normal(size=n), "a_days_since_last": rng.normal(size=n)})
    X["b"] = rng.normal(size=n)
    y = (X["a_count_30d"] + rng.normal(scale=0.5, size=n) > 0).to_numpy()
    groups = specs_of(["a"], numeric=("b",))
    table = permutation_importance_by_signal(ColumnModel("a_count_30d"), X, y, groups, n_repeats=4, seed=1)
    drops = table.set_index("signal")
    assert drops.loc["a", "auc_drop"] > 0.2
    assert drops.loc["b", "auc_drop"] == 0.0 and drops.loc["b", "auc_drop_std"] == 0.0
    assert drops.loc["a", "n_features"] == 2
    assert list(table["signal"]) == ["a", "b"]  # largest drop first


def test_grouped_importances_cover_every_signal_of_a_trained_model(
    trained: tuple[SimulationResult, TrainingOutcome],
) -> None:
    _, outcome = trained
    bundle = outcome.bundle
    groups = bundle.pipeline[0].feature_specs()
    X = bundle.pipeline[:-1].transform(outcome.test_batch)
    model = bundle.pipeline[-1]
    permutation = permutation_importance_by_signal(
        model, X, outcome.y_test, groups, n_repeats=2, max_rows=1500
    )
    contributions = contribution_importance_by_signal(model.explain(X.iloc[:1500]).frame(), groups)
    assert set(permutation["signal"]) == {s.signal for s in groups} == set(contributions["signal"])
    assert permutation["auc_drop"].iloc[0] > 0.005  # the strongest signal matters measurably
    assert (contributions["ci_low"] <= contributions["mean_abs_contribution"] + 1e-12).all()
    assert (contributions["mean_abs_contribution"] <= contributions["ci_high"] + 1e-12).all()
    assert permutation["base_auc"].iloc[0] > 0.7


# ----------------------------------------------------------------------------------------- effects
def test_partial_dependence_follows_the_model_and_shows_never_separately() -> None:
    X = pd.DataFrame({"a_days_since_last": [1.0, 2.0, 3.0, np.nan, np.nan], "b": [0.0] * 5})
    curve = partial_dependence(ColumnModel("a_days_since_last"), X.fillna({"b": 0.0}), "a_days_since_last")
    known = curve[~curve["missing"]]
    assert list(known["value"]) == [1.0, 2.0, 3.0]
    assert np.all(np.diff(known["mean_score"]) > 0)  # the stand-in model rises with the value
    assert known["mean_score"].iloc[0] == pytest.approx(100 / (1 + np.exp(-1.0)))
    assert curve["missing"].sum() == 1 and curve["share"].iloc[-1] == pytest.approx(0.4)
    with pytest.raises(ValueError, match="not a feature"):
        partial_dependence(ColumnModel("b"), X, "nope")


# ---------------------------------------------------------------------------------------- ripening
def test_ripening_curves_average_by_age_and_final_outcome() -> None:
    created = pd.Timestamp("2025-01-01", tz="UTC")
    snapshots = pd.DataFrame(
        {
            "lead_id": ["W", "W", "L", "L", "O"],
            "cutoff": created + pd.to_timedelta([0, 7, 0, 7, 0], unit="D"),
            "created_at": [created] * 5,
        }
    )
    outcomes = pd.DataFrame({"lead_id": ["W", "L", "O"], "status": ["won", "lost", "open"]})
    curves = ripening_curves(snapshots, [0.1, 0.5, 0.05, 0.02, 0.9], outcomes, min_leads=1)
    table = curves.set_index(["outcome", "age_days"])["mean_score"]
    assert table.loc[("won", 0.0)] == pytest.approx(10.0) and table.loc[("won", 7.0)] == pytest.approx(50.0)
    assert table.loc[("lost", 7.0)] == pytest.approx(2.0)
    assert "open" not in set(curves["outcome"])


# ---------------------------------------------------------------------------------------- backtest
def test_backtest_scores_open_leads_and_looks_up_what_happened(
    trained: tuple[SimulationResult, TrainingOutcome],
) -> None:
    simulation, outcome = trained
    dataset = simulation.dataset
    result = backtest(outcome.bundle, dataset)
    assert result.as_of >= pd.Timestamp(outcome.split.test_start)
    leads = dataset.leads.set_index("lead_id")
    outcomes = dataset.outcomes.set_index("lead_id")
    scored = result.leads.set_index("lead_id")
    assert (leads.loc[scored.index, "created_at"] < result.as_of).all()
    closed = outcomes.loc[scored.index, "closed_at"]
    assert not (closed <= result.as_of).any()  # nobody closed before the date
    end = result.as_of + pd.Timedelta(days=result.horizon_days)
    won = (outcomes.loc[scored.index, "status"].astype(str) == "won") & (closed <= end)
    assert ((scored["what_happened"] == "won") == won.to_numpy()).all()
    assert (scored["handover"] == (scored["readiness"] >= card_threshold(outcome.bundle))).all()
    by_handover = result.by_group("handover").set_index("handover")
    assert by_handover["leads"].sum() == len(scored)
    # The model's ripe leads are won far more often than the ones it keeps in nurture.
    assert by_handover.loc[True, "win_rate"] > 2 * by_handover.loc[False, "win_rate"]


def test_backtest_reads_profile_fields_with_history_as_of_its_date(
    trained: tuple[SimulationResult, TrainingOutcome],
) -> None:
    simulation, outcome = trained
    dataset = simulation.dataset
    plain = backtest(outcome.bundle, dataset)
    column = dataset.metadata.categorical_columns[0]
    levels = [str(level) for level in dataset.leads[column].cat.categories]
    # Every lead's field was another level until the day after the backtest date.
    earlier = (
        dataset.leads[column].astype(str).map(lambda level: levels[(levels.index(level) + 1) % len(levels)])
    )
    history = pd.DataFrame(
        {
            "lead_id": dataset.leads["lead_id"],
            "field": column,
            "old_value": earlier,
            "new_value": dataset.leads[column].astype(str),
            "changed_at": plain.as_of + pd.Timedelta(days=1),
        }
    )
    with_history = replace(dataset, profile_history=history)
    as_then = replace(dataset, leads=dataset.leads.assign(**{column: earlier.astype("category")}))
    scored = backtest(outcome.bundle, with_history, plain.as_of).leads
    expected = backtest(outcome.bundle, as_then, plain.as_of).leads
    assert np.allclose(scored["readiness"], expected["readiness"])
    assert not np.allclose(scored["readiness"], plain.leads["readiness"])  # the current values differ

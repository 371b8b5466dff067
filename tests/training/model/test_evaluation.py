"""Evaluation metrics on hand-computable examples, bootstrap CIs, slices, the oracle, and the plots."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from training.model.evaluation import (
    EvaluationResult,
    evaluate,
    expected_calibration_error,
    lift_top_decile,
    summary_table,
    threshold_metrics,
)
from training.model.oracle import match_ground_truth, oracle_auc
from training.model.plots import (
    calibration_figure,
    decile_lift,
    lift_figure,
    roc_figure,
    save_evaluation_plots,
)
from training.model.ranking import average_precision, roc_auc


def test_ece_by_hand() -> None:
    # Bin [0.1, 0.2): p = 0.1, 0.1 with outcomes 0, 1 -> |0.5 - 0.1| * 2/4 = 0.2
    # Bin [0.9, 1.0]: p = 0.9, 1.0 with outcomes 1, 1 -> |1 - 0.95| * 2/4 = 0.025
    y = np.array([0, 1, 1, 1])
    p = np.array([0.1, 0.1, 0.9, 1.0])
    assert expected_calibration_error(y, p) == pytest.approx(0.225)
    assert expected_calibration_error([0, 1], [0.0, 1.0]) == pytest.approx(0.0)


def test_lift_top_decile_by_hand() -> None:
    # 20 snapshots, 4 won (base rate 0.2); the top 2 scores: one won -> rate 0.5 -> lift 2.5.
    y = np.zeros(20, dtype=int)
    y[[0, 5, 6, 7]] = 1
    score = np.linspace(1.0, 0.0, 20)  # snapshot 0 scores highest, then 1, ...
    assert lift_top_decile(y, score) == pytest.approx(2.5)


def test_confusion_matrix_and_acceptance_rate_by_hand() -> None:
    y = np.array([1, 0, 1, 0, 0, 1])
    p = np.array([0.9, 0.8, 0.4, 0.3, 0.5, 0.1])
    at = threshold_metrics(y, p, threshold=0.5)  # hands over 0.9 (won), 0.8 (lost), 0.5 (lost)
    assert (at.tn, at.fp, at.fn, at.tp) == (1, 2, 2, 1)
    assert at.acceptance_rate == pytest.approx(1 / 3)
    assert at.handover_rate == pytest.approx(0.5)
    assert at.won_coverage == pytest.approx(1 / 3)
    assert math.isnan(threshold_metrics(y, p, threshold=0.95).acceptance_rate)


def test_ranking_metrics_match_scikit_learn_with_ties() -> None:
    rng = np.random.default_rng(0)
    y = rng.random(300) < 0.3
    score = np.round(rng.random(300) + 0.3 * y, 1)  # many ties
    assert roc_auc(y, score) == pytest.approx(roc_auc_score(y, score), abs=1e-12)
    assert average_precision(y, score) == pytest.approx(average_precision_score(y, score), abs=1e-12)


def test_evaluate_reports_all_metrics_with_bootstrap_ci() -> None:
    rng = np.random.default_rng(1)
    y = rng.random(2000) < 0.2
    p = np.clip(0.2 + 0.3 * (y - 0.2) + rng.normal(0, 0.15, 2000), 0, 1)
    result = evaluate(y, p, threshold=0.3, n_bootstrap=200, seed=7)
    flat = result.to_dict()
    assert flat["roc_auc_ci_low"] < flat["roc_auc"] < flat["roc_auc_ci_high"]
    assert flat["pr_auc_ci_low"] < flat["pr_auc"] < flat["pr_auc_ci_high"]
    assert flat["roc_auc_ci_high"] - flat["roc_auc_ci_low"] < 0.1
    assert flat["brier"] == pytest.approx(np.mean((p - y) ** 2))
    assert flat["tp"] + flat["fp"] + flat["tn"] + flat["fn"] == 2000
    assert flat["acceptance_rate"] == pytest.approx(y[p >= 0.3].mean())
    # The same seed gives the same CI.
    again = evaluate(y, p, threshold=0.3, n_bootstrap=200, seed=7)
    assert again.roc_auc_ci == result.roc_auc_ci


def test_slices_mark_small_and_single_outcome_groups() -> None:
    y = np.array([1, 0] * 30 + [0] * 60 + [1, 0, 1])
    p = np.linspace(0.1, 0.9, y.size)
    source = ["web"] * 60 + ["fair"] * 60 + ["podcast"] * 3
    slices = pd.DataFrame({"lead_source": pd.Categorical(source)})
    result = evaluate(y, p, threshold=0.5, slices=slices, n_bootstrap=0, min_slice_size=20)
    table = result.slices.set_index("value")
    assert table.loc["web", "n"] == 60 and not table.loc["web", "skipped"]
    auc = table["roc_auc"].astype(float)
    assert np.isfinite(auc["web"])
    assert math.isnan(auc["fair"]) and "single outcome" in str(table.loc["fair", "note"])
    assert table.loc["podcast", "skipped"] and "min_slice_size" in str(table.loc["podcast", "note"])
    flat = result.to_dict(include_slices=True)
    assert "slice.lead_source.web.roc_auc" in flat
    assert not any(key.startswith("slice.lead_source.podcast") for key in flat)


def test_single_outcome_overall_gives_nan_and_a_note() -> None:
    result = evaluate(np.zeros(50), np.linspace(0, 1, 50), threshold=0.5, n_bootstrap=50)
    assert math.isnan(result.roc_auc) and math.isnan(result.roc_auc_ci[0])
    assert result.notes and "one outcome" in result.notes[0]


def test_summary_table_puts_scorers_side_by_side() -> None:
    y = np.array([0, 1] * 50)
    good = evaluate(y, np.where(y == 1, 0.8, 0.2), threshold=0.5, n_bootstrap=0)
    bad = evaluate(y, np.full(100, 0.5), threshold=0.5, n_bootstrap=0)
    table = summary_table({"model": good, "points": bad})
    assert list(table.index) == ["model", "points"]
    assert table.loc["model", "roc_auc"] == 1.0 and table.loc["points", "roc_auc"] == 0.5
    assert isinstance(good, EvaluationResult)


def test_oracle_auc_matches_exact_and_asof_rows() -> None:
    ts = pd.Timestamp("2024-01-01", tz="UTC")
    truth = pd.DataFrame(
        {
            "lead_id": ["a", "a", "b", "b", "c"],
            "cutoff": [ts, ts + pd.Timedelta(days=7), ts, ts + pd.Timedelta(days=7), ts],
            "ripeness": [0.1, 0.2, 0.3, 0.4, 0.5],
            "p_win_90d": [0.1, 0.9, 0.2, 0.3, 0.6],
        }
    )
    snapshots = pd.DataFrame(
        {
            "lead_id": ["a", "b", "c", "a"],
            # b and the second a are off-grid: they take their lead's latest truth at or before the cutoff.
            "cutoff": [ts, ts + pd.Timedelta(days=10), ts + pd.Timedelta(days=3), ts + pd.Timedelta(days=8)],
        }
    )
    np.testing.assert_allclose(match_ground_truth(snapshots, truth), [0.1, 0.3, 0.6, 0.9])
    assert oracle_auc(truth, snapshots, np.array([0, 0, 1, 1])) == 1.0
    assert oracle_auc(truth, snapshots, np.array([1, 1, 0, 0])) == 0.0


def test_plots_have_titles_and_axis_labels(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    y = rng.random(500) < 0.3
    scores = {
        "model": np.clip(0.3 + 0.4 * (y - 0.3) + rng.normal(0, 0.2, 500), 0, 1),
        "points": rng.random(500),
    }
    for figure in (roc_figure(y, scores), calibration_figure(y, scores["model"]), lift_figure(y, scores)):
        for ax in figure.axes:
            assert ax.get_ylabel()
        assert figure.axes[0].get_title()
        assert figure.axes[-1].get_xlabel()
    paths = save_evaluation_plots(y, scores, tmp_path / "plots")
    assert set(paths) == {"roc", "calibration", "lift"}
    for path in paths.values():
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_decile_lift_by_hand() -> None:
    y = np.zeros(100, dtype=int)
    y[:10] = 1  # the ten highest scores are all the wins
    lift = decile_lift(y, np.linspace(1, 0, 100))
    assert lift[0] == pytest.approx(10.0)
    assert np.all(lift[1:] == 0)


def test_paired_auc_difference_is_exact_and_its_interval_is_paired() -> None:
    from training.model.ranking import paired_auc_difference, roc_auc

    rng = np.random.default_rng(5)
    y = rng.random(3000) < 0.2
    strong = y + rng.normal(0, 0.8, 3000)
    weak = y + rng.normal(0, 1.2, 3000)
    difference, low, high = paired_auc_difference(y, strong, weak, n_bootstrap=200, seed=1)
    assert difference == pytest.approx(roc_auc(y, strong) - roc_auc(y, weak))
    assert 0 < low < difference < high
    assert paired_auc_difference(y, strong, strong, n_bootstrap=50) == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="must match"):
        paired_auc_difference(y, strong, weak[:-1])

"""The marketing report: every section present, numbers equal to the run's metrics, self-contained HTML."""

from __future__ import annotations

import dataclasses
import html as html_text
import re
from pathlib import Path

import pytest

from training.config import TrainConfig
from training.pipeline import TrainingOutcome, fit_and_evaluate
from training.report.build import SECTION_IDS, write_report
from training.report.data import ReportData, assemble_report_data, rebuild_test_period
from training.report.render import render_report
from training.simulation.simulator import SimulationResult, simulate

SECTIONS_WITH_PLOTS = ("importances", "signals", "effects", "ripening", "quality", "backtest")


@pytest.fixture(scope="module")
def trained() -> tuple[SimulationResult, TrainingOutcome]:
    simulation = simulate(1200, seed=5)
    # A small simulation keeps the test fast; it has fewer than the default 40 won leads per side.
    config = TrainConfig(
        n_bootstrap=20,
        max_snapshots_per_lead=20,
        model={"n_estimators": 150},
        min_positives=10,
        min_negatives=10,
    )
    return simulation, fit_and_evaluate(simulation.dataset, config, ground_truth=simulation.ground_truth)


@pytest.fixture(scope="module")
def report_data(trained: tuple[SimulationResult, TrainingOutcome]) -> ReportData:
    simulation, outcome = trained
    return assemble_report_data(
        outcome.bundle,
        simulation.dataset,
        outcome=outcome,
        max_importance_rows=1000,
        max_contribution_rows=1500,
    )


@pytest.fixture(scope="module")
def html(report_data: ReportData) -> str:
    return render_report(report_data)


def section(html: str, section_id: str) -> str:
    match = re.search(rf'<section id="{section_id}">(.*?)</section>', html, re.DOTALL)
    assert match, f"section {section_id!r} missing"
    return match.group(1)


def shown_metrics(html: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for key, value in re.findall(r'data-metric="([^"]+)">([^<]+)<', html):
        found.setdefault(key, set()).add(value)
    return found


def test_every_section_is_present_in_order_with_its_plots(html: str) -> None:
    positions = [html.index(f'<section id="{section_id}">') for section_id in SECTION_IDS]
    assert positions == sorted(positions)
    for section_id in SECTIONS_WITH_PLOTS:
        images = re.findall(r'<img src="([^"]+)"', section(html, section_id))
        assert images, f"section {section_id!r} has no plot"
        assert all(src.startswith("data:image/png;base64,") for src in images)
    assert len(re.findall(r"<img ", section(html, "quality"))) == 3  # ROC, calibration, lift


def test_report_is_self_contained(html: str) -> None:
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "<link" not in html and "<script" not in html
    assert html.startswith("<!DOCTYPE html>")


def test_numbers_match_the_training_run(html: str, trained: tuple[SimulationResult, TrainingOutcome]) -> None:
    _, outcome = trained
    shown = shown_metrics(html)
    for name, result in outcome.evaluations.items():
        assert shown[f"{name}.roc_auc"] == {f"{result.roc_auc:.3f}"}
        assert shown[f"{name}.acceptance_rate"] == {f"{result.at_threshold.acceptance_rate * 100:.1f}%"}
    assert f"{outcome.oracle_auc:.3f}" in section(html, "quality")
    threshold = f"{outcome.threshold.threshold * 100:.0f}"
    assert "hand-over threshold (readiness score 0-100)" in section(html, "summary")
    assert f"<b>{threshold}</b>" in section(html, "summary")


def test_signals_are_named_in_marketing_words_not_column_names(
    html: str, trained: tuple[SimulationResult, TrainingOutcome]
) -> None:
    _, outcome = trained
    text = html_text.unescape(re.sub(r'src="[^"]+"', "", html))
    assert "Overall engagement" in section(text, "importances")
    for feature in outcome.bundle.card.feature_names:
        if "_" in feature:
            assert feature not in text, f"column name {feature!r} shown in the report"
    assert re.search(r"Leads with an? '[a-z ]+' in the last 30 days: \d+% won vs \d+% overall", text)


def test_rebuilt_test_period_reproduces_the_logged_metrics(
    trained: tuple[SimulationResult, TrainingOutcome],
) -> None:
    simulation, outcome = trained
    rebuilt = rebuild_test_period(outcome.bundle, simulation.dataset)
    assert rebuilt.rebuilt and len(rebuilt.y) == len(outcome.y_test)
    assert (rebuilt.y == outcome.y_test).all()
    for name, result in outcome.evaluations.items():
        assert rebuilt.evaluations[name].roc_auc == pytest.approx(result.roc_auc, abs=1e-12)
        assert rebuilt.evaluations[name].at_threshold == result.at_threshold


def test_leakage_warnings_are_shown(html: str, report_data: ReportData) -> None:
    assert "found no input that gives the outcome away" in section(html, "leakage")
    warning = {
        "table": "leads",
        "column": "deal_stage",
        "kind": "one_outcome_only",
        "detail": "only won leads",
    }
    flagged = render_report(dataclasses.replace(report_data, leakage_warnings=[warning]))
    assert "leads.deal_stage" in section(flagged, "leakage") and "only won leads" in section(
        flagged, "leakage"
    )


def test_write_report_replaces_the_file_atomically(tmp_path: Path) -> None:
    path = write_report("<html>one</html>", tmp_path / "out")
    assert path == tmp_path / "out" / "report.html" and path.read_text() == "<html>one</html>"
    write_report("<html>two</html>", tmp_path / "out")
    assert path.read_text() == "<html>two</html>"
    assert [p.name for p in path.parent.iterdir()] == ["report.html"]

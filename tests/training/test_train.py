"""The training entry point end to end: data on disk -> MLflow run -> registry, and the CLI around it.

One small simulated dataset and one temporary MLflow store per module keep this fast; each test
states the behaviour the issue asks for (refusals, champion/challenger, an interrupted run, the
behavioural model checks).
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from serving.cli import app
from training import train as train_module
from training.config import TrainConfig, load_train_config
from training.data.io import load_dataset
from training.model.split import InsufficientDataError
from training.pipeline import MODEL, POINTS, fit_and_evaluate
from training.registry import CHALLENGER, current_champion, load_bundle
from training.scoring import score_records
from training.train import TrainingRun, train

FAST = TrainConfig(n_bootstrap=50)


@pytest.fixture(scope="module")
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    uri = f"sqlite:///{tmp_path_factory.mktemp('mlflow')}/mlflow.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        yield uri


@pytest.fixture(scope="module")
def first_run(simulated_dir: Path, tracking_uri: str) -> TrainingRun:
    return train(simulated_dir, FAST, tracking_uri=tracking_uri)


def test_first_run_is_logged_registered_and_promoted(first_run: TrainingRun, tracking_uri: str) -> None:
    assert first_run.promoted, first_run.decision.reason
    assert current_champion("lead-maturity") == first_run.version
    run = MlflowClient(tracking_uri).get_run(first_run.run_id)
    model_auc = first_run.outcome.evaluations[MODEL].roc_auc
    assert run.data.metrics["model.roc_auc"] == pytest.approx(model_auc)
    assert run.data.metrics["oracle.roc_auc"] == pytest.approx(first_run.outcome.oracle_auc)
    assert {"logistic_baseline.roc_auc", "points_baseline.roc_auc", "model.ece"} <= set(run.data.metrics)
    # The verdicts on the test period, and the policy behind them stored with the model.
    assert {"decision.ripe_share", "decision.rule_share", "decision.hand_raiser_below_n"} <= set(
        run.data.metrics
    )
    assert first_run.outcome.bundle.card.decision == first_run.outcome.decision
    assert run.data.params["horizon_days"] == "90"
    assert len(run.data.params["data_fingerprint"]) == 16
    artifacts = {a.path for a in MlflowClient(tracking_uri).list_artifacts(first_run.run_id)}
    assert {"plots", "run_report.json", "model_card.json"} <= artifacts
    plots = {a.path for a in MlflowClient(tracking_uri).list_artifacts(first_run.run_id, "plots")}
    assert plots == {"plots/roc.png", "plots/calibration.png", "plots/lift.png"}
    # The run report carries each numeric profile column's share of test values outside its training range.
    report_path = MlflowClient(tracking_uri).download_artifacts(first_run.run_id, "run_report.json")
    ranges = json.loads(Path(report_path).read_text())["drift"]["out_of_range"]
    numeric = first_run.outcome.test_batch.numeric_columns
    assert numeric and {r["column"] for r in ranges} == set(numeric)
    assert all(0.0 <= r["share"] <= 1.0 and r["train_min"] <= r["train_max"] for r in ranges)


def test_model_beats_chance_and_records_its_threshold(first_run: TrainingRun) -> None:
    outcome = first_run.outcome
    assert outcome.evaluations[MODEL].roc_auc > 0.8
    assert outcome.oracle_auc is not None and outcome.evaluations[MODEL].roc_auc <= outcome.oracle_auc + 0.02
    card = outcome.bundle.card
    assert card.threshold is not None and card.threshold.policy is not None
    assert card.threshold.value == pytest.approx(1000 / 6000)
    assert card.threshold.policy.kind == "expected_value"
    assert POINTS in outcome.evaluations and card.config["horizon_days"] == 90


def test_registered_model_scores_like_the_trained_bundle(first_run: TrainingRun, simulated_dir: Path) -> None:
    loaded = load_bundle(f"models:/lead-maturity/{first_run.version}")
    records = _records(simulated_dir, n=20)
    expected = score_records(first_run.outcome.bundle, records)
    got = score_records(loaded, records)
    pd.testing.assert_frame_equal(expected, got)


def test_the_server_reports_the_version_of_a_numbered_uri(first_run: TrainingRun) -> None:
    from serving.model_holder import load_model

    loaded = load_model(f"models:/lead-maturity/{first_run.version}")
    # It once read "unknown": only alias URIs were resolved to their version.
    assert loaded.scorer.version == str(first_run.version)


def test_the_api_shape_with_a_nested_profile_scores_the_same(
    first_run: TrainingRun, simulated_dir: Path
) -> None:
    flat = _records(simulated_dir, n=10)
    profile_fields = set(first_run.outcome.bundle.card.profile_columns)
    nested = [
        {
            **{key: value for key, value in record.items() if key not in profile_fields},
            "profile": {key: record[key] for key in profile_fields},
        }
        for record in flat
    ]
    loaded = mlflow.pyfunc.load_model(f"models:/lead-maturity/{first_run.version}")
    expected = score_records(first_run.outcome.bundle, flat)
    pd.testing.assert_frame_equal(loaded.predict(pd.DataFrame(nested)), expected)


def test_a_deliberately_worse_model_becomes_challenger_but_not_champion(
    first_run: TrainingRun, simulated_dir: Path, tracking_uri: str
) -> None:
    # One tiny tree on profile features only (no selection: the trees are served whatever they score):
    # far worse than the baselines and the champion.
    worse = TrainConfig(
        n_bootstrap=50,
        selection={"candidates": ["trees"]},
        model={"n_estimators": 1, "num_leaves": 2, "early_stopping_rounds": None},
        features={"windows_days": (7,), "min_event_type_count": 10**9},
    )
    run = train(simulated_dir, worse, tracking_uri=tracking_uri)
    assert not run.promoted
    assert "not promoted" in run.decision.reason and "vs logistic_baseline" in run.decision.reason
    assert current_champion("lead-maturity") == first_run.version
    client = MlflowClient(tracking_uri)
    assert str(client.get_model_version_by_alias("lead-maturity", CHALLENGER).version) == str(run.version)


def test_an_interrupted_run_never_changes_the_champion(
    first_run: TrainingRun, simulated_dir: Path, tracking_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    champion = current_champion("lead-maturity")

    def crash(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt("interrupted while logging the model")

    monkeypatch.setattr(train_module, "log_bundle", crash)
    with pytest.raises(KeyboardInterrupt):
        train(simulated_dir, FAST, tracking_uri=tracking_uri)
    assert current_champion("lead-maturity") == champion
    failed = mlflow.search_runs(filter_string="attributes.status = 'FAILED'", output_format="list")
    assert failed, "the interrupted run is recorded as failed"


def test_too_few_positives_is_refused_with_the_counts(simulated_dir: Path) -> None:
    dataset, _ = load_dataset(simulated_dir)
    with pytest.raises(InsufficientDataError) as refused:
        fit_and_evaluate(dataset, TrainConfig(min_positives=10**6))
    message = str(refused.value)
    assert "positive" in message and "1000000" in message.replace(",", "")


def test_buying_signals_raise_the_score_and_the_lead_id_does_not_matter(
    first_run: TrainingRun, simulated_dir: Path
) -> None:
    bundle = first_run.outcome.bundle
    base = _records(simulated_dir, n=40)
    with_demo = [_with_event(record, "demo_request") for record in base]
    with_pricing = [_with_event(record, "pricing_page_view") for record in base]
    renamed = [{**record, "lead_id": f"someone-else-{i}"} for i, record in enumerate(base)]
    score = score_records(bundle, base)["readiness"].to_numpy()
    assert (score_records(bundle, with_demo)["readiness"].to_numpy() >= score - 1e-12).mean() >= 0.95
    assert score_records(bundle, with_demo)["readiness"].mean() > score.mean()
    assert score_records(bundle, with_pricing)["readiness"].mean() > score.mean()
    assert (score_records(bundle, renamed)["readiness"].to_numpy() == score).all()


def test_cli_train_prints_the_summary_and_refuses_bad_data_cleanly(
    simulated_dir: Path, tracking_uri: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app, ["train", "--data", str(simulated_dir), "--config", str(_fast_config(tmp_path))]
    )
    assert result.exit_code == 0, result.output
    for expected in (
        "model",
        "logistic",
        "points",
        "oracle",
        "threshold",
        "registered",
        "champion",
    ):
        assert expected in result.output, result.output
    # The young leads' ranking beside the headline: old leads that never close are easy to rank.
    assert "Among leads at most 90 days old at the look: ROC-AUC" in " ".join(result.output.split())
    # Written for a person: no logging call sites, no MLflow chatter, where the report went.
    assert not re.search(r"\w+\.py:\d+", result.output), result.output
    assert "Successfully registered" not in result.output and "Created version" not in result.output
    assert "report.html" in " ".join(result.output.split())
    assert "✓" in result.output  # finished stages, with their durations
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "leads.csv").write_text("lead_id,created_at\nA,2024-01-01\nA,2024-01-02\n")
    (broken / "outcomes.csv").write_text("lead_id,status\nA,won\n")
    refused = runner.invoke(app, ["train", "--data", str(broken)])
    assert refused.exit_code == 2
    assert "leads.csv, row 2, column lead_id" in refused.output
    assert "Traceback" not in refused.output


def test_training_config_refuses_unknown_keys(tmp_path: Path) -> None:
    path = tmp_path / "train.toml"
    path.write_text("horizon_days = 60\nhorizn = 3\n")
    with pytest.raises(ValueError, match=r"unknown key.*horizn"):
        load_train_config(path)
    path.write_text("horizon_days = 60\n[threshold]\nkind = 'capacity'\ncapacity_per_week = 5\n")
    config = load_train_config(path)
    assert config.horizon_days == 60 and config.threshold.capacity_per_week == 5


def _fast_config(directory: Path) -> Path:
    path = directory / "fast.toml"
    path.write_text("n_bootstrap = 50\n")
    return path


def _records(data_dir: Path, n: int) -> list[dict]:
    """API-style records for the first ``n`` leads, as seen 100 days after creation."""
    leads = pd.read_parquet(data_dir / "leads.parquet").head(n)
    events = pd.read_parquet(data_dir / "events.parquet")
    records = []
    for lead in json.loads(leads.to_json(orient="records", date_format="iso")):
        as_of = pd.Timestamp(lead["created_at"]) + pd.Timedelta(days=100)
        mine = events[(events["lead_id"] == lead["lead_id"]) & (events["occurred_at"] < as_of)]
        lead["as_of"] = as_of.isoformat()
        lead["events"] = [
            {"occurred_at": t.isoformat(), "event_type": str(kind)}
            for t, kind in zip(mine["occurred_at"], mine["event_type"], strict=True)
        ]
        records.append(lead)
    return records


def _with_event(record: dict, event_type: str) -> dict:
    occurred = pd.Timestamp(record["as_of"]) - pd.Timedelta(days=1)
    return {
        **record,
        "events": [*record["events"], {"occurred_at": occurred.isoformat(), "event_type": event_type}],
    }


def test_cli_promote_rollback_and_report_work_on_the_registry(
    first_run: TrainingRun, simulated_dir: Path, tracking_uri: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    other = train(simulated_dir, FAST, tracking_uri=tracking_uri, on_stage=None)
    champion = current_champion("lead-maturity")
    target = other.version if champion != other.version else first_run.version
    promoted = runner.invoke(app, ["promote", str(target)])
    assert promoted.exit_code == 0, promoted.output
    assert current_champion("lead-maturity") == target
    rolled = runner.invoke(app, ["rollback"])
    assert rolled.exit_code == 0, rolled.output
    assert current_champion("lead-maturity") == champion
    unknown = runner.invoke(app, ["promote", "999"])
    assert unknown.exit_code == 2 and "no version 999" in unknown.output

    report = runner.invoke(app, ["report", "--out", str(tmp_path / "report")])
    assert report.exit_code == 0, report.output
    html = (tmp_path / "report" / "report.html").read_text()
    assert '<section id="importances"' in html and '<section id="quality"' in html


def test_summary_names_only_the_baselines_that_ran(first_run: TrainingRun) -> None:
    from rich.console import Console

    from training.cli import training_summary

    def rendered(run: TrainingRun) -> str:
        console = Console(width=200, record=True, file=io.StringIO())
        console.print(training_summary(run))
        return console.export_text()

    assert "points per event type" in rendered(first_run)
    evaluations = {k: v for k, v in first_run.outcome.evaluations.items() if k != "points_baseline"}
    comparisons = {k: v for k, v in first_run.outcome.comparisons.items() if k != "points_baseline"}
    outcome = dataclasses.replace(first_run.outcome, evaluations=evaluations, comparisons=comparisons)
    # The promotion checks are per baseline too: a run without the points baseline has no check for it.
    checks = tuple(check for check in first_run.decision.checks if "points" not in check.name)
    decision = dataclasses.replace(first_run.decision, checks=checks)
    text = rendered(dataclasses.replace(first_run, outcome=outcome, decision=decision))
    assert "points" not in text and "logistic regression on the same features" in text


def test_report_html_is_readable_per_umask(tmp_path: Path) -> None:
    from training.report.build import write_report

    previous = os.umask(0o022)
    try:
        path = write_report("<html></html>", tmp_path)
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == 0o644


def test_the_run_records_its_target_and_the_late_wins(first_run: TrainingRun, tracking_uri: str) -> None:
    from rich.console import Console

    from training.cli import training_summary

    run = MlflowClient(tracking_uri).get_run(first_run.run_id)
    assert run.data.params["target"] == "won" and run.data.params["target_date_column"] == "closed_at"
    assert run.data.params["horizon_days"] == "90"
    counts = first_run.outcome.snapshot_counts
    assert run.data.metrics["snapshots.late_positive_leads"] == counts["late_positive_leads"] > 0
    assert any(
        f"{counts['late_positive_leads']:,} leads won after the 90-day horizon" in n
        for n in first_run.outcome.notes
    )
    assert first_run.outcome.bundle.card.config["target"] == {"kind": "won", "horizon_days": None}
    assert first_run.outcome.bundle.card.target == "won"
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(training_summary(first_run))
    text = console.export_text()
    assert "target" in text and "won within 90 days (closed_at)" in text
    # The decision the API will give: what ripe means, the learnt rules and the test-period figures.
    policy, figures = first_run.outcome.decision, first_run.outcome.bundle.card.metrics["decision"]
    assert policy is not None
    assert "Decision (what the API answers)" in text
    assert f"chance of won within 90 days (closed_at) if handed over now >= {policy.threshold:.3f}" in text
    assert policy.hand_raiser_calibration.basis[:60] in " ".join(text.split())
    assert f"(n={int(figures['hand_raiser_above_n']):,})" in text
    assert "leads won after the 90-day horizon were labelled not-won" in text
    assert 'data-target="won">won within 90 days (closed_at)</b>' in (
        first_run.outcome.bundle.report_html or ""
    )

"""The training entry point: load data, fit and evaluate, log to MLflow, register, maybe promote.

This is the MLflow edge of training (``training.pipeline`` does the work and logs nothing). The
champion alias moves only at the very end, after the new version is fully logged and registered, so a
failed or interrupted run never changes what the API serves.
"""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import mlflow
import numpy as np
import pandas as pd

from training.bundle import ModelBundle
from training.config import TrainConfig
from training.data.contract import GROUND_TRUTH_FILE, LeadDataset
from training.data.io import find_table, load_dataset
from training.data.validation import Mode, ValidationReport, write_rejects
from training.features.targets import TARGET_DATE_COLUMN, check_target_available
from training.model.plots import save_evaluation_plots
from training.model.ranking import roc_auc
from training.pipeline import MODEL, StageCallback, TrainingOutcome, fit_and_evaluate
from training.pyfunc import log_bundle
from training.registry import (
    AUDIT_BLOCKED_TAG,
    load_champion,
    promote,
    register_candidate,
    version_tags,
)
from training.registry.interrupted import repair_interrupted, run_identity_tags
from training.registry.promotion import (
    ChallengerEvidence,
    ChampionEvidence,
    PromotionDecision,
    decide_promotion,
)
from training.registry.tracking import configure_tracking
from training.report.build import build_report, write_report
from training.scoring import score_batch
from training.snapshot_source import SnapshotSource

#: Where snapshots and features are built: this machine, or a Spark cluster (``training.spark``).
Engine = Literal["local", "spark"]


@dataclass
class TrainingRun:
    """What ``leadripe train`` reports: the outcome, where it was logged and what became champion."""

    outcome: TrainingOutcome
    validation: ValidationReport
    run_id: str
    tracking_uri: str
    version: int
    decision: PromotionDecision
    champion_before: int | None
    champion_auc_on_new_window: float | None
    #: What was cleaned up after earlier interrupted runs (``training.registry.interrupted``), in words.
    repairs: list[str] = field(default_factory=list)

    @property
    def promoted(self) -> bool:
        return self.decision.promote


def train(
    data_dir: Path | str,
    config: TrainConfig | None = None,
    *,
    tracking_uri: str | None = None,
    mode: Mode = "strict",
    encoding: str = "utf-8",
    on_stage: StageCallback | None = None,
    engine: Engine = "local",
) -> TrainingRun:
    """Train on the dataset in ``data_dir`` and register the model; see the module docstring.

    ``engine="spark"``: snapshots and features are built on Spark (``training.spark.source``; ``data_dir``
    may then be any path Spark reads), the model is fit on the driver."""
    config = config or TrainConfig()
    stage = on_stage or (lambda _message: None)
    stage(f"loading and validating {data_dir}")
    snapshots: SnapshotSource | None = None
    if engine == "spark":
        from training.spark.source import load_with_spark

        if mode != "strict":
            raise ValueError(
                "--engine spark validates strictly (rejected rows are not collected): drop --mode"
            )
        dataset, validation, snapshots = load_with_spark(str(data_dir), config, stage)
        outcomes_file: object = f"{str(data_dir).rstrip('/')}/outcomes.parquet"
    else:
        data_dir = Path(data_dir)
        dataset, validation = load_dataset(data_dir, mode=mode, encoding=encoding)
        outcomes_file = find_table(data_dir, "outcomes") or find_table(data_dir, "leads") or data_dir
    # Before anything slow: a target without its date column is refused naming the file it looked in.
    check_target_available(dataset, config.target.kind, str(outcomes_file))
    local_dir = Path(str(data_dir))
    ground_truth = _ground_truth(local_dir) if local_dir.is_dir() else None
    # Before the long part: clean up after runs that were killed, so the registry is whole again.
    uri = configure_tracking(tracking_uri, experiment=config.experiment_name)
    repairs = repair_interrupted(config.model_name, config.experiment_name)
    for message in repairs.messages():
        stage(message)
    outcome = fit_and_evaluate(
        dataset, config, ground_truth=ground_truth, on_stage=stage, snapshots=snapshots
    )
    outcome.bundle.card.data_dir = str(local_dir.resolve()) if local_dir.is_dir() else str(data_dir)
    # The marketing report travels inside the model, so the API serves the one that fits its model.
    outcome.bundle.report_html = build_report(
        outcome.bundle, dataset, outcome=outcome, ground_truth=ground_truth, on_stage=stage
    )

    stage("logging the run to MLflow")
    champion = _champion_evidence(config.model_name, outcome)
    champion_auc = None if champion is None else champion.auc_on_new_window
    model_result = outcome.evaluations[MODEL]
    blocked = outcome.audit.blocking_columns
    challenger = ChallengerEvidence(
        roc_auc=model_result.roc_auc,
        roc_auc_ci=model_result.roc_auc_ci,
        baseline_differences=dict(outcome.comparisons),
        blocking_columns=blocked,
    )
    decision = decide_promotion(challenger, champion, config.promotion)
    # Tagged with this process, so that a later run can tell when this one was killed.
    with mlflow.start_run(run_name=f"train-{dataset.metadata.name}", tags=run_identity_tags()) as run:
        _log_run(dataset, config, outcome, validation, decision, champion_auc)
        info = log_bundle(outcome.bundle)
        version = register_candidate(
            info,
            config.model_name,
            tags={
                "test_roc_auc": f"{outcome.evaluations[MODEL].roc_auc:.4f}",
                "dataset": dataset.metadata.name,
                "data_fingerprint": outcome.bundle.card.data_fingerprint,
                "promotion_decision": decision.reason[:5000],
                "run_id": run.info.run_id,
                AUDIT_BLOCKED_TAG: ", ".join(blocked),
                "audit_accepted": ", ".join(config.audit.accept),
            },
        )
    # Aliases move last: only a fully logged, registered version can become champion.
    if decision.promote:
        promote(config.model_name, version)
    return TrainingRun(
        outcome=outcome,
        validation=validation,
        run_id=run.info.run_id,
        tracking_uri=uri,
        version=version,
        decision=decision,
        champion_before=None if champion is None else champion.version,
        champion_auc_on_new_window=champion_auc,
        repairs=repairs.messages(),
    )


def _ground_truth(data_dir: Path) -> pd.DataFrame | None:
    """The simulator's ground truth, when the data came from it (for the oracle AUC)."""
    path = data_dir / GROUND_TRUTH_FILE
    return pd.read_parquet(path) if path.exists() else None


def _champion_evidence(name: str, outcome: TrainingOutcome) -> ChampionEvidence | None:
    """The current champion measured on the new test window, with its recorded score and its own
    blocking findings; None when there is no champion."""
    loaded = load_champion(name)
    if loaded is None:
        return None
    version, bundle = loaded
    recorded = bundle.card.metrics.get(MODEL, {}).get("roc_auc")
    blocked = [
        c.strip() for c in version_tags(name, version).get(AUDIT_BLOCKED_TAG, "").split(",") if c.strip()
    ]
    return ChampionEvidence(
        version=version,
        auc_on_new_window=_champion_auc(bundle, outcome),
        recorded_auc=None if recorded is None else float(recorded),
        blocking_columns=blocked,
    )


def _champion_auc(champion: ModelBundle, outcome: TrainingOutcome) -> float:
    """The current champion's ROC-AUC on the new test window: the bar a challenger must reach.

    A champion that cannot score the new data at all (other profile columns, another company's
    export, an artifact of an older leadripe) cannot be compared: NaN, and it no longer vetoes the
    challenger (``training.registry.promotion``).
    """
    try:
        scores = score_batch(champion, outcome.test_batch)["readiness"].to_numpy()
    except Exception:  # e.g. a champion pickled by an older leadripe: not comparable, not fatal
        return math.nan
    return roc_auc(outcome.y_test, scores)


def _log_run(
    dataset: LeadDataset,
    config: TrainConfig,
    outcome: TrainingOutcome,
    validation: ValidationReport,
    decision: PromotionDecision,
    champion_auc: float | None,
) -> None:
    card = outcome.bundle.card
    params = {
        "dataset": dataset.metadata.name,
        "time_basis": str(dataset.metadata.time_basis),
        "data_fingerprint": card.data_fingerprint,
        "leads": len(dataset.leads),
        "events": len(dataset.events),
        "target": config.target.kind,
        "target_date_column": TARGET_DATE_COLUMN[config.target.kind],
        "horizon_days": config.horizon_days,
        "snapshot_every_days": config.snapshot_every_days,
        "test_fraction": config.test_fraction,
        "threshold_policy": outcome.threshold.policy.kind,
        "threshold": round(outcome.threshold.threshold, 6),
        **{f"split.{key}": value for key, value in outcome.split.to_dict().items()},
        **{f"model.{key}": value for key, value in outcome.bundle.pipeline[-1].get_params().items()},
        **{f"features.{key}": value for key, value in outcome.bundle.pipeline[0].get_params().items()},
    }
    mlflow.log_params({key: str(value)[:500] for key, value in params.items()})
    metrics: dict[str, float] = {}
    for name, result in outcome.evaluations.items():
        flat = result.to_dict(include_slices=name == MODEL)
        metrics.update({f"{name}.{key}": value for key, value in flat.items()})
    for name, (difference, low, high) in outcome.comparisons.items():
        metrics[f"model_minus_{name}.roc_auc"] = difference
        metrics[f"model_minus_{name}.ci_low"] = low
        metrics[f"model_minus_{name}.ci_high"] = high
    if outcome.oracle_auc is not None:
        metrics["oracle.roc_auc"] = outcome.oracle_auc
        metrics["model.auc_to_oracle_ratio"] = outcome.evaluations[MODEL].roc_auc / outcome.oracle_auc
    if champion_auc is not None:
        metrics["champion.roc_auc_on_new_window"] = champion_auc
    if outcome.selection is not None:
        # The candidates that were not chosen stay visible as comparisons (mean ROC-AUC over the folds).
        for name in outcome.selection.fold_auc:
            metrics[f"selection.{name}.fold_roc_auc"] = outcome.selection.mean_auc(name)
        mlflow.set_tag("leadripe.model_family", outcome.selection.chosen)
    metrics.update({f"snapshots.{key}": float(value) for key, value in outcome.snapshot_counts.items()})
    metrics["validation.rejected_rows"] = float(len(validation.rejects))
    # The verdicts on the test period: share of ripe and of rule verdicts, their win rates, hand-raisers.
    metrics.update({f"decision.{key}": value for key, value in outcome.decision_metrics.items()})
    mlflow.log_metrics({key: value for key, value in metrics.items() if np.isfinite(value)})
    mlflow.set_tags(
        {
            "leadripe.promote": str(decision.promote),
            "leadripe.decision": decision.reason[:5000],
            "leadripe.audit_blocked": ", ".join(outcome.audit.blocking_columns),
            "leadripe.audit_accepted": ", ".join(config.audit.accept),
        }
    )
    with tempfile.TemporaryDirectory(prefix="leadripe-run-") as tmp:
        directory = Path(tmp)
        plots = save_evaluation_plots(outcome.y_test, outcome.test_scores, directory / "plots", primary=MODEL)
        for path in plots.values():
            mlflow.log_artifact(str(path), artifact_path="plots")
        report = {
            "target": {"kind": config.target.kind, "horizon_days": config.horizon_days},
            "audit": outcome.audit.to_dict(),
            "promotion": decision.to_dict(),
            "drift": outcome.drift.to_dict() if outcome.drift is not None else None,
            "notes": outcome.notes,
            "snapshot_counts": outcome.snapshot_counts,
            "split": outcome.split.to_dict(),
            "threshold": outcome.threshold.to_dict(),
            "decision": decision.reason,
            "model_selection": outcome.selection.to_dict() if outcome.selection is not None else None,
            "validation": validation.summary(),
        }
        # Quarantined rows go with the run, never into the (immutable) input directory.
        rejects = write_rejects(validation, directory)
        if rejects is not None:
            mlflow.log_artifact(str(rejects))
        (directory / "run_report.json").write_text(json.dumps(report, indent=2, default=str))
        mlflow.log_artifact(str(directory / "run_report.json"))
        (directory / "model_card.json").write_text(card.to_json())
        mlflow.log_artifact(str(directory / "model_card.json"))
        if outcome.bundle.report_html is not None:
            mlflow.log_artifact(str(write_report(outcome.bundle.report_html, directory)))

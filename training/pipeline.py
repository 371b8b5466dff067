"""Fit and evaluate: dataset -> snapshots -> time split -> features -> model + baselines -> metrics.

Pure library code: it returns values and logs nothing to MLflow (``training.train`` is the edge that
does). Honest numbers by construction: the split is by time with a gap of one horizon, the features
and the threshold are learnt on the training period only, and every metric is measured on the test
period, which the model never saw.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from training.audit import AuditReport, Finding, Severity, audit_dataset, audit_model
from training.audit.exclusions import resolve_exclusions, without_columns
from training.bundle import (
    FindingRecord,
    ModelBundle,
    ModelCard,
    SamplingRecord,
    SplitRecord,
    ThresholdRecord,
    card_metrics,
)
from training.config import TrainConfig
from training.data.contract import KnownAt, LeadDataset, TimeBasis
from training.features.snapshots import LabelledSnapshots, SnapshotBatch, build_snapshots
from training.features.specs import FeatureCatalog
from training.features.transformer import LeadFeatures
from training.model.age_slices import auc_by_lead_age
from training.model.baselines import LogisticBaseline, PointsScoreBaseline
from training.model.decision_learn import learn_decision, test_decision_metrics
from training.model.decision_policy import DecisionPolicy
from training.model.drift import DriftReport, drift_report
from training.model.evaluation import EvaluationResult, evaluate
from training.model.explanation_stats import explanation_stats_for_model
from training.model.family_hint import linear_family_hint
from training.model.fitted_pipeline import build_pipeline
from training.model.handover_check import handover_warning
from training.model.oracle import match_ground_truth, oracle_auc
from training.model.prior_shift import shift_note
from training.model.ranking import paired_auc_difference
from training.model.sampling import SnapshotSample
from training.model.selection import LINEAR, SelectionResult, fit_selected
from training.model.serving_stats import build_serving_stats
from training.model.split import SplitInfo
from training.model.threshold import ThresholdDecision
from training.report.importance_summary import (
    importance_tables,
    summarise_importances,
)
from training.simulation.model import HORIZON_DAYS as TRUTH_HORIZON_DAYS
from training.simulation.simulator import P_WIN_IF_HANDED_OVER
from training.snapshot_source import LocalSnapshots, SnapshotSource, StageCallback, snapshot_policy

MODEL = "model"
LOGISTIC = "logistic_baseline"
POINTS = "points_baseline"
#: Profile columns with more levels than this are not reported as evaluation slices (too thin).
MAX_SLICE_LEVELS = 12
#: Test snapshots at most for the model's contributions in the audit (random subsample beyond).
MAX_AUDIT_ROWS = 5_000


@dataclass
class TrainingOutcome:
    """Everything a training run produced, for the MLflow edge, the CLI summary and notebooks."""

    bundle: ModelBundle
    evaluations: dict[str, EvaluationResult]
    #: calibrated probabilities of every scorer on the test snapshots, aligned with ``y_test``
    test_scores: dict[str, np.ndarray]
    y_test: np.ndarray
    test_batch: SnapshotBatch
    split: SplitInfo
    snapshot_counts: dict[str, int]
    threshold: ThresholdDecision
    #: the leakage audit: ranking of columns, findings, exclusions and accepted columns
    audit: AuditReport
    #: baseline -> (model ROC-AUC minus the baseline's, paired-bootstrap CI low, high)
    comparisons: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    oracle_auc: float | None = None
    notes: list[str] = field(default_factory=list)
    #: how the served model family was chosen on rolling folds of the training period
    selection: SelectionResult | None = None
    #: how the training and test snapshots were sampled by lead ("train", "test"; see training.model.sampling)
    sampling: dict[str, SnapshotSample] = field(default_factory=dict)
    #: base rate and feature-group distribution change between the training and test periods
    drift: DriftReport | None = None
    #: what "ripe" and "gone cold" mean for this model (``training.model.decision_policy``)
    decision: DecisionPolicy | None = None
    #: how the verdicts did on the test period (``training.model.decision_report``)
    decision_metrics: dict[str, float] = field(default_factory=dict)

    @property
    def leakage_warnings(self) -> list[Finding]:
        """The audit's warnings and blocking findings (not the information about exclusions)."""
        return [finding for finding in self.audit.findings if finding.severity != Severity.INFO]


def data_fingerprint(dataset: LeadDataset) -> str:
    """A short content hash of the three tables: the same data gives the same fingerprint."""
    digest = hashlib.sha256()
    for frame in (dataset.leads, dataset.events, dataset.outcomes):
        digest.update(",".join(map(str, frame.columns)).encode())
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()[:16]


def fit_and_evaluate(
    dataset: LeadDataset,
    config: TrainConfig | None = None,
    *,
    ground_truth: pd.DataFrame | None = None,
    on_stage: StageCallback | None = None,
    snapshots: SnapshotSource | None = None,
) -> TrainingOutcome:
    """Train the readiness model and its baselines on ``dataset`` and evaluate them on the test period.

    Raises ``training.model.split.InsufficientDataError`` when the training or test window has too few won or
    not-won leads (``config.min_positives`` / ``min_negatives``). Excluded and ``after_contact`` columns
    (``training.audit.exclusions``) are never features. ``snapshots`` builds the snapshots and feature
    matrices (default ``LocalSnapshots``: on this machine; ``training.spark.source``: on Spark).
    """
    config = config or TrainConfig()
    stage = on_stage or (lambda _message: None)
    row_order = dataset.metadata.time_basis == TimeBasis.ROW_ORDER
    horizon = pd.Timedelta(days=config.horizon_days)
    after_contact = dataset.metadata.columns_known(KnownAt.AFTER_CONTACT)
    exclusions = resolve_exclusions(dataset, config.exclude_columns)
    dataset = without_columns(dataset, list(exclusions))

    stage("auditing the data for leakage")
    data_audit = audit_dataset(dataset, dataset.metadata.profile_columns, config.audit, excluded=exclusions)

    stage("building point-in-time snapshots and labels")
    source = snapshots or LocalSnapshots()
    prepared = source.prepare(dataset, config, stage)
    labelled, train_idx, test_idx = prepared.labelled, prepared.train_idx, prepared.test_idx
    split, sampling = prepared.split, prepared.sampling
    train_batch, test_batch = labelled.batch.take(train_idx), labelled.batch.take(test_idx)
    y_train, y_test = labelled.label[train_idx], labelled.label[test_idx]
    train_time = train_batch.time_key

    stage(f"computing features for {len(train_batch):,} training snapshots")
    features = LeadFeatures(**config.features.estimator_kwargs())
    X_train, X_test = source.features(features, train_batch, y_train, test_batch)

    stage("choosing the readiness model on rolling time folds of the training period")
    catalog = FeatureCatalog(features.feature_specs())
    model, selection = fit_selected(
        X_train,
        y_train,
        train_time,
        train_batch.snapshots["lead_id"],
        None if row_order else horizon,
        config,
        elapsed_features=catalog.elapsed_time_features(),
    )

    # On the held-out training leads, never the test period: the chance of a win if handed over now
    # (at-handover snapshots), the threshold on it, and when a lead has gone cold.
    stage("learning the chance of a win if handed over now, the hand-over threshold and gone-cold")
    learnt = learn_decision(
        config, model, X_train, y_train, train_batch, catalog, out_of_fold=selection.out_of_fold
    )
    threshold, decision = learnt.threshold, learnt.policy
    # Metrics and statistics that rank by readiness use the threshold on that scale (no contact).
    readiness_threshold = decision.estimate.readiness_for(threshold.threshold)

    stage("training the baselines")
    logistic = LogisticBaseline().fit(X_train, y_train)
    baselines: dict[str, Any] = {LOGISTIC: logistic}
    notes: list[str] = [selection.reason, *selection.notes, *prepared.notes]
    if dataset.has_events:
        baselines[POINTS] = PointsScoreBaseline(half_life_days=config.points_half_life_days).fit(
            train_batch, y_train
        )
    else:
        notes.append("no event log: the rule-based points baseline (points per event type) was skipped")
    for part, sample in sampling.items():
        if sample.sampled:
            notes.append(
                f"{part} snapshots sampled: {sample.snapshots_after:,} of {sample.snapshots_before:,} "
                f"({sample.design}; {sample.leads_after:,} of {sample.leads_before:,} leads), each with "
                f"probability {sample.fraction:.4f}, to stay within {sample.budget:,} snapshots; one "
                "probability for all, so what is learnt and measured is unbiased (training.model.sampling)"
            )

    stage(f"evaluating on {len(test_batch):,} test snapshots the model never saw")
    slices = _slice_columns(test_batch)
    # Intervals resample whole leads: a lead's snapshots share one outcome.
    test_leads = test_batch.snapshots["lead_id"].to_numpy()
    # The points baseline reads events itself; every other scorer reads the feature frame.
    test_scores = {MODEL: model.readiness(X_test), LOGISTIC: logistic.predict_proba(X_test)[:, 1]}
    if POINTS in baselines:
        test_scores[POINTS] = baselines[POINTS].predict_proba(test_batch)[:, 1]
    evaluations = {
        name: evaluate(
            y_test,
            proba,
            threshold=readiness_threshold,
            slices=slices,
            n_bootstrap=config.n_bootstrap,
            seed=config.seed,
            groups=test_leads,
        )
        for name, proba in test_scores.items()
    }
    # How sure we are that the model ranks better than each baseline: a paired bootstrap on the same
    # test snapshots (two separate intervals overlapping says little about the difference).
    comparisons = {
        name: paired_auc_difference(
            y_test,
            test_scores[MODEL],
            proba,
            n_bootstrap=config.n_bootstrap,
            seed=config.seed,
            groups=test_leads,
        )
        for name, proba in test_scores.items()
        if name != MODEL
    }
    hint = linear_family_hint(
        selection.chosen,
        config.selection.candidates,
        comparisons[LOGISTIC],
        config.promotion.baseline_tolerance,
    )
    if hint is not None:
        notes.append(hint)
    warning = handover_warning(
        readiness_threshold,
        test_scores[MODEL],
        None if row_order else test_batch.time_key,
        float(np.mean(y_train)),
    )
    if warning is not None:
        notes.append(warning)
    shift = shift_note(
        float(np.mean(y_train)), y_test, test_scores[MODEL], float(np.mean(model.readiness(X_train)))
    )
    if shift is not None:
        notes.append(shift)
    oracle = None
    if ground_truth is not None and not row_order:
        oracle = oracle_auc(ground_truth, test_batch.snapshots, y_test)

    stage("auditing the trained model")
    audit_rows = np.arange(len(X_test))
    if audit_rows.size > MAX_AUDIT_ROWS:
        audit_rows = np.random.default_rng(config.seed).choice(audit_rows, MAX_AUDIT_ROWS, replace=False)
    audit = audit_model(
        data_audit,
        test_auc=evaluations[MODEL].roc_auc,
        contributions=model.explain(X_test.iloc[audit_rows]).frame(X_test.index[audit_rows]),
        feature_groups=dict(features.feature_groups_),
        used_columns=list(train_batch.profile_columns),
        event_types=[str(t) for t in features.event_type_counts_],
        after_contact=after_contact,
        settings=config.audit,
    )
    drift = drift_report(
        X_train,
        X_test,
        y_train,
        y_test,
        dict(features.feature_groups_),
        max_psi=config.audit.drift_psi,
        base_rate_factor=config.audit.drift_base_rate_factor,
        profiles=(train_batch.snapshots, test_batch.snapshots),
        numeric_columns=train_batch.numeric_columns,
        max_out_of_range_share=config.audit.out_of_range_share,
    )

    stage("summarising what serving needs to explain scores")
    serving = build_serving_stats(
        X_test,
        y_test,
        test_scores[MODEL],
        test_batch.snapshots[["lead_id", "cutoff"]],
        features.feature_specs(),
        readiness_threshold,
        config.horizon_days,
    )
    # Reference values and fit/interest edges on the same population as the percentiles and grades.
    profile_features = [spec.name for spec in features.feature_specs() if spec.is_profile]
    explanation = explanation_stats_for_model(model, X_test, profile_features, seed=config.seed)
    # What the report shows about signals (same tables, same subsamples), for GET /v1/importances.
    tables = importance_tables(model, X_test, y_test, features.feature_specs())
    stage("measuring the verdicts on the test period")
    true_handover = None
    # The simulator's truth is the chance of a *win within 90 days* if handed over: only a policy on
    # that target and horizon is compared with it.
    comparable = config.target.kind == "won" and config.horizon_days == TRUTH_HORIZON_DAYS
    if ground_truth is not None and not row_order and comparable and P_WIN_IF_HANDED_OVER in ground_truth:
        true_handover = match_ground_truth(test_batch.snapshots, ground_truth, P_WIN_IF_HANDED_OVER)
    decision_figures = test_decision_metrics(
        decision,
        model,
        X_test,
        test_scores[MODEL],
        y_test,
        test_batch,
        catalog,
        explanation.axes,
        true_handover,
    )
    card = ModelCard(
        name=config.model_name,
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
        dataset=dataset.metadata.name,
        data_fingerprint=data_fingerprint(dataset),
        config=config.to_record(),
        time_basis=str(dataset.metadata.time_basis),
        target=config.target.kind,
        horizon_days=config.horizon_days,
        split=SplitRecord.model_validate(
            {**split.to_dict(), "sampling": {part: SamplingRecord.of(s) for part, s in sampling.items()}}
        ),
        threshold=ThresholdRecord.of(threshold),
        metrics={name: card_metrics(result.to_dict()) for name, result in evaluations.items()},
        features=list(features.feature_specs()),
        event_types=sorted(map(str, features.event_type_counts_)),
        event_type_aliases=dict(dataset.metadata.event_type_aliases),
        skipped_event_types=list(dataset.metadata.skipped_event_types),
        event_detail_types=dict(dataset.metadata.event_detail_types),
        events_before_created=dataset.metadata.events_before_created,
        profile_columns=list(train_batch.profile_columns),
        serving=serving,
        explanation=explanation,
        importances=summarise_importances(tables, y_test),
        leakage_warnings=[FindingRecord.of(f) for f in audit.findings if f.severity != Severity.INFO],
        decision=decision,
    )
    card.metrics["decision"] = {k: v for k, v in decision_figures.items() if np.isfinite(v)}
    for name, (difference, low, high) in comparisons.items():
        card.metrics[f"model_minus_{name}"] = {"roc_auc": difference, "ci_low": low, "ci_high": high}
    if oracle is not None:
        card.metrics["oracle"] = {"roc_auc": oracle}
    by_age = auc_by_lead_age(test_scores[MODEL], y_test, test_batch.snapshots, config.horizon_days)
    if by_age is not None:
        card.metrics["by_lead_age"] = dict(by_age.items())
    card.metrics["selection"] = {
        **{f"{name}_fold_roc_auc": selection.mean_auc(name) for name in selection.fold_auc},
        "folds": float(selection.folds_used),
        "blend_weight": selection.blend_weight,
    }
    if selection.chosen != LINEAR:  # the served model has trees: the column sample they use
        card.metrics["selection"]["tree_column_sample"] = float(selection.tree_params["colsample_bytree"])
    return TrainingOutcome(
        bundle=ModelBundle(pipeline=build_pipeline(features, model), card=card, baselines=baselines),
        evaluations=evaluations,
        test_scores=test_scores,
        y_test=y_test,
        test_batch=test_batch,
        split=split,
        snapshot_counts={
            **prepared.counts,
            **{f"{part}_sampled_out": s.snapshots_before - s.snapshots_after for part, s in sampling.items()},
        },
        sampling=sampling,
        threshold=threshold,
        audit=audit,
        comparisons=comparisons,
        oracle_auc=oracle,
        notes=notes,
        selection=selection,
        drift=drift,
        decision=decision,
        decision_metrics=decision_figures,
    )


def _slice_columns(batch: SnapshotBatch) -> pd.DataFrame | None:
    """Profile categoricals with few enough levels to report metrics per level (e.g. lead source)."""
    columns = [
        name
        for name in batch.categorical_columns
        if name in batch.snapshots and batch.snapshots[name].nunique() <= MAX_SLICE_LEVELS
    ]
    return batch.snapshots[columns].reset_index(drop=True) if columns else None


def load_labelled(dataset: LeadDataset, config: TrainConfig) -> LabelledSnapshots:
    """The labelled snapshots a training run with ``config`` builds (also for notebooks and reports)."""
    return build_snapshots(dataset, snapshot_policy(config))

"""Small but real bundles (features, model, threshold, serving and explanation statistics) for the
serving tests: trained in seconds on a given dataset, with a fixed threshold."""

from __future__ import annotations

import numpy as np

from training.bundle import ModelBundle, ModelCard, ThresholdRecord
from training.data.contract import LeadDataset
from training.features.snapshots import SnapshotPolicy, build_snapshots
from training.features.transformer import LeadFeatures
from training.model.decision import grade_edges
from training.model.decision_policy import DecisionPolicy, GoneCold, HandoverEstimate, HandRaisers
from training.model.explanation_stats import explanation_stats_for_model
from training.model.fitted_pipeline import build_pipeline
from training.model.readiness import ReadinessModel
from training.model.serving_stats import build_serving_stats
from training.model.threshold import ThresholdPolicy
from training.report.importance_summary import importance_tables, summarise_importances


def train_small_bundle(
    dataset: LeadDataset,
    *,
    threshold: float,
    every_days: int = 7,
    n_estimators: int = 80,
    version: str = "7",
    profile_columns: list[str] | None = None,
    decision: bool = False,
    hand_raiser_rule: bool = False,
) -> ModelBundle:
    """LeadFeatures + ReadinessModel trained on every snapshot of ``dataset``, with the card serving
    needs; ``profile_columns`` defaults to the dataset's. ``decision``: the card carries a fixed
    ``DecisionPolicy`` (``fixed_policy``) instead of the one a card without a policy implies."""
    snapshots = build_snapshots(dataset, SnapshotPolicy(every_days=every_days, horizon_days=90))
    batch, y = snapshots.batch, snapshots.label
    features = LeadFeatures(min_event_type_count=5, min_category_frequency=5).fit(batch, y)
    X = features.transform(batch)
    model = ReadinessModel(n_estimators=n_estimators, num_leaves=7, early_stopping_rounds=None, n_jobs=1)
    model.fit(X, y, time_key=batch.snapshots["cutoff"])
    specs = features.feature_specs()
    serving = build_serving_stats(
        X, y, model.readiness(X), batch.snapshots[["lead_id", "cutoff"]], specs, threshold, 90
    )
    profile = [spec.name for spec in specs if spec.is_profile]
    tables = importance_tables(model, X, y, specs, max_importance_rows=1000)
    card = ModelCard(
        version=version,
        trained_at="2025-01-01T00:00:00Z",
        dataset=dataset.metadata.name,
        horizon_days=90,
        threshold=ThresholdRecord(value=threshold, policy=ThresholdPolicy(), explanation="fixed for tests"),
        metrics={"model": {"roc_auc": 0.9}},
        features=list(specs),
        event_types=sorted(map(str, features.event_type_counts_)),
        profile_columns=list(profile_columns if profile_columns is not None else batch.profile_columns),
        serving=serving,
        explanation=explanation_stats_for_model(model, X, profile),
        importances=summarise_importances(tables, y),
        decision=fixed_policy(model.readiness(X), threshold, every_days, hand_raiser_rule)
        if decision
        else None,
    )
    return ModelBundle(pipeline=build_pipeline(features, model), card=card)


def fixed_policy(
    readiness: np.ndarray, threshold: float, every_days: int, rule: bool = False
) -> DecisionPolicy:
    """A fixed decision policy with every part switched on: a correction that lifts hand-raisers, an
    overlap edge, a gone-cold level (the 40th percentile below the threshold) and inactivity cutoff with
    hysteresis, and grades on the chance."""
    estimate = HandoverEstimate(
        available=True,
        intercept=0.1,
        slope=0.9,
        contact_coef=1.5,
        n_handovers=100,
        n_handover_wins=20,
        overlap_min_readiness=float(np.quantile(readiness, 0.05)),
        basis="fixed for tests",
    )
    level = float(np.quantile(readiness[readiness < threshold], 0.4))
    cold = GoneCold(
        available=True,
        readiness_level=level,
        min_days_inactive=float(2 * every_days),
        exit_factor=2.0,
        lookback_days=7.0,
        earlier_looks=3,  # batch == API over the whole chain of earlier looks
        rule="fixed for tests",
    )
    chance = estimate.chance(readiness, np.zeros(len(readiness), dtype=bool))
    return DecisionPolicy(
        threshold=threshold,
        estimate=estimate,
        hand_raisers=HandRaisers(rule_enabled=rule),
        gone_cold=cold,
        grade_edges=grade_edges(chance, threshold),
    )

"""The training run's decision step: learn the ``DecisionPolicy`` and measure it on the test period.

``learn_decision`` works on the model's held-out calibration leads (training-period leads the trees did
not fit): the correction for the chance of a win if handed over now, the threshold (the configured
policy applied to that chance), the gone-cold rule and the hand-raiser rule's fit floor
(``training.model.decision_fit``); the hand-raiser slice calibration also learns from the model
selection's out-of-fold scores (``training.model.selection.OutOfFold``, ``slice_evidence``).
``test_decision_metrics`` applies the policy to the test snapshots
and returns the figures every run logs (``training.model.decision_report``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import TransformerMixin

from training.config import TrainConfig
from training.features.snapshot_arrays import SnapshotArrays
from training.features.snapshots import AT_HANDOVER, SnapshotBatch
from training.features.specs import FeatureCatalog
from training.model.calibration_slice import SliceCalibration
from training.model.decision import Verdicts, cold_at_earlier_looks, contact_flags, decide
from training.model.decision_fit import (
    build_decision_policy,
    fit_hand_raiser_calibration,
    fit_handover_estimate,
    learn_gone_cold,
    ripened,
)
from training.model.decision_policy import DecisionPolicy, DecisionSettings
from training.model.decision_report import decision_metrics
from training.model.explanation_stats import Axes, fit_mask, split_contributions
from training.model.readiness import ReadinessModel
from training.model.selection import OutOfFold
from training.model.serving_types import inactivity_days
from training.model.threshold import ThresholdDecision, ThresholdPolicy, choose_threshold


@dataclass(frozen=True)
class LearntDecision:
    """The policy stored with the model and the threshold decision behind it."""

    policy: DecisionPolicy
    threshold: ThresholdDecision


def batch_contact(batch: SnapshotBatch, policy_or_settings: DecisionPolicy | DecisionSettings) -> np.ndarray:
    """Per snapshot of ``batch``: a hand-raising event within the window before its cutoff."""
    hand_raisers = (
        policy_or_settings.hand_raisers
        if isinstance(policy_or_settings, DecisionPolicy)
        else policy_or_settings.hand_raisers()
    )
    arrays = SnapshotArrays.from_batch(batch, batch.categorical_columns, batch.numeric_columns)
    return contact_flags(arrays, hand_raisers)


def days_inactive(X: pd.DataFrame, catalog: FeatureCatalog) -> np.ndarray | None:
    """Days without engagement per row (since creation for a lead that never engaged), or None when the
    features have no inactivity column (``FeatureCatalog.inactivity``)."""
    inactivity, age = catalog.inactivity(), catalog.lead_age()
    if inactivity is None or inactivity.name not in X.columns:
        return None
    fallback = age.name if age is not None and age.name in X.columns else None
    return inactivity_days(X, inactivity.name, fallback)


def fit_grades(model: ReadinessModel, X: pd.DataFrame, axes: Axes | None) -> np.ndarray | None:
    """The answers' fit grade (A-D) per row: the profile features' contributions graded by the quartile
    edges of the explanation statistics (``serving.explanation.Explainer.axes`` does the same per
    request). None without those statistics or profile features."""
    if axes is None or not axes.fit.available:
        return None
    explanation = model.explain(X)
    fit, _ = split_contributions(
        explanation.contributions, fit_mask(explanation.feature_names, axes.fit_features)
    )
    return axes.fit_grades(fit).astype(object)


def learn_decision(
    config: TrainConfig,
    model: ReadinessModel,
    X_train: pd.DataFrame,
    y_train: np.ndarray,
    train_batch: SnapshotBatch,
    catalog: FeatureCatalog,
    out_of_fold: OutOfFold | None = None,
) -> LearntDecision:
    """The policy and threshold from the held-out training leads (see the module docstring).
    ``out_of_fold``: the model selection's fold scores, more evidence for the hand-raiser slice."""
    settings = config.decision
    contact = batch_contact(train_batch, settings)
    _, held_out = model.held_out_split(len(X_train), train_batch.time_key, train_batch.snapshots["lead_id"])
    is_held_out = np.zeros(len(X_train), dtype=bool)
    is_held_out[held_out] = True
    snapshots = train_batch.snapshots
    at_handover = (
        snapshots[AT_HANDOVER].to_numpy(dtype=bool)
        if AT_HANDOVER in snapshots
        else np.zeros(len(X_train), bool)
    )
    # Readiness of the held-out rows (for the correction) and of every at-handover row (for overlap).
    scored = is_held_out | at_handover
    readiness = np.zeros(len(X_train))
    # By the trees that did not see the held-out leads (a refitted model's own trees did).
    readiness[scored] = model.held_out_readiness(X_train[scored])
    # The hand-raiser slice calibration first: everything after it sees the readiness the API gives.
    slice_readiness, has_evidence, from_folds = slice_evidence(readiness, is_held_out, out_of_fold)
    calibration = (
        fit_hand_raiser_calibration(
            slice_readiness,
            contact,
            y_train,
            has_evidence,
            snapshots["lead_id"].to_numpy(),
            settings.hand_raisers(),
            from_folds=from_folds,
            base_rate=float(np.mean(y_train)),
        )
        if settings.hand_raiser_calibration
        else SliceCalibration(basis="No hand-raiser calibration: switched off in the training config.")
    )
    readiness = calibration.apply(readiness, contact)
    estimate = fit_handover_estimate(readiness, contact, y_train, at_handover, is_held_out)

    held_readiness = readiness[held_out]
    chance = estimate.chance(held_readiness, contact[held_out])
    threshold = choose_threshold(
        ThresholdPolicy(**config.threshold.policy_kwargs()),
        y_train[held_out],
        chance,
        train_batch.time_key.iloc[held_out].to_numpy(),
    )
    held_snapshots = snapshots.iloc[held_out]
    later = ripened(
        held_snapshots["lead_id"].to_numpy(),
        held_snapshots["cutoff"],
        chance,
        threshold.threshold,
        y_train[held_out],
        config.horizon_days,
    )
    X_held = X_train.iloc[held_out]
    cold = learn_gone_cold(
        held_readiness,
        days_inactive(X_held, catalog),
        later,
        threshold.threshold,
        snapshot_every_days=config.snapshot_every_days,
        max_rate=settings.gone_cold_max_rate,
        exit_factor=settings.gone_cold_exit_factor,
        earlier_looks=settings.gone_cold_earlier_looks,
    )
    policy = build_decision_policy(
        target=config.target.kind,
        horizon_days=config.horizon_days,
        threshold=threshold.threshold,
        estimate=estimate,
        hand_raisers=settings.hand_raisers(),
        gone_cold=cold,
        chance_held_out=chance,
        hand_raiser_calibration=calibration,
    )
    return LearntDecision(policy=policy, threshold=threshold)


def slice_evidence(
    readiness: np.ndarray, is_held_out: np.ndarray, out_of_fold: OutOfFold | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per training row: an out-of-sample readiness, whether it has one, and whether it came from the
    selection folds. The served model's held-out rows keep their own (``readiness``: the readiness the
    API's model gives, by trees that did not fit them); other rows in a fold's validation block take
    that fold's."""
    values = np.asarray(readiness, dtype=np.float64).copy()
    has_evidence = np.asarray(is_held_out, dtype=bool).copy()
    from_folds = np.zeros(len(values), dtype=bool)
    if out_of_fold is not None:
        if out_of_fold.n_rows != len(values):
            # Scores of other training rows (e.g. a cached selection against rebuilt rows) would silently
            # attach to the wrong snapshots.
            raise ValueError(
                f"the out-of-fold scores are for {out_of_fold.n_rows} training rows, not {len(values)}"
            )
        extra = ~has_evidence[out_of_fold.rows]
        rows = out_of_fold.rows[extra]
        values[rows] = out_of_fold.readiness[extra]
        has_evidence[rows] = True
        from_folds[rows] = True
    return values, has_evidence, from_folds


def test_decision_metrics(
    policy: DecisionPolicy,
    model: ReadinessModel,
    X_test: pd.DataFrame,
    readiness: np.ndarray,
    y_test: np.ndarray,
    test_batch: SnapshotBatch,
    catalog: FeatureCatalog,
    axes: Axes | None,
    true_handover_chance: np.ndarray | None = None,
) -> dict[str, float]:
    """The decision figures on the test snapshots (each at one look; the hysteresis needs the look a
    week earlier, which the benchmark adds). ``axes``: the explanation statistics' fit edges."""
    contact = batch_contact(test_batch, policy)
    # Contributions cost TreeSHAP on every test row: only when the rule needs fit.
    fit = fit_grades(model, X_test, axes) if policy.hand_raisers.rule_enabled else None
    days = days_inactive(X_test, catalog)
    verdicts = decide(
        policy,
        readiness=readiness,
        days_inactive=np.full(len(X_test), np.nan) if days is None else days,
        contact=contact,
        fit=fit,
    )
    return decision_metrics(
        verdicts, y_test, true_handover_chance=true_handover_chance, model_readiness=readiness
    )


def verdicts_with_hysteresis(
    policy: DecisionPolicy,
    pipeline_features: TransformerMixin,
    model: ReadinessModel,
    batch: SnapshotBatch,
    catalog: FeatureCatalog,
    axes: Axes | None = None,
) -> tuple[Verdicts, np.ndarray]:
    """The verdicts the API gives for the snapshots of ``batch``, each with its gone-cold state carried
    over the policy's earlier looks (as ``serving.verdicts`` does per request), and the model's readiness
    (before the hand-raiser slice calibration; the verdicts carry it after). For benchmarks and checks."""
    X = pipeline_features.transform(batch)
    readiness = model.readiness(X)
    n = len(X)
    days_now = days_inactive(X, catalog)
    cold_before = None
    if policy.gone_cold.available and policy.gone_cold.readiness_level is not None:
        looks_r, looks_d = [], []
        for k in range(1, policy.gone_cold.earlier_looks + 1):
            earlier = batch.snapshots.copy()
            earlier["cutoff"] = earlier["cutoff"] - pd.Timedelta(days=k * policy.gone_cold.lookback_days)
            existed = (
                (earlier["cutoff"] >= earlier["created_at"]).to_numpy()
                if "created_at" in earlier
                else np.ones(n, dtype=bool)
            )
            X_before = pipeline_features.transform(
                SnapshotBatch(earlier, batch.events, batch.categorical_columns, batch.numeric_columns)
            )
            days_before = days_inactive(X_before, catalog)
            looks_r.append(np.where(existed, model.readiness(X_before), np.inf))
            looks_d.append(
                np.full(n, np.nan) if days_before is None else np.where(existed, days_before, np.nan)
            )
        cold_before = cold_at_earlier_looks(policy, np.array(looks_r), np.array(looks_d))
    fit = fit_grades(model, X, axes) if policy.hand_raisers.rule_enabled else None
    verdicts = decide(
        policy,
        readiness=readiness,
        days_inactive=np.full(n, np.nan) if days_now is None else days_now,
        contact=batch_contact(batch, policy),
        fit=fit,
        cold_before=cold_before,
    )
    return verdicts, readiness

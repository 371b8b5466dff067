"""Everything the marketing report shows, computed once: the test period, importances, win rates, effects,
ripening curves, the backtest and the training run's warnings.

``assemble_report_data`` does the work (no rendering, no HTML: see ``training.report.render``). Right
after training it reuses the run's test snapshots and scores (``TrainingOutcome``); for a model loaded
later it rebuilds the same test period from the model card (training config and split) and scores the
model and its baselines on it again, so the numbers match the ones logged at training time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from training.bundle import FindingRecord, ModelBundle, ModelCard
from training.config import TrainConfig
from training.data.contract import LeadDataset, TimeBasis
from training.features.snapshots import SnapshotBatch
from training.features.specs import FeatureCatalog
from training.model.evaluation import EvaluationResult, evaluate
from training.model.explanation_stats import fit_interest_grid
from training.model.oracle import oracle_auc
from training.pipeline import MODEL, POINTS, TrainingOutcome, load_labelled
from training.report.backtest import Backtest, backtest, card_threshold
from training.report.importance import strongest_feature_per_signal
from training.report.importance_summary import (
    IMPORTANCE_SEED,
    MAX_CONTRIBUTION_ROWS,
    MAX_IMPORTANCE_ROWS,
    PERMUTATION_REPEATS,
    importance_tables,
)
from training.report.insights import partial_dependence, ripening_curves
from training.report.signals import feature_label, signal_label

StageCallback = Callable[[str], None]

#: Signals shown with their win rates, and with an effect plot.
TOP_SIGNALS = 6
TOP_EFFECTS = 4


@dataclass
class TestPeriod:
    """The test snapshots (which the model never saw), their features, outcomes and every scorer's scores."""

    batch: SnapshotBatch
    y: np.ndarray
    features: pd.DataFrame
    scores: dict[str, np.ndarray]
    evaluations: dict[str, EvaluationResult]
    #: True when rebuilt from the model card rather than taken from the training run
    rebuilt: bool = False


@dataclass
class Effect:
    """How one strong signal acts: the partial dependence of its most influential feature."""

    signal: str
    label: str
    feature: str
    feature_label: str
    curve: pd.DataFrame
    categorical: bool


@dataclass
class ReportData:
    """All numbers and tables of one report."""

    card: ModelCard
    dataset_name: str
    n_leads: int
    n_events: int
    horizon_days: int
    threshold: float
    threshold_explanation: str
    test: TestPeriod
    permutation: pd.DataFrame
    contribution: pd.DataFrame
    win_rates: pd.DataFrame
    top_signals: list[str]
    effects: list[Effect]
    ripening: pd.DataFrame
    #: leads by fit (A-D) and interest (1-4) with win rates; None when the card has no axes
    fit_interest: pd.DataFrame | None
    backtest: Backtest | None
    leakage_warnings: list[FindingRecord]
    oracle_auc: float | None = None
    #: how the numbers were made (subsamples, skipped sections), shown in the report
    notes: list[str] = field(default_factory=list)


def assemble_report_data(
    bundle: ModelBundle,
    dataset: LeadDataset,
    *,
    outcome: TrainingOutcome | None = None,
    ground_truth: pd.DataFrame | None = None,
    on_stage: StageCallback | None = None,
    seed: int = IMPORTANCE_SEED,
    max_importance_rows: int = MAX_IMPORTANCE_ROWS,
    max_contribution_rows: int = MAX_CONTRIBUTION_ROWS,
) -> ReportData:
    """Compute every section's numbers for ``bundle`` on ``dataset`` (see the module docstring).

    Permutation importance and contributions use random subsamples of at most ``max_importance_rows``
    and ``max_contribution_rows`` test snapshots (the report says so when it subsamples).
    """
    stage = on_stage or (lambda _message: None)
    card = bundle.card
    threshold = card_threshold(bundle)
    notes: list[str] = []
    stage("report: preparing the test period")
    test = (
        test_period_from_outcome(bundle, outcome)
        if outcome is not None
        else rebuild_test_period(bundle, dataset)
    )
    if test.rebuilt:
        notes.append("The test period was rebuilt from the model card's training settings and scored again.")
    model = bundle.pipeline[-1]
    specs = FeatureCatalog(bundle.pipeline[0].feature_specs())

    stage("report: importances and win rates by business signal")
    n_test = len(test.y)
    # The same tables (same subsamples and seed) as the model card's importance summary.
    tables = importance_tables(
        model,
        test.features,
        test.y,
        specs,
        seed=seed,
        max_importance_rows=max_importance_rows,
        max_contribution_rows=max_contribution_rows,
    )
    permutation, contributions = tables.permutation, tables.contributions
    contribution, win_rates = tables.contribution, tables.win_rates
    if n_test > max_importance_rows:
        notes.append(
            f"Permutation importance used a random {max_importance_rows:,} of the {n_test:,} test snapshots "
            f"({PERMUTATION_REPEATS} reshuffles each); contributions used {len(tables.rows):,}."
        )
    top_signals = [s for s in contribution["signal"] if s in set(win_rates["signal"])][:TOP_SIGNALS]

    stage("report: how the strongest signals act")
    strongest = strongest_feature_per_signal(contributions, specs)
    effects = []
    for signal in contribution["signal"][:TOP_EFFECTS]:
        feature = strongest[signal]
        curve = partial_dependence(model, test.features, feature, seed=seed)
        if len(curve) >= 2:
            effects.append(
                Effect(
                    signal=signal,
                    label=signal_label(signal),
                    feature=feature,
                    feature_label=feature_label(specs[feature]),
                    curve=curve,
                    categorical=isinstance(test.features[feature].dtype, pd.CategoricalDtype),
                )
            )

    stage("report: leads by fit and interest")
    grid = None
    if card.explanation is not None:
        grid = fit_interest_grid(contributions, test.y[tables.rows], card.explanation.axes)
    else:
        notes.append("No fit and interest grid: the model card has no fit/interest edges.")

    stage("report: ripening curves and backtest")
    ripening = ripening_curves(
        test.batch.snapshots, test.scores[MODEL], dataset.outcomes, bin_days=_bin_days(card)
    )
    timestamps = dataset.metadata.time_basis == TimeBasis.TIMESTAMPS
    past: Backtest | None = None
    if timestamps:
        try:
            past = backtest(bundle, dataset)
        except ValueError as error:
            notes.append(f"No backtest: {error}.")
    else:
        notes.append("No ripening curves or backtest: the data set has no timestamps (row order only).")

    oracle = card.metrics.get("oracle", {}).get("roc_auc") if outcome is None else outcome.oracle_auc
    if ground_truth is not None and timestamps:
        oracle = oracle_auc(ground_truth, test.batch.snapshots, test.y)
    return ReportData(
        card=card,
        dataset_name=card.dataset or dataset.metadata.name,
        n_leads=len(dataset.leads),
        n_events=len(dataset.events),
        horizon_days=int(card.horizon_days),
        threshold=threshold,
        threshold_explanation=card.threshold.explanation if card.threshold is not None else "",
        test=test,
        permutation=permutation,
        contribution=contribution,
        win_rates=win_rates,
        top_signals=top_signals,
        effects=effects,
        ripening=ripening,
        fit_interest=grid,
        backtest=past,
        leakage_warnings=list(card.leakage_warnings),
        oracle_auc=None if oracle is None or not math.isfinite(oracle) else float(oracle),
        notes=notes,
    )


def _bin_days(card: ModelCard) -> int:
    return int(card.config.get("snapshot_every_days", 7) or 7)


def test_period_from_outcome(bundle: ModelBundle, outcome: TrainingOutcome) -> TestPeriod:
    """The training run's own test period: its snapshots, labels, scores and evaluations."""
    return TestPeriod(
        batch=outcome.test_batch,
        y=np.asarray(outcome.y_test),
        features=bundle.pipeline[:-1].transform(outcome.test_batch),
        scores=dict(outcome.test_scores),
        evaluations=dict(outcome.evaluations),
    )


def config_from_card(card: ModelCard) -> TrainConfig:
    """The ``TrainConfig`` a model was trained with (keys unknown to this version are ignored)."""
    return TrainConfig.from_record(card.config)


def rebuild_test_period(bundle: ModelBundle, dataset: LeadDataset) -> TestPeriod:
    """Rebuild the test snapshots of the model's training run from ``dataset`` and score every scorer.

    Uses the card's training config (snapshot policy, horizon) and its split's ``test_start``; raises a
    ``ValueError`` naming the problem when the card lacks them or no snapshot falls in the period.
    """
    card = bundle.card
    if not card.config or card.split is None or card.split.test_start is None:
        raise ValueError(
            f"model card of {card.name!r} (version {card.version}) lacks the training config or the split's "
            "test_start, so its test period cannot be rebuilt; pass the training outcome instead"
        )
    config = config_from_card(card)
    labelled = load_labelled(dataset, config)
    keys = labelled.time_key
    start: Any = card.split.test_start
    if card.split.kind == "time":
        start = pd.Timestamp(start)
    is_test = np.asarray(keys >= start, dtype=bool)
    if not is_test.any():
        raise ValueError(
            f"no snapshot of data set {dataset.metadata.name!r} falls in the model's test period "
            f"(from {start}); is this the data the model was trained on?"
        )
    positions = np.flatnonzero(is_test)
    batch, y = labelled.batch.take(positions), np.asarray(labelled.label[positions])
    features = bundle.pipeline[:-1].transform(batch)
    scores: dict[str, np.ndarray] = {MODEL: np.asarray(bundle.pipeline[-1].readiness(features))}
    for name, baseline in bundle.baselines.items():
        # The points baseline reads snapshots and events; the others read the feature frame.
        scores[name] = np.asarray(baseline.predict_proba(batch if name == POINTS else features))[:, 1]
    threshold = card_threshold(bundle)
    evaluations = {
        name: evaluate(y, proba, threshold=threshold, n_bootstrap=config.n_bootstrap, seed=config.seed)
        for name, proba in scores.items()
    }
    return TestPeriod(
        batch=batch, y=y, features=features, scores=scores, evaluations=evaluations, rebuilt=True
    )

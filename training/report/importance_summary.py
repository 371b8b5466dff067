"""What drives readiness, as the report shows it, computed once and kept with the model for the API.

``importance_tables`` computes the report's importance and win-rate tables (``training.report.insights``)
on the test period with fixed subsample sizes and seed, so the training run's report and the model
card's ``ImportanceSummary`` (served by ``GET /v1/importances``) hold the same numbers.
``summarise_importances`` turns the tables into the typed summary: per business signal its readable
name, the average size of its push on a lead's score with a 95% bootstrap interval, the drop in ROC-AUC
when it is shuffled (with its spread), and its historical win rates per level.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from training.features.specs import FeatureSpec
from training.model.readiness import ReadinessModel
from training.report.importance import contribution_importance_by_signal, permutation_importance_by_signal
from training.report.win_rates import signal_win_rates

#: Snapshots at most for permutation importance and for contributions (random subsample beyond).
MAX_IMPORTANCE_ROWS = 3000
MAX_CONTRIBUTION_ROWS = 5000
PERMUTATION_REPEATS = 5
IMPORTANCE_SEED = 0


@dataclass(frozen=True)
class ImportanceTables:
    """The report's tables: permutation and contribution importance, contributions and win rates."""

    permutation: pd.DataFrame
    contributions: pd.DataFrame  # of the ``rows`` subsample, with ``base_value``
    contribution: pd.DataFrame
    win_rates: pd.DataFrame
    rows: np.ndarray


class LevelWinRate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    level: str = Field(
        description='e.g. "with a \'demo request\' in the last 30 days", "referral", "56 to 133".'
    )
    n: int = Field(description="Looks at leads (weekly snapshots) in this level.")
    win_rate: float | None
    lift: float | None = Field(description="Win rate / overall win rate.")


class SignalSummary(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    signal: str
    label: str = Field(description="The signal's readable name.")
    kind: str = Field(description="event (an event type), profile (a profile field) or derived.")
    mean_abs_contribution: float = Field(description="Average size of the signal's push (log-odds).")
    ci_low: float | None = Field(description="95% bootstrap interval of the average push.")
    ci_high: float | None
    share: float = Field(description="Share of the sum of all signals' average pushes.")
    auc_drop: float | None = Field(description="Drop in test ROC-AUC when the signal is shuffled.")
    auc_drop_std: float | None = Field(description="Its standard deviation over reshuffles.")
    win_rates: list[LevelWinRate]


class ImportanceSummary(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    measure: str
    n_rows: int = Field(description="Test snapshots behind the average pushes.")
    overall_win_rate: float
    signals: list[SignalSummary]


def importance_tables(
    model: ReadinessModel,
    features: pd.DataFrame,
    y: np.ndarray,
    specs: Iterable[FeatureSpec],
    *,
    seed: int = IMPORTANCE_SEED,
    max_importance_rows: int = MAX_IMPORTANCE_ROWS,
    max_contribution_rows: int = MAX_CONTRIBUTION_ROWS,
) -> ImportanceTables:
    """The report's importance and win-rate tables on ``features`` / ``y`` (the test period)."""
    permutation = permutation_importance_by_signal(
        model,
        features,
        y,
        specs,
        n_repeats=PERMUTATION_REPEATS,
        max_rows=max_importance_rows,
        seed=seed,
    )
    n = len(features)
    rows = np.arange(n)
    if n > max_contribution_rows:
        rows = np.sort(np.random.default_rng(seed).choice(n, size=max_contribution_rows, replace=False))
    contributions = model.explain(features.iloc[rows].reset_index(drop=True)).frame()
    contribution = contribution_importance_by_signal(contributions, specs, seed=seed)
    win_rates = signal_win_rates(features, y, specs)
    return ImportanceTables(permutation, contributions, contribution, win_rates, rows)


def summarise_importances(tables: ImportanceTables, y: np.ndarray) -> ImportanceSummary:
    """The typed summary of ``tables``, signals in the report's order (largest average push first)."""
    drops: dict[Any, Any] = tables.permutation.set_index("signal").to_dict("index")
    levels: dict[str, list[LevelWinRate]] = {}
    for row in tables.win_rates.to_dict("records"):
        levels.setdefault(str(row["signal"]), []).append(
            LevelWinRate(
                level=str(row["level"]),
                n=int(row["n"]),
                win_rate=_finite(row["win_rate"]),
                lift=_finite(row["lift"]),
            )
        )
    signals = []
    for row in tables.contribution.to_dict("records"):
        drop = drops.get(row["signal"], {})
        signals.append(
            SignalSummary(
                signal=str(row["signal"]),
                label=str(row["label"]),
                kind=str(row["kind"]),
                mean_abs_contribution=float(row["mean_abs_contribution"]),
                ci_low=_finite(row["ci_low"]),
                ci_high=_finite(row["ci_high"]),
                share=float(row["share"]),
                auc_drop=_finite(drop.get("auc_drop")),
                auc_drop_std=_finite(drop.get("auc_drop_std")),
                win_rates=levels.get(str(row["signal"]), []),
            )
        )
    return ImportanceSummary(
        measure="average size of the signal's push on a lead's score (mean |summed exact contribution|, "
        "log-odds) with a 95% bootstrap interval, and the drop in ROC-AUC when the signal is shuffled",
        n_rows=len(tables.rows),
        overall_win_rate=float(np.mean(y)),
        signals=signals,
    )


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None

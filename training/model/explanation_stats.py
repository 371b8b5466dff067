"""What serving needs to explain a lead in plain words, computed once at training time.

``build_explanation_stats`` summarises a reference population of snapshots (the training run's test
period, the same population as the percentiles and grades of ``training.model.serving_stats``):

``references``
    per feature, what a typical lead shows: the median of a numeric feature, with "never" / "unknown"
    (NaN) counted as the largest value, so that a feature missing for most leads has no reference
    (typical leads have none), or the most common level of a categorical one. Reasons state a lead's
    value against it ("3 pricing-page views in the last 30 days; typical leads have none").
``axes``
    the two axes of the score. A lead's exact contributions (TreeSHAP, in log-odds) split into the part
    that comes from its profile (who they are: ``fit``) and the part from everything else, its
    engagement and timing (how ready they are now: ``interest``). The quartile edges of both sums among
    the reference snapshots grade a lead: fit A (top quarter) to D, interest 1 (top quarter) to 4.

Everything is a pydantic model so that the card stores and validates it as JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from training.model.readiness import BASE_VALUE, ReadinessModel

#: Reference snapshots at most for the contributions behind the axis edges (a random subsample beyond).
MAX_AXIS_ROWS = 20_000

FitGrade = Literal["A", "B", "C", "D"]
InterestGrade = Literal[1, 2, 3, 4]
_FIT_LETTERS = np.array(["D", "C", "B", "A"])
_INTEREST_NUMBERS = np.array([4, 3, 2, 1])

Reference = float | str | None


class AxisEdges(BaseModel):
    """Quartile edges (25th, 50th, 75th percentile) of one summed contribution among the reference
    snapshots; ``available`` is False when no feature feeds the axis (e.g. no profile columns)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    available: bool
    edges: tuple[float, float, float]

    def quartile(self, summed: np.ndarray) -> np.ndarray:
        """0 (bottom quarter) .. 3 (top quarter) for each summed contribution."""
        return np.searchsorted(np.asarray(self.edges), np.asarray(summed, dtype=float), side="right")

    def near_edge(self, summed: np.ndarray, tolerance: float) -> np.ndarray:
        """Where a sum lies within ``tolerance`` (relative, at least absolute) of an edge: there a sum
        added up in another order could fall into the next quartile."""
        edges = np.asarray(self.edges)[:, None]
        values = np.asarray(summed, dtype=float)[None, :]
        return (np.abs(values - edges) <= tolerance * np.maximum(1.0, np.abs(edges))).any(axis=0)


class Axes(BaseModel):
    """Fit (profile) and interest (engagement) axes: which features feed fit, and both axes' edges."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fit_features: list[str] = Field(description="Features whose contributions make up fit (the profile).")
    fit: AxisEdges
    interest: AxisEdges
    n_rows: int = Field(description="Reference snapshots the edges were computed from.")

    def fit_grades(self, summed: np.ndarray) -> np.ndarray:
        """Fit letter A-D per summed profile contribution (object array)."""
        return _FIT_LETTERS[self.fit.quartile(summed)]

    def interest_grades(self, summed: np.ndarray) -> np.ndarray:
        """Interest 1-4 per summed engagement contribution (1 = top quarter)."""
        return _INTEREST_NUMBERS[self.interest.quartile(summed)]


class ExplanationStats(BaseModel):
    """Reference values of every feature and the fit/interest axes (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    references: dict[str, Reference]
    axes: Axes


def reference_values(features: pd.DataFrame) -> dict[str, Reference]:
    """What a typical snapshot shows, per column of ``features`` (see the module docstring)."""
    references: dict[str, Reference] = {}
    for name in features.columns:
        column = features[name]
        if isinstance(column.dtype, pd.CategoricalDtype) or column.dtype == object:
            counts = column.astype("string").value_counts(dropna=True)
            references[str(name)] = str(counts.index[0]) if len(counts) else None
        else:
            references[str(name)] = typical_number(column.to_numpy(dtype=float))
    return references


def typical_number(values: np.ndarray) -> float | None:
    """The lower median with NaN ("never", "unknown") sorted last: None when at least half are NaN.

    The lower median is always a value some snapshot really has (a whole count stays whole).
    """
    if not len(values):
        return None
    known = np.sort(values[~np.isnan(values)])
    middle = (len(values) - 1) // 2
    return float(known[middle]) if middle < len(known) else None


def fit_mask(feature_names: Sequence[str], fit_features: Sequence[str]) -> np.ndarray:
    """Boolean mask over ``feature_names``: True where the feature feeds the fit axis."""
    chosen = set(fit_features)
    return np.array([name in chosen for name in feature_names], dtype=bool)


def split_contributions(contributions: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(fit, interest) sums per row of an ``(n, n_features)`` contribution matrix (no base value)."""
    values = np.asarray(contributions, dtype=float)
    fit = values[:, mask].sum(axis=1)
    return fit, values.sum(axis=1) - fit


def build_explanation_stats(
    features: pd.DataFrame,
    contributions: np.ndarray,
    fit_features: Sequence[str],
) -> ExplanationStats:
    """Reference values and axis edges from reference snapshots.

    ``features`` is the feature frame of the reference snapshots; ``contributions`` their exact
    contributions, ``(n, n_features)`` in the order of ``features.columns`` (no base value column);
    ``fit_features`` the profile features, whose contributions make up fit.
    """
    values = np.asarray(contributions, dtype=float)
    if values.shape != (len(features), features.shape[1]):
        raise ValueError(
            f"build_explanation_stats: contributions have shape {values.shape}, expected "
            f"({len(features)}, {features.shape[1]}) like the features"
        )
    if not len(features):
        raise ValueError("build_explanation_stats: no reference snapshots")
    names = [str(c) for c in features.columns]
    mask = fit_mask(names, fit_features)
    fit, interest = split_contributions(values, mask)
    return ExplanationStats(
        references=reference_values(features),
        axes=Axes(
            fit_features=[name for name, used in zip(names, mask, strict=True) if used],
            fit=_edges(fit, bool(mask.any())),
            interest=_edges(interest, bool((~mask).any())),
            n_rows=len(features),
        ),
    )


def explanation_stats_for_model(
    model: ReadinessModel,
    features: pd.DataFrame,
    fit_features: Sequence[str],
    *,
    max_rows: int = MAX_AXIS_ROWS,
    seed: int = 0,
) -> ExplanationStats:
    """``build_explanation_stats`` on at most ``max_rows`` of ``features`` (a random subsample beyond),
    with ``model``'s exact contributions."""
    rows = np.arange(len(features))
    if len(features) > max_rows:
        rows = np.sort(np.random.default_rng(seed).choice(len(features), size=max_rows, replace=False))
    sample = features.iloc[rows].reset_index(drop=True)
    contributions = model.explain(sample).contributions
    return build_explanation_stats(sample, contributions, fit_features)


def _edges(summed: np.ndarray, available: bool) -> AxisEdges:
    q25, q50, q75 = (float(q) for q in np.quantile(summed, [0.25, 0.5, 0.75]))
    return AxisEdges(available=available, edges=(q25, q50, q75))


def fit_interest_grid(contributions: pd.DataFrame, y: np.ndarray, axes: Axes) -> pd.DataFrame:
    """Snapshots and win rates per fit (A-D) and interest (1-4) cell, from exact contributions.

    ``contributions`` is ``ReadinessModel.contributions`` output (a ``base_value`` column is ignored);
    ``y`` the snapshots' outcomes. Returns one row per cell (all 16, empty cells with ``n`` 0 and a NaN
    win rate): ``fit``, ``interest``, ``n``, ``won``, ``win_rate``, ``share`` (of all snapshots).
    """
    values = contributions.drop(columns=[BASE_VALUE], errors="ignore")
    mask = fit_mask([str(c) for c in values.columns], axes.fit_features)
    fit_sum, interest_sum = split_contributions(values.to_numpy(dtype=float), mask)
    frame = pd.DataFrame(
        {
            "fit": axes.fit_grades(fit_sum),
            "interest": axes.interest_grades(interest_sum),
            "y": np.asarray(y, dtype=float),
        }
    )
    rows = []
    for fit in ("A", "B", "C", "D"):
        for interest in (1, 2, 3, 4):
            outcomes = frame["y"].to_numpy()[
                (frame["fit"] == fit).to_numpy() & (frame["interest"] == interest).to_numpy()
            ]
            n, won = len(outcomes), int(outcomes.sum())
            rows.append(
                {
                    "fit": fit,
                    "interest": interest,
                    "n": n,
                    "won": won,
                    "win_rate": won / n if n else float("nan"),
                    "share": n / max(len(frame), 1),
                }
            )
    return pd.DataFrame(rows)

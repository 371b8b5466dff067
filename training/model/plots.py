"""Evaluation plots: ROC curves, a reliability diagram and a lift chart, as matplotlib Figures.

Figures are built with the object-oriented API (``matplotlib.figure.Figure``), never through pyplot, so
no GUI backend is needed (they render with Agg) and nothing accumulates in pyplot's global state.
Notebooks display the returned Figure objects directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from training.model.evaluation import ECE_BINS
from training.model.ranking import roc_auc


def _as_arrays(y_true: Any, proba: Any) -> tuple[np.ndarray, np.ndarray]:
    positive = np.asarray(y_true).astype(bool)
    p = np.asarray(proba, dtype=np.float64)
    if p.ndim == 2 and p.shape[1] == 2:
        p = p[:, 1]
    if p.shape != positive.shape:
        raise ValueError(f"scores have shape {p.shape} but y_true has shape {positive.shape}")
    return positive, p


def _roc_points(positive: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(-score, kind="stable")
    sorted_score = score[order]
    last_of_level = np.flatnonzero(np.r_[sorted_score[1:] != sorted_score[:-1], True])
    tp = np.cumsum(positive[order])[last_of_level]
    fp = (last_of_level + 1) - tp
    n_pos, n_neg = max(int(positive.sum()), 1), max(int((~positive).sum()), 1)
    return np.r_[0.0, fp / n_neg], np.r_[0.0, tp / n_pos]


def roc_figure(
    y_true: Any, scores: dict[str, Any], title: str = "ROC curves on the test snapshots"
) -> Figure:
    """ROC curves of several scorers (e.g. model vs baselines), with their AUC in the legend."""
    fig = Figure(figsize=(6.0, 5.5), layout="constrained")
    ax = fig.add_subplot()
    for name, score in scores.items():
        positive, p = _as_arrays(y_true, score)
        fpr, tpr = _roc_points(positive, p)
        ax.plot(fpr, tpr, linewidth=2, label=f"{name} (AUC {roc_auc(positive, p):.3f})")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="random (AUC 0.500)")
    ax.set(
        title=title,
        xlabel="False positive rate (share of not-won leads handed over)",
        ylabel="True positive rate (share of won leads handed over)",
        xlim=(0, 1),
        ylim=(0, 1.01),
    )
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    return fig


def calibration_figure(
    y_true: Any, proba: Any, n_bins: int = ECE_BINS, name: str = "model", title: str | None = None
) -> Figure:
    """Reliability diagram (observed win rate per probability bin) over a histogram of the probabilities."""
    positive, p = _as_arrays(y_true, proba)
    bins = np.clip((p * n_bins).astype(np.int64), 0, n_bins - 1)
    count = np.bincount(bins, minlength=n_bins)
    used = count > 0
    mean_p = np.bincount(bins, p, minlength=n_bins)[used] / count[used]
    rate = np.bincount(bins, positive.astype(np.float64), minlength=n_bins)[used] / count[used]

    fig = Figure(figsize=(6.0, 7.0), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    top.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="perfectly calibrated")
    top.plot(mean_p, rate, marker="o", linewidth=2, label=name)
    top.set(
        title=title or f"Calibration of {name} on the test snapshots",
        ylabel="Observed win rate in bin",
        xlim=(0, 1),
        ylim=(0, 1),
    )
    top.legend(loc="upper left")
    top.grid(alpha=0.3)
    bottom.hist(p, bins=np.linspace(0, 1, n_bins + 1), color="tab:blue", alpha=0.7)
    bottom.set(xlabel="Predicted readiness (probability of a win within the horizon)", ylabel="Snapshots")
    bottom.grid(alpha=0.3)
    return fig


def decile_lift(y_true: Any, score: Any) -> np.ndarray:
    """Win rate of each score decile (highest scores first) divided by the overall win rate."""
    positive, p = _as_arrays(y_true, score)
    order = np.argsort(-p, kind="stable")
    decile = np.minimum((np.arange(p.size) * 10) // max(p.size, 1), 9)
    won = np.bincount(decile, positive[order].astype(np.float64), minlength=10)
    size = np.bincount(decile, minlength=10)
    base = positive.mean() if positive.size else np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        return (won / size) / base


def lift_figure(y_true: Any, scores: dict[str, Any], title: str = "Lift by score decile") -> Figure:
    """Grouped bars: each scorer's lift per decile (1 = highest scores); 1.0 is no better than random."""
    fig = Figure(figsize=(7.0, 5.0), layout="constrained")
    ax = fig.add_subplot()
    deciles = np.arange(1, 11)
    width = 0.8 / max(len(scores), 1)
    for i, (name, score) in enumerate(scores.items()):
        ax.bar(
            deciles + (i - (len(scores) - 1) / 2) * width, decile_lift(y_true, score), width=width, label=name
        )
    ax.axhline(1.0, color="grey", linestyle="--", linewidth=1, label="no lift")
    ax.set(
        title=title,
        xlabel="Score decile (1 = highest-scored 10% of snapshots)",
        ylabel="Lift (decile win rate / overall win rate)",
        xticks=deciles,
    )
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    return fig


def save_evaluation_plots(
    y_true: Any, scores: dict[str, Any], directory: Path, primary: str | None = None, dpi: int = 120
) -> dict[str, Path]:
    """Write the ROC, calibration (of ``primary``, default the first scorer) and lift plots as PNGs.

    Returns plot name -> path, ready for ``mlflow.log_artifact``.
    """
    if not scores:
        raise ValueError("save_evaluation_plots needs at least one scorer")
    directory.mkdir(parents=True, exist_ok=True)
    main = primary or next(iter(scores))
    figures = {
        "roc": roc_figure(y_true, scores),
        "calibration": calibration_figure(y_true, scores[main], name=main),
        "lift": lift_figure(y_true, scores),
    }
    paths: dict[str, Path] = {}
    for name, figure in figures.items():
        path = directory / f"{name}.png"
        figure.savefig(path, dpi=dpi)
        paths[name] = path
    return paths

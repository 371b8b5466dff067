"""Evaluation of readiness scores on the test snapshots: ranking, calibration, lift and hand-over metrics.

Definitions (all on the snapshots given):
- ROC-AUC and PR-AUC (average precision, as scikit-learn defines it: precision at each distinct score,
  weighted by the recall it adds), each with a percentile bootstrap 95% CI over resampled snapshots.
  Bootstrap replicates that contain only one outcome are left out of the CI.
- Brier score: mean squared difference between probability and outcome.
- ECE (expected calibration error): 10 equal-width probability bins [0, 0.1), ..., [0.9, 1.0];
  ``sum_b (n_b / n) * |mean outcome in b - mean probability in b|``.
- Lift in the top decile: the win rate among the ``ceil(n / 10)`` highest-scored snapshots divided by
  the overall win rate.
- At the hand-over threshold (hand over when probability >= threshold): the confusion matrix, the
  hand-over rate (share handed over), the sales-acceptance rate (share of handed-over snapshots that are
  won, i.e. precision) and the won coverage (share of won snapshots that were handed over, i.e. recall).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from training.model.ranking import bootstrap_ranking, percentile_ci, ranking_metrics

ECE_BINS = 10
_HEADLINE = (
    "roc_auc",
    "roc_auc_ci_low",
    "roc_auc_ci_high",
    "pr_auc",
    "pr_auc_ci_low",
    "pr_auc_ci_high",
    "brier",
    "ece",
    "lift_top_decile",
    "acceptance_rate",
    "handover_rate",
    "won_coverage",
    "base_rate",
    "n",
    "n_positive",
)


# ---------------------------------------------------------------------- calibration and decisions
def expected_calibration_error(y_true: Any, proba: Any, n_bins: int = ECE_BINS) -> float:
    """ECE over ``n_bins`` equal-width bins on [0, 1] (the last bin includes 1.0)."""
    positive = np.asarray(y_true).astype(np.float64)
    p = np.asarray(proba, dtype=np.float64)
    if p.size == 0:
        return math.nan
    bins = np.clip((p * n_bins).astype(np.int64), 0, n_bins - 1)
    count = np.bincount(bins, minlength=n_bins)
    gap = np.abs(np.bincount(bins, positive, minlength=n_bins) - np.bincount(bins, p, minlength=n_bins))
    # |sum y - sum p| / n per bin equals (n_b / n) * |mean y - mean p|.
    return float(gap[count > 0].sum() / p.size)


def lift_top_decile(y_true: Any, score: Any) -> float:
    """Win rate among the top ``ceil(n / 10)`` scores divided by the overall win rate (NaN without wins)."""
    positive = np.asarray(y_true).astype(bool)
    s = np.asarray(score, dtype=np.float64)
    if positive.size == 0 or not positive.any():
        return math.nan
    k = math.ceil(positive.size / 10)
    top = np.argsort(-s, kind="stable")[:k]
    return float(positive[top].mean() / positive.mean())


@dataclass
class ThresholdMetrics:
    """The hand-over decision at one threshold: confusion matrix and the rates sales cares about."""

    threshold: float
    tn: int
    fp: int
    fn: int
    tp: int

    @property
    def handed_over(self) -> int:
        return self.tp + self.fp

    @property
    def handover_rate(self) -> float:
        total = self.tn + self.fp + self.fn + self.tp
        return self.handed_over / total if total else math.nan

    @property
    def acceptance_rate(self) -> float:
        """Share of handed-over snapshots that were won (precision); NaN when nothing is handed over."""
        return self.tp / self.handed_over if self.handed_over else math.nan

    @property
    def won_coverage(self) -> float:
        """Share of won snapshots that were handed over (recall); NaN without wins."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else math.nan


def threshold_metrics(y_true: Any, proba: Any, threshold: float) -> ThresholdMetrics:
    """Confusion matrix when handing over every snapshot with ``proba >= threshold``."""
    positive = np.asarray(y_true).astype(bool)
    handed = np.asarray(proba, dtype=np.float64) >= threshold
    return ThresholdMetrics(
        threshold=float(threshold),
        tn=int((~handed & ~positive).sum()),
        fp=int((handed & ~positive).sum()),
        fn=int((~handed & positive).sum()),
        tp=int((handed & positive).sum()),
    )


# ---------------------------------------------------------------------- the result
@dataclass
class EvaluationResult:
    """All metrics of one scorer on one test set, plus per-slice metrics and notes."""

    n: int
    n_positive: int
    roc_auc: float
    roc_auc_ci: tuple[float, float]
    pr_auc: float
    pr_auc_ci: tuple[float, float]
    brier: float
    ece: float
    lift_top_decile: float
    at_threshold: ThresholdMetrics
    slices: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)

    @property
    def base_rate(self) -> float:
        return self.n_positive / self.n if self.n else math.nan

    def to_dict(self, include_slices: bool = False) -> dict[str, float]:
        """Flat metrics for MLflow (``roc_auc``, ``roc_auc_ci_low``, ..., ``tp``); slices optionally as
        ``slice.<column>.<value>.<metric>`` with characters MLflow refuses replaced by ``_``."""
        t = self.at_threshold
        out: dict[str, float] = {
            "n": float(self.n),
            "n_positive": float(self.n_positive),
            "base_rate": self.base_rate,
            "roc_auc": self.roc_auc,
            "roc_auc_ci_low": self.roc_auc_ci[0],
            "roc_auc_ci_high": self.roc_auc_ci[1],
            "pr_auc": self.pr_auc,
            "pr_auc_ci_low": self.pr_auc_ci[0],
            "pr_auc_ci_high": self.pr_auc_ci[1],
            "brier": self.brier,
            "ece": self.ece,
            "lift_top_decile": self.lift_top_decile,
            "threshold": t.threshold,
            "handover_rate": t.handover_rate,
            "acceptance_rate": t.acceptance_rate,
            "won_coverage": t.won_coverage,
            "tn": float(t.tn),
            "fp": float(t.fp),
            "fn": float(t.fn),
            "tp": float(t.tp),
        }
        if include_slices and not self.slices.empty:
            for row in self.slices.itertuples(index=False):  # a few dozen slices at most, not a hot path
                if row.skipped:
                    continue
                prefix = f"slice.{_metric_key(str(row.column))}.{_metric_key(str(row.value))}"
                for metric in ("roc_auc", "pr_auc", "brier", "ece", "acceptance_rate", "handover_rate"):
                    out[f"{prefix}.{metric}"] = float(getattr(row, metric))
        return out


def _metric_key(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_\-. /]", "_", text)[:80] or "_"


def evaluate(
    y_true: Any,
    proba: Any,
    *,
    threshold: float,
    slices: pd.DataFrame | None = None,
    n_bootstrap: int = 200,
    seed: int = 0,
    min_slice_size: int = 50,
    ci_level: float = 0.95,
    groups: Any = None,
) -> EvaluationResult:
    """Evaluate probabilities ``proba`` of a win against outcomes ``y_true``.

    ``slices``: optional frame aligned row by row with ``y_true`` (e.g. the test snapshots' profile
    categoricals); each column gives one metric row per value (numeric columns are cut into quartiles).
    Slices with fewer than ``min_slice_size`` snapshots are listed but marked skipped; slices with a
    single outcome get NaN for the ranking metrics and a note. ``n_bootstrap=0`` disables the CIs.
    ``groups`` (one lead id per row) makes the bootstrap resample whole leads.
    """
    positive = np.asarray(y_true).astype(bool)
    p = np.asarray(proba, dtype=np.float64)
    if p.ndim == 2 and p.shape[1] == 2:
        p = p[:, 1]
    if p.shape != positive.shape or p.ndim != 1:
        raise ValueError(f"proba has shape {p.shape} but y_true has shape {positive.shape}")
    if not np.isfinite(p).all():
        raise ValueError(f"proba has {int((~np.isfinite(p)).sum())} non-finite values")
    notes: list[str] = []
    n_pos = int(positive.sum())
    if n_pos in (0, positive.size):
        notes.append(f"only one outcome present ({n_pos} won of {positive.size}): ranking metrics are NaN")

    auc, ap = ranking_metrics(positive, p)
    auc_ci = ap_ci = (math.nan, math.nan)
    if n_bootstrap > 0 and p.size > 1 and 0 < n_pos < p.size:
        rng = np.random.default_rng(seed)
        boot_auc, boot_ap = bootstrap_ranking(p, positive, n_bootstrap, rng, groups)
        auc_ci, ap_ci = percentile_ci(boot_auc, ci_level), percentile_ci(boot_ap, ci_level)
        dropped = int((~np.isfinite(boot_auc)).sum())
        if dropped:
            notes.append(
                f"{dropped} of {n_bootstrap} bootstrap replicates had one outcome only and were ignored"
            )

    slice_frame = pd.DataFrame()
    if slices is not None:
        if len(slices) != p.size:
            raise ValueError(f"slices has {len(slices)} rows but y_true has {p.size}")
        slice_frame = _slice_metrics(positive, p, threshold, slices, min_slice_size)

    return EvaluationResult(
        n=int(p.size),
        n_positive=n_pos,
        roc_auc=auc,
        roc_auc_ci=auc_ci,
        pr_auc=ap,
        pr_auc_ci=ap_ci,
        brier=float(np.mean((p - positive) ** 2)) if p.size else math.nan,
        ece=expected_calibration_error(positive, p),
        lift_top_decile=lift_top_decile(positive, p),
        at_threshold=threshold_metrics(positive, p, threshold),
        slices=slice_frame,
        notes=notes,
    )


def _slice_metrics(
    positive: np.ndarray, p: np.ndarray, threshold: float, slices: pd.DataFrame, min_size: int
) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for column in slices.columns:
        values = slices[column].reset_index(drop=True)
        if not isinstance(values.dtype, pd.CategoricalDtype) and pd.api.types.is_numeric_dtype(values.dtype):
            values = pd.qcut(values, 4, duplicates="drop")
        codes, levels = pd.factorize(values, use_na_sentinel=False)
        # Loop over slice values (a handful per column), never over rows.
        for code, level in enumerate(levels):
            members = codes == code
            n, n_pos = int(members.sum()), int(positive[members].sum())
            row: dict[str, Any] = {
                "column": column,
                "value": "(missing)" if pd.isna(level) else str(level),
                "n": n,
                "n_positive": n_pos,
                "skipped": n < min_size,
                "note": "",
            }
            metric_names = ("roc_auc", "pr_auc", "brier", "ece", "lift_top_decile")
            rate_names = ("acceptance_rate", "handover_rate", "won_coverage")
            if n < min_size:
                row.update(dict.fromkeys(metric_names + rate_names, math.nan))
                row["note"] = f"skipped: {n} snapshots < min_slice_size={min_size}"
            else:
                sp, sy = p[members], positive[members]
                auc, ap = ranking_metrics(sy, sp)
                at = threshold_metrics(sy, sp, threshold)
                row.update(
                    roc_auc=auc,
                    pr_auc=ap,
                    brier=float(np.mean((sp - sy) ** 2)),
                    ece=expected_calibration_error(sy, sp),
                    lift_top_decile=lift_top_decile(sy, sp),
                    acceptance_rate=at.acceptance_rate,
                    handover_rate=at.handover_rate,
                    won_coverage=at.won_coverage,
                )
                if n_pos in (0, n):
                    row["note"] = f"single outcome ({n_pos} won of {n}): ranking metrics NaN"
            rows.append(row)
    return pd.DataFrame(rows)


def summary_table(results: dict[str, EvaluationResult]) -> pd.DataFrame:
    """Headline metrics of several scorers side by side (one row per scorer, e.g. model vs baselines)."""
    table = pd.DataFrame({name: result.to_dict() for name, result in results.items()}).T
    return table[[c for c in _HEADLINE if c in table.columns]]

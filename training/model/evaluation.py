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
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from training.data.contract import LEAD_ID

CUTOFF = "cutoff"
ECE_BINS = 10
# Bootstrap weights are built in chunks of about this many cells, to bound memory on large test sets.
_BOOTSTRAP_CELLS = 2_000_000
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


# ---------------------------------------------------------------------- ranking metrics
def _weighted_ranking(
    score: np.ndarray, positive: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """ROC-AUC and average precision for each row of ``weights`` (one row per bootstrap replicate).

    Scores are grouped into distinct levels once; each replicate then needs only cumulative sums of its
    positive and negative weight per level, so ties are handled exactly and no replicate is re-sorted.
    """
    order = np.argsort(-score, kind="stable")  # descending score
    sorted_score = score[order]
    starts = np.flatnonzero(np.r_[True, sorted_score[1:] != sorted_score[:-1]])
    w = weights[:, order]
    pos_sorted = positive[order]
    pos_w = np.add.reduceat(w * pos_sorted, starts, axis=1)  # per level, descending score
    neg_w = np.add.reduceat(w * ~pos_sorted, starts, axis=1)
    total_pos = pos_w.sum(axis=1)
    total_neg = neg_w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        # AUC: each positive beats the negatives scored strictly lower, and half-beats those tied with it.
        neg_below = total_neg[:, None] - np.cumsum(neg_w, axis=1)
        auc = (pos_w * (neg_below + 0.5 * neg_w)).sum(axis=1) / (total_pos * total_neg)
        tp = np.cumsum(pos_w, axis=1)
        fp = np.cumsum(neg_w, axis=1)
        precision = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        ap = (pos_w * precision).sum(axis=1) / total_pos
    invalid = (total_pos == 0) | (total_neg == 0)
    auc[invalid] = np.nan
    ap[total_pos == 0] = np.nan
    return auc, ap


def roc_auc(y_true: Any, score: Any) -> float:
    """ROC-AUC (ties count half); NaN when only one outcome is present."""
    positive = np.asarray(y_true).astype(bool)
    auc, _ = _weighted_ranking(np.asarray(score, dtype=np.float64), positive, np.ones((1, positive.size)))
    return float(auc[0])


def average_precision(y_true: Any, score: Any) -> float:
    """PR-AUC as average precision; NaN without positives."""
    positive = np.asarray(y_true).astype(bool)
    _, ap = _weighted_ranking(np.asarray(score, dtype=np.float64), positive, np.ones((1, positive.size)))
    return float(ap[0])


def _bootstrap_counts(
    n: int, n_bootstrap: int, rng: np.random.Generator, groups: Any = None
) -> Iterator[np.ndarray]:
    """Resampling counts per row, ``(replicates, n)``, in chunks that keep memory bounded.

    With ``groups`` (one lead id per row) whole leads are resampled: a lead's snapshots share its
    outcome, so resampling them one by one would pretend to more independent evidence than there is
    and give intervals that are too narrow.
    """
    if groups is not None:
        yield from _cluster_bootstrap_counts(n, n_bootstrap, rng, groups)
        return
    chunk = max(1, _BOOTSTRAP_CELLS // max(n, 1))
    for start in range(0, n_bootstrap, chunk):
        b = min(chunk, n_bootstrap - start)
        draws = rng.integers(0, n, size=(b, n))
        # Resampling counts per snapshot: one bincount over row-offset draws instead of a loop.
        counts = np.bincount((draws + (np.arange(b) * n)[:, None]).ravel(), minlength=b * n).reshape(b, n)
        yield counts.astype(np.float64)


def _cluster_bootstrap_counts(
    n: int, n_bootstrap: int, rng: np.random.Generator, groups: Any
) -> Iterator[np.ndarray]:
    codes, uniques = pd.factorize(np.asarray(groups))
    if codes.shape != (n,):
        raise ValueError(f"groups has shape {codes.shape} but there are {n} rows")
    n_groups = len(uniques)
    chunk = max(1, _BOOTSTRAP_CELLS // max(n, n_groups, 1))
    for start in range(0, n_bootstrap, chunk):
        b = min(chunk, n_bootstrap - start)
        draws = rng.integers(0, n_groups, size=(b, n_groups))
        per_group = np.bincount(
            (draws + (np.arange(b) * n_groups)[:, None]).ravel(), minlength=b * n_groups
        ).reshape(b, n_groups)
        yield per_group[:, codes].astype(np.float64)


def _bootstrap_ranking(
    score: np.ndarray,
    positive: np.ndarray,
    n_bootstrap: int,
    rng: np.random.Generator,
    groups: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    aucs, aps = [], []
    for counts in _bootstrap_counts(score.size, n_bootstrap, rng, groups):
        auc, ap = _weighted_ranking(score, positive, counts)
        aucs.append(auc)
        aps.append(ap)
    return np.concatenate(aucs), np.concatenate(aps)


def paired_auc_difference(
    y_true: Any,
    score_a: Any,
    score_b: Any,
    *,
    n_bootstrap: int = 200,
    seed: int = 0,
    ci_level: float = 0.95,
    groups: Any = None,
) -> tuple[float, float, float]:
    """ROC-AUC of ``score_a`` minus that of ``score_b`` on the same snapshots, with a paired bootstrap
    interval: both scorers are judged on the same resampled rows, so the interval reflects how sure we
    are that one ranks better than the other (much narrower than comparing two separate intervals).
    ``groups`` (lead ids) resamples whole leads. Returns ``(difference, low, high)``."""
    positive = np.asarray(y_true).astype(bool)
    a = np.asarray(score_a, dtype=np.float64)
    b = np.asarray(score_b, dtype=np.float64)
    if not (a.shape == b.shape == positive.shape):
        raise ValueError(f"y_true {positive.shape}, score_a {a.shape} and score_b {b.shape} must match")
    differences = [
        _weighted_ranking(a, positive, counts)[0] - _weighted_ranking(b, positive, counts)[0]
        for counts in _bootstrap_counts(positive.size, n_bootstrap, np.random.default_rng(seed), groups)
    ]
    low, high = _percentile_ci(np.concatenate(differences), ci_level)
    return roc_auc(positive, a) - roc_auc(positive, b), low, high


def _percentile_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return math.nan, math.nan
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(finite, [tail, 100.0 - tail])
    return float(low), float(high)


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

    auc, ap = _weighted_ranking(p, positive, np.ones((1, p.size)))
    auc_ci = ap_ci = (math.nan, math.nan)
    if n_bootstrap > 0 and p.size > 1 and 0 < n_pos < p.size:
        rng = np.random.default_rng(seed)
        boot_auc, boot_ap = _bootstrap_ranking(p, positive, n_bootstrap, rng, groups)
        auc_ci, ap_ci = _percentile_ci(boot_auc, ci_level), _percentile_ci(boot_ap, ci_level)
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
        roc_auc=float(auc[0]),
        roc_auc_ci=auc_ci,
        pr_auc=float(ap[0]),
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
                auc, ap = _weighted_ranking(sp, sy, np.ones((1, n)))
                at = threshold_metrics(sy, sp, threshold)
                row.update(
                    roc_auc=float(auc[0]),
                    pr_auc=float(ap[0]),
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


# ---------------------------------------------------------------------- the oracle
def match_ground_truth(
    snapshots: pd.DataFrame, ground_truth: pd.DataFrame, column: str = "p_win_90d"
) -> np.ndarray:
    """The simulator's truth ``column`` for each snapshot (NaN where no truth is known).

    Snapshots and ground truth share the simulator's grid (cutoffs every 7 days from creation), so matches
    are normally exact on ``(lead_id, cutoff)``; otherwise each snapshot takes its lead's latest truth row
    at or before its cutoff (``merge_asof`` backward per lead).
    """
    for name, frame, required in (
        ("snapshots", snapshots, (LEAD_ID, CUTOFF)),
        ("ground_truth", ground_truth, (LEAD_ID, CUTOFF, column)),
    ):
        absent = [c for c in required if c not in frame.columns]
        if absent:
            raise ValueError(f"{name} lacks column(s) {absent}; it has {list(frame.columns)}")
    left = pd.DataFrame(
        {
            LEAD_ID: snapshots[LEAD_ID].astype(str).to_numpy(),
            CUTOFF: _utc_ns(snapshots[CUTOFF]),
            "position": np.arange(len(snapshots)),
        }
    )
    right = pd.DataFrame(
        {
            LEAD_ID: ground_truth[LEAD_ID].astype(str).to_numpy(),
            CUTOFF: _utc_ns(ground_truth[CUTOFF]),
            "truth": ground_truth[column].to_numpy(dtype=np.float64),
        }
    )
    if left[CUTOFF].isna().any() or right[CUTOFF].isna().any():
        raise ValueError("match_ground_truth needs cutoffs on both snapshots and ground truth (no NaT)")
    matched = pd.merge_asof(
        left.sort_values(CUTOFF, kind="stable"),
        right.sort_values(CUTOFF, kind="stable"),
        on=CUTOFF,
        by=LEAD_ID,
        direction="backward",
    )
    out = np.full(len(snapshots), np.nan)
    out[matched["position"].to_numpy()] = matched["truth"].to_numpy(dtype=np.float64)
    return out


def _utc_ns(values: pd.Series) -> np.ndarray:
    # One time zone and one unit on both sides of the as-of merge, as plain datetime64[ns] values.
    stamps = pd.to_datetime(values, utc=True).astype("datetime64[ns, UTC]")
    return np.asarray(stamps.dt.tz_convert(None).to_numpy(dtype="datetime64[ns]"))


def oracle_auc(
    ground_truth: pd.DataFrame, snapshots: pd.DataFrame, y_true: Any, column: str = "p_win_90d"
) -> float:
    """ROC-AUC of the simulator's true win probability against the realised labels of the same snapshots.

    The best any model could rank these snapshots, up to chance. Snapshots without a truth row are left
    out; raises ``ValueError`` when none match.
    """
    truth = match_ground_truth(snapshots, ground_truth, column)
    labels = np.asarray(y_true).astype(bool)
    if labels.shape != truth.shape:
        raise ValueError(f"y_true has {labels.size} values but snapshots has {truth.size} rows")
    known = np.isfinite(truth)
    if not known.any():
        raise ValueError("No snapshot matched a ground-truth row by (lead_id, cutoff)")
    return roc_auc(labels[known], truth[known])


def bootstrap_roc_auc(score: Any, y_true: Any, weights: np.ndarray) -> np.ndarray:
    """ROC-AUC for each row of ``weights`` (``(replicates, n)`` resampling weights, e.g. counts of each
    snapshot's lead in a bootstrap over leads); NaN where a replicate lacks one outcome."""
    positive = np.asarray(y_true).astype(bool)
    auc, _ = _weighted_ranking(np.asarray(score, dtype=np.float64), positive, np.asarray(weights, np.float64))
    return auc

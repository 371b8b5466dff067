"""Ranking metrics and their bootstrap intervals: ROC-AUC and average precision with exact tie handling,
percentile intervals over resampled snapshots or whole leads, and paired differences between two scorers.

Every replicate reuses one sort of the scores (``_weighted_ranking``): a replicate is a row of resampling
weights, so thousands of replicates cost a few cumulative sums each.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

# Bootstrap weights are built in chunks of about this many cells, to bound memory on large test sets.
_BOOTSTRAP_CELLS = 2_000_000


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


def ranking_metrics(y_true: Any, score: Any) -> tuple[float, float]:
    """ROC-AUC and average precision in one pass over the sorted scores."""
    positive = np.asarray(y_true).astype(bool)
    auc, ap = _weighted_ranking(np.asarray(score, dtype=np.float64), positive, np.ones((1, positive.size)))
    return float(auc[0]), float(ap[0])


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


def bootstrap_ranking(
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
    low, high = percentile_ci(np.concatenate(differences), ci_level)
    return roc_auc(positive, a) - roc_auc(positive, b), low, high


def percentile_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return math.nan, math.nan
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(finite, [tail, 100.0 - tail])
    return float(low), float(high)


def bootstrap_roc_auc(score: Any, y_true: Any, weights: np.ndarray) -> np.ndarray:
    """ROC-AUC for each row of ``weights`` (``(replicates, n)`` resampling weights, e.g. counts of each
    snapshot's lead in a bootstrap over leads); NaN where a replicate lacks one outcome."""
    positive = np.asarray(y_true).astype(bool)
    auc, _ = _weighted_ranking(np.asarray(score, dtype=np.float64), positive, np.asarray(weights, np.float64))
    return auc

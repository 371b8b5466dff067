"""Column checks on the leads table against each lead's final outcome (won vs not won).

Every candidate feature column gets a single-column ROC-AUC: each level's (or numeric decile's) win
rate used as the score, levels rarer than ``min_level_count`` pooled so that an id-like column cannot
look predictive by memorising rows, missing values as a level of their own. The top columns are always
reported with their most telling levels. Warnings, never blocks (honest columns share these signs):
AUC outliers, near-pure levels, missingness that depends on sales progress, and value texts that read
as sales actions or outcomes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.audit.findings import ColumnSignal, Finding, FindingKind, LevelRate, Severity
from training.audit.vocabulary import sales_words
from training.guard_settings import AuditSettings
from training.model.ranking import roc_auc

MISSING = "(missing)"
POOLED = "(rare levels)"
NUMERIC_BINS = 10
#: A near-pure level must be surprising: at the base rate it would hold at least this many leads of
#: the outcome it lacks.
MIN_EXPECTED_MINORITY = 10
#: Levels shown per column in the ranking.
LEVELS_SHOWN = 3


def level_codes(values: pd.Series, min_level_count: int) -> tuple[np.ndarray, list[str]]:
    """One code per row and the level names: categories (rare ones pooled) or numeric deciles, with
    missing values as a level of their own."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not isinstance(values.dtype, pd.CategoricalDtype):
        numeric = values.to_numpy(dtype=np.float64, na_value=np.nan)
        finite = np.isfinite(numeric)
        labels = np.full(numeric.size, MISSING, dtype=object)
        if finite.any():
            distinct = np.unique(numeric[finite])
            if distinct.size <= NUMERIC_BINS:
                labels[finite] = [f"{v:g}" for v in numeric[finite]]
            else:
                edges = np.unique(np.quantile(numeric[finite], np.linspace(0, 1, NUMERIC_BINS + 1)))
                bins = np.clip(np.searchsorted(edges, numeric[finite], side="right") - 1, 0, edges.size - 2)
                names = np.array(
                    [f"{edges[i]:g} to {edges[i + 1]:g}" for i in range(edges.size - 1)], dtype=object
                )
                labels[finite] = names[bins]
        raw = pd.Series(labels)
    else:
        raw = values.astype(object).where(values.notna(), MISSING).astype(str).reset_index(drop=True)
    counts = raw.map(raw.value_counts())
    raw = raw.where((counts >= min_level_count) | (raw == MISSING), POOLED)
    codes, uniques = pd.factorize(raw)
    return codes, [str(level) for level in uniques]


def column_signal(
    table: str, column: str, values: pd.Series, won: np.ndarray, cfg: AuditSettings
) -> ColumnSignal | None:
    """The column's single-column ROC-AUC and most telling levels; None when it cannot be scored."""
    codes, levels = level_codes(values, cfg.min_level_count)
    if len(levels) < 2:
        return None
    total = np.bincount(codes, minlength=len(levels)).astype(np.float64)
    wins = np.bincount(codes, weights=won.astype(np.float64), minlength=len(levels))
    rate = wins / np.maximum(total, 1)
    auc = roc_auc(won, rate[codes])
    if not np.isfinite(auc):
        return None
    base = float(won.mean())
    # Most telling: far from the base rate and backed by many leads.
    telling = np.abs(rate - base) * np.sqrt(total)
    order = [i for i in np.argsort(-telling) if levels[i] != POOLED][:LEVELS_SHOWN]
    shown = tuple(LevelRate(levels[i], int(total[i]), float(rate[i])) for i in order)
    return ColumnSignal(table, column, max(auc, 1.0 - auc), shown)


def auc_outliers(signals: list[ColumnSignal], cfg: AuditSettings) -> list[Finding]:
    """Lead columns whose single-column AUC is high, or far above the other columns' (robust z-score).

    Event types are ranked but not warned about: their counts come from timestamped events that
    snapshots cut at each cutoff, so a strong event type is a buying signal, not a sign of leakage.
    """
    signals = [signal for signal in signals if signal.table == "leads"]
    if not signals:
        return []
    strength = np.array([s.auc - 0.5 for s in signals])
    median = float(np.median(strength))
    # A floor on the spread: with a handful of similar columns the MAD is tiny and any column would
    # look like an outlier.
    mad = max(float(np.median(np.abs(strength - median))), 0.05)
    found = []
    for signal, value in zip(signals, strength, strict=True):
        robust = len(signals) >= 5 and value > median + cfg.outlier_mads * mad and signal.auc >= 0.65
        if signal.auc >= cfg.warn_column_auc or robust:
            why = (
                f"at least {cfg.warn_column_auc:.2f}"
                if signal.auc >= cfg.warn_column_auc
                else f"far above the other columns' (median {0.5 + median:.2f})"
            )
            found.append(
                Finding(
                    signal.table,
                    signal.column,
                    FindingKind.AUC_OUTLIER,
                    Severity.WARNING,
                    f"this column alone separates won from not-won leads with ROC-AUC {signal.auc:.3f}, "
                    f"{why}",
                    "check when it is filled in; if sales writes it after the first contact, declare "
                    'known_at = "after_contact" in the mapping or list it in exclude_columns',
                    signal.auc,
                )
            )
    return found


def near_pure_levels(
    table: str, column: str, values: pd.Series, won: np.ndarray, cfg: AuditSettings
) -> list[Finding]:
    """Levels held by enough leads that (almost) all of them share one outcome, surprisingly so."""
    codes, levels = level_codes(values, cfg.min_level_count)
    total = np.bincount(codes, minlength=len(levels))
    wins = np.bincount(codes, weights=won.astype(np.float64), minlength=len(levels))
    base = float(won.mean())
    pure = []
    for i, level in enumerate(levels):
        n = int(total[i])
        if level == POOLED or n < cfg.min_level_count:
            continue
        rate = wins[i] / n
        # The outcome the level (almost) lacks, observed and as expected at the base rate: a level is
        # near-pure only when that is surprising (1 win in 169 leads is unremarkable at a 5% base rate).
        won_level = rate >= 0.5
        observed = n - wins[i] if won_level else wins[i]
        expected = n * (1 - base) if won_level else n * base
        pure_enough = observed <= cfg.near_pure_share * n and observed <= expected / 10
        if pure_enough and expected >= MIN_EXPECTED_MINORITY:
            pure.append(f"{level!r} ({n:,} leads, {rate:.0%} won)")
    if not pure:
        return []
    return [
        Finding(
            table,
            column,
            FindingKind.NEAR_PURE_LEVEL,
            Severity.WARNING,
            f"near-pure levels (base rate {base:.0%}): {', '.join(pure[:3])}",
            "a level that (almost) always ends one way is often a status written with the outcome; "
            "check when it is set (honest levels can be this pure too)",
            float(len(pure)),
        )
    ]


def progress_missingness(
    table: str, column: str, values: pd.Series, progress: pd.Series, cfg: AuditSettings
) -> list[Finding]:
    """Populated share per stage of sales progress (e.g. not contacted / handed over / won / lost)."""
    populated = values.notna().to_numpy()
    stages = progress.to_numpy()
    shares = {}
    for stage in pd.unique(stages):
        mask = stages == stage
        if mask.sum() >= cfg.min_level_count:
            shares[str(stage)] = float(populated[mask].mean())
    if len(shares) < 2:
        return []
    high, low = max(shares, key=shares.__getitem__), min(shares, key=shares.__getitem__)
    gap = shares[high] - shares[low]
    if gap < cfg.progress_missingness_gap:
        return []
    listed = ", ".join(f"{stage} {share:.0%}" for stage, share in sorted(shares.items()))
    return [
        Finding(
            table,
            column,
            FindingKind.PROGRESS_MISSINGNESS,
            Severity.WARNING,
            f"filled in for {listed} of leads: whether it is filled depends on how far sales got",
            "a field sales fills in while working a lead reveals the outcome; check when it is filled "
            'and declare known_at = "after_contact" if it is after the first contact',
            gap,
        )
    ]


def sales_vocabulary(table: str, column: str, values: pd.Series, cfg: AuditSettings) -> list[Finding]:
    """Text values that read as sales actions or outcomes ("called", "closed won", "proposal sent")."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not isinstance(values.dtype, pd.CategoricalDtype):
        return []
    counts = values.dropna().astype(str).value_counts()
    if counts.empty:
        return []
    matched = {level: sales_words(level) for level in counts.index}
    hits = [level for level, found in matched.items() if found]
    row_share = float(counts[hits].sum() / counts.sum()) if hits else 0.0
    level_share = len(hits) / len(counts)
    if len(hits) < 2 and row_share < cfg.vocabulary_share:
        return []
    if max(row_share, level_share) < cfg.vocabulary_share:
        return []
    examples = ", ".join(repr(level) for level in sorted(hits, key=lambda lv: -counts[lv])[:4])
    return [
        Finding(
            table,
            column,
            FindingKind.SALES_VOCABULARY,
            Severity.WARNING,
            f"{row_share:.0%} of its values ({len(hits)} of {len(counts)} distinct) read as sales actions "
            f"or outcomes, e.g. {examples}",
            'values written by sales after contact reveal the outcome: declare known_at = "after_contact" '
            "or exclude the column unless they are known when the lead is created",
            row_share,
        )
    ]

"""Leakage audit, run before training: find columns and timestamps that know the outcome.

Three kinds of warning:
- ``high_single_column_auc``: one column alone ranks the outcome almost perfectly (``|AUC - 0.5| >
  max_auc_deviation``, default 0.45, i.e. AUC > 0.95 or < 0.05). Real buying signals are rarely that
  clean; a column like "deal stage" or "contract value" usually is leaked outcome.
- ``one_outcome_only``: a column is populated (non-missing) for one outcome and (almost) never for the
  other, like the columns of a closed-deals table that exist only for won leads.
- ``after_outcome_timestamp``: events recorded after their lead was closed, hand-overs recorded after
  the close, or a lead timestamp column that mostly falls at or after the close.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from training.data.contract import (
    CLOSED_AT,
    CREATED_AT,
    EVENT_TYPE,
    HANDED_OVER_AT,
    LEAD_ID,
    OCCURRED_AT,
    STATUS,
    LeadDataset,
    Outcome,
)
from training.model.evaluation import roc_auc


class LeakageKind(StrEnum):
    HIGH_SINGLE_COLUMN_AUC = "high_single_column_auc"
    ONE_OUTCOME_ONLY = "one_outcome_only"
    AFTER_OUTCOME_TIMESTAMP = "after_outcome_timestamp"


@dataclass(frozen=True)
class LeakageWarning:
    """One suspicious column or timestamp, in words fit for the run report."""

    table: str
    column: str
    kind: LeakageKind
    detail: str
    value: float | None = None  # the AUC, populated share or after-outcome share behind the warning

    def to_dict(self) -> dict[str, Any]:
        raw = asdict(self)
        raw["kind"] = str(self.kind)
        return raw

    def __str__(self) -> str:
        return f"[{self.kind}] {self.table}.{self.column}: {self.detail}"


@dataclass(frozen=True)
class AuditConfig:
    """Thresholds of the audit (all configurable)."""

    max_auc_deviation: float = 0.45
    #: Category levels rarer than this are pooled before the single-column AUC, so that an ID-like
    #: column does not look predictive just by memorising its rows.
    min_level_count: int = 10
    #: A column counts as one-outcome-only when it is populated for at least this share of one outcome ...
    min_populated_share: float = 0.05
    #: ... and for at most this share of the other.
    max_other_populated_share: float = 0.005
    #: Share of events (or closed leads) after the outcome that triggers a timestamp warning.
    max_after_outcome_share: float = 0.0
    max_rows: int = 200_000
    seed: int = 0


def audit_leakage(
    features: pd.DataFrame | None = None,
    y: Any = None,
    *,
    dataset: LeadDataset | None = None,
    leads: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    outcomes: pd.DataFrame | None = None,
    config: AuditConfig | None = None,
    sparse_by_design: Sequence[str] = (),
) -> list[LeakageWarning]:
    """Audit for leakage; returns the warnings (empty list: nothing suspicious found).

    ``features`` with labels ``y`` (one per snapshot) are checked column by column for a suspiciously
    high single-column AUC and for being populated for one outcome only. The lead tables (from
    ``dataset`` or passed one by one; explicit frames win) get the same column checks against the lead's
    final outcome (won vs not won), and their timestamps are checked against ``closed_at``.
    ``sparse_by_design`` names feature columns that are missing whenever something has not happened yet
    (e.g. "days since the last demo request"): rare and predictive is their point, so they get the AUC
    check but not the populated-for-one-outcome check.
    """
    cfg = config or AuditConfig()
    warnings: list[LeakageWarning] = []
    if dataset is not None:
        leads = dataset.leads if leads is None else leads
        events = dataset.events if events is None else events
        outcomes = dataset.outcomes if outcomes is None else outcomes

    if features is not None:
        if y is None:
            raise ValueError("audit_leakage got features but no labels y")
        labels = np.asarray(y).astype(bool)
        if labels.shape != (len(features),):
            raise ValueError(f"y has shape {labels.shape} but features has {len(features)} rows")
        warnings += _column_checks(
            "features", features.reset_index(drop=True), labels, cfg, skip_populated=set(sparse_by_design)
        )

    if leads is not None and outcomes is not None and STATUS in outcomes.columns:
        won_by_lead = outcomes.set_index(LEAD_ID)[STATUS].astype(str).eq(str(Outcome.WON))
        lead_won = leads[LEAD_ID].map(won_by_lead).fillna(False).to_numpy(dtype=bool)
        profile = leads.drop(columns=[LEAD_ID]).reset_index(drop=True)
        checkable = [c for c in profile.columns if not pd.api.types.is_datetime64_any_dtype(profile[c].dtype)]
        warnings += _column_checks("leads", profile[checkable], lead_won, cfg)

    if outcomes is not None and CLOSED_AT in outcomes.columns:
        closed = outcomes.set_index(LEAD_ID)[CLOSED_AT]
        warnings += _timestamp_checks(leads, events, outcomes, closed, cfg)
    return warnings


# ---------------------------------------------------------------------- column checks
def _column_checks(
    table: str,
    frame: pd.DataFrame,
    positive: np.ndarray,
    cfg: AuditConfig,
    skip_populated: set[str] | frozenset[str] = frozenset(),
) -> list[LeakageWarning]:
    found: list[LeakageWarning] = []
    n_pos, n_neg = int(positive.sum()), int(positive.size - positive.sum())
    if n_pos == 0 or n_neg == 0:
        return found
    rows = np.arange(positive.size)
    if positive.size > cfg.max_rows:
        rows = np.sort(np.random.default_rng(cfg.seed).choice(positive.size, cfg.max_rows, replace=False))
    sample_pos = positive[rows]
    for column in frame.columns:  # one vectorised pass per column
        values = frame[column]
        populated = values.notna().to_numpy()
        share_pos = float(populated[positive].mean())
        share_neg = float(populated[~positive].mean())
        one_sided = None if column in skip_populated else _one_outcome_only(share_pos, share_neg, cfg)
        if one_sided is not None:
            found.append(
                LeakageWarning(
                    table,
                    str(column),
                    LeakageKind.ONE_OUTCOME_ONLY,
                    f"populated for {share_pos:.1%} of won and {share_neg:.1%} of not-won rows: "
                    f"it exists only when the outcome is {one_sided}, so it reveals the outcome",
                    max(share_pos, share_neg),
                )
            )
            continue  # its AUC would only repeat the same finding
        score = _column_score(values.iloc[rows], sample_pos, cfg.min_level_count)
        if score is None:
            continue
        auc = roc_auc(sample_pos, score)
        if np.isfinite(auc) and abs(auc - 0.5) > cfg.max_auc_deviation:
            found.append(
                LeakageWarning(
                    table,
                    str(column),
                    LeakageKind.HIGH_SINGLE_COLUMN_AUC,
                    f"this column alone separates won from not-won with AUC {max(auc, 1 - auc):.3f} "
                    f"(alarm above {0.5 + cfg.max_auc_deviation:.2f}); "
                    "check that it is known before the outcome",
                    float(auc),
                )
            )
    return found


def _one_outcome_only(share_pos: float, share_neg: float, cfg: AuditConfig) -> str | None:
    if share_pos >= cfg.min_populated_share and share_neg <= cfg.max_other_populated_share:
        return "won"
    if share_neg >= cfg.min_populated_share and share_pos <= cfg.max_other_populated_share:
        return "not won"
    return None


def _column_score(values: pd.Series, positive: np.ndarray, min_level_count: int) -> np.ndarray | None:
    """A numeric score for one column: the value itself, or for categories the level's win rate.

    Missing values rank below every value. Category levels with fewer than ``min_level_count`` rows are
    pooled, so the in-sample win rate cannot memorise individual rows.
    """
    if pd.api.types.is_bool_dtype(values.dtype) or (
        pd.api.types.is_numeric_dtype(values.dtype) and not isinstance(values.dtype, pd.CategoricalDtype)
    ):
        numeric = values.to_numpy(dtype=np.float64, na_value=np.nan)
        finite = np.isfinite(numeric)
        if not finite.any():
            return None
        return np.where(finite, numeric, np.nanmin(numeric[finite]) - 1.0)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return None
    codes, _ = pd.factorize(values.astype(object), use_na_sentinel=False)
    counts = np.bincount(codes)
    pooled = np.where(counts[codes] >= min_level_count, codes, -1) + 1  # 0 = pooled rare levels
    won = np.bincount(pooled, weights=positive.astype(np.float64))
    total = np.bincount(pooled)
    rate = np.divide(won, total, out=np.zeros_like(won), where=total > 0)
    return rate[pooled]


# ---------------------------------------------------------------------- timestamp checks
def _timestamp_checks(
    leads: pd.DataFrame | None,
    events: pd.DataFrame | None,
    outcomes: pd.DataFrame,
    closed: pd.Series,
    cfg: AuditConfig,
) -> list[LeakageWarning]:
    found: list[LeakageWarning] = []
    if events is not None and len(events) and OCCURRED_AT in events.columns:
        closed_at = pd.to_datetime(events[LEAD_ID].map(closed), utc=True)
        occurred = pd.to_datetime(events[OCCURRED_AT], utc=True)
        after = (occurred > closed_at).to_numpy(dtype=bool, na_value=False)
        share = float(after.mean())
        if after.any() and share > cfg.max_after_outcome_share:
            by_type = ""
            if EVENT_TYPE in events.columns:
                top = events.loc[after, EVENT_TYPE].astype(str).value_counts().head(3)
                by_type = "; most common types: " + ", ".join(f"{t} ({n})" for t, n in top.items())
            found.append(
                LeakageWarning(
                    "events",
                    OCCURRED_AT,
                    LeakageKind.AFTER_OUTCOME_TIMESTAMP,
                    f"{int(after.sum())} events ({share:.1%}) occur after their lead's closed_at; "
                    f"snapshots after the close would see them{by_type}",
                    share,
                )
            )
    if HANDED_OVER_AT in outcomes.columns:
        handed = pd.to_datetime(outcomes[HANDED_OVER_AT], utc=True)
        closed_own = pd.to_datetime(outcomes[CLOSED_AT], utc=True)
        after = (handed > closed_own).to_numpy(dtype=bool, na_value=False)
        both = (handed.notna() & closed_own.notna()).to_numpy()
        if after.any() and after.sum() / max(int(both.sum()), 1) > cfg.max_after_outcome_share:
            found.append(
                LeakageWarning(
                    "outcomes",
                    HANDED_OVER_AT,
                    LeakageKind.AFTER_OUTCOME_TIMESTAMP,
                    f"{int(after.sum())} of {int(both.sum())} leads were handed over after they were closed; "
                    "handed_over_at is probably recorded with the close, not at the hand-over",
                    float(after.sum() / max(int(both.sum()), 1)),
                )
            )
    if leads is not None:
        lead_closed = pd.to_datetime(leads[LEAD_ID].map(closed), utc=True)
        for column in leads.columns:
            if column == CREATED_AT or not pd.api.types.is_datetime64_any_dtype(leads[column].dtype):
                continue
            stamps = pd.to_datetime(leads[column], utc=True)
            both = (stamps.notna() & lead_closed.notna()).to_numpy()
            if not both.any():
                continue
            at_or_after = (stamps >= lead_closed).to_numpy(dtype=bool, na_value=False)
            share = float(at_or_after.sum() / both.sum())
            if share >= 0.5:
                found.append(
                    LeakageWarning(
                        "leads",
                        str(column),
                        LeakageKind.AFTER_OUTCOME_TIMESTAMP,
                        f"for {share:.0%} of the {int(both.sum())} closed leads this timestamp is at or "
                        "after closed_at: it is recorded with or after the outcome",
                        share,
                    )
                )
    return found

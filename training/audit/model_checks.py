"""Checks on the trained model, which block promotion on evidence:

- an ``after_contact`` column among the model's inputs (declared unusable, used anyway);
- one column carrying more than ``max_column_importance_share`` of the model's total importance (mean
  absolute contribution on the test period), when at least ``min_columns_for_dominance`` columns carry
  importance: honest buying signals share the work, a leaked outcome does it alone;
- a test ROC-AUC above ``max_test_auc``: real buying signals are rarely that clean.

A "column" is a column of the leads table (a profile or activity column) or one event type of the
event log; features that aggregate all events (engagement, lead age) are no single column.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from training.audit.findings import Finding, FindingKind, Severity
from training.guard_settings import AuditSettings


def column_importance(
    contributions: pd.DataFrame,
    feature_groups: Mapping[str, str],
    profile_columns: Iterable[str],
    event_types: Iterable[str],
) -> pd.Series:
    """Share of the model's total mean |contribution| per ``table.column`` (profile columns and event
    types only), largest first; aggregate features count in the total but belong to no column."""
    mean_abs = contributions.drop(columns=["base_value"], errors="ignore").abs().mean()
    total = float(mean_abs.sum())
    if total <= 0:
        return pd.Series(dtype=np.float64)
    names = {column: f"leads.{column}" for column in profile_columns}
    names.update({event: f"events.event_type={event}" for event in event_types})
    keyed = {feature: names.get(feature_groups.get(feature, feature)) for feature in mean_abs.index}
    shares = mean_abs.groupby(pd.Series(keyed)).sum() / total
    return shares.sort_values(ascending=False)


def model_findings(
    *,
    test_auc: float,
    importance: pd.Series,
    used_columns: Sequence[str],
    after_contact: Sequence[str],
    cfg: AuditSettings,
    single_column_auc: Mapping[str, float] | None = None,
) -> list[Finding]:
    """The blocking checks above; ``importance`` as returned by ``column_importance``;
    ``single_column_auc``: the data audit's ranking (``table.column`` -> ROC-AUC alone), which names the
    columns that alone nearly separate won from not-won when the model is too good."""
    found = []
    for column in sorted(set(used_columns) & set(after_contact)):
        found.append(
            Finding(
                "leads",
                column,
                FindingKind.AFTER_CONTACT_USED,
                Severity.BLOCKING,
                'declared known_at = "after_contact", yet the model reads it',
                "train again with the declaration in place (after_contact columns are never features)",
            )
        )
    carrying = importance[importance > 0]
    if len(carrying) >= cfg.min_columns_for_dominance and carrying.iloc[0] > cfg.max_column_importance_share:
        key, share = str(carrying.index[0]), float(carrying.iloc[0])
        table, _, column = key.partition(".")
        found.append(
            Finding(
                table,
                column,
                FindingKind.DOMINANT_COLUMN,
                Severity.BLOCKING,
                f"carries {share:.0%} of the model's total importance (limit "
                f"{cfg.max_column_importance_share:.0%}; next: {_next(carrying)})",
                "a column that does the model's work alone is usually the outcome in disguise: check when "
                f'it is filled in; exclude it, or accept it with audit.accept = ["{key}"] if it is known '
                "when the lead is created",
                share,
            )
        )
    if np.isfinite(test_auc) and test_auc > cfg.max_test_auc:
        top = str(importance.index[0]) if len(importance) else "leads.?"
        top_share = float(importance.iloc[0]) if len(importance) else 0.0
        table, _, column = top.partition(".")
        # What no single column carries (lead age, all engagement): when that is the bulk, excluding the
        # top column changes little, and the usual cause is which leads have snapshots at all.
        no_column = max(0.0, 1.0 - float(importance.sum()))
        aggregate = (
            f"; {no_column:.0%} is carried by features of no single column (lead age, all engagement), "
            "so excluding a column may change little: check that the outcome does not decide which leads "
            "are trained on (won or lost leads left out for lack of a close date: see the run's notes)"
            if no_column > top_share
            else ""
        )
        # The usual leak does the work alone: name the columns that alone nearly reach the model's score.
        alone = sorted(
            ((key, auc) for key, auc in (single_column_auc or {}).items() if auc >= cfg.max_test_auc),
            key=lambda item: -item[1],
        )
        if alone:
            listed = ", ".join(f"{key} {auc:.3f}" for key, auc in alone[:5])
            aggregate += f"; alone, these columns separate won from not-won almost perfectly: {listed}"
        found.append(
            Finding(
                table,
                column,
                FindingKind.AUC_ABOVE_CEILING,
                Severity.BLOCKING,
                f"test ROC-AUC {test_auc:.3f} is above the ceiling {cfg.max_test_auc:.2f} "
                f"(audit.max_test_auc); "
                f"the column carrying most importance is {top} ({top_share:.0%}){aggregate}",
                "find the column that knows the outcome (see the ranking above) and exclude it; if the "
                f'score is honest, accept it (audit.accept = ["{top}"]) or raise audit.max_test_auc',
                float(test_auc),
            )
        )
    return found


def _next(importance: pd.Series) -> str:
    return ", ".join(f"{key} {share:.0%}" for key, share in importance.iloc[1:3].items()) or "none"

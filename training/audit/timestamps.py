"""Timestamp checks: what was recorded after the hand-over or the close.

Warnings: events after their lead's close (snapshots stop at the close, so the features never see
them, but a log full of them says the export mixes in what happened after the sale), hand-overs
recorded after the close, and lead timestamp columns that mostly fall at or after the close.

Blocking, where a profile history exists (field changes with timestamps, as CRMs export them): a
feature column whose value was written or changed after the lead's hand-over or close for more than
``max_changed_after_outcome_share`` of those leads. The leads table holds the latest value, so the
model would learn from what sales wrote after the outcome. A history with old and new values is not
judged: the features read those fields as of each cutoff, so a change after the outcome never reaches them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from training.audit.findings import Finding, FindingKind, Severity
from training.data.contract import (
    CHANGED_AT,
    CLOSED_AT,
    CREATED_AT,
    EVENT_TYPE,
    HANDED_OVER_AT,
    HISTORY_FIELD,
    LEAD_ID,
    OCCURRED_AT,
)
from training.features.profile_asof import has_values


def outcome_moment(outcomes: pd.DataFrame) -> pd.Series:
    """Per lead id: the earlier of hand-over and close (NaT when neither is known)."""
    stamps = [pd.to_datetime(outcomes[c], utc=True) for c in (HANDED_OVER_AT, CLOSED_AT) if c in outcomes]
    if not stamps:
        return pd.Series(pd.NaT, index=outcomes[LEAD_ID], dtype="datetime64[ns, UTC]")
    moment = pd.concat(stamps, axis=1).min(axis=1)
    moment.index = outcomes[LEAD_ID].to_numpy()
    return moment


def event_and_lead_timestamps(
    leads: pd.DataFrame | None, events: pd.DataFrame | None, outcomes: pd.DataFrame
) -> list[Finding]:
    """The warnings above, about events, hand-overs and lead timestamp columns after the close."""
    found: list[Finding] = []
    if CLOSED_AT not in outcomes:
        return found
    closed = pd.to_datetime(outcomes[CLOSED_AT], utc=True)
    closed.index = outcomes[LEAD_ID].to_numpy()
    if events is not None and len(events) and OCCURRED_AT in events:
        after = (pd.to_datetime(events[OCCURRED_AT], utc=True) > events[LEAD_ID].map(closed)).to_numpy(
            dtype=bool, na_value=False
        )
        if after.any():
            by_type = ""
            if EVENT_TYPE in events:
                top = events.loc[after, EVENT_TYPE].astype(str).value_counts().head(3)
                by_type = "; most common types: " + ", ".join(f"{t} ({n})" for t, n in top.items())
            found.append(
                Finding(
                    "events",
                    OCCURRED_AT,
                    FindingKind.AFTER_OUTCOME_TIMESTAMP,
                    Severity.WARNING,
                    f"{int(after.sum()):,} events ({after.mean():.1%}) occur after their lead's close"
                    f"{by_type}",
                    "snapshots stop at the close so features never see them; check that the event log is "
                    "not mixing in what happened after the sale (onboarding, invoices)",
                    float(after.mean()),
                )
            )
    if HANDED_OVER_AT in outcomes:
        handed = pd.to_datetime(outcomes[HANDED_OVER_AT], utc=True).to_numpy()
        both = ~(pd.isna(handed) | pd.isna(closed.to_numpy()))
        late = both & (handed > closed.to_numpy())
        if late.any():
            found.append(
                Finding(
                    "outcomes",
                    HANDED_OVER_AT,
                    FindingKind.AFTER_OUTCOME_TIMESTAMP,
                    Severity.WARNING,
                    f"{int(late.sum()):,} of {int(both.sum()):,} leads were handed over after they were "
                    "closed",
                    "handed_over_at is probably recorded with the close; map the real hand-over moment",
                    float(late.sum() / both.sum()),
                )
            )
    if leads is not None:
        lead_closed = leads[LEAD_ID].map(closed)
        for column in leads.columns:
            if column == CREATED_AT or not pd.api.types.is_datetime64_any_dtype(leads[column].dtype):
                continue
            stamps = pd.to_datetime(leads[column], utc=True)
            both_mask = (stamps.notna() & lead_closed.notna()).to_numpy()
            if not both_mask.any():
                continue
            share = float(
                (stamps >= lead_closed).to_numpy(dtype=bool, na_value=False).sum() / both_mask.sum()
            )
            if share >= 0.5:
                found.append(
                    Finding(
                        "leads",
                        str(column),
                        FindingKind.AFTER_OUTCOME_TIMESTAMP,
                        Severity.WARNING,
                        f"for {share:.0%} of the {int(both_mask.sum()):,} closed leads this timestamp is at "
                        "or after the close: the row was written with or after the outcome",
                        "check which of the lead's other columns were edited at the same time",
                        share,
                    )
                )
    return found


def changed_after_outcome(
    history: pd.DataFrame | None,
    outcomes: pd.DataFrame,
    columns: Sequence[str],
    max_share: float,
) -> list[Finding]:
    """Blocking findings: feature columns written or changed after the hand-over or close (history).

    Only for a history of change times without values: with old and new values, snapshots read each
    field as of their cutoff (``training.features.profile_asof``), so a later change never reaches a
    feature.
    """
    if history is None or not len(history) or not {LEAD_ID, HISTORY_FIELD, CHANGED_AT} <= set(history):
        return []
    if has_values(history):
        return []
    moment = outcome_moment(outcomes)
    progressed = moment.dropna()
    if progressed.empty:
        return []
    changes = history[history[HISTORY_FIELD].astype(str).isin(set(columns))]
    changed = pd.to_datetime(changes[CHANGED_AT], utc=True)
    after = (changed >= changes[LEAD_ID].map(progressed)).to_numpy(dtype=bool, na_value=False)
    late = changes.loc[after]
    found = []
    for column in columns:
        leads_late = late.loc[late[HISTORY_FIELD].astype(str) == column, LEAD_ID].nunique()
        share = leads_late / len(progressed)
        if leads_late and share > max_share:
            found.append(
                Finding(
                    "leads",
                    column,
                    FindingKind.CHANGED_AFTER_OUTCOME,
                    Severity.BLOCKING,
                    f"the profile history shows it written or changed after the hand-over or close for "
                    f"{leads_late:,} of {len(progressed):,} such leads ({share:.0%}); the leads table holds "
                    "the latest value, so the model would learn from what was written after the outcome",
                    'declare known_at = "after_contact" or list it in exclude_columns; accept it '
                    "(audit.accept) only if those changes cannot carry the outcome",
                    float(share),
                )
            )
    return found


def progress_stage(leads: pd.DataFrame, outcomes: pd.DataFrame, status: pd.Series) -> pd.Series:
    """Per lead (in the leads' order): won, lost, handed over (still open) or not handed over."""
    stage = status.astype(str).to_numpy(dtype=object)
    if HANDED_OVER_AT in outcomes:
        handed = leads[LEAD_ID].map(outcomes.set_index(LEAD_ID)[HANDED_OVER_AT]).notna().to_numpy()
        stage = np.where((stage == "open") & handed, "open, handed over", stage)
        stage = np.where(stage == "open", "open, not handed over", stage)
    return pd.Series(stage, index=leads.index)

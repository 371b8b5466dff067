"""Leakage audit: find what knows the outcome instead of predicting it. Warn broadly, block on evidence.

``audit_dataset`` runs before training, on the leads table (each candidate feature column against the
lead's final outcome), the event types and the timestamps; ``audit_model`` adds the checks on the
trained model (``training.audit.model_checks``). The result is an ``AuditReport``: the columns ranked by
single-column ROC-AUC with their most telling levels (always shown), and findings.

Warnings (never block; honest columns share these signs): single-column AUC outliers, near-pure
levels, missingness that depends on sales progress, value texts that read as sales actions or outcomes
(``training.audit.vocabulary``), timestamps after the close, columns whose ``known_at`` is unknown.
Blocking (evidence honest signals do not share): values written or changed after the hand-over or
close (profile history), an ``after_contact`` column used anyway, one column carrying more than half of
the model's importance, a test ROC-AUC above the ceiling. A blocking finding stops promotion until the
column is excluded (``exclude_columns``) or accepted (``audit.accept``, recorded with the run).
Thresholds: ``training.guard_settings.AuditSettings``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from training.audit.column_quality import column_quality
from training.audit.columns import (
    auc_outliers,
    column_signal,
    near_pure_levels,
    progress_missingness,
    sales_vocabulary,
)
from training.audit.findings import AuditReport, ColumnSignal, Finding, FindingKind, LevelRate, Severity
from training.audit.model_checks import column_importance, model_findings
from training.audit.timestamps import (
    changed_after_outcome,
    event_and_lead_timestamps,
    outcome_moment,
    progress_stage,
)
from training.data.contract import EVENT_TYPE, LEAD_ID, OCCURRED_AT, STATUS, KnownAt, LeadDataset, Outcome
from training.guard_settings import AuditSettings

__all__ = [
    "AuditReport",
    "ColumnSignal",
    "Finding",
    "FindingKind",
    "LevelRate",
    "Severity",
    "audit_dataset",
    "audit_model",
    "column_importance",
]


def audit_dataset(
    dataset: LeadDataset,
    columns: Sequence[str],
    settings: AuditSettings | None = None,
    *,
    excluded: Mapping[str, str] | None = None,
) -> AuditReport:
    """Audit the candidate feature ``columns`` of ``dataset.leads``, its event types and timestamps.

    ``excluded`` (``table.column`` -> why) is recorded in the report as information.
    """
    cfg = settings or AuditSettings()
    leads, outcomes, events = dataset.leads, dataset.outcomes, dataset.events
    status = leads[LEAD_ID].map(outcomes.set_index(LEAD_ID)[STATUS].astype(str)).fillna(str(Outcome.OPEN))
    won = status.eq(str(Outcome.WON)).to_numpy()
    report = AuditReport(excluded=dict(excluded or {}))
    for key, why in report.excluded.items():
        table, _, column = key.partition(".")
        report.findings.append(
            Finding(
                table, column, FindingKind.EXCLUDED, Severity.INFO, f"not used as a feature: {why}", "none"
            )
        )
    rows = np.arange(len(leads))
    if len(rows) > cfg.max_rows:
        rows = np.sort(np.random.default_rng(cfg.seed).choice(len(rows), cfg.max_rows, replace=False))
    sample = leads.iloc[rows].reset_index(drop=True)
    won_sample = won[rows]
    stage = progress_stage(leads, outcomes, status).iloc[rows].reset_index(drop=True)
    for column in columns:
        report.findings += column_quality("leads", column, leads[column], cfg.min_level_count)
    signals: list[ColumnSignal] = []
    if 0 < won_sample.sum() < won_sample.size:
        for column in columns:
            values = sample[column]
            signal = column_signal("leads", column, values, won_sample, cfg)
            if signal is not None:
                signals.append(signal)
            report.findings += near_pure_levels("leads", column, values, won_sample, cfg)
            report.findings += progress_missingness("leads", column, values, stage, cfg)
            report.findings += sales_vocabulary("leads", column, values, cfg)
        signals += _event_type_signals(dataset, sample[LEAD_ID], won_sample, cfg)
    report.findings += auc_outliers(signals, cfg)
    if dataset.has_events and EVENT_TYPE in events:
        report.findings += sales_vocabulary("events", EVENT_TYPE, events[EVENT_TYPE], cfg)
    unknown = [c for c in columns if dataset.metadata.known_at.get(c) == KnownAt.UNKNOWN]
    for column in unknown:
        report.findings.append(
            Finding(
                "leads",
                column,
                FindingKind.KNOWN_AT_UNKNOWN,
                Severity.WARNING,
                'known_at = "unknown": used as a feature although nobody knows when it is filled in',
                'find out; then declare "creation" or "after_contact" in the mapping',
            )
        )
    report.findings += event_and_lead_timestamps(leads, events, outcomes)
    report.findings += changed_after_outcome(
        dataset.profile_history, outcomes, columns, cfg.max_changed_after_outcome_share
    )
    report.top_columns = sorted(signals, key=lambda s: -s.auc)[: cfg.top_columns]
    return report


def audit_model(
    report: AuditReport,
    *,
    test_auc: float,
    contributions: pd.DataFrame,
    feature_groups: Mapping[str, str],
    used_columns: Sequence[str],
    event_types: Sequence[str],
    after_contact: Sequence[str],
    settings: AuditSettings | None = None,
) -> AuditReport:
    """``report`` plus the checks on the trained model, with ``audit.accept`` applied."""
    cfg = settings or AuditSettings()
    importance = column_importance(contributions, feature_groups, used_columns, event_types)
    findings = model_findings(
        test_auc=test_auc,
        importance=importance,
        used_columns=used_columns,
        after_contact=after_contact,
        cfg=cfg,
        single_column_auc={signal.key: signal.auc for signal in report.top_columns},
    )
    top = {str(key): float(share) for key, share in importance.head(5).items()}
    combined = AuditReport(report.top_columns, [*report.findings, *findings], report.excluded, importance=top)
    return combined.with_acceptance(cfg.accept)


def _event_type_signals(
    dataset: LeadDataset, lead_ids: pd.Series, won: np.ndarray, cfg: AuditSettings
) -> list[ColumnSignal]:
    """Each event type as a column: how many such events a lead (of ``lead_ids``, the audited sample)
    had before its hand-over or close."""
    events = dataset.events
    if not dataset.has_events or EVENT_TYPE not in events:
        return []
    if len(lead_ids) < len(dataset.leads):
        events = events[events[LEAD_ID].isin(lead_ids)]
    moment = events[LEAD_ID].map(outcome_moment(dataset.outcomes))
    # An open lead (no hand-over, no close) counts all its events. A comparison with NaT is False, not
    # missing, so the open leads' events once all went uncounted, and every open lead read as "0". A won
    # or lost lead without its dates counts none: its events after the close cannot be told apart.
    occurred = pd.to_datetime(events[OCCURRED_AT], utc=True)
    status = events[LEAD_ID].map(dataset.outcomes.set_index(LEAD_ID)[STATUS].astype(str))
    is_open = (status == str(Outcome.OPEN)).to_numpy(dtype=bool)
    before = (occurred < moment).to_numpy(dtype=bool) | (moment.isna().to_numpy(dtype=bool) & is_open)
    counts = (
        events.loc[before]
        .groupby([LEAD_ID, EVENT_TYPE], observed=True)
        .size()
        .unstack(fill_value=0)
        .reindex(lead_ids, fill_value=0)
    )
    signals = []
    for event_type in counts.columns:
        signal = column_signal(
            "events", f"event_type={event_type}", counts[event_type].reset_index(drop=True), won, cfg
        )
        if signal is not None:
            signals.append(signal)
    return signals

"""Terminal renderings of the leakage audit, the promotion guards and the drift report (rich)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from training.audit import AuditReport, Severity
from training.model.drift import DriftReport

if TYPE_CHECKING:  # a type only: importing the registry pulls in MLflow, ~2 s of every command's start
    from training.registry.promotion import PromotionDecision

STYLE = {Severity.BLOCKING: "bold red", Severity.WARNING: "yellow", Severity.INFO: "dim"}


def audit_renderables(audit: AuditReport) -> list[RenderableType]:
    """The column ranking (always), then every finding with its evidence and what to do."""
    parts: list[RenderableType] = []
    ranking = Table(
        title="Leakage audit: columns that alone best separate won from not-won leads",
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    ranking.add_column("column", no_wrap=True)
    ranking.add_column("ROC-AUC", justify="right")
    ranking.add_column("most telling levels (win rate of leads)")
    for signal in audit.top_columns:
        ranking.add_row(signal.key, f"{signal.auc:.3f}", "; ".join(map(str, signal.levels)))
    parts.append(ranking)
    if audit.importance:
        shares = ", ".join(f"{key} {share:.0%}" for key, share in audit.importance.items())
        # The audit adds up each feature's mean |contribution| (a column whose 30- and 90-day counts pull
        # apart still did work); the report nets a signal's features first, so its shares can be smaller.
        how = "each feature's |contribution| added up"
        parts.append(Text(f"Share of the model's importance by column ({how}): {shares}"))
    for finding in audit.findings:
        label = "accepted" if finding.accepted else str(finding.severity)
        style = "green" if finding.accepted else STYLE[finding.severity]
        line = Text(f"  {label}: ", style=style)
        line.append(f"{finding.key}", style="bold")
        line.append(f" [{finding.kind}] {finding.evidence}")
        if finding.severity != Severity.INFO:
            line.append(f". What to do: {finding.action}", style="dim")
        parts.append(line)
    blocked = audit.blocking_columns
    if blocked:
        parts.append(
            Text(
                f"BLOCKED: this model is registered but never promoted while these columns have blocking "
                f"findings: {', '.join(blocked)}. Exclude them (exclude_columns) or accept them "
                "(audit.accept) and train again.",
                style="bold red",
            )
        )
    if audit.accepted:
        parts.append(Text(f"accepted by audit.accept (recorded with the run): {', '.join(audit.accepted)}"))
    return parts


def guard_table(decision: PromotionDecision) -> Table:
    """Each promotion check with its numbers."""
    table = Table(title="Promotion checks", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("check", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("numbers")
    for check in decision.checks:
        style = {"pass": "green", "FAIL": "bold red", "skipped": "dim"}[check.status]
        table.add_row(check.name, Text(check.status, style=style), check.detail)
    return table


def drift_renderables(drift: DriftReport | None) -> list[RenderableType]:
    """Base rates, the most shifted feature groups, and the drift warnings."""
    if drift is None:
        return []
    top = ", ".join(f"{g.group} {g.psi:.2f}" for g in drift.groups[:3]) or "none"
    parts: list[RenderableType] = [
        Text(
            f"Drift, training -> test: base rate {drift.train_base_rate:.1%} -> {drift.test_base_rate:.1%}; "
            f"largest PSI by feature group: {top}"
        )
    ]
    parts.extend(Text(f"  drift warning: {warning}", style="yellow") for warning in drift.warnings)
    return parts

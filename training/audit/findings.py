"""What the leakage audit reports: findings (info, warning, blocking) and the columns ranked by how
well each alone separates won from not-won leads.

A finding names its table and column, the evidence, and what to do about it. Only blocking findings
stop promotion, and only until the user excludes the column or accepts it (``audit.accept``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    BLOCKING = "blocking"


class FindingKind(StrEnum):
    # Warnings: signs that honest columns can share, so they never block.
    AUC_OUTLIER = "auc_outlier"
    NEAR_PURE_LEVEL = "near_pure_level"
    PROGRESS_MISSINGNESS = "progress_missingness"
    SALES_VOCABULARY = "sales_vocabulary"
    AFTER_OUTCOME_TIMESTAMP = "after_outcome_timestamp"
    KNOWN_AT_UNKNOWN = "known_at_unknown"
    # Warnings on columns that cannot inform any model (training.audit.column_quality).
    EMPTY_COLUMN = "empty_column"
    CONSTANT_COLUMN = "constant_column"
    IDENTIFIER_LIKE = "identifier_like"
    # Blocking: evidence that honest signals do not share.
    CHANGED_AFTER_OUTCOME = "changed_after_outcome"
    AFTER_CONTACT_USED = "after_contact_used"
    DOMINANT_COLUMN = "dominant_column"
    AUC_ABOVE_CEILING = "auc_above_ceiling"
    # Information: what the run left out and why.
    EXCLUDED = "excluded"


@dataclass(frozen=True)
class Finding:
    """One audit finding, in words fit for the terminal, the run report and the HTML report."""

    table: str
    column: str
    kind: FindingKind
    severity: Severity
    evidence: str
    action: str
    value: float | None = None
    #: the user listed ``table.column`` in ``audit.accept``: recorded, no longer blocking
    accepted: bool = False

    @property
    def key(self) -> str:
        return f"{self.table}.{self.column}"

    @property
    def blocking(self) -> bool:
        return self.severity == Severity.BLOCKING and not self.accepted

    def to_dict(self) -> dict[str, str]:
        """String values only (the model card's ``leakage_warnings`` shape); ``detail`` is the evidence."""
        return {
            "table": self.table,
            "column": self.column,
            "kind": str(self.kind),
            "severity": str(self.severity),
            "detail": self.evidence,
            "action": self.action,
            "value": "" if self.value is None else f"{self.value:.6g}",
            "accepted": "yes" if self.accepted else "no",
        }

    def __str__(self) -> str:
        accepted = " (accepted by audit.accept)" if self.accepted else ""
        return f"[{self.severity}{accepted}] {self.key}: {self.evidence}. What to do: {self.action}"


@dataclass(frozen=True)
class LevelRate:
    """One level (category, or numeric range) of a column: how many leads hold it, how many were won."""

    level: str
    leads: int
    win_rate: float

    def __str__(self) -> str:
        return f"{self.level}: {self.win_rate:.0%} won of {self.leads:,}"


@dataclass(frozen=True)
class ColumnSignal:
    """How well one column alone separates won from not-won leads (ROC-AUC oriented to >= 0.5)."""

    table: str
    column: str
    auc: float
    #: the levels whose win rate differs most from the base rate, most telling first
    levels: tuple[LevelRate, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.table}.{self.column}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.key,
            "auc": round(self.auc, 4),
            "levels": [str(level) for level in self.levels],
        }


@dataclass
class AuditReport:
    """Everything the audit found for one training run."""

    top_columns: list[ColumnSignal] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    #: ``table.column`` -> why it was not used as a feature
    excluded: dict[str, str] = field(default_factory=dict)
    #: ``audit.accept`` as configured (recorded with the run)
    accepted: tuple[str, ...] = ()
    #: share of the model's total importance per ``table.column``, largest first (the top few)
    importance: dict[str, float] = field(default_factory=dict)

    @property
    def blocking_columns(self) -> list[str]:
        """``table.column`` of every unresolved blocking finding, each once, in finding order."""
        return list(dict.fromkeys(f.key for f in self.findings if f.blocking))

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == Severity.WARNING]

    def with_acceptance(self, accept: tuple[str, ...]) -> AuditReport:
        """The report with blocking findings on accepted columns marked as accepted."""
        wanted = set(accept)
        findings = [
            replace(f, accepted=True) if f.severity == Severity.BLOCKING and f.key in wanted else f
            for f in self.findings
        ]
        return AuditReport(
            list(self.top_columns), findings, dict(self.excluded), tuple(accept), dict(self.importance)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "top_columns": [signal.to_dict() for signal in self.top_columns],
            "findings": [finding.to_dict() for finding in self.findings],
            "blocking_columns": self.blocking_columns,
            "excluded": dict(self.excluded),
            "accepted": list(self.accepted),
            "importance": {key: round(share, 4) for key, share in self.importance.items()},
        }

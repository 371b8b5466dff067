"""The promotion guards: whether a newly trained challenger may become champion automatically.

Each guard is a ``GuardCheck`` with its numbers, so the CLI summary, the run report and the registry
tags show why a model was or was not promoted. A challenger is promoted only when every check passes:

1. **leakage audit**: no blocking finding left unresolved (excluded or accepted) by the user.
2. **better than chance**: the lower end of the test ROC-AUC's 95% interval (resampling whole leads)
   is above 0.5 + ``chance_margin``. A model trained on shuffled labels fails here.
3. **vs each baseline**: the lower end of the paired 95% interval of (model - baseline) ROC-AUC is at
   least ``-baseline_tolerance``: the model may tie a baseline but not lose to it.
4. **vs the champion**: ROC-AUC on the new test window >= ``min_champion_ratio`` x the champion's on the
   same window. Skipped (no veto) when the champion cannot score the new data or has a blocking finding.
5. **champion not collapsed**: the champion's ROC-AUC on the new window has not fallen more than
   ``max_champion_drop`` below its recorded test ROC-AUC. A collapse means broken data rather than a
   better model, so automatic promotion stops; ``leadripe promote N --reason ...`` overrides it.

Pure functions of numbers: ``training.train`` gathers the evidence and moves the registry aliases.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from training.guard_settings import PromotionSettings


@dataclass(frozen=True)
class GuardCheck:
    """One promotion guard and its outcome; ``passed`` is ``None`` when it did not apply."""

    name: str
    passed: bool | None
    detail: str
    #: True for the champion-collapse guard: it stops automatic promotion, a person may override it.
    overridable: bool = False

    @property
    def status(self) -> str:
        return "skipped" if self.passed is None else ("pass" if self.passed else "FAIL")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "detail": self.detail,
            "overridable": self.overridable,
        }


@dataclass(frozen=True)
class PromotionDecision:
    """Promote or not, the reason in one sentence, and every check behind it."""

    promote: bool
    reason: str
    checks: tuple[GuardCheck, ...] = ()

    @property
    def failed(self) -> list[GuardCheck]:
        return [check for check in self.checks if check.passed is False]

    def to_dict(self) -> dict[str, Any]:
        return {"promote": self.promote, "reason": self.reason, "checks": [c.to_dict() for c in self.checks]}


@dataclass(frozen=True)
class ChallengerEvidence:
    """What the new run measured on its test period."""

    roc_auc: float
    #: 95% interval of the test ROC-AUC (whole leads resampled)
    roc_auc_ci: tuple[float, float]
    #: baseline -> (model minus baseline ROC-AUC, paired 95% interval low, high)
    baseline_differences: Mapping[str, tuple[float, float, float]] = field(default_factory=dict)
    #: ``table.column`` of every blocking audit finding the user has not excluded or accepted
    blocking_columns: Sequence[str] = ()


@dataclass(frozen=True)
class ChampionEvidence:
    """The current champion, measured on the challenger's test window."""

    version: int
    #: its ROC-AUC on the new test window; NaN when it cannot score the new data (other columns)
    auc_on_new_window: float
    #: the test ROC-AUC recorded when it was trained (None when unknown)
    recorded_auc: float | None = None
    #: its own unresolved blocking audit findings (a leaky champion does not veto a challenger)
    blocking_columns: Sequence[str] = ()


def decide_promotion(
    challenger: ChallengerEvidence,
    champion: ChampionEvidence | None,
    settings: PromotionSettings | None = None,
) -> PromotionDecision:
    """Run every guard (see the module docstring) and decide; the reason names the failed checks."""
    cfg = settings or PromotionSettings()
    checks = [
        _audit_check(challenger),
        _chance_check(challenger, cfg),
        *_baseline_checks(challenger, cfg),
        *_champion_checks(challenger, champion, cfg),
    ]
    failed = [check for check in checks if check.passed is False]
    if not failed:
        applied = sum(check.passed is True for check in checks)
        against = "no champion yet" if champion is None else f"champion v{champion.version}"
        reason = f"all {applied} promotion checks passed ({against})"
        return PromotionDecision(True, reason, tuple(checks))
    reason = "not promoted: " + "; ".join(f"{check.name}: {check.detail}" for check in failed)
    return PromotionDecision(False, reason, tuple(checks))


def _audit_check(challenger: ChallengerEvidence) -> GuardCheck:
    if challenger.blocking_columns:
        columns = ", ".join(challenger.blocking_columns)
        return GuardCheck(
            "leakage audit",
            False,
            f"blocking findings on {columns}; exclude them (exclude_columns) or accept them "
            "(audit.accept) and train again",
        )
    return GuardCheck("leakage audit", True, "no unresolved blocking finding")


def _chance_check(challenger: ChallengerEvidence, cfg: PromotionSettings) -> GuardCheck:
    low, high = challenger.roc_auc_ci
    floor = 0.5 + cfg.chance_margin
    name = "better than chance"
    if math.isnan(challenger.roc_auc) or math.isnan(low):
        return GuardCheck(name, False, "test ROC-AUC or its interval is undefined (one outcome only?)")
    detail = f"ROC-AUC {challenger.roc_auc:.3f}, 95% CI {low:.3f}-{high:.3f}; lower end must be > {floor:.3f}"
    return GuardCheck(name, low > floor, detail)


def _baseline_checks(challenger: ChallengerEvidence, cfg: PromotionSettings) -> list[GuardCheck]:
    checks = []
    for baseline, (difference, low, high) in sorted(challenger.baseline_differences.items()):
        name = f"vs {baseline}"
        if math.isnan(low):
            checks.append(GuardCheck(name, None, "skipped: the baseline's ROC-AUC is undefined"))
            continue
        detail = (
            f"model minus baseline {difference:+.3f}, paired 95% CI {low:+.3f} to {high:+.3f}; "
            f"lower end must be >= {-cfg.baseline_tolerance:+.3f}"
        )
        checks.append(GuardCheck(name, low >= -cfg.baseline_tolerance, detail))
    return checks


def _champion_checks(
    challenger: ChallengerEvidence, champion: ChampionEvidence | None, cfg: PromotionSettings
) -> list[GuardCheck]:
    vs, collapse = "vs champion", "champion not collapsed"
    if champion is None:
        return [GuardCheck(vs, None, "skipped: no champion yet"), GuardCheck(collapse, None, "skipped")]
    version = f"v{champion.version}"
    if champion.blocking_columns:
        why = f"skipped: champion {version} has blocking findings ({', '.join(champion.blocking_columns)})"
        return [GuardCheck(vs, None, why), GuardCheck(collapse, None, "skipped")]
    new = champion.auc_on_new_window
    if math.isnan(new):
        why = f"skipped: champion {version} cannot be scored on the new test window (other columns?)"
        return [GuardCheck(vs, None, why), GuardCheck(collapse, None, "skipped")]
    floor = cfg.min_champion_ratio * new
    checks = [
        GuardCheck(
            vs,
            challenger.roc_auc >= floor,
            f"ROC-AUC {challenger.roc_auc:.3f} vs {cfg.min_champion_ratio:g} x champion {version}'s "
            f"{new:.3f} on the new window = {floor:.3f}",
        )
    ]
    recorded = champion.recorded_auc
    if recorded is None or math.isnan(recorded):
        checks.append(GuardCheck(collapse, None, f"skipped: champion {version} has no recorded ROC-AUC"))
    else:
        drop = recorded - new
        checks.append(
            GuardCheck(
                collapse,
                drop <= cfg.max_champion_drop,
                f"champion {version} scored {recorded:.3f} when trained and {new:.3f} on the new window "
                f"(drop {drop:+.3f}, at most {cfg.max_champion_drop:.3f}); a collapse means broken data, "
                "so only `leadripe promote N --reason ...` may promote",
                overridable=True,
            )
        )
    return checks

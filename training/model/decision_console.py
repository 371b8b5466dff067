"""The decision policy in the training summary: what ``ripe`` and ``gone_cold`` mean for this model, what
the hand-raiser slice calibration learnt, and how the verdicts did on the test period.

``leadripe train`` prints it after the metrics, so that whoever retrains sees the decision the API will
give, not only the ranking (the same figures are in MLflow as ``decision.*`` metrics and in the card).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from rich.table import Table

from training.console import key_value_table
from training.features.targets import describe_target
from training.model.decision_policy import DecisionPolicy


def decision_table(policy: DecisionPolicy, figures: Mapping[str, float]) -> Table:
    """The policy in words and the test period's decision figures (``decision_metrics``)."""
    hand_raisers = policy.hand_raisers
    rule = f"on: ripe when fit is {hand_raisers.min_fit} or better" if hand_raisers.rule_enabled else "off"
    rows = [
        (
            "ripe",
            f"chance of {describe_target(policy.target, policy.horizon_days)} if handed over now "
            f">= {policy.threshold:.3f}",
        ),
        ("chance if handed over now", policy.estimate.basis),
        ("gone cold", policy.gone_cold.rule),
        (
            "hand-raisers",
            f"{', '.join(hand_raisers.event_types)} in the last {hand_raisers.window_days:g} days "
            f"(contact_requested: true); rule {rule}",
        ),
        ("hand-raiser calibration", policy.hand_raiser_calibration.basis),
    ]
    if figures:
        rows.append(("test period", _verdict_shares(figures)))
        rows.append(("hand-raisers, test period", _slice(figures)))
        if figures.get("rule_n", 0) > 0:
            share, won = _share(figures.get("rule_share")), _share(figures.get("rule_win_rate"))
            rows.append(("rule verdicts, test period", f"{share} of snapshots, of which {won} won"))
    return key_value_table("Decision (what the API answers)", rows)


def _share(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.1%}"


def _verdict_shares(figures: Mapping[str, float]) -> str:
    ripe, won = _share(figures.get("ripe_share")), _share(figures.get("ripe_win_rate"))
    contact = _share(figures.get("contact_requested_share"))
    return f"{ripe} of snapshots ripe, of which {won} won; {contact} asked for contact"


def _slice(figures: Mapping[str, float]) -> str:
    """Readiness against the observed win rate of the test hand-raisers, per side of the threshold."""
    parts = []
    for side in ("above", "below"):
        n = figures.get(f"hand_raiser_{side}_n", 0.0)
        if not n:
            parts.append(f"{side} the threshold: none")
            continue
        readiness = figures.get(f"hand_raiser_{side}_readiness", math.nan)
        won = figures.get(f"hand_raiser_{side}_win_rate", math.nan)
        parts.append(f"{side} the threshold: readiness {readiness:.3f} against {won:.3f} won (n={int(n):,})")
    return "; ".join(parts)

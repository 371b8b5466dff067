"""The verdict in words: the ``advice`` sentence and the ``gone_cold_rule`` block of an answer.

Plain dicts and strings for the scorer (``serving.scorer``); the decision itself is made by the pure
functions of ``training.model.decision``.
"""

from __future__ import annotations

from typing import Any

from training.model.decision import FROM_RULE, GONE_COLD, RIPE
from training.model.decision_policy import DecisionPolicy, GoneCold


def score_of(probability: float) -> float:
    """A probability on the 0-100 scale of the answers, to one decimal."""
    return round(float(probability) * 100.0, 1)


def advice(
    policy: DecisionPolicy,
    verdict: str,
    source: str,
    chance: float,
    days_inactive: float | None,
    plan: dict[str, Any] | None,
) -> str:
    """One sentence: what to do with the lead, and why."""
    threshold = score_of(policy.threshold)
    if verdict == RIPE and source == FROM_RULE:
        return (
            "Hand over to sales now: the lead asked for contact and its fit clears the floor (hand-raiser "
            f"rule; chance if handed over now {score_of(chance):.0f}, threshold {threshold:.0f})."
        )
    if verdict == RIPE:
        return (
            "Hand over to sales now: the chance of a win if handed over now, "
            f"{score_of(chance):.0f}, is at or above the threshold {threshold:.0f}."
        )
    if verdict == GONE_COLD:
        cold = policy.gone_cold
        quiet = f" No engagement for {days_inactive:.0f} days." if days_inactive is not None else ""
        rate = (
            cold.ripen_rate_below_level if cold.ripen_rate_below_level is not None else cold.ripen_rate_beyond
        )
        history = f" Historically only {rate:.0%} of leads like it ripened." if rate is not None else ""
        return (
            f"Gone cold.{quiet}{history} Waiting will not ripen it: reactivate it (e.g. a re-engagement "
            "campaign) before handing it over."
        )
    text = (
        "Too green: keep nurturing, do not hand over yet "
        f"(chance if handed over now {score_of(chance):.0f}, threshold {threshold:.0f})."
    )
    if plan is not None and plan["steps"]:
        text += f" Most promising: {plan['steps'][0]['sentence']}."
    return text


def cold_answer(rule: GoneCold, days_inactive: float | None, cold_before: bool | None) -> dict[str, Any]:
    """A ``GoneColdRule`` as a dict: the stored rule and where this lead stands against it."""
    return {
        "available": rule.available,
        "min_days_inactive": rule.min_days_inactive,
        "readiness_level": rule.readiness_level,
        "days_inactive": None if days_inactive is None else round(days_inactive, 2),
        "ripen_rate_beyond": rule.ripen_rate_beyond,
        "cold_a_lookback_earlier": cold_before,
        "rule": rule.rule,
    }

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
    readiness: float,
    lead_age_days: float | None = None,
    chance_without_contact: float | None = None,
) -> str:
    """One sentence: what to do with the lead, and why (``readiness``: the lead's readiness, which the
    gone-cold level applies to; ``lead_age_days``: None when the creation is unknown;
    ``chance_without_contact``: for a lead that asked for contact, its chance from the model's readiness
    alone, without the hand-raiser calibration and the request's term)."""
    threshold = score_of(policy.threshold)
    contact = _contact_note(chance, chance_without_contact)
    if verdict == RIPE and source == FROM_RULE:
        return (
            "Hand over to sales now: the lead asked for contact and its fit clears the floor (hand-raiser "
            f"rule; chance if handed over now {score_of(chance):.0f}, threshold {threshold:.0f})."
        )
    if verdict == RIPE:
        return (
            "Hand over to sales now: the chance of a win if handed over now, "
            f"{score_of(chance):.0f}, is at or above the threshold {threshold:.0f}.{contact}"
        )
    if verdict == GONE_COLD:
        cold = policy.gone_cold
        rate = (
            cold.ripen_rate_below_level if cold.ripen_rate_below_level is not None else cold.ripen_rate_beyond
        )
        history = f" Historically only {rate:.0%} of leads like it ripened." if rate is not None else ""
        because = cold_because(cold, readiness, days_inactive)
        if lead_age_days is not None and is_new(cold, lead_age_days):
            # A lead of a few days was never warm: "reactivate" would misread it (same verdict, as the
            # CRM's workflows key on it; the sentence says what it is).
            return (
                f"Not warming up: {because}, {_age(lead_age_days)}.{history} Waiting is unlikely to ripen "
                "it: nurture it (e.g. a welcome or nurture campaign) rather than hand it over."
            )
        return (
            f"Gone cold: {because}.{history} Waiting will not ripen it: "
            "reactivate it (e.g. a re-engagement campaign) before handing it over."
        )
    text = (
        "Too green: keep nurturing, do not hand over yet "
        f"(chance if handed over now {score_of(chance):.0f}, threshold {threshold:.0f}).{contact}"
    )
    if plan is not None and plan["steps"]:
        text += f" Most promising: {plan['steps'][0]['sentence']}."
    return text


def _contact_note(chance: float, without: float | None) -> str:
    """What the lead's request for contact does to its chance, where it moves it by a point or more: the
    reasons explain the readiness, which learns from leads not yet handed over, so a demo request can
    lower it while the chance, learnt from what became of leads that asked, rises."""
    if without is None or abs(score_of(chance) - score_of(without)) < 1:
        return ""
    raises = chance > without
    return (
        f" From its score alone the chance would be {score_of(without):.0f}; its request for contact "
        f"{'raises' if raises else 'lowers'} it to {score_of(chance):.0f}: leads handed over after asking "
        f"were won {'more' if raises else 'less'} often than their score says."
    )


def is_new(rule: GoneCold, lead_age_days: float) -> bool:
    """Whether a lead is younger than the span the gone-cold state is carried over (its earlier looks
    predate it): gone cold, it was never warm rather than cooled."""
    return lead_age_days < rule.lookback_days * rule.earlier_looks


def _age(days: float) -> str:
    if days < 1:
        return f"at {max(days * 24, 0):.0f} hours old"
    return f"at {days:.0f} day{'s' if round(days) != 1 else ''} old"


def cold_because(rule: GoneCold, readiness: float, days_inactive: float | None) -> str:
    """Which part of the gone-cold rule holds for this lead, in words: its score under the level, a
    long quiet spell, or the state carried from the earlier looks (the lead has not re-warmed)."""
    because = []
    level = rule.readiness_level
    if level is not None and readiness < level:
        score, under = _apart(readiness, level)
        because.append(f"its score {score} is under the gone-cold level {under}")
    quiet_days = rule.min_days_inactive
    if quiet_days is not None and days_inactive is not None and days_inactive >= quiet_days:
        because.append(f"no engagement for {days_inactive:.0f} days (the rule's limit is {quiet_days:.0f})")
    if because:
        return " and ".join(because)
    # Neither holds now: the lead was gone cold at the earlier looks and has not re-warmed since (the
    # carried state exists only with a readiness level, see training.model.decision.carried_cold).
    score, warm = _apart(readiness, rule.exit_factor * (level or 0.0))
    return (
        f"it went cold in the past weeks and its score {score} is still under {warm}, where a lead "
        "counts as re-warmed"
    )


def _apart(lower: float, higher: float) -> tuple[str, str]:
    """Two probabilities on the 0-100 scale with as many decimals (1 to 6) as it takes for a value under
    the other not to read as equal ("1.6 is under 1.6")."""
    for decimals in range(1, 7):
        a, b = f"{lower * 100:.{decimals}f}", f"{higher * 100:.{decimals}f}"
        if a != b:
            break
    return a, b


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

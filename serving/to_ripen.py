"""The ``to_ripen`` part of an answer: signals ripe leads show that this too-green lead lacks.

``plan_ahead`` builds the counterfactual leads (``serving.counterfactuals``) before the verdicts, so that
their features come from the leads' own feature call; ``ripening_plans`` scores those of the too-green
leads in one call (readiness only: their explanations are not needed) as chances of a win if handed over
now, the quantity the verdict rests on, and turns those into ``RipeningStep`` and ``ToRipen`` dicts. A
counterfactual that adds a hand-raising event (a demo request, say) counts as asking for contact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from serving.advice import score_of
from serving.counterfactuals import RipeningPlan, counts_from_events, counts_from_features, plan_ripening
from training.features.matrix import FeatureMatrix
from training.features.snapshot_arrays import SnapshotArrays
from training.features.transformer import LeadFeatures
from training.model.decision import contact_flags, readiness_and_chance
from training.model.decision_policy import DecisionPolicy
from training.model.readiness import ReadinessModel
from training.model.reasons import ripening_sentence
from training.model.serving_types import Ripening, RipeSignal, ServingStats


@dataclass(frozen=True)
class PlannedAhead:
    """Counterfactuals of every lead of a batch, planned from ``counts`` (``(n, len(ripe_profile))``, read
    off the events) before the verdicts are known, so that they share the leads' feature transform."""

    plan: RipeningPlan
    counts: np.ndarray


def plan_ahead(
    features_step: LeadFeatures, arrays: SnapshotArrays, ripe_profile: list[RipeSignal]
) -> PlannedAhead | None:
    """Counterfactuals of every snapshot of ``arrays``, from its counts read off the events (None when
    there is nothing to plan or the counts cannot be read that way)."""
    if not ripe_profile or not len(arrays):
        return None
    counts = counts_from_events(arrays, features_step.slot_of_type_, ripe_profile)
    if counts is None:
        return None
    plan = plan_ripening(arrays, counts, np.arange(len(arrays)), ripe_profile)
    return None if plan is None else PlannedAhead(plan, counts)


def ripening_plans(
    features_step: LeadFeatures,
    model: ReadinessModel,
    policy: DecisionPolicy,
    stats: ServingStats,
    arrays: SnapshotArrays,
    features: FeatureMatrix,
    readiness: np.ndarray,
    chance: np.ndarray,
    rows: np.ndarray,
    max_steps: int,
    ahead: tuple[PlannedAhead, FeatureMatrix] | None = None,
) -> dict[int, dict[str, Any]]:
    """A ``ToRipen`` (as a dict) per too-green row of ``arrays`` (whose features are ``features``;
    ``chance``: every row's chance if handed over now, which a step must raise to be shown).

    ``ahead``: counterfactuals planned before the verdicts (``plan_ahead``) and their features. They serve
    the rows whose counts equal their count features; the others are planned here and transformed.
    """
    ripe_profile = stats.ripe_profile
    steps_by_row: dict[int, list[dict[str, Any]]] = {int(r): [] for r in rows}
    all_by_row: dict[int, float] = {}
    if max_steps > 0 and len(rows) and ripe_profile:
        current = counts_from_features(features, rows, ripe_profile)
        replan = np.ones(len(rows), dtype=bool)
        if ahead is not None:
            planned, planned_features = ahead
            replan = (planned.counts[rows] != current).any(axis=1)
            kept = planned.plan.take(rows[~replan])
            if len(kept):
                score_plan(
                    model,
                    policy,
                    kept,
                    planned_features.take(kept.positions),
                    steps_by_row,
                    all_by_row,
                    ripe_profile,
                )
        plan = plan_ripening(arrays, current[replan], rows[replan], ripe_profile) if replan.any() else None
        if plan is not None:
            plan_features = features_step.transform_arrays(plan.arrays)
            score_plan(model, policy, plan, plan_features, steps_by_row, all_by_row, ripe_profile)
    answers = ripening_answers(
        rows,
        readiness[rows],
        chance[rows],
        steps_by_row,
        all_by_row,
        max_steps,
        policy.threshold,
        stats.ripening,
    )
    if max_steps > 0:
        for row, answer in answers.items():
            if not answer["steps"]:
                answer["steps_basis"] = _no_steps_because(bool(ripe_profile), bool(steps_by_row[row]))
    return answers


def _no_steps_because(profile_learnt: bool, candidates: bool) -> str:
    """Why a too-green lead gets no step: an answer without one otherwise reads as a fault."""
    if not profile_learnt:
        return (
            "The model learnt no signal that ripe leads typically show (too few ripe leads, or none "
            "shows an event type in common), so no step can be suggested."
        )
    if not candidates:
        return "The lead already shows every signal ripe leads typically show; its reasons say what holds it."
    return "None of the signals ripe leads typically show would raise this lead's chance if handed over now."


def score_plan(
    model: ReadinessModel,
    policy: DecisionPolicy,
    plan: RipeningPlan,
    plan_features: FeatureMatrix,
    steps_by_row: dict[int, list[dict[str, Any]]],
    all_by_row: dict[int, float],
    ripe_profile: list[RipeSignal],
) -> None:
    """Score the counterfactuals of ``plan`` (``plan_features``: theirs, in plan order) as chances if
    handed over now and collect their steps. Only the scores are needed, not their explanations (TreeSHAP
    is the costly part)."""
    cf_readiness = np.asarray(model.readiness(plan_features), dtype=float)
    contact = contact_flags(plan.arrays, policy.hand_raisers)[plan.positions]
    _, cf_chance = readiness_and_chance(policy, cf_readiness, contact)
    collect_steps(plan, cf_chance, ripe_profile, policy.threshold, steps_by_row, all_by_row)


def collect_steps(
    plan: RipeningPlan,
    cf_chance: np.ndarray,
    ripe_profile: list[RipeSignal],
    threshold: float,
    steps_by_row: dict[int, list[dict[str, Any]]],
    all_by_row: dict[int, float],
) -> None:
    """``RipeningStep`` dicts (without their sentence yet) per row, and the all-signals scores."""
    threshold_score = score_of(threshold)
    rows = plan.rows.tolist()
    profile_index = plan.profile_index.tolist()
    add_events = plan.add_events.tolist()
    current = plan.current_count.tolist()
    for k, chance in enumerate(cf_chance.tolist()):
        row, score = rows[k], score_of(chance)
        if profile_index[k] < 0:
            all_by_row[row] = score
            continue
        profile = ripe_profile[profile_index[k]]
        steps_by_row[row].append(
            {
                "signal": profile.signal,
                "window_days": profile.window_days,
                "current_count": int(current[k]),
                "typical_count": profile.typical_count,
                "add_events": int(add_events[k]),
                "score_if_added": score,
                "ripe_if_added": score >= threshold_score,
                "sentence": "",
            }
        )


def ripening_answers(
    rows: np.ndarray,
    readiness: np.ndarray,
    chance: np.ndarray,
    steps_by_row: dict[int, list[dict[str, Any]]],
    all_by_row: dict[int, float],
    max_steps: int,
    threshold: float,
    ripening: Ripening,
) -> dict[int, dict[str, Any]]:
    """A ``ToRipen`` dict per row: the best ``max_steps`` steps with their sentences, the all-signals
    score, and the days-to-ripeness estimate of the row's trajectory band (by readiness).

    Only steps that raise the row's chance if handed over now (``chance``, on the answers' 0-100 scale
    as shown) are kept: a signal ripe leads typically show can still lower the chance of a lead whose
    other signals it interacts with, and "would bring it to 12" beside "chance now 14" reads as advice
    to make the lead greener."""
    threshold_score = score_of(threshold)
    out = {}
    bands = ripening.bands_of(readiness)
    for row, band, now in zip(rows.tolist(), bands, chance.tolist(), strict=True):
        estimate = None if band is None else band.estimated_days
        now_score = score_of(now)
        # Compared as the sentence prints them (whole points), so "from 14 to 14" is never advice.
        raising = [step for step in steps_by_row[row] if _shown(step["score_if_added"]) > _shown(now_score)]
        steps = sorted(raising, key=lambda step: -step["score_if_added"])[:max_steps]
        for step in steps:  # sentences only for the steps shown
            step["sentence"] = ripening_sentence(
                step["signal"],
                step["add_events"],
                step["typical_count"],
                step["window_days"],
                now_score,
                step["score_if_added"],
            )
        all_score = all_by_row.get(row)
        out[row] = {
            "steps": steps,
            "score_if_all_added": all_score,
            "ripe_if_all_added": None if all_score is None else all_score >= threshold_score,
            "estimated_days_to_ripeness": "unknown" if estimate is None else round(estimate, 1),
            "estimate_basis": estimate_basis(ripening, estimate),
            "steps_basis": None,
            "share_of_similar_that_ripened": None if band is None else band.ripen_rate,
        }
    return out


def _shown(score: float) -> int:
    """A 0-100 score as the sentences print it (``:.0f``)."""
    return int(f"{score:.0f}")


def estimate_basis(ripening: Ripening, estimate: float | None) -> str:
    """Where the days-to-ripeness estimate comes from, or why there is none."""
    if estimate is None:
        return (
            "Unknown: too few historical leads with a similar score ripened later (needs at least "
            f"{ripening.min_support} and {ripening.min_ripen_rate:.0%} of them) "
            "to estimate when this one will."
        )
    return (
        "Median days historical leads with a similar score took to cross the threshold, among those that did."
    )

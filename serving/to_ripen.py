"""The ``to_ripen`` part of an answer: signals ripe leads show that this too-green lead lacks.

``ripening_plans`` builds the counterfactual leads (``serving.counterfactuals``), scores them all in one
call (readiness only: their explanations are not needed) as chances of a win if handed over now, the
quantity the verdict rests on, and turns those into ``RipeningStep`` and ``ToRipen`` dicts. A
counterfactual that adds a hand-raising event (a demo request, say) counts as asking for contact.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from serving.advice import score_of
from serving.counterfactuals import RipeningPlan, plan_ripening
from training.features.matrix import FeatureMatrix
from training.features.snapshot_arrays import SnapshotArrays
from training.features.transformer import LeadFeatures
from training.model.decision import contact_flags, readiness_and_chance
from training.model.decision_policy import DecisionPolicy
from training.model.readiness import ReadinessModel
from training.model.reasons import ripening_sentence
from training.model.serving_types import Ripening, RipeSignal, ServingStats


def ripening_plans(
    features_step: LeadFeatures,
    model: ReadinessModel,
    policy: DecisionPolicy,
    stats: ServingStats,
    arrays: SnapshotArrays,
    features: FeatureMatrix,
    readiness: np.ndarray,
    rows: np.ndarray,
    max_steps: int,
) -> dict[int, dict[str, Any]]:
    """A ``ToRipen`` (as a dict) per too-green row of ``arrays`` (whose features are ``features``)."""
    ripe_profile = stats.ripe_profile
    plan = plan_ripening(arrays, features, rows, ripe_profile) if max_steps > 0 else None
    steps_by_row: dict[int, list[dict[str, Any]]] = {int(r): [] for r in rows}
    all_by_row: dict[int, float] = {}
    if plan is not None and len(plan):
        # Only the scores are needed here, not their explanations (TreeSHAP is the costly part).
        cf_readiness = np.asarray(model.readiness(features_step.transform_arrays(plan.arrays)), dtype=float)
        cf_contact = contact_flags(plan.arrays, policy.hand_raisers)
        _, cf_chance = readiness_and_chance(policy, cf_readiness, cf_contact)
        collect_steps(plan, cf_chance, ripe_profile, policy.threshold, steps_by_row, all_by_row)
    return ripening_answers(
        rows, readiness[rows], steps_by_row, all_by_row, max_steps, policy.threshold, stats.ripening
    )


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
    steps_by_row: dict[int, list[dict[str, Any]]],
    all_by_row: dict[int, float],
    max_steps: int,
    threshold: float,
    ripening: Ripening,
) -> dict[int, dict[str, Any]]:
    """A ``ToRipen`` dict per row: the best ``max_steps`` steps with their sentences, the all-signals
    score, and the days-to-ripeness estimate of the row's trajectory band (by readiness)."""
    threshold_score = score_of(threshold)
    out = {}
    for row, band in zip(rows.tolist(), ripening.bands_of(readiness), strict=True):
        estimate = None if band is None else band.estimated_days
        steps = sorted(steps_by_row[row], key=lambda step: -step["score_if_added"])[:max_steps]
        for step in steps:  # sentences only for the steps shown
            step["sentence"] = ripening_sentence(
                step["signal"],
                step["add_events"],
                step["typical_count"],
                step["window_days"],
                step["score_if_added"],
            )
        all_score = all_by_row.get(row)
        out[row] = {
            "steps": steps,
            "score_if_all_added": all_score,
            "ripe_if_all_added": None if all_score is None else all_score >= threshold_score,
            "estimated_days_to_ripeness": "unknown" if estimate is None else round(estimate, 1),
            "estimate_basis": estimate_basis(ripening, estimate),
            "share_of_similar_that_ripened": None if band is None else band.ripen_rate,
        }
    return out


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

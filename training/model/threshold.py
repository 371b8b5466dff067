"""When to hand a lead over: threshold policies on the calibrated readiness, stored with the model.

Three policies:
- ``expected_value`` (default): hand over when the expected gain is positive,
  ``p * value_of_won_deal - (1 - p) * cost_of_premature_handover > 0``, i.e. threshold
  ``cost / (value + cost)``. Defaults: a won deal is worth 5,000 and handing over a green lead costs
  1,000 (sales time spent, a prospect annoyed and harder to win later), giving a threshold of 1/6 ≈ 0.17:
  hand over once roughly one in six such leads would close. Only the ratio matters, so set both in the
  same currency from your own deal sizes and sales-cost estimates.
- ``acceptance_rate``: the lowest threshold whose sales-acceptance rate (share of handed-over leads that
  are won) on the given validation data reaches ``target_acceptance_rate``.
- ``capacity``: sales can take ``capacity_per_week`` leads a week; the threshold is the median over
  weeks of the k-th highest score of that week (weeks with fewer than k snapshots do not constrain it).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

PolicyKind = Literal["expected_value", "acceptance_rate", "capacity"]
POLICY_KINDS: tuple[str, ...] = ("expected_value", "acceptance_rate", "capacity")


@dataclass(frozen=True)
class ThresholdPolicy:
    """How the hand-over threshold is chosen; JSON-able through ``to_dict`` / ``from_dict``."""

    kind: PolicyKind = "expected_value"
    value_of_won_deal: float = 5000.0
    cost_of_premature_handover: float = 1000.0
    target_acceptance_rate: float = 0.3
    capacity_per_week: int = 20

    def __post_init__(self) -> None:
        if self.kind not in POLICY_KINDS:
            raise ValueError(f"Unknown threshold policy kind {self.kind!r}; choose one of {POLICY_KINDS}")
        if self.value_of_won_deal <= 0 or self.cost_of_premature_handover <= 0:
            raise ValueError(
                "value_of_won_deal and cost_of_premature_handover must be positive, got "
                f"{self.value_of_won_deal} and {self.cost_of_premature_handover}"
            )
        if not 0.0 < self.target_acceptance_rate <= 1.0:
            raise ValueError(f"target_acceptance_rate must be in (0, 1], got {self.target_acceptance_rate}")
        if self.capacity_per_week < 1:
            raise ValueError(f"capacity_per_week must be at least 1, got {self.capacity_per_week}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ThresholdPolicy:
        return cls(**raw)


@dataclass(frozen=True)
class ThresholdDecision:
    """The chosen threshold, the policy that chose it, a sentence saying why, and what it does on the data."""

    threshold: float
    policy: ThresholdPolicy
    explanation: str
    handover_rate: float = math.nan
    acceptance_rate: float = math.nan

    def to_dict(self) -> dict[str, Any]:
        raw = asdict(self)
        raw["policy"] = self.policy.to_dict()
        # JSON has no NaN: unknown rates are stored as null.
        for key in ("handover_rate", "acceptance_rate"):
            if isinstance(raw[key], float) and math.isnan(raw[key]):
                raw[key] = None
        return raw

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ThresholdDecision:
        values = dict(raw)
        values["policy"] = ThresholdPolicy.from_dict(values["policy"])
        for key in ("handover_rate", "acceptance_rate"):
            values[key] = math.nan if values.get(key) is None else float(values[key])
        return cls(**values)


def choose_threshold(
    policy: ThresholdPolicy, y: Any = None, proba: Any = None, time_key: Any = None
) -> ThresholdDecision:
    """Choose the hand-over threshold (hand over when readiness >= threshold) under ``policy``.

    ``y`` and ``proba`` are outcomes and calibrated probabilities of validation snapshots (not needed for
    ``expected_value``, but used to report its hand-over and acceptance rates); ``time_key`` (snapshot
    cutoffs) is required for ``capacity``.
    """
    p = None if proba is None else np.asarray(proba, dtype=np.float64)
    positive = None if y is None else np.asarray(y).astype(bool)
    if p is not None and positive is not None and p.shape != positive.shape:
        raise ValueError(f"proba has shape {p.shape} but y has shape {positive.shape}")

    if policy.kind == "expected_value":
        value, cost = policy.value_of_won_deal, policy.cost_of_premature_handover
        threshold = cost / (value + cost)
        explanation = (
            f"Hand over when p * {value:g} (value of a won deal) exceeds (1 - p) * {cost:g} "
            f"(cost of a premature hand-over): p >= {cost:g} / ({value:g} + {cost:g}) = {threshold:.3f}."
        )
    elif policy.kind == "acceptance_rate":
        if p is None or positive is None:
            raise ValueError("The acceptance_rate policy needs validation outcomes y and probabilities proba")
        threshold, explanation = _acceptance_threshold(positive, p, policy.target_acceptance_rate)
    else:
        if p is None or time_key is None:
            raise ValueError(
                "The capacity policy needs probabilities proba and a time_key (snapshot cutoffs)"
            )
        threshold, explanation = _capacity_threshold(p, time_key, policy.capacity_per_week)

    handover_rate = acceptance = math.nan
    if p is not None and p.size:
        handed = p >= threshold
        handover_rate = float(handed.mean())
        if positive is not None and handed.any():
            acceptance = float(positive[handed].mean())
    return ThresholdDecision(float(threshold), policy, explanation, handover_rate, acceptance)


def _acceptance_threshold(positive: np.ndarray, p: np.ndarray, target: float) -> tuple[float, str]:
    if p.size == 0:
        raise ValueError("The acceptance_rate policy needs at least one validation snapshot")
    order = np.argsort(-p, kind="stable")
    sorted_p = p[order]
    # Candidate thresholds are the distinct scores; ">= level" hands over everything up to its last tie.
    last_of_level = np.flatnonzero(np.r_[sorted_p[1:] != sorted_p[:-1], True])
    won = np.cumsum(positive[order])[last_of_level]
    handed = last_of_level + 1
    acceptance = won / handed
    meets = acceptance >= target
    if not meets.any():
        threshold = float(np.nextafter(sorted_p[0], np.inf))
        return threshold, (
            f"No threshold reaches a sales-acceptance rate of {target:.0%} on the {p.size} validation "
            f"snapshots (best: {acceptance.max():.1%}); threshold set above every score, "
            "so nothing is handed over."
        )
    lowest = int(np.flatnonzero(meets)[-1])  # levels run from high to low scores
    threshold = float(sorted_p[last_of_level[lowest]])
    return threshold, (
        f"Lowest threshold whose sales-acceptance rate on {p.size} validation snapshots is at least "
        f"{target:.0%}: {threshold:.3f} hands over {int(handed[lowest])} snapshots, "
        f"{acceptance[lowest]:.1%} of them won."
    )


def _capacity_threshold(p: np.ndarray, time_key: Any, k: int) -> tuple[float, str]:
    stamps = pd.to_datetime(
        pd.Series(np.asarray(time_key) if not isinstance(time_key, pd.Series) else time_key)
    )
    if len(stamps) != p.size:
        raise ValueError(f"time_key has {len(stamps)} values but proba has {p.size}")
    if stamps.isna().any():
        raise ValueError(
            f"time_key has {int(stamps.isna().sum())} missing values; the capacity policy needs times"
        )
    if stamps.dt.tz is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    week = stamps.dt.to_period("W").to_numpy()
    frame = pd.DataFrame({"week": week, "p": p})
    # The k-th highest score of each week: rank within the week, descending.
    frame["rank"] = frame.groupby("week")["p"].rank(method="first", ascending=False)
    kth = frame.loc[frame["rank"] == k, "p"]
    n_weeks = frame["week"].nunique()
    if kth.empty:
        threshold = float(p.min())
        return threshold, (
            f"No week has more than {k - 1} snapshots, so a capacity of {k} per week never binds: "
            f"everything is handed over (threshold {threshold:.3f})."
        )
    threshold = float(np.median(kth.to_numpy()))
    return threshold, (
        f"Capacity of {k} leads per week: median over {kth.size} of {n_weeks} weeks of each week's "
        f"{k}-th highest score = {threshold:.3f} (weeks with fewer than {k} snapshots do not constrain it)."
    )

"""Learning the ``DecisionPolicy`` from the training period (held-out leads the trees never fitted; for the
hand-raiser slice also the model selection's out-of-fold scores).

- The chance of a win if handed over now: the state of each historical lead at its handover (its
  at-handover snapshot) and what became of it is the only place the data shows that chance. A logistic
  correction ``logit(chance) = a + b * logit(readiness) + c * contact_requested`` is fitted on the
  at-handover snapshots of the held-out leads (readiness there is out of sample), penalised towards
  ``chance = readiness`` so that a few hundred handovers cannot swing it far. Its overlap: the 1st
  percentile of readiness among all at-handover snapshots; live leads below it were never handed over
  in the data, so their estimate is an extrapolation and the answer says so.
- Gone cold: a below-threshold snapshot "ripened" when its lead reached the threshold at a later
  snapshot within the horizon or met the target within the horizon. The readiness level is the highest
  quantile of below-threshold readiness under which every band ripened less than ``max_rate``; the
  inactivity cutoff (at least two snapshot spacings) is the shortest inactivity beyond which every band
  ripened less than ``min(INACTIVITY_MAX_RATE, relative_rate * overall rate)``.
- The hand-raiser slice calibration: the out-of-sample readiness of training snapshots with a
  hand-raising event in the window (held-out leads; the selection folds' validation blocks) against
  their outcomes (``training.model.calibration_slice``, shrunk toward an unchanged line and a floor at
  the training base rate); learnt first, so the correction above and the threshold see the readiness
  the API will give.
- The hand-raiser rule's fit floor is a fit grade (the answers' fit axis, whose quartile edges the
  explanation statistics learn): nothing to learn here.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from training.model.calibration_slice import PRIOR_FLOOR, SliceCalibration, fit_slice_calibration
from training.model.decision import grade_edges
from training.model.decision_policy import DecisionPolicy, GoneCold, HandoverEstimate, HandRaisers, Target

#: Fewer at-handover snapshots (or wins or losses among them) than this: no correction is fitted.
MIN_HANDOVERS = 30
MIN_HANDOVER_OUTCOMES = 5
#: Strength of the pull of the correction's intercept, slope and contact term towards "chance =
#: readiness" (about as many pseudo-observations). The contact term is pulled less: hand-raisers are
#: rare in training (the trees hardly split on them), so that is where readiness needs correcting.
PENALTY = (10.0, 10.0, 2.0)
#: The inactivity cutoff's bands must ripen less than this (and than ``relative_rate`` x overall).
INACTIVITY_MAX_RATE = 0.05
#: Candidate inactivity cutoffs (days); only those of at least two snapshot spacings are used.
INACTIVITY_GRID = (14, 21, 30, 45, 60, 75, 90, 120, 150, 180, 240, 365)
#: Candidate readiness levels: these quantiles of the below-threshold readiness.
LEVEL_QUANTILES = tuple(q / 20 for q in range(1, 20))


def fit_hand_raiser_calibration(
    readiness: np.ndarray,
    contact: np.ndarray,
    won: np.ndarray,
    held_out: np.ndarray,
    leads: np.ndarray,
    hand_raisers: HandRaisers,
    from_folds: np.ndarray | None = None,
    base_rate: float | None = None,
) -> SliceCalibration:
    """The hand-raiser slice calibration from the training rows with a contact request and an
    out-of-sample readiness (``held_out``: the served model's held-out leads and, marked by
    ``from_folds``, validation rows scored by the model-selection folds' models). All arrays are aligned
    by training snapshot; ``base_rate``: the share of training snapshots that met the target, the centre
    of the floor's prior (``calibration_slice``). No hand-raising snapshot in the training data at all
    (the export has no event of those types): a no-op that says so."""
    contact = np.asarray(contact, dtype=bool)
    if not contact.any():
        return SliceCalibration(
            basis=(
                "No hand-raiser calibration: no training snapshot has a hand-raising event "
                f"({', '.join(hand_raisers.event_types)}) in the {hand_raisers.window_days:g} days before "
                "it; readiness is used as the model gives it."
            )
        )
    rows = contact & np.asarray(held_out, dtype=bool)
    calibration = fit_slice_calibration(
        np.asarray(readiness)[rows],
        np.asarray(won)[rows],
        np.asarray(leads)[rows],
        slice_name="hand-raiser",
        floor_prior=PRIOR_FLOOR if base_rate is None else base_rate,
    )
    n_from_folds = 0 if from_folds is None else int(np.count_nonzero(np.asarray(from_folds)[rows]))
    if n_from_folds == 0:
        return calibration
    return calibration.model_copy(
        update={
            "basis": (
                f"{calibration.basis} Of those snapshots, {n_from_folds} were scored by the model-selection "
                "folds' models, which did not see them (recalibrated on their validation block); the "
                "others by the served model's trees, which held their leads out."
            )
        }
    )


def fit_handover_estimate(
    readiness: np.ndarray,
    contact: np.ndarray,
    won: np.ndarray,
    at_handover: np.ndarray,
    held_out: np.ndarray,
) -> HandoverEstimate:
    """The correction (see the module docstring). All arrays are aligned by training snapshot;
    ``held_out`` marks the rows the trees did not fit."""
    readiness = np.asarray(readiness, dtype=np.float64)
    at_handover = np.asarray(at_handover, dtype=bool)
    rows = at_handover & np.asarray(held_out, dtype=bool)
    y = np.asarray(won)[rows].astype(int)
    overlap = float(np.quantile(readiness[at_handover], 0.01)) if at_handover.any() else None
    n, wins = int(rows.sum()), int(y.sum())
    if n < MIN_HANDOVERS or min(wins, n - wins) < MIN_HANDOVER_OUTCOMES:
        why = (
            # An export without hand-over dates (no handed_over_at mapped) has nothing to learn from.
            "No training lead has a hand-over date (handed_over_at)"
            if not at_handover.any()
            else f"Too few handovers among the held-out training leads ({n}, {wins} won; needs "
            f"{MIN_HANDOVERS} with {MIN_HANDOVER_OUTCOMES} of each outcome)"
        )
        return HandoverEstimate(
            n_handovers=n,
            n_handover_wins=wins,
            overlap_min_readiness=overlap,
            basis=f"{why}: the chance if handed over now is taken to be the readiness score.",
        )
    r = np.clip(readiness[rows], 1e-6, 1 - 1e-6)
    logit = np.log(r / (1 - r))
    intercept, slope, contact_coef = _ridge_to_identity(logit, np.asarray(contact, dtype=float)[rows], y)
    return HandoverEstimate(
        available=True,
        intercept=intercept,
        slope=slope,
        contact_coef=contact_coef,
        n_handovers=n,
        n_handover_wins=wins,
        overlap_min_readiness=overlap,
        basis=(
            f"Learnt from {n} historical handovers of held-out training leads ({wins} met the target "
            "within the horizon): the lead's state at its handover and what became of it."
        ),
    )


def _ridge_to_identity(
    logit: np.ndarray, contact: np.ndarray, y: np.ndarray, penalty: tuple[float, float, float] = PENALTY
) -> tuple[float, float, float]:
    """``(intercept, slope, contact_coef)`` of ``logit(chance) = logit + a + b * (logit - mean) + c *
    contact`` by penalised maximum likelihood (Newton), the penalty pulling ``a, b, c`` to 0: with few
    handovers the chance stays close to the readiness instead of swinging on a handful of outcomes."""
    centre = float(logit.mean())
    design = np.column_stack([np.ones(len(logit)), logit - centre, contact])
    theta = np.zeros(3)
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(logit + design @ theta)))
        gradient = design.T @ (p - y) + np.asarray(penalty) * theta
        hessian = (design * (p * (1 - p))[:, None]).T @ design + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if np.abs(step).max() < 1e-8:
            break
    a, b, c = (float(v) for v in theta)
    # logit + a + b * (logit - centre) = (a - b * centre) + (1 + b) * logit
    return a - b * centre, 1.0 + b, c


def ripened(
    lead: Sequence[object] | np.ndarray,
    cutoff: pd.Series,
    readiness: np.ndarray,
    threshold: float,
    met_target: np.ndarray,
    horizon_days: int,
) -> np.ndarray:
    """Per snapshot: its lead reached ``threshold`` at a later snapshot within the horizon, or met the
    target within the horizon (its label)."""
    # As nanoseconds whatever the resolution (pandas 3 parses strings to microseconds).
    ns = pd.Series(pd.to_datetime(cutoff, utc=True)).dt.as_unit("ns").astype("int64").to_numpy()
    days = ns / 86_400e9
    frame = pd.DataFrame({"lead": np.asarray(lead), "t": days, "pos": np.arange(len(days))})
    frame["above"] = np.where(np.asarray(readiness) >= threshold, days, np.inf)
    frame = frame.sort_values(["lead", "t"], kind="stable")
    later = frame.groupby("lead", sort=False)["above"].shift(-1).fillna(np.inf)
    first_later = later.iloc[::-1].groupby(frame["lead"].iloc[::-1], sort=False).cummin().iloc[::-1]
    crossed = np.zeros(len(days), dtype=bool)
    crossed[frame["pos"].to_numpy()] = (first_later.to_numpy() - frame["t"].to_numpy()) <= horizon_days
    return crossed | (np.asarray(met_target) > 0)


def learn_gone_cold(
    readiness: np.ndarray,
    days_inactive: np.ndarray | None,
    ripened_later: np.ndarray,
    threshold: float,
    *,
    snapshot_every_days: float,
    max_rate: float = 0.08,
    relative_rate: float = 0.5,
    min_support: int = 30,
    exit_factor: float = 2.5,
    earlier_looks: int = 4,
) -> GoneCold:
    """The gone-cold rule (see the module docstring) from below-threshold snapshots."""
    readiness = np.asarray(readiness, dtype=np.float64)
    below = readiness < threshold
    if below.sum() < min_support:
        return GoneCold(rule="Too few snapshots below the threshold to learn when leads go cold.")
    ripe = np.asarray(ripened_later, dtype=float)[below]
    r = readiness[below]
    overall = float(ripe.mean())
    level = _readiness_level(r, ripe, max_rate, min_support)
    cutoff, rate_beyond = None, None
    if days_inactive is not None:
        days = np.asarray(days_inactive, dtype=np.float64)[below]
        known = ~np.isnan(days)
        grid = [d for d in INACTIVITY_GRID if d >= 2 * snapshot_every_days]
        limit = min(INACTIVITY_MAX_RATE, relative_rate * overall)
        cutoff, rate_beyond = _inactivity_cutoff(days[known], ripe[known], grid, limit, min_support)
    if level is None and cutoff is None:
        return GoneCold(
            ripen_rate_below_threshold=overall,
            rule="No readiness level or inactivity in the training data made below-threshold leads "
            f"rarely ripen (under {max_rate:.0%}): no lead is called gone cold.",
        )
    rate_level = float(ripe[r < level].mean()) if level is not None and (r < level).any() else None
    parts = []
    if level is not None:
        parts.append(f"its score (0-100) is under {100 * level:.1f}")
    if cutoff is not None:
        parts.append(f"it has not engaged for {cutoff:g} days")
    return GoneCold(
        available=True,
        readiness_level=level,
        min_days_inactive=cutoff,
        exit_factor=exit_factor,
        lookback_days=float(snapshot_every_days),
        earlier_looks=earlier_looks,
        ripen_rate_below_level=rate_level,
        ripen_rate_beyond=rate_beyond,
        ripen_rate_below_threshold=overall,
        rule=(
            f"A lead that is not ripe is gone cold when {' or '.join(parts)}: historically "
            f"{_ripened(rate_level, rate_beyond, level, cutoff)} ripened within the horizon (every band "
            f"under {max_rate:.0%}), against {overall:.1%} of all below-threshold snapshots. Once gone "
            "cold it stays so until its score reaches "
            f"{exit_factor:g} times that level (the state is carried over the {earlier_looks} looks "
            f"{snapshot_every_days:g} days apart before now, from the request's own events)."
            if level is not None
            else f"A lead that is not ripe is gone cold when {parts[0]}: of such historical snapshots "
            f"only {rate_beyond:.1%} ripened within the horizon, against {overall:.1%} of all "
            "below-threshold snapshots."
        ),
    )


def _ripened(
    rate_level: float | None, rate_beyond: float | None, level: float | None, cutoff: float | None
) -> str:
    """How often the leads the rule calls gone cold ripened, e.g. "2.9% of those under the level and 1.1%
    of those quiet that long": the rates themselves, not only the cap they are under."""
    parts = []
    if level is not None and rate_level is not None:
        parts.append(f"{rate_level:.1%} of those under the level")
    if cutoff is not None and rate_beyond is not None:
        parts.append(f"{rate_beyond:.1%} of those quiet that long")
    return " and ".join(parts) or "few of them"


def _readiness_level(r: np.ndarray, ripe: np.ndarray, max_rate: float, min_support: int) -> float | None:
    """The highest candidate level under which every band (with support) ripened below ``max_rate``."""
    candidates = sorted(set(np.quantile(r, LEVEL_QUANTILES).tolist()))
    level = None
    lower = -math.inf
    for candidate in candidates:
        band = (r >= lower) & (r < candidate)
        if band.sum() >= min_support and not ripe[band].mean() < max_rate:
            break
        if (r < candidate).sum() >= min_support:
            level = float(candidate)
        lower = candidate
    return level


def _inactivity_cutoff(
    days: np.ndarray, ripe: np.ndarray, grid: list[int], limit: float, min_support: int
) -> tuple[float | None, float | None]:
    """The shortest cutoff beyond which every band (with support) ripened below ``limit``."""
    edges = [*grid, math.inf]
    band_ok = []
    for low, high in itertools.pairwise(edges):
        band = (days >= low) & (days < high)
        band_ok.append(band.sum() < min_support or ripe[band].mean() < limit)
    for k, d in enumerate(grid):
        beyond = days >= d
        if beyond.sum() >= min_support and ripe[beyond].mean() < limit and all(band_ok[k:]):
            return float(d), float(ripe[beyond].mean())
    return None, None


def build_decision_policy(
    *,
    target: Target,
    horizon_days: int,
    threshold: float,
    estimate: HandoverEstimate,
    hand_raisers: HandRaisers,
    gone_cold: GoneCold,
    chance_held_out: np.ndarray,
    hand_raiser_calibration: SliceCalibration | None = None,
) -> DecisionPolicy:
    """Assemble the policy; the grade edges come from the held-out rows' chances."""
    return DecisionPolicy(
        target=target,
        horizon_days=horizon_days,
        threshold=float(threshold),
        estimate=estimate,
        hand_raisers=hand_raisers,
        hand_raiser_calibration=hand_raiser_calibration or SliceCalibration(),
        gone_cold=gone_cold,
        grade_edges=grade_edges(chance_held_out, threshold),
    )

"""The verdict, as pure functions over the model's ``DecisionPolicy`` and plain arrays.

``ripe``: the estimated chance of a win within the horizon if the lead is handed over now
(``HandoverEstimate.chance``) is at or above the threshold, or the hand-raiser rule (when enabled) makes
it ripe: it asked for contact and its fit clears the floor. ``gone_cold``: not ripe, no recent contact
request, and cold now, or cold at ``as_of`` minus the lookback and not yet warm again (hysteresis; see
``GoneCold``). ``too_green``: everything else. The API, the MLflow model, batch scoring, training
reports and the benchmarks all call these functions, so they give the same verdict for the same lead
and time.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from training.features.snapshot_arrays import SnapshotArrays
from training.model.decision_policy import DecisionPolicy, GoneCold, HandRaisers, normalise_event_type
from training.model.serving_types import GoneColdRule, GradeEdges

RIPE = "ripe"
TOO_GREEN = "too_green"
GONE_COLD = "gone_cold"
FROM_MODEL = "model"
FROM_RULE = "rule"
_DAY_NS = 86_400 * 10**9
_VERDICT_NAMES = np.array([RIPE, TOO_GREEN, GONE_COLD])
_SOURCE_NAMES = np.array([FROM_MODEL, FROM_RULE])
#: ``latest_event_before`` where a row has no event before its cutoff.
_NO_EVENT = int(np.iinfo(np.int64).min)


@dataclass(frozen=True)
class Verdicts:
    """Verdicts of a batch of leads, aligned by row."""

    verdict: np.ndarray  # "ripe" / "too_green" / "gone_cold"
    readiness: np.ndarray  # readiness after the hand-raiser slice calibration (``readiness_and_chance``)
    source: np.ndarray  # "model" / "rule"
    chance: np.ndarray  # estimated chance of a win within the horizon if handed over now
    handover: np.ndarray  # bool: hand over now (verdict == ripe)
    contact_requested: np.ndarray  # bool


def hand_raiser_codes(names: Sequence[Any], hand_raisers: HandRaisers) -> np.ndarray:
    """For each distinct event type name: is it a hand-raising event?"""
    return _hand_raiser_codes(tuple(map(str, names)), tuple(hand_raisers.event_types)).copy()


@functools.lru_cache(maxsize=1024)
def _hand_raiser_codes(names: tuple[str, ...], event_types: tuple[str, ...]) -> np.ndarray:
    # Requests repeat the same few event type names: normalised once per set of names, not per request.
    wanted = _normalised_set(event_types)
    codes = np.fromiter((normalise_event_type(n) in wanted for n in names), dtype=bool, count=len(names))
    codes.flags.writeable = False
    return codes


@functools.lru_cache(maxsize=64)
def _normalised_set(event_types: tuple[str, ...]) -> frozenset[str]:
    return frozenset(normalise_event_type(t) for t in event_types)


def latest_event_before(
    row_lead: np.ndarray, row_ns: np.ndarray, event_lead: np.ndarray, event_ns: np.ndarray
) -> np.ndarray:
    """Per row (a lead at a cutoff): the time of its lead's latest event strictly before the cutoff, or
    ``int64.min`` when there is none. Rows and events name leads by the same integer codes; neither needs
    to be sorted. One sort of rows and events together, no loop over leads."""
    n = len(row_ns)
    none = _NO_EVENT
    if n == 0 or len(event_ns) == 0:
        return np.full(n, none, dtype=np.int64)
    lead = np.concatenate([np.asarray(row_lead, np.int64), np.asarray(event_lead, np.int64)])
    time = np.concatenate([np.asarray(row_ns, np.int64), np.asarray(event_ns, np.int64)])
    # At equal times the row sorts first: an event at the cutoff is not before it (point in time).
    is_event = np.concatenate([np.zeros(n, bool), np.ones(len(event_ns), bool)])
    order = np.lexsort((is_event, time, lead))
    position = np.where(is_event[order], np.arange(len(order)), -1)
    last = np.maximum.accumulate(position)  # the latest event so far, maybe of an earlier lead
    sorted_lead, sorted_time = lead[order], time[order]
    found = (last >= 0) & (sorted_lead[np.maximum(last, 0)] == sorted_lead)
    latest = np.where(found, sorted_time[np.maximum(last, 0)], none)
    out = np.empty(n, dtype=np.int64)
    rows = ~is_event[order]
    out[order[rows]] = latest[rows]
    return out


def contact_requested(
    row_lead: np.ndarray,
    row_ns: np.ndarray,
    event_lead: np.ndarray,
    event_ns: np.ndarray,
    event_is_hand_raising: np.ndarray,
    window_days: float,
) -> np.ndarray:
    """Per row: its lead had a hand-raising event within ``window_days`` before the cutoff."""
    keep = np.asarray(event_is_hand_raising, dtype=bool)
    if not keep.any():  # most leads: nothing to look for
        return np.zeros(len(row_ns), dtype=bool)
    row_ns = np.asarray(row_ns, np.int64)
    event_lead, event_ns = np.asarray(event_lead, np.int64)[keep], np.asarray(event_ns, np.int64)[keep]
    window = int(window_days * _DAY_NS)
    row_of_lead = _row_of_lead(np.asarray(row_lead, np.int64))
    if row_of_lead is not None:
        # One row per lead (an API batch): each event checks its own lead's row, no sort.
        known = (event_lead >= 0) & (event_lead < len(row_of_lead))
        rows = row_of_lead[np.where(known, event_lead, 0)]
        cutoff = row_ns[np.maximum(rows, 0)]
        inside = known & (rows >= 0) & (event_ns < cutoff) & (event_ns >= cutoff - window)
        out = np.zeros(len(row_ns), dtype=bool)
        out[rows[inside]] = True
        return out
    latest = latest_event_before(row_lead, row_ns, event_lead, event_ns)
    return (latest != _NO_EVENT) & (latest >= row_ns - window)


def _row_of_lead(row_lead: np.ndarray) -> np.ndarray | None:
    """The row of each lead code (-1 where none) when every lead has at most one row, else None."""
    if len(row_lead) == 0 or row_lead.min() < 0:
        return None
    if len(row_lead) > 1 and np.bincount(row_lead).max() > 1:
        return None
    index = np.full(int(row_lead.max()) + 1, -1, dtype=np.int64)
    index[row_lead] = np.arange(len(row_lead))
    return index


_FIT_RANK = {"A": 3, "B": 2, "C": 1, "D": 0}


def fit_clears_floor(fit: np.ndarray, hand_raisers: HandRaisers) -> np.ndarray:
    """Per row: the lead's fit grade (A-D, the answers' fit axis; None where unknown) is the rule's
    ``min_fit`` or better. An unknown fit never clears the floor."""
    floor = _FIT_RANK[hand_raisers.min_fit]
    return np.fromiter((_FIT_RANK.get(str(f), -1) >= floor for f in fit), dtype=bool, count=len(fit))


def rule_ripe(contact: np.ndarray, fit: np.ndarray | None, hand_raisers: HandRaisers) -> np.ndarray:
    """Rows the hand-raiser rule calls ripe (all False when the rule is off or fit is unknown)."""
    contact = np.asarray(contact, dtype=bool)
    if not hand_raisers.rule_enabled or fit is None:
        return np.zeros(len(contact), dtype=bool)
    return contact & fit_clears_floor(fit, hand_raisers)


def plain_cold(
    readiness: np.ndarray, days_inactive: np.ndarray, ripe: np.ndarray, gone_cold: GoneCold
) -> np.ndarray:
    """Cold at one look, without hysteresis: not ripe, and readiness under the level, or inactive for at
    least the cutoff while under ``exit_factor`` times the level (unknown inactivity never counts).
    Elementwise: the arrays may hold several looks, ``(looks, rows)``."""
    readiness = np.asarray(readiness, dtype=np.float64)
    if not gone_cold.available:
        return np.zeros(readiness.shape, dtype=bool)
    cold = np.zeros(readiness.shape, dtype=bool)
    if gone_cold.readiness_level is not None:
        cold |= readiness < gone_cold.readiness_level
    if gone_cold.min_days_inactive is not None:
        quiet = np.asarray(days_inactive, dtype=np.float64) >= gone_cold.min_days_inactive  # NaN: False
        if gone_cold.readiness_level is not None:
            # A quiet spell does not make a clearly warm lead cold: only one inside the hysteresis band
            # (quiet weeks between engagements would otherwise flip it back and forth).
            quiet &= readiness < gone_cold.exit_factor * gone_cold.readiness_level
        cold |= quiet
    return cold & ~np.asarray(ripe, dtype=bool)


def carried_cold(
    readiness_looks: np.ndarray, days_inactive_looks: np.ndarray, ripe_looks: np.ndarray, gone_cold: GoneCold
) -> np.ndarray:
    """The gone-cold state at the newest of several earlier looks, carried from the oldest one: cold at a
    look that is plainly cold, warm at one at or above ``exit_factor`` times the level (or ripe, or before
    the lead existed: readiness +inf), unchanged inside the band. Arrays are ``(looks, rows)``, newest
    look first; a 1-d array is one look."""
    readiness_looks = np.atleast_2d(np.asarray(readiness_looks, dtype=np.float64))
    days_inactive_looks = np.atleast_2d(np.asarray(days_inactive_looks, dtype=np.float64))
    ripe_looks = np.atleast_2d(np.asarray(ripe_looks, dtype=bool))
    level = gone_cold.readiness_level
    # Every look at once (elementwise), then only the carrying runs look by look.
    cold = plain_cold(readiness_looks, days_inactive_looks, ripe_looks, gone_cold)
    if level is None:  # without a level every look that is not cold is warm (no band to stay in)
        warm = np.ones(readiness_looks.shape, dtype=bool)
    else:
        warm = ripe_looks | (readiness_looks >= gone_cold.exit_factor * level)
    state = np.zeros(readiness_looks.shape[1], dtype=bool)
    for k in range(len(readiness_looks) - 1, -1, -1):  # oldest look first
        state = cold[k] | (state & ~warm[k])
    return state


def with_hysteresis(
    cold_now: np.ndarray,
    cold_before: np.ndarray,
    readiness: np.ndarray,
    ripe: np.ndarray,
    gone_cold: GoneCold,
) -> np.ndarray:
    """Gone cold now: cold at this look, or gone cold at the look ``lookback_days`` earlier
    (``carried_cold``) and still below ``exit_factor`` times the readiness level (a lead re-warms by
    really engaging, not by one email open). A ripe lead is never gone cold."""
    if gone_cold.readiness_level is None:  # the band is on the readiness level: without one, no band
        stays = np.zeros(len(readiness), dtype=bool)
    else:
        stays = np.asarray(cold_before, dtype=bool) & (
            np.asarray(readiness) < gone_cold.exit_factor * gone_cold.readiness_level
        )
    return (np.asarray(cold_now, dtype=bool) | stays) & ~np.asarray(ripe, dtype=bool)


def cold_at_earlier_looks(
    policy: DecisionPolicy,
    readiness_looks: np.ndarray,
    days_inactive_looks: np.ndarray,
) -> np.ndarray:
    """Per row: gone cold at the look ``lookback_days`` before ``as_of`` (``carried_cold`` over the
    earlier looks, ``(looks, rows)``, newest first; +inf readiness where the lead did not exist yet). No
    look counts a contact request or the hand-raiser rule: they speak about now."""
    readiness_looks = np.atleast_2d(np.asarray(readiness_looks, dtype=np.float64))
    no_contact = np.zeros(readiness_looks.shape, dtype=bool)
    ripe = policy.estimate.chance(readiness_looks, no_contact) >= policy.threshold  # elementwise
    return carried_cold(readiness_looks, days_inactive_looks, ripe, policy.gone_cold)


def readiness_and_chance(
    policy: DecisionPolicy, readiness: np.ndarray, contact: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The readiness after the hand-raiser slice calibration (rows with a contact request only) and the
    chance if handed over now computed from it: the one place both are made, for the API, batch
    scoring, the MLflow model, the counterfactuals and training alike."""
    readiness = policy.hand_raiser_calibration.apply(readiness, contact)
    return readiness, policy.estimate.chance(readiness, contact)


def needs_earlier_look(policy: DecisionPolicy, first: Verdicts) -> np.ndarray:
    """Rows whose verdict depends on ``decide``'s ``cold_before``, from ``first``, the verdicts ``decide``
    gives without it: too green, no contact request, and under ``exit_factor`` times the readiness level
    (inside the hysteresis band). Everywhere else ``decide`` gives the same verdict whatever
    ``cold_before`` says, so callers may skip the earlier looks there and decide again only where needed."""
    gone_cold = policy.gone_cold
    if gone_cold.readiness_level is None:  # no band: with_hysteresis never keeps a lead cold
        return np.zeros(len(first.verdict), dtype=bool)
    in_band = first.readiness < gone_cold.exit_factor * gone_cold.readiness_level
    return in_band & (first.verdict == TOO_GREEN) & ~first.contact_requested


def decide(
    policy: DecisionPolicy,
    *,
    readiness: np.ndarray,
    days_inactive: np.ndarray,
    contact: np.ndarray,
    fit: np.ndarray | None,
    cold_before: np.ndarray | None = None,
    calibrated: tuple[np.ndarray, np.ndarray] | None = None,
) -> Verdicts:
    """The verdict of each row (``readiness``: the model's; the verdicts carry it after the hand-raiser
    slice calibration). ``cold_before``: gone cold at ``as_of`` minus the lookback
    (``cold_at_earlier_looks``), for the hysteresis; None: no earlier look. ``calibrated``:
    ``readiness_and_chance(policy, readiness, contact)`` when the caller has it."""
    contact = np.asarray(contact, dtype=bool)
    readiness, chance = calibrated or readiness_and_chance(policy, readiness, contact)
    model_ripe = chance >= policy.threshold
    by_rule = rule_ripe(contact, fit, policy.hand_raisers) & ~model_ripe
    ripe = model_ripe | by_rule
    cold = plain_cold(readiness, days_inactive, ripe, policy.gone_cold)
    if cold_before is not None:
        cold = with_hysteresis(cold, cold_before, readiness, ripe, policy.gone_cold)
    # A lead that has just asked for contact has not gone cold, whatever its score: it is engaged now.
    cold &= ~contact
    # Indexing fixed name arrays: np.where over Python strings converts them on every call.
    verdict = _VERDICT_NAMES[np.where(ripe, 0, np.where(cold, 2, 1))]
    source = _SOURCE_NAMES[by_rule.astype(np.intp)]
    return Verdicts(
        verdict=verdict,
        readiness=readiness,
        source=source,
        chance=chance,
        handover=ripe,
        contact_requested=contact,
    )


def grade_edges(chance: np.ndarray, threshold: float) -> GradeEdges:
    """Lower edges of grades A, B, C on the chance if handed over now: the threshold, then the upper
    quartile and the median of the chances below it."""
    below = np.asarray(chance, dtype=np.float64)
    below = below[below < threshold]
    if len(below) == 0:
        return GradeEdges(a=float(threshold), b=float(threshold), c=float(threshold))
    b_edge = min(float(np.quantile(below, 0.75)), float(threshold))
    return GradeEdges(a=float(threshold), b=b_edge, c=min(float(np.quantile(below, 0.5)), b_edge))


def contact_flags(arrays: SnapshotArrays, hand_raisers: HandRaisers) -> np.ndarray:
    """Per snapshot of ``arrays``: a hand-raising event within the window before its cutoff."""
    codes, names = arrays.event_types
    if len(codes) == 0:
        return np.zeros(len(arrays), dtype=bool)
    is_hand_raising = hand_raiser_codes(list(names), hand_raisers)[codes] & (codes >= 0)
    return contact_requested(
        arrays.lead_codes,
        arrays.cutoff_ns,
        arrays.event_lead_codes,
        arrays.event_ns,
        is_hand_raising,
        hand_raisers.window_days,
    )


def implied_policy(threshold: float, horizon_days: int, rule: GoneColdRule | None) -> DecisionPolicy:
    """The policy a card without one implied: the chance if handed over now is the readiness
    (``threshold`` applies to it), and its inactivity rule (none without serving statistics), without a
    readiness level or hysteresis."""
    if rule is None:
        return DecisionPolicy(threshold=threshold, horizon_days=horizon_days)
    cold = GoneCold(
        available=rule.available,
        min_days_inactive=None if rule.min_days_inactive is None else float(rule.min_days_inactive),
        ripen_rate_beyond=rule.ripen_rate_beyond,
        ripen_rate_below_threshold=rule.ripen_rate_below_threshold,
        rule=rule.rule,
    )
    return DecisionPolicy(threshold=threshold, horizon_days=horizon_days, gone_cold=cold)

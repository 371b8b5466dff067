"""How the verdicts did on the test period: the figures each training run logs about its decisions.

Flat ``{name: float}`` so that they go into ``ModelCard.metrics["decision"]`` and MLflow as they are:
share of ripe verdicts, the hand-raiser slice (calibration of readiness and of the chance if handed over
now against the observed rate, above and below the threshold separately), the hand-raiser rule (share
of verdicts it made and their observed win rate) and, when the simulator's truth is at hand, the same
rates against the true chance of a win if handed over now.
"""

from __future__ import annotations

import numpy as np

from training.model.decision import FROM_RULE, RIPE, Verdicts


def _mean(values: np.ndarray, mask: np.ndarray) -> float:
    return float(np.mean(values[mask])) if mask.any() else float("nan")


def decision_metrics(
    verdicts: Verdicts,
    y: np.ndarray,
    *,
    true_handover_chance: np.ndarray | None = None,
    model_readiness: np.ndarray | None = None,
) -> dict[str, float]:
    """Figures about ``verdicts`` of test snapshots with outcomes ``y`` (see the module docstring). The
    slice's readiness is the verdicts' (after the hand-raiser slice calibration); ``model_readiness``
    (before it) adds ``hand_raiser_{side}_model_readiness``."""
    y = np.asarray(y, dtype=np.float64)
    readiness = np.asarray(verdicts.readiness, dtype=np.float64)
    ripe = verdicts.verdict == RIPE
    rule = verdicts.source == FROM_RULE
    contact = np.asarray(verdicts.contact_requested, dtype=bool)
    out: dict[str, float] = {
        "n": float(len(y)),
        "ripe_share": _mean(ripe.astype(float), np.ones(len(y), bool)),
        "ripe_win_rate": _mean(y, ripe),
        "contact_requested_share": _mean(contact.astype(float), np.ones(len(y), bool)),
        "rule_share": _mean(rule.astype(float), np.ones(len(y), bool)),
        "rule_n": float(rule.sum()),
        "rule_win_rate": _mean(y, rule),
    }
    for side, mask in (("above", contact & ripe), ("below", contact & ~ripe)):
        out[f"hand_raiser_{side}_n"] = float(mask.sum())
        out[f"hand_raiser_{side}_readiness"] = _mean(readiness, mask)
        if model_readiness is not None:
            out[f"hand_raiser_{side}_model_readiness"] = _mean(np.asarray(model_readiness, float), mask)
        out[f"hand_raiser_{side}_chance"] = _mean(verdicts.chance, mask)
        out[f"hand_raiser_{side}_win_rate"] = _mean(y, mask)
    if true_handover_chance is not None:
        truth = np.asarray(true_handover_chance, dtype=np.float64)
        out["rule_true_chance"] = _mean(truth, rule)
        out["ripe_true_chance"] = _mean(truth, ripe)
        for side, mask in (("above", contact & ripe), ("below", contact & ~ripe)):
            out[f"hand_raiser_{side}_true_chance"] = _mean(truth, mask)
    return out


def within(estimate: float, observed: float, tolerance: float = 0.2) -> bool:
    """``estimate`` within +-``tolerance`` (relative) of ``observed``."""
    return bool(
        np.isfinite(estimate) and np.isfinite(observed) and abs(estimate - observed) <= tolerance * observed
    )

"""What to tell the user when the logistic baseline beats a served non-linear model on the test period.

The selection chooses the family on rolling folds inside the training period and must not look at the
test period (that would tune on it). When the test period then says the baseline, a linear model,
ranks better than the served trees or blend, the run is not promoted, and the user needs to know the
way out: the linear candidate was on offer and passed over on the training folds. If later retrains
say the same, the data favours a linear model, which ``[selection] candidates = ["linear"]`` serves.
"""

from __future__ import annotations

from collections.abc import Sequence

from training.model.selection import LINEAR


def linear_family_hint(
    chosen: str,
    candidates: Sequence[str],
    versus_logistic: tuple[float, float, float],
    tolerance: float,
) -> str | None:
    """A run note, or ``None`` when the served model is linear, the linear candidate was not on offer,
    or the served model is not worse than the baseline by more than ``tolerance`` (the promotion
    guard's; ``versus_logistic`` is its model minus baseline ROC-AUC with the paired interval), or
    the baseline did not score higher at all (a wide interval alone fails the guard too)."""
    difference, low, high = versus_logistic
    if chosen == LINEAR or LINEAR not in candidates or difference >= 0 or not low < -tolerance:
        return None
    return (
        f"The logistic baseline ranked the test period better than the served {chosen} model (model minus "
        f"baseline {difference:+.3f}, paired 95% CI {low:+.3f} to {high:+.3f}), although the rolling folds "
        f"of the training period preferred the {chosen} model to the linear candidate. One test period "
        "cannot choose the family (that would tune on it); if later retrains show the same, the data "
        'favours a linear model: [selection] candidates = ["linear"] serves it.'
    )

"""Say so when the hand-over threshold hands over nobody (or everybody), and suggest a policy that works.

An expected-value threshold of 0.17 is sensible for a CRM whose good leads win 30% of the time; on an
export whose best leads win 8%, it never says "ripe", and a model that never says ripe is useless
however well it ranks. The suggestion only uses the training base rate and the test period's scores
(no test labels): a target acceptance rate of twice the training win rate, or a weekly capacity of as
many leads as are won in an average week.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def handover_warning(
    threshold: float,
    test_readiness: np.ndarray,
    test_time: pd.Series | None,
    train_win_rate: float,
) -> str | None:
    """A warning naming the threshold, the share handed over and the policies to use instead, or None
    when the threshold hands over some but not all test snapshots. ``test_time`` (cutoffs) is None for
    row-order data, where only the acceptance-rate policy applies (capacity needs weeks)."""
    readiness = np.asarray(test_readiness, dtype=np.float64)
    if readiness.size == 0:
        return None
    handed = int((readiness >= threshold).sum())
    if 0 < handed < readiness.size:
        return None
    what = "nobody" if handed == 0 else "everybody"
    extreme = readiness.max() if handed == 0 else readiness.min()
    target = min(0.95, max(0.01, 2.0 * train_win_rate))
    suggestions = [f'[threshold] kind = "acceptance_rate", target_acceptance_rate = {target:.2f}']
    if test_time is not None and len(test_time):
        # Weeks in UTC; the zone is dropped first so that pandas does not warn that it drops it.
        weeks = pd.to_datetime(test_time, utc=True).dt.tz_localize(None).dt.to_period("W").nunique()
        per_week = math.ceil(readiness.size / max(weeks, 1) * train_win_rate)
        suggestions.append(f'[threshold] kind = "capacity", capacity_per_week = {max(per_week, 1)}')
    return (
        f"The hand-over threshold {threshold:.3f} hands over {what} in the test period "
        f"({handed:,} of {readiness.size:,} snapshots; {'highest' if handed == 0 else 'lowest'} readiness "
        f"{extreme:.3f}), so the model would {'never' if handed == 0 else 'always'} say ripe. "
        f"The training win rate is {train_win_rate:.1%}. A policy that would work: "
        + " or ".join(suggestions)
        + " in the training config."
    )

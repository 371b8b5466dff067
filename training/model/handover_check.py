"""Say so when the hand-over threshold hands over (almost) nobody or (almost) everybody, and suggest a
policy that works.

An expected-value threshold of 0.17 is sensible for a CRM whose good leads win 30% of the time; on an
export whose best leads win 8%, it never says "ripe", and a model that never says ripe is useless
however well it ranks. On an export where most leads win (60%), the same threshold calls 99.8% of them
ripe, which tells sales nothing either. The suggestion only uses the training base rate and the test
period's scores (no test labels): a target acceptance rate of twice the training win rate (at most
halfway from the win rate to everybody), or a weekly capacity of as many leads as are won in an average
week.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

#: A threshold that hands over at least this share of the test snapshots, while at least
#: ``FEWER_THAN_WON`` times as many training snapshots were not won, hands over almost everybody.
ALMOST_EVERYBODY = 0.95
#: One that hands over less than this share, while at least ``FEWER_THAN_WON`` times as many training
#: snapshots were won, hands over almost nobody: "ripe" would hardly ever be said.
ALMOST_NOBODY = 0.01
FEWER_THAN_WON = 5


def handover_warning(
    threshold: float,
    test_readiness: np.ndarray,
    test_time: pd.Series | None,
    train_win_rate: float,
) -> str | None:
    """A warning naming the threshold, the share handed over and the policies to use instead, or None
    when it hands over somebody and not everybody, and neither almost nobody (``ALMOST_NOBODY``, when far
    more are won) nor almost everybody (``ALMOST_EVERYBODY``, when far more are not won).
    ``test_time`` (cutoffs) is None for row-order data, where only the acceptance-rate policy applies
    (capacity needs weeks)."""
    readiness = np.asarray(test_readiness, dtype=np.float64)
    if readiness.size == 0:
        return None
    handed = int((readiness >= threshold).sum())
    share = handed / readiness.size
    almost_nobody = 0 < share < ALMOST_NOBODY and train_win_rate >= FEWER_THAN_WON * share
    # Symmetric to almost nobody: almost everybody, while at least five times as many were not won.
    almost_everybody = share >= ALMOST_EVERYBODY and 1.0 - train_win_rate >= FEWER_THAN_WON * (1.0 - share)
    if 0 < handed < readiness.size and not almost_nobody and not almost_everybody:
        return None
    if handed == 0:
        what, seen = "nobody", f"highest readiness {readiness.max():.3f}"
    elif almost_nobody:
        what, seen = f"almost nobody ({share:.2%})", "the ripe verdict would hardly ever be given"
    elif handed == readiness.size:
        what, seen = "everybody", f"lowest readiness {readiness.min():.3f}"
    else:
        what, seen = (
            f"almost everybody ({handed / readiness.size:.1%})",
            "the ripe verdict tells sales little",
        )
    target = min(0.95, 2.0 * train_win_rate, train_win_rate + (1.0 - train_win_rate) / 2)
    target = max(0.01, target)
    suggestions = [f'[threshold] kind = "acceptance_rate", target_acceptance_rate = {target:.2f}']
    if test_time is not None and len(test_time):
        # Weeks in UTC; the zone is dropped first so that pandas does not warn that it drops it.
        weeks = pd.to_datetime(test_time, utc=True).dt.tz_localize(None).dt.to_period("W").nunique()
        per_week = math.ceil(readiness.size / max(weeks, 1) * train_win_rate)
        suggestions.append(f'[threshold] kind = "capacity", capacity_per_week = {max(per_week, 1)}')
    return (
        f"The hand-over threshold {threshold:.3f} hands over {what} in the test period "
        f"({handed:,} of {readiness.size:,} snapshots; {seen}), so the model would "
        f"{_how_often(handed, readiness.size, almost_nobody)} say ripe. "
        f"The training win rate is {train_win_rate:.1%}. A policy that would work: "
        + " or ".join(suggestions)
        + " in the training config."
    )


def _how_often(handed: int, total: int, almost_nobody: bool) -> str:
    if handed == 0:
        return "never"
    if almost_nobody:
        return "almost never"
    return "always" if handed == total else "almost always"

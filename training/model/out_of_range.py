"""Which numeric profile columns leave their training range in the test (later) period, and how often.

A model sees a column only between the training minimum and maximum. Trees answer every value beyond
the range as if it were the edge value; a linear model extrapolates, or (clipped) stops ranking by
the column. Either way the test figures then measure values the model never saw. On UCI Bank
Marketing the macro-economic columns (``euribor3m``, ``nr_employed``, ``emp_var_rate``) sit in one
economic regime in the training rows and in another in the later test rows, which is what broke the
linear candidate there (README, "Which family won on the public data"). This report names such columns.

For each numeric profile column: the training range (finite values of the training snapshots) and
the share of test snapshots with a value below the minimum or above the maximum, out of the test
snapshots with a value (missing values are neither in nor out of range). Under a random split a
column with ``n`` distinct training values has about ``2 / n`` of its test values outside, so a share
of a few percent already says the later period differs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class ColumnRange:
    """One numeric profile column: its training range and how much of the test period falls outside."""

    column: str
    train_min: float
    train_max: float
    #: share of the test snapshots with a value that are below ``train_min`` / above ``train_max``
    below_share: float
    above_share: float
    #: test snapshots with a value (the denominator of the shares)
    test_values: int

    @property
    def share(self) -> float:
        """Share of the test values outside the training range, either side."""
        return self.below_share + self.above_share

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "train_min": self.train_min,
            "train_max": self.train_max,
            "below_share": round(self.below_share, 4),
            "above_share": round(self.above_share, 4),
            "share": round(self.share, 4),
            "test_values": self.test_values,
        }


def _finite(values: pd.Series) -> np.ndarray:
    numeric = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return numeric[np.isfinite(numeric)]


def out_of_range(train: pd.DataFrame, test: pd.DataFrame, columns: Iterable[str]) -> list[ColumnRange]:
    """Per numeric column of ``columns`` present in both frames: training range and test share outside.

    Sorted by the share outside, largest first. A column without a finite training or test value is
    left out (no range to leave, or nothing to compare).
    """
    ranges: list[ColumnRange] = []
    for column in columns:
        if column not in train.columns or column not in test.columns:
            continue
        seen, later = _finite(train[column]), _finite(test[column])
        if seen.size == 0 or later.size == 0:
            continue
        low, high = float(seen.min()), float(seen.max())
        ranges.append(
            ColumnRange(
                column=str(column),
                train_min=low,
                train_max=high,
                below_share=float(np.mean(later < low)),
                above_share=float(np.mean(later > high)),
                test_values=int(later.size),
            )
        )
    return sorted(ranges, key=lambda r: -r.share)


def out_of_range_warning(ranges: list[ColumnRange], max_share: float) -> str | None:
    """A warning naming the columns whose test share outside the training range exceeds ``max_share``."""
    over = [r for r in ranges if r.share > max_share]
    if not over:
        return None
    listed = ", ".join(
        f"{r.column} ({r.share:.0%} of test values outside {r.train_min:g} to {r.train_max:g})"
        for r in over[:5]
    )
    more = f" and {len(over) - 5} more" if len(over) > 5 else ""
    return (
        f"{len(over)} numeric profile column(s) leave their training range in the test period: "
        f"{listed}{more}; "
        "the model never saw such values (trees treat them as the edge value, a linear model extrapolates), "
        "so test and live figures on them are less reliable; if the column follows the calendar (prices, "
        "rates, economic indicators), consider excluding it or retraining often"
    )

"""Where a linear model clips a numeric feature: one training range beyond the training values, with
wild values (a typo such as 1e12 employees) left out of that range.

A linear model standardises each numeric column and extrapolates it. One wild value in training
inflates the column's standard deviation until every ordinary value looks the same, and the column
stops ranking the leads: on a test export with such typos the logistic baseline ranked the test period
no better than a coin (0.48) and the linear candidate lost the model selection by 0.30, while trees,
which only split, were unaffected. Clipping at the 0.5-99.5% quantiles would cure that but also stop
a drifting column (a price index, an interest rate) from extrapolating: training often sits mostly in
one regime, and UCI Bank Marketing's macro-economic columns then hit the bound on every test value.
So only values far outside the bulk, more than ``WILD_SPREADS`` (100) 0.5-99.5% widths beyond those
quantiles, are left out of the range; legitimate regimes and long tails lie well within it.

Days elapsed (since an event, since the lead's creation) are the exception: they grow by time passing
alone, so a lead scored long after the training period would be extrapolated for being scored late. A
linear model holds them at their training range (``training_range``), as trees hold every feature.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

#: The bulk of a column: its values between these training quantiles.
BULK_QUANTILES = (0.005, 0.995)
#: A value further than this many bulk widths beyond the bulk is wild (a typo, a sentinel).
WILD_SPREADS = 100.0


def clip_bounds(present: np.ndarray) -> tuple[float, float]:
    """``(low, high)`` for the non-missing training values ``present``: one range of the values that
    are not wild beyond their minimum and maximum. Equal bounds mean a constant column."""
    smallest, largest = training_range(present)
    return 2 * smallest - largest, 2 * largest - smallest


def training_range(present: np.ndarray) -> tuple[float, float]:
    """The minimum and maximum of the non-missing training values ``present`` that are not wild."""
    bulk_low, bulk_high = np.quantile(present, BULK_QUANTILES)
    spread = bulk_high - bulk_low
    values = present
    if spread > 0:
        fence_low, fence_high = bulk_low - WILD_SPREADS * spread, bulk_high + WILD_SPREADS * spread
        values = present[(present >= fence_low) & (present <= fence_high)]
    # When the bulk is a single value (a count that is 0 for 99.5% of the rows) nothing says which of
    # the rest is wild: every value counts.
    return float(values.min()), float(values.max())


class WildValueClipper(TransformerMixin, BaseEstimator):
    """Clip each column of a numeric matrix at ``clip_bounds`` of its training values (NaN kept)."""

    def fit(self, X: np.ndarray, y: object = None) -> WildValueClipper:
        matrix = np.asarray(X, dtype=np.float64)
        self.low_ = np.full(matrix.shape[1], -np.inf)
        self.high_ = np.full(matrix.shape[1], np.inf)
        for k in range(matrix.shape[1]):
            present = matrix[~np.isnan(matrix[:, k]), k]
            if present.size:
                self.low_[k], self.high_[k] = clip_bounds(present)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "low_")
        return np.clip(np.asarray(X, dtype=np.float64), self.low_, self.high_)

    def get_feature_names_out(self, input_features: object = None) -> object:
        return input_features

"""The linear readiness candidate: a regularised logistic model with exact, additive contributions.

Small CRM exports (a few thousand leads, profile columns and aggregated activity counts, drifting
conversion rates) are often ranked better by a well-regularised linear model than by trees. This one
reads the very matrix the trees read (``ReadinessModel``'s encoding: numerics as floats, categories as
training codes, unknown = NaN), so serving, reasons and counterfactuals treat it like any candidate:

- each numeric feature becomes a piecewise-linear spline (the clipped value plus hinges at its
  training quantiles) and a missing indicator where training had missing values; values are clipped
  one training range beyond the training minimum and maximum, wild training values (typos far
  outside the bulk) left out of that range (``training.model.value_bounds``), so a drifting column (a
  rate, a price index) keeps extrapolating linearly while a wild value cannot run away with the margin;
  days elapsed (``elapsed_features``: since an event, since the lead's creation) are held at their
  training range instead, as trees hold every feature: they grow by time passing alone, and a lead
  scored months after the training period was extrapolated for it (a click 714 days old gave -14.7
  log-odds on a Marketo export whose training leads were at most ~500 days old);
- each categorical feature becomes one column per level with at least ``min_level_count`` training
  rows; rarer levels, and levels never seen in training, share one pooled column;
- while fitting, each of ``period_bins`` equal-count periods of the training time has its own, barely
  penalised intercept, so a level or value common in a period that won little (a young sales
  programme, a slow season) is not blamed for the period: coefficients are learnt within periods. The
  period intercepts are dropped afterwards; the level comes from the held-out leads (below);
- the L2 strength is chosen on the held-out time-later leads, then the model is refitted on all rows;
  numeric basis columns are standardised before the penalty by their spread over the rows where the
  feature is present (``_numeric_scales``), 0/1 indicator columns are not (see ``fit``);
- Platt's slope is fitted on those held-out leads' margins by the model that did not see them, and
  the level on the refitted model's margins there; where the margin learnt without them does not rank
  them at all, the refitted model keeps its own log-odds scale (slope 1) and only its level moves to
  their base rate (recalibration in the large).

The margin is ``intercept + sum_c coef_c * (basis_c(x) - reference_c)`` with ``reference_c`` the
training mean of basis column ``c``, so a feature's contribution is the sum over its basis columns of
``coefficient x (value - reference)``: exact and additive, the base value being the intercept.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from training.model.calibration import fit_intercept_shift, fit_platt, platt_ranks
from training.model.ranking import roc_auc
from training.model.readiness import ReadinessModel, time_values
from training.model.value_bounds import clip_bounds, training_range

#: Quantiles of a numeric feature where its spline may bend (duplicates collapse on skewed counts).
KNOT_QUANTILES = (0.25, 0.5, 0.75)
#: Knots lie between these training quantiles (clipping uses the full training range, see _fit_bases).
CLIP_QUANTILES = (0.005, 0.995)
#: ``calibration_method_`` when the held-out leads could not fit Platt's slope (see ``fit``).
IN_THE_LARGE = "in_the_large"
#: Equal-count periods of the training time, each with its own intercept while fitting (see ``fit``).
DEFAULT_PERIOD_BINS = 5
#: Period columns are multiplied by this before the L2 penalty: their intercepts are barely shrunk.
_PERIOD_COLUMN_SCALE = 10.0
#: Inverse L2 strengths tried on the held-out leads (larger C = weaker regularisation).
DEFAULT_C_GRID = (0.03, 0.3)


class LinearReadinessModel(ReadinessModel):
    """Regularised logistic readiness model over spline/one-hot bases; same interface as the trees.

    Parameters: ``C_grid`` (inverse L2 strengths tried; the best ROC-AUC on the held-out leads wins, the
    stronger regularisation on ties), ``min_level_count`` (rarer categories are pooled),
    ``calibration_fraction`` / ``calibration_gap`` (the held-out slice, as in ``ReadinessModel``),
    ``max_iter``, ``period_bins`` (period intercepts while fitting; 0 or 1: none), ``elapsed_features``
    (names of the features that count days elapsed, held at their training range; see the module doc).

    Fitted attributes besides ``ReadinessModel``'s encoding ones (``feature_names_in_``,
    ``categories_``, ``classes_``): ``C_`` (the chosen strength), ``intercept_``, ``coef_`` (one per
    basis column, in raw basis units), ``reference_`` (training mean of each basis column),
    ``basis_feature_`` (feature position of each basis column), ``calibration_slope_`` /
    ``calibration_intercept_``, ``calibration_method_`` (``"platt"``, or ``IN_THE_LARGE``: slope 1 and
    the level moved to the held-out leads, where the held-out margin did not rank them),
    ``feature_importances_`` (mean absolute contribution, normalised).
    """

    #: Contributions are the linear terms, not trees'.
    _contributions_are_the_trees: ClassVar[bool] = False
    #: What a model pickled before period intercepts existed was fitted with (``__init__`` sets it).
    period_bins: int = 0
    #: ... and before elapsed-time features were held at their training range.
    elapsed_features: tuple[str, ...] = ()

    def __init__(
        self,
        C_grid: tuple[float, ...] = DEFAULT_C_GRID,
        min_level_count: int = 10,
        calibration_fraction: float = 0.2,
        calibration_gap: pd.Timedelta | None = None,
        max_iter: int = 500,
        period_bins: int = DEFAULT_PERIOD_BINS,
        elapsed_features: tuple[str, ...] = (),
    ) -> None:
        self.C_grid = C_grid
        self.min_level_count = min_level_count
        self.calibration_fraction = calibration_fraction
        self.calibration_gap = calibration_gap
        self.max_iter = max_iter
        self.period_bins = period_bins
        self.elapsed_features = elapsed_features

    # ------------------------------------------------------------------ fitting
    def fit(self, X: pd.DataFrame, y: Any, time_key: Any = None, groups: Any = None) -> LinearReadinessModel:
        """Build the bases, choose the L2 strength on the held-out leads, calibrate there, refit on all."""
        positive, matrix = self._learn_layout(X, y)
        self._fit_bases(matrix)
        basis = self._basis(matrix)
        self.reference_ = basis.mean(axis=0)
        scale = self._numeric_scales(matrix, basis)
        # Indicators (missing flags, category levels) keep their 0/1 units: standardising them divides
        # a rare level's column by its tiny standard deviation, which all but lifts the penalty on it,
        # and a level seen in a handful of training rows got a coefficient of several log-odds
        # (UCI Bank Marketing: +6.5 for a month seen in 0.4% of training rows). Unscaled, the penalty
        # shrinks rare levels towards the pooled average, as the logistic baseline's one-hot columns are.
        scale[self.linear_features_.size + self.knot_features_.size :] = 1.0
        standardised = (basis - self.reference_) / scale

        fit_rows, held_out = self.held_out_split(len(X), time_key, groups)
        for part, rows in (("training", fit_rows), ("calibration", held_out)):
            n_pos = int(positive[rows].sum())
            if n_pos == 0 or n_pos == rows.size:
                raise ValueError(
                    f"The {part} slice ({rows.size} rows) has {n_pos} positive and {rows.size - n_pos} "
                    "negative rows; both outcomes are needed."
                )
        # Period intercepts while fitting: where the win rate drifts (a young sales programme, a
        # season), a lead source or landing page common in a period that won little would otherwise be
        # blamed for the period. Each level's coefficient is then learnt within periods.
        periods = _period_indicators(time_key, len(X), self.period_bins)
        n_basis = standardised.shape[1]
        design = (
            standardised if periods is None else np.hstack([standardised, _PERIOD_COLUMN_SCALE * periods])
        )
        best: tuple[float, float, np.ndarray, float] | None = None
        logistic = LogisticRegression(max_iter=self.max_iter, warm_start=True)
        for C in sorted(self.C_grid):  # ascending: on a tie the stronger regularisation stays
            # Warm starts along the grid: each fit starts from the more regularised solution.
            logistic.set_params(C=C).fit(design[fit_rows], positive[fit_rows])
            coef = logistic.coef_[0][:n_basis]
            auc = roc_auc(positive[held_out], standardised[held_out] @ coef)
            if best is None or auc > best[0] + 1e-9:
                best = (auc, C, coef.copy(), float(logistic.intercept_[0]))
        assert best is not None
        _, self.C_, coef, intercept = best
        # Platt's slope from the margins of a model that did not see the held-out leads.
        self.calibration_slope_, _ = fit_platt(
            (standardised[held_out] @ coef) + intercept, positive[held_out]
        )
        self.calibration_size_ = int(held_out.size)
        # Refit on every training row: the held-out leads are the latest, the most like live leads
        # (conversion rates drift). Platt's slope fitted above stays: with the same strength, one more
        # slice of data barely moves the margin's scale.
        final = LogisticRegression(C=self.C_, max_iter=self.max_iter).fit(design, positive)
        weights = final.coef_[0][:n_basis]  # the period intercepts are dropped (see the docstring)
        self.coef_ = weights / scale
        self.intercept_ = float(final.intercept_[0])
        self.calibration_method_ = "platt"
        if not platt_ranks(self.calibration_slope_):
            # The model fitted without the held-out leads did not rank them (its few wins came before
            # a young sales programme took off, say: Olist's training periods win 0% for months, then
            # 12%). Platt would give every lead the same readiness, and every lead the same verdict and
            # no reason. The refitted model learnt from those leads too; keep its own log-odds scale
            # (maximum likelihood on every training row).
            self.calibration_slope_ = 1.0
            self.calibration_method_ = IN_THE_LARGE
        # The level comes from the refitted model's own margins on the held-out leads: its intercept
        # is not the first fit's, and the held-out leads' win rate is the right level for live leads.
        self.calibration_intercept_ = fit_intercept_shift(
            self.calibration_slope_ * (standardised[held_out] @ weights + self.intercept_),
            positive[held_out],
        )
        self._basis_to_feature = self._group_matrix()
        contributions = self._contributions_from_matrix(matrix)[:, :-1]
        importance = np.abs(contributions).mean(axis=0)
        self.feature_importances_ = importance / importance.sum() if importance.sum() > 0 else importance
        return self

    def _fit_bases(self, matrix: np.ndarray) -> None:
        """Knots, clip bounds, medians and level columns from the training matrix (no labels used)."""
        layout = self.encoder()
        numeric = matrix[:, layout.numeric]
        self.numeric_positions_ = np.asarray(layout.numeric, dtype=np.int64)
        self.medians_ = np.zeros(len(layout.numeric))
        self.low_ = np.zeros(len(layout.numeric))
        self.high_ = np.zeros(len(layout.numeric))
        knot_feature: list[int] = []
        knot_value: list[float] = []
        missing_feature: list[int] = []
        linear_feature: list[int] = []
        elapsed = set(self.elapsed_features)
        for k in range(numeric.shape[1]):
            column = numeric[:, k]
            present = column[~np.isnan(column)]
            if present.size < column.size:
                missing_feature.append(k)
            if present.size == 0:
                continue
            self.medians_[k] = float(np.median(present))
            low, high = np.quantile(present, CLIP_QUANTILES)
            if high <= low:  # (nearly) constant: fall back to the full range, maybe still constant
                low, high = float(present.min()), float(present.max())
            if high <= low:
                continue
            # One training range beyond the training values, wild values left out (value_bounds.py):
            # drifting inputs (prices, rates) extrapolate linearly, a typo cannot run away with the margin.
            # Days elapsed grow by time passing alone: held at the training range.
            name = str(self.feature_names_in_[layout.numeric[k]])
            bounds = training_range if name in elapsed else clip_bounds
            self.low_[k], self.high_[k] = bounds(present)
            linear_feature.append(k)
            inside = present[(present >= low) & (present <= high)]
            for knot in np.unique(np.quantile(inside, KNOT_QUANTILES)) if inside.size else []:
                if low < knot < high:
                    knot_feature.append(k)
                    knot_value.append(float(knot))
        self.linear_features_ = np.asarray(linear_feature, dtype=np.int64)
        self.knot_features_ = np.asarray(knot_feature, dtype=np.int64)
        self.knot_values_ = np.asarray(knot_value, dtype=np.float64)
        self.missing_features_ = np.asarray(missing_feature, dtype=np.int64)
        # Categories: a column per frequent level; rare, missing and unseen codes share the pooled one.
        self.level_columns_: list[np.ndarray] = []
        for i in layout.categorical:
            codes = matrix[:, i]
            n_levels = len(self.categories_[str(self.feature_names_in_[i])])
            counts = np.bincount(codes[~np.isnan(codes)].astype(np.int64), minlength=n_levels)
            frequent = counts >= self.min_level_count
            column_of = np.where(frequent, np.cumsum(frequent) - 1, int(frequent.sum()))
            self.level_columns_.append(column_of.astype(np.int64))
        self.categorical_positions_ = np.asarray(layout.categorical, dtype=np.int64)

    def _numeric_scales(self, matrix: np.ndarray, basis: np.ndarray) -> np.ndarray:
        """Each basis column's standard deviation before the penalty, numeric ones over the rows where
        their feature was present (1 where constant; indicator columns are reset by the caller).

        A feature missing for most rows (the recency of a rare event type) is filled with its median,
        so its column barely varies over all rows; divided by that tiny spread, its penalty all but
        lifted, as a rare level's did. On a Marketo export, a pricing request's recency, present in a
        few hundred of 50,000 snapshots, drove 39 log-odds across four days."""
        scale = basis.std(axis=0)
        numeric = matrix[:, self.numeric_positions_]
        for column, feature in enumerate(np.concatenate([self.linear_features_, self.knot_features_])):
            present = ~np.isnan(numeric[:, feature])
            if 1 < present.sum() < len(present):
                scale[column] = basis[present, column].std()
        scale[scale == 0] = 1.0
        return scale

    def _basis(self, matrix: np.ndarray) -> np.ndarray:
        """The basis matrix: clipped numerics, hinges, missing indicators, then level indicators."""
        numeric = matrix[:, self.numeric_positions_]
        missing = np.isnan(numeric)
        filled = np.where(missing, self.medians_, numeric)
        clipped = np.clip(filled, self.low_, self.high_)
        blocks = [
            clipped[:, self.linear_features_],
            np.maximum(clipped[:, self.knot_features_] - self.knot_values_, 0.0),
            missing[:, self.missing_features_].astype(np.float64),
        ]
        for position, column_of in zip(self.categorical_positions_, self.level_columns_, strict=True):
            codes = matrix[:, position]
            pooled = int(column_of.max()) + 1 if column_of.size else 0
            n_columns = max(pooled, 1)
            known = ~np.isnan(codes)
            columns = np.full(len(codes), n_columns - 1 if pooled else 0, dtype=np.int64)
            columns[known] = column_of[codes[known].astype(np.int64)]
            indicators = np.zeros((len(codes), n_columns))
            indicators[np.arange(len(codes)), columns] = 1.0
            blocks.append(indicators)
        return np.hstack(blocks) if blocks else np.zeros((len(matrix), 0))

    def _group_matrix(self) -> np.ndarray:
        """``(n_basis, n_features)``: 1 where a basis column belongs to a feature (sums contributions)."""
        owners = [
            self.numeric_positions_[self.linear_features_],
            self.numeric_positions_[self.knot_features_],
            self.numeric_positions_[self.missing_features_],
        ]
        for position, column_of in zip(self.categorical_positions_, self.level_columns_, strict=True):
            n_columns = max(int(column_of.max()) + 1 if column_of.size else 0, 1)
            owners.append(np.full(n_columns, position, dtype=np.int64))
        owner = np.concatenate(owners) if owners else np.zeros(0, dtype=np.int64)
        self.basis_feature_ = owner
        grouping = np.zeros((owner.size, self.n_features_in_))
        grouping[np.arange(owner.size), owner] = 1.0
        return grouping

    # ------------------------------------------------------------------ prediction hooks
    def _raw_from_matrix(self, matrix: np.ndarray) -> np.ndarray:
        return self.intercept_ + (self._basis(matrix) - self.reference_) @ self.coef_

    def _contributions_from_matrix(self, matrix: np.ndarray) -> np.ndarray:
        """Per feature ``sum coef x (basis - reference)``, then the intercept as the base value."""
        weighted = (self._basis(matrix) - self.reference_) * self.coef_
        per_feature = weighted @ self._basis_to_feature
        return np.column_stack([per_feature, np.full(len(matrix), self.intercept_)])

    def _threads(self, n_rows: int, per_row_cost: int = 1) -> int:
        return 1


def _period_indicators(time_key: Any, n_rows: int, bins: int) -> np.ndarray | None:
    """``(n_rows, bins)`` 0/1 columns: which equal-count period of the time key each row falls in."""
    if bins <= 1 or time_key is None:
        return None
    values = pd.Series(time_values(time_key, n_rows))
    rank = values.rank(method="average", pct=True).to_numpy()
    index = np.minimum((rank * bins).astype(int), bins - 1)
    out = np.zeros((n_rows, bins))
    out[np.arange(n_rows), index] = 1.0
    return out

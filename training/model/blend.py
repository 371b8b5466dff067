"""The blended readiness candidate: trees and the linear model averaged in log-odds, then calibrated.

Each component is first put on the log-odds scale by its own Platt mapping (fitted on the same held-out,
time-later leads), the two calibrated log-odds are averaged with weight ``weight`` on the trees, and a
final Platt mapping calibrates the average. Every step is affine, so the blend's margin is still the
sum of per-feature contributions: ``weight * a_t * trees' contribution + (1 - weight) * a_l * linear
contribution`` per feature, plus the matching base value. Reasons and counterfactuals stay exact.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from training.model.calibration import fit_platt
from training.model.linear import LinearReadinessModel
from training.model.readiness import ReadinessModel


class BlendedReadinessModel(ReadinessModel):
    """``weight`` x trees + (1 - ``weight``) x linear model in calibrated log-odds, Platt-calibrated.

    ``trees`` and ``linear`` are unfitted component estimators (defaults: ``ReadinessModel()`` and
    ``LinearReadinessModel()``); both are fitted on the same rows with the same held-out leads.
    Fitted: ``trees_``, ``linear_``, the encoding attributes, ``calibration_slope_`` /
    ``calibration_intercept_`` and ``feature_importances_`` (mean absolute contribution, normalised).
    """

    #: Contributions mix the trees' and the linear model's.
    _contributions_are_the_trees: ClassVar[bool] = False

    def __init__(
        self,
        trees: ReadinessModel | None = None,
        linear: LinearReadinessModel | None = None,
        weight: float = 0.5,
        calibration_fraction: float = 0.2,
        calibration_gap: pd.Timedelta | None = None,
    ) -> None:
        self.trees = trees
        self.linear = linear
        self.weight = weight
        self.calibration_fraction = calibration_fraction
        self.calibration_gap = calibration_gap

    def fit(self, X: pd.DataFrame, y: Any, time_key: Any = None, groups: Any = None) -> BlendedReadinessModel:
        """Fit both components, then the Platt mapping of their blend on the held-out leads."""
        if not 0.0 <= self.weight <= 1.0:
            raise ValueError(f"weight must be in [0, 1], got {self.weight}")
        trees = self.trees if self.trees is not None else ReadinessModel()
        linear = self.linear if self.linear is not None else LinearReadinessModel()
        shared = {"calibration_fraction": self.calibration_fraction, "calibration_gap": self.calibration_gap}
        self.trees_ = ReadinessModel(**{**trees.get_params(), **shared}).fit(X, y, time_key, groups)
        self.linear_ = LinearReadinessModel(**{**linear.get_params(), **shared}).fit(X, y, time_key, groups)
        self.feature_names_in_ = self.trees_.feature_names_in_
        self.n_features_in_ = self.trees_.n_features_in_
        self.categories_ = self.trees_.categories_
        self.classes_ = self.trees_.classes_
        positive = np.asarray(y) == self.classes_[1]
        matrix = self.encoder().encode(X)
        _, held_out = self.held_out_split(len(X), time_key, groups)
        # On the trees that did not see the held-out leads (the refitted ones did).
        self.calibration_slope_, self.calibration_intercept_ = fit_platt(
            self._held_out_raw_from_matrix(matrix[held_out]), positive[held_out]
        )
        self.calibration_size_ = int(held_out.size)
        importance = np.abs(self._contributions_from_matrix(matrix)[:, :-1]).mean(axis=0)
        self.feature_importances_ = importance / importance.sum() if importance.sum() > 0 else importance
        return self

    def _scales(self) -> tuple[float, float, float, float]:
        """(trees' slope, linear slope, trees' intercept, linear intercept), each times its weight."""
        w = float(self.weight)
        return (
            w * self.trees_.calibration_slope_,
            (1.0 - w) * self.linear_.calibration_slope_,
            w * self.trees_.calibration_intercept_,
            (1.0 - w) * self.linear_.calibration_intercept_,
        )

    def _raw_from_matrix(self, matrix: np.ndarray) -> np.ndarray:
        a_t, a_l, b_t, b_l = self._scales()
        return (
            a_t * self.trees_._raw_from_matrix(matrix)
            + a_l * self.linear_._raw_from_matrix(matrix)
            + b_t
            + b_l
        )

    def _held_out_raw_from_matrix(self, matrix: np.ndarray) -> np.ndarray:
        a_t, a_l, b_t, b_l = self._scales()
        trees = self.trees_._held_out_raw_from_matrix(matrix)
        return a_t * trees + a_l * self.linear_._raw_from_matrix(matrix) + b_t + b_l

    def _contributions_from_matrix(self, matrix: np.ndarray) -> np.ndarray:
        a_t, a_l, b_t, b_l = self._scales()
        values = a_t * self.trees_._contributions_from_matrix(matrix)
        values += a_l * self.linear_._contributions_from_matrix(matrix)
        values[:, -1] += b_t + b_l  # the base value carries the components' intercepts
        return values

    def _threads(self, n_rows: int, per_row_cost: int = 1) -> int:
        return self.trees_._threads(n_rows, per_row_cost)

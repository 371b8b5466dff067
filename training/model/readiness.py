"""The readiness model: gradient-boosted trees on the lead features, calibrated into a probability.

Trees (LightGBM) learn which engagement patterns and profiles come before wins; their raw output (the
margin, in log-odds) is then mapped to a calibrated probability by Platt scaling, a logistic function of
the margin fitted on a held-out, *time-later* slice of the training data. Because that mapping is
strictly increasing, readiness ranks leads exactly as the raw margin does, and the per-feature additive
contributions of the margin (TreeSHAP, ``pred_contrib``) explain the readiness faithfully.

Prediction works on a plain float matrix built by the model's one ``FeatureEncoder``
(``training.model.encoding``) from a feature frame or a ``FeatureMatrix`` (categories become the codes
seen in training, unknown ones missing), so a single-row request does not pay LightGBM's pandas
conversion. The public prediction methods are ``readiness``, ``raw_score``, ``calibrate``,
``explain`` and ``readiness_and_group_sums`` (plus scikit-learn's ``predict_proba`` / ``predict``);
``training.model.fitted_pipeline`` puts the model behind its feature step.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, ClassVar

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from training.features.matrix import FeatureMatrix
from training.layout_cache import TRANSIENT, LayoutCached
from training.model.calibration import fit_platt, platt_probability
from training.model.early_stopping import stop_when_every_metric_is_stale
from training.model.encoding import FeatureEncoder
from training.model.single_row import MAX_ROWS, SingleRowPredictor
from training.model.tree_groups import cached_group_sums
from training.model.tree_refit import generic_feature_names, lightgbm_classifier, refit_on_every_row

BASE_VALUE = "base_value"
#: What the model predicts from: a feature frame (training, reports) or a ``FeatureMatrix`` (the API).
Features = pd.DataFrame | FeatureMatrix
_SINGLE_THREAD_BELOW = 2000
# TreeSHAP per row costs about as much as a plain prediction of this many rows: contributions of 128 rows
# or more are computed on n_jobs threads.
_CONTRIBUTION_COST = 16
_HAS_EVAL_X = "eval_X" in inspect.signature(lgb.LGBMClassifier.fit).parameters


class ReadinessModel(LayoutCached, ClassifierMixin, BaseEstimator):
    """LightGBM classifier with Platt calibration fitted on the most recent training snapshots.

    ``fit(X, y, time_key=None, groups=None)``: ``X`` is the feature frame (``float64`` columns plus
    pandas ``category`` columns, which LightGBM splits on natively). About ``calibration_fraction`` of
    the rows, the time-latest ones, are held out: the trees are trained on the other rows, early-stop on
    the held-out slice, and the Platt mapping is fitted on the trees' margins there.

    - With ``groups`` (the snapshots' ``lead_id``; recommended for snapshot data): the held-out slice is
      whole leads, those whose first snapshot is latest (by ``time_key``, or by row position without it),
      taken until they hold ``calibration_fraction`` of the rows. Holding out whole leads matters: a lead
      has many snapshots, and trees that saw a lead's other snapshots score it too well, so a slice
      sharing leads with training would early-stop late (overfit) and calibrate overconfidently.
    - Without ``groups``: the last ``calibration_fraction`` of the rows in time order (by ``time_key``;
      without it the rows are assumed to be sorted by time already). Rows sharing the boundary time all
      go to the held-out slice. With ``calibration_gap`` (e.g. the label horizon), training rows within
      that gap before the held-out slice are dropped, so that no training label looks into it.

    With ``refit`` (off by default; ``[model] refit = true``), the trees are then grown again on every
    training row with the early-stopped number of trees, Platt's intercept moved to match
    (``training.model.tree_refit``); the first trees stay as ``held_out_booster_``, which
    ``held_out_readiness`` scores with, for what is learnt on the held-out leads after ``fit``.

    Fitted attributes: ``classes_``, ``feature_names_in_``, ``n_features_in_``, ``categories_`` (column ->
    categories seen in training), ``booster_``, ``n_iterations_``, ``calibration_slope_``,
    ``calibration_intercept_``, ``feature_importances_`` (total split gain per feature, normalised to sum
    to 1), ``calibration_size_``, ``held_out_booster_`` (None without ``refit``) and
    ``held_out_offset_`` (added to its margins to put them on ``booster_``'s scale).

    The defaults grow small trees over large leaves (7 leaves, at least 100 rows each): snapshots of one
    lead are strongly correlated, so fine-grained leaves memorise leads; measured in bench/bench_quality.py
    (seeds 1-5) and bench/bench_datasets.py, equal or better than 15 leaves / 20 rows everywhere.
    """

    #: Whether ``explain``'s contributions are TreeSHAP over ``booster_`` alone (group sums may be tabulated).
    _contributions_are_the_trees: ClassVar[bool] = True

    def __init__(
        self,
        n_estimators: int = 500,
        learning_rate: float = 0.05,
        num_leaves: int = 7,
        min_child_samples: int = 100,
        max_depth: int = -1,
        subsample: float = 0.8,
        subsample_freq: int = 1,
        colsample_bytree: float = 0.8,
        reg_lambda: float = 1.0,
        min_data_per_group: int = 20,
        cat_smooth: float = 10.0,
        calibration_fraction: float = 0.2,
        calibration_gap: pd.Timedelta | None = None,
        early_stopping_rounds: int | None = 50,
        random_state: int = 0,
        n_jobs: int = 2,
        refit: bool = False,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.max_depth = max_depth
        self.subsample = subsample
        self.subsample_freq = subsample_freq
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.min_data_per_group = min_data_per_group
        self.cat_smooth = cat_smooth
        self.calibration_fraction = calibration_fraction
        self.calibration_gap = calibration_gap
        self.early_stopping_rounds = early_stopping_rounds
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.refit = refit

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        return tags

    # ------------------------------------------------------------------ fitting
    def fit(self, X: pd.DataFrame, y: Any, time_key: Any = None, groups: Any = None) -> ReadinessModel:
        """Train the trees on the earlier rows and calibrate on the time-later slice; returns ``self``."""
        if not 0.0 < self.calibration_fraction < 1.0:
            raise ValueError(f"calibration_fraction must be in (0, 1), got {self.calibration_fraction}")
        positive, matrix = self._learn_layout(X, y)

        fit_rows, calibration_rows = self.held_out_split(len(X), time_key, groups)
        for part, rows in (("training", fit_rows), ("calibration", calibration_rows)):
            n_pos = int(positive[rows].sum())
            if n_pos == 0 or n_pos == rows.size:
                raise ValueError(
                    f"The {part} slice ({rows.size} rows; calibration_fraction={self.calibration_fraction}, "
                    f"time-later rows calibrate) has {n_pos} positive and {rows.size - n_pos} negative rows; "
                    "both outcomes are needed. Provide more data or change calibration_fraction."
                )

        categorical_idx = [i for i, name in enumerate(self.feature_names_in_) if name in self.categories_]
        classifier = lightgbm_classifier(self, self.n_estimators)
        patience = self.early_stopping_rounds
        callbacks: list[Any] = [stop_when_every_metric_is_stale(patience)] if patience else []
        eval_x, eval_y = matrix[calibration_rows], positive[calibration_rows].astype(np.int8)
        # LightGBM 4.7 renamed eval_set to eval_X / eval_y; older 4.x only knows eval_set.
        eval_kwargs: dict[str, Any] = (
            {"eval_X": (eval_x,), "eval_y": (eval_y,)} if _HAS_EVAL_X else {"eval_set": [(eval_x, eval_y)]}
        )
        classifier.fit(
            matrix[fit_rows],
            positive[fit_rows].astype(np.int8),
            **eval_kwargs,
            eval_metric=["binary_logloss", "auc"],
            feature_name=generic_feature_names(self.n_features_in_),
            categorical_feature=categorical_idx or "auto",
            callbacks=callbacks,
        )
        self.booster_ = classifier.booster_
        self.held_out_booster_: lgb.Booster | None = None
        self.held_out_offset_ = 0.0
        best = classifier.best_iteration_ if self.early_stopping_rounds else 0
        self.n_iterations_ = int(best) if best and best > 0 else int(self.booster_.current_iteration())

        raw_calibration = self._raw_from_matrix(matrix[calibration_rows])
        self.calibration_slope_, self.calibration_intercept_ = fit_platt(
            raw_calibration, positive[calibration_rows]
        )
        self.calibration_size_ = int(calibration_rows.size)
        if self.refit:
            # The first trees become held_out_booster_, their margins shifted onto the refit's scale.
            self.held_out_booster_ = self.booster_
            self.booster_, self.held_out_offset_ = refit_on_every_row(
                self, matrix, positive, fit_rows, categorical_idx
            )
            self.calibration_intercept_ -= self.calibration_slope_ * self.held_out_offset_
        gain = self.booster_.feature_importance("gain", iteration=self.n_iterations_).astype(np.float64)
        self.feature_importances_ = gain / gain.sum() if gain.sum() > 0 else gain
        return self

    def _learn_layout(self, X: pd.DataFrame, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """Check ``X`` and ``y``, learn the classes, feature names and categories every readiness model
        keeps, and return the positive mask and ``X`` encoded for the model (shared by the subclasses)."""
        name = type(self).__name__
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"{name}.fit expects a pandas DataFrame of features, got {type(X).__name__}")
        labels = np.asarray(y)
        if labels.shape != (len(X),):
            raise ValueError(f"y has shape {labels.shape} but X has {len(X)} rows")
        self.classes_ = np.unique(labels)
        if self.classes_.size != 2:
            raise ValueError(f"{name} needs exactly two outcomes in y, found {self.classes_.tolist()}")
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        self.categories_ = {
            str(column): X[column].cat.categories
            for column in X.columns
            if isinstance(X[column].dtype, pd.CategoricalDtype)
        }
        return labels == self.classes_[1], self.encoder().encode(X)

    def _group_slices(self, n_rows: int, time_key: Any, groups: Any) -> tuple[np.ndarray, np.ndarray]:
        """Tree-training rows and held-out rows: whole groups that start latest (~calibration_fraction)."""
        codes, uniques = pd.factorize(np.asarray(groups), use_na_sentinel=False)
        if codes.size != n_rows:
            raise ValueError(f"groups has {codes.size} values but X has {n_rows} rows")
        if uniques.size < 2:
            raise ValueError("groups must hold at least two distinct values to hold some out for calibration")
        keys = np.arange(n_rows) if time_key is None else time_values(time_key, n_rows)
        start = pd.Series(keys).groupby(codes).min()
        size = np.bincount(codes, minlength=uniques.size)
        latest_first = np.argsort(start.to_numpy(), kind="stable")[::-1]
        taken = np.cumsum(size[latest_first])
        n_groups = int(np.searchsorted(taken, self.calibration_fraction * n_rows)) + 1
        n_groups = min(n_groups, uniques.size - 1)  # keep at least one group for the trees
        held_out = np.zeros(uniques.size, dtype=bool)
        held_out[latest_first[:n_groups]] = True
        is_calibration = held_out[codes]
        return np.flatnonzero(~is_calibration), np.flatnonzero(is_calibration)

    def held_out_split(
        self, n_rows: int, time_key: Any = None, groups: Any = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Positions of the tree-training rows and of the held-out (calibration) rows that ``fit`` uses
        for the same arguments; e.g. to choose a threshold on predictions the trees did not fit."""
        if groups is not None:
            return self._group_slices(n_rows, time_key, groups)
        return self._time_slices(n_rows, time_key)

    def _time_slices(self, n_rows: int, time_key: Any) -> tuple[np.ndarray, np.ndarray]:
        """Positions of the tree-training rows and of the time-later calibration rows."""
        n_calibration = max(1, int(np.ceil(self.calibration_fraction * n_rows)))
        if time_key is None:
            positions = np.arange(n_rows)
            return positions[: n_rows - n_calibration], positions[n_rows - n_calibration :]
        keys = pd.Series(time_values(time_key, n_rows))
        order = np.argsort(keys.to_numpy(), kind="stable")
        boundary = keys.iloc[order[n_rows - n_calibration]]
        is_calibration = (keys >= boundary).to_numpy()
        if is_calibration.all():
            # Every row shares the boundary time: fall back to the (stable) time order itself.
            is_calibration = np.zeros(n_rows, dtype=bool)
            is_calibration[order[n_rows - n_calibration :]] = True
            is_fit = ~is_calibration
        elif self.calibration_gap is not None:
            is_fit = (keys < boundary - self.calibration_gap).to_numpy()
        else:
            is_fit = ~is_calibration
        return np.flatnonzero(is_fit), np.flatnonzero(is_calibration)

    # ------------------------------------------------------------------ encoding
    def encoder(self) -> FeatureEncoder:
        """The one encoder from features (frame or ``FeatureMatrix``) to this model's matrix; built once
        per fitted model, not per request."""
        return self.cached_layout(
            self.feature_names_in_, lambda: FeatureEncoder.of(self.feature_names_in_, self.categories_)
        )

    def _threads(self, n_rows: int, per_row_cost: int = 1) -> int:
        # Small requests run single-threaded: waking OpenMP threads for one row costs far more than the
        # prediction itself (measured ~25 ms vs 0.05 ms on a busy 2-core machine). TreeSHAP costs ~0.5 ms
        # per row, so contributions go parallel much sooner than plain predictions.
        return 1 if n_rows * per_row_cost < _SINGLE_THREAD_BELOW else self.n_jobs

    def _single_row(self) -> SingleRowPredictor | None:
        """LightGBM's fast path for the API's few-row calls (``training.model.single_row``), prepared
        once per fitted booster and process."""
        cached = self.__dict__.get(TRANSIENT)
        if cached is None or cached[0] is not self.booster_:
            predictor = SingleRowPredictor.create(self.booster_, self.n_iterations_, self.n_features_in_)
            cached = self.__dict__[TRANSIENT] = (self.booster_, predictor)
        return cached[1]

    def _raw_from_matrix(self, matrix: np.ndarray) -> np.ndarray:
        if 0 < len(matrix) <= MAX_ROWS and (fast := self._single_row()) is not None:
            return fast.raw(matrix)
        return np.asarray(
            self.booster_.predict(
                matrix,
                raw_score=True,
                num_iteration=self.n_iterations_,
                num_threads=self._threads(len(matrix)),
            )
        )

    def _contributions_from_matrix(self, matrix: np.ndarray) -> np.ndarray:
        if 0 < len(matrix) <= MAX_ROWS and (fast := self._single_row()) is not None:
            return fast.contributions(matrix)
        return np.asarray(
            self.booster_.predict(
                matrix,
                pred_contrib=True,
                num_iteration=self.n_iterations_,
                num_threads=self._threads(len(matrix), _CONTRIBUTION_COST),
            )
        )

    # ------------------------------------------------------------------ prediction
    def raw_score(self, X: Features) -> np.ndarray:
        """The trees' margin (log-odds before calibration) for each row of a feature frame or matrix."""
        self.require_fitted("calibration_slope_")
        return self._raw_from_matrix(self.encoder().encode(X))

    def readiness(self, X: Features) -> np.ndarray:
        """Calibrated probability of a win within the horizon; strictly increasing in ``raw_score``."""
        return self.calibrate(self.raw_score(X))

    def held_out_readiness(self, X: Features) -> np.ndarray:
        """Readiness by the trees that did not see the held-out leads (``readiness`` without a refit)."""
        self.require_fitted("calibration_slope_")
        return self.calibrate(self._held_out_raw_from_matrix(self.encoder().encode(X)))

    def _held_out_raw_from_matrix(self, matrix: np.ndarray) -> np.ndarray:
        """The first trees' margins on ``booster_``'s scale (``_raw_from_matrix`` without a refit)."""
        first = self.__dict__.get("held_out_booster_")
        if first is None:
            return self._raw_from_matrix(matrix)
        threads = self._threads(len(matrix))
        raw = first.predict(matrix, raw_score=True, num_iteration=self.n_iterations_, num_threads=threads)
        return np.asarray(raw) + self.held_out_offset_

    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        """Map raw margins to calibrated probabilities with the fitted Platt mapping."""
        self.require_fitted("calibration_slope_")
        return platt_probability(raw, self.calibration_slope_, self.calibration_intercept_)

    def explain(self, X: Features) -> Explanation:
        """Readiness, raw margin and exact per-feature contributions (TreeSHAP), encoding ``X`` once.

        The raw margin is the row sum of the contributions (TreeSHAP is exact), so the trees are walked
        once, for the contributions only.
        """
        self.require_fitted("calibration_slope_")
        encoder = self.encoder()
        values = self._contributions_from_matrix(encoder.encode(X))
        raw = values.sum(axis=1)
        return Explanation(self.calibrate(raw), raw, values[:, :-1], values[:, -1], encoder.str_names)

    def readiness_and_group_sums(self, X: Features, fit_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Readiness and ``(n, 2)`` sums of the exact contributions over the features of ``fit_mask``
        (``feature_names_in_`` order) and over the others, what fit and interest grade; for the trees, both
        from per-tree tables (``training.model.tree_groups``), not TreeSHAP per row: equal up to ~1e-15."""
        self.require_fitted("calibration_slope_")
        encoder = self.encoder()
        matrix = encoder.encode(X)
        mask, trees = np.asarray(fit_mask, dtype=bool), self._contributions_are_the_trees
        tables = cached_group_sums(self, self.booster_, self.n_iterations_, mask) if trees else None
        if tables is None:  # grouped from the contributions
            values = self._contributions_from_matrix(matrix)
            fit = values[:, :-1][:, mask].sum(axis=1)  # as explanation_stats.split_contributions
            sums = np.column_stack([fit, values[:, :-1].sum(axis=1) - fit])
            return self.calibrate(values.sum(axis=1)), sums
        columns = encoder.column_arrays(X) if isinstance(X, FeatureMatrix) else None
        sums, raw = tables.sums_and_raw(matrix, columns)  # the trees' raw score too: no second pass
        return self.calibrate(raw), sums

    def predict_proba(self, X: Features) -> np.ndarray:
        """Calibrated class probabilities, columns in the order of ``classes_`` (scikit-learn's contract)."""
        p = self.readiness(X)
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Features) -> np.ndarray:
        """The more probable class (threshold 0.5); hand-over decisions use a ``ThresholdPolicy`` instead."""
        return self.classes_[(self.readiness(X) >= 0.5).astype(int)]


@dataclass(frozen=True)
class Explanation:
    """What ``ReadinessModel.explain`` returns, aligned by row: ``contributions`` is ``(n, n_features)``
    in ``feature_names`` order; each row plus its ``base_value`` sums to ``raw``."""

    readiness: np.ndarray
    raw: np.ndarray
    contributions: np.ndarray
    base_value: np.ndarray
    feature_names: tuple[str, ...]

    def frame(self, index: pd.Index | None = None) -> pd.DataFrame:
        """The contributions as a frame: one column per feature, then ``base_value``."""
        values = np.column_stack([self.contributions, self.base_value])
        return pd.DataFrame(values, columns=[*self.feature_names, BASE_VALUE], index=index)


def time_values(time_key: Any, n_rows: int) -> np.ndarray:
    """The time key as a plain, complete array of one value per row (time-zone-aware times as UTC)."""
    series = pd.Series(time_key.to_numpy() if isinstance(time_key, pd.Series | pd.Index) else time_key)
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    values = series.to_numpy()
    if len(values) != n_rows:
        raise ValueError(f"time_key has {len(values)} values but X has {n_rows} rows")
    missing = pd.isna(values)
    if missing.any():
        raise ValueError(f"time_key has {int(missing.sum())} missing values; every row needs a time")
    return values

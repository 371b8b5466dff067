"""Sums of a LightGBM model's exact contributions (TreeSHAP) over groups of features, without TreeSHAP
per row: the fit and interest axes of many leads, with their readiness, at the cost of a plain prediction.

A tree's path-dependent TreeSHAP values for a row depend on the row only through the direction it takes
at each of the tree's split nodes (the rest is the tree's structure, covers and leaf values). A tree
of ``k`` split nodes has at most ``2**k`` direction patterns, and few of them occur (the readiness
model's trees have ~6 split nodes). So ``GroupSums`` computes, per tree, each occurring pattern's group
sums once, with LightGBM's own TreeSHAP on one row that shows it (``pred_contrib`` restricted to that
tree, on a copy of the booster), keeps them for later chunks, and adds them up per row by pattern. The
directions are LightGBM's decision rule (numeric threshold with its missing-value handling, categorical
sets) applied to the model's matrix, read from ``Booster.dump_model``.

The sums equal the grouped row sums of ``pred_contrib`` up to float rounding (the additions happen in
another order, ~1e-15 relative): callers that grade them recompute the rows close to a grade edge
exactly (``serving.batch.answers``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np

from training.layout_cache import TRANSIENT_GROUP_SUMS

#: LightGBM's ``kZeroThreshold``: |x| at or below it is zero for ``missing_type == "Zero"``.
_ZERO = 1e-35
_MISSING_TYPES = {"None": 0, "Zero": 1, "NaN": 2}
#: Trees with more split nodes than this are not tabulated (their patterns do not fit an int64 code).
MAX_SPLITS = 62
#: Trees with at most this many split nodes keep their table as a dense array (2**splits entries).
DENSE_SPLITS = 16


@dataclass(frozen=True)
class _Tree:
    """A tree's split nodes in ``split_index`` order, as arrays."""

    feature: np.ndarray  # int per split
    threshold: np.ndarray  # float per split (numeric splits)
    categories: tuple[np.ndarray | None, ...]  # per split: categories going left (categorical splits)
    default_left: np.ndarray  # bool per split
    missing_type: np.ndarray  # 0 None, 1 Zero, 2 NaN per split

    def pattern_codes(self, columns: _Columns) -> np.ndarray:
        """Per row, the directions at every split as the bits of one integer (bit ``s``: left at ``s``)."""
        splits = len(self.feature)
        # The narrowest integer that holds the bits: less memory to stream for the usual small trees.
        dtype: type[np.integer[Any]] = np.uint8 if splits <= 8 else np.uint16 if splits <= 16 else np.int64
        codes: np.ndarray = np.zeros(columns.n_rows, dtype=dtype)
        for s in range(splits):
            feature = int(self.feature[s])
            left = self.goes_left(columns.values[feature], columns.nan(feature), s)
            np.bitwise_or(codes, np.left_shift(left.astype(dtype), s), out=codes)  # keeps the dtype
        return codes

    def goes_left(self, values: np.ndarray, nan: np.ndarray | None, s: int) -> np.ndarray:
        """LightGBM's decision at split ``s`` (``Tree::NumericalDecision`` / ``CategoricalDecision``);
        ``nan``: where ``values`` is NaN (None: nowhere). Comparisons with NaN are False."""
        categories = self.categories[s]
        if categories is not None:  # NaN, negative values and categories not listed go right
            whole = np.where(nan, -1, values).astype(np.int64) if nan is not None else values.astype(np.int64)
            listed = np.zeros(int(categories.max()) + 2, dtype=bool)  # the last entry: out of range
            listed[categories] = True
            return listed[np.where((whole >= 0) & (whole < len(listed) - 1), whole, len(listed) - 1)]
        threshold, missing_type = self.threshold[s], self.missing_type[s]
        left = values <= threshold  # False where NaN
        if missing_type == 2:  # NaN takes the default side
            return left | nan if nan is not None and self.default_left[s] else left
        # NaN reads as 0 unless the split handles NaN itself (missing types None and Zero).
        if missing_type == 1:  # zero (and so NaN) takes the default side
            zero = np.abs(values) <= _ZERO
            if nan is not None:
                zero |= nan
            return left | zero if self.default_left[s] else left & ~zero
        if nan is not None and threshold >= 0.0:
            return left | nan
        return left


class _Columns:
    """The model's matrix as one contiguous array per feature, with NaN masks made on first use."""

    def __init__(self, values: list[np.ndarray]) -> None:
        self.values = values
        self.n_rows = len(values[0]) if values else 0
        self._nan: dict[int, np.ndarray | None] = {}

    def nan(self, feature: int) -> np.ndarray | None:
        if feature not in self._nan:
            mask = np.isnan(self.values[feature])
            self._nan[feature] = mask if mask.any() else None
        return self._nan[feature]


class GroupSums:
    """Per row, the sum of a LightGBM model's exact contributions over each group of features (see the
    module docstring). Thread-safe; the per-tree tables grow with the patterns seen and are shared."""

    def __init__(self, booster: lgb.Booster, n_iterations: int, groups: np.ndarray, n_groups: int) -> None:
        # A booster of its own: LightGBM keeps the iterations a prediction uses in the booster's state, so
        # a one-tree prediction running beside another thread's whole-model prediction on the same
        # booster would change that prediction. One-tree predictions on the copy take turns (_predicting).
        self._booster = lgb.Booster(model_str=booster.model_to_string(num_iteration=n_iterations))
        self._predicting = threading.Lock()
        # (n_features + 1, n_groups + 1) 0/1 matrix: a tree's contribution row (base value last) times it
        # gives the row's group sums and, last, their total with the base value: the tree's output.
        self._membership = np.zeros((len(groups) + 1, n_groups + 1))
        self._membership[np.arange(len(groups)), groups] = 1.0
        self._membership[:, n_groups] = 1.0
        self._n_groups = n_groups
        trees = self._booster.dump_model()["tree_info"]
        self._trees = [_tree(info["tree_structure"]) for info in trees]
        self._tables = [_PatternTable(len(tree.feature), n_groups + 1) for tree in self._trees]
        self._lock = threading.Lock()

    @classmethod
    def supports(cls, booster: lgb.Booster) -> bool:
        """Whether the booster's contributions are plain per-tree TreeSHAP sums this class can tabulate:
        one output, gradient-boosted (not averaged, as random forests are) trees with constant (not
        linear) leaves and few enough splits."""
        dump = booster.dump_model()
        one_output = dump.get("num_tree_per_iteration", 1) == 1 and not dump.get("average_output")
        linear_leaves = "leaf_coeff" in str(dump["tree_info"])
        small = all(t["num_leaves"] - 1 <= MAX_SPLITS for t in dump["tree_info"])
        return one_output and not linear_leaves and small

    def sums(self, matrix: np.ndarray, columns: list[np.ndarray] | None = None) -> np.ndarray:
        """``(n_rows, n_groups)`` group sums of the rows of the model's matrix (base value excluded)."""
        return self.sums_and_raw(matrix, columns)[0]

    def sums_and_raw(
        self, matrix: np.ndarray, columns: list[np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The group sums of ``sums`` and each row's raw score (the trees' summed outputs: the row sum of
        the contributions and base value, what the API's readiness comes from), so that no separate
        prediction is needed. ``columns``: the same matrix as one contiguous array per feature, when the
        caller has it (``FeatureEncoder.column_arrays``); else it is transposed here."""
        matrix = np.asarray(matrix, dtype=np.float64)
        if columns is None:
            columns = list(np.ascontiguousarray(matrix.T))
        by_feature = _Columns(columns)
        totals = np.zeros((self._membership.shape[1], len(matrix)))
        for t, tree in enumerate(self._trees):
            codes = tree.pattern_codes(by_feature)
            table = self._tables[t]
            if table.add_known(totals, codes):
                continue
            distinct, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
            self._learn(t, distinct, matrix[first])
            with self._lock:
                totals += table.values(distinct)[inverse.ravel()].T
        return totals[: self._n_groups].T, totals[self._n_groups]

    def _learn(self, t: int, codes: np.ndarray, rows: np.ndarray) -> None:
        """Tabulate tree ``t``'s group sums of the patterns of ``codes`` it lacks (``rows``: a row showing
        each pattern)."""
        table = self._tables[t]
        with self._lock:
            new = np.flatnonzero(~table.knows(codes))
        if not len(new):
            return
        with self._predicting:
            contributions = np.asarray(
                self._booster.predict(
                    rows[new], pred_contrib=True, start_iteration=t, num_iteration=1, num_threads=1
                )
            )
        with self._lock:
            table.add(codes[new], contributions @ self._membership)


class _PatternTable:
    """One tree's group sums by pattern code: a dense ``(n_groups, 2**splits)`` array for trees of at
    most ``DENSE_SPLITS`` splits (read without a lock: a code is marked known only after its values are
    written), else a dictionary. Writers hold ``GroupSums._lock``."""

    def __init__(self, splits: int, n_groups: int) -> None:
        dense = splits <= DENSE_SPLITS
        self._dense = np.zeros((n_groups, 1 << splits)) if dense else None
        self._known = np.zeros(1 << splits, dtype=bool) if dense else None
        self._sparse: dict[int, np.ndarray] = {}

    def add_known(self, totals: np.ndarray, codes: np.ndarray) -> bool:
        """Add every row's group sums to ``totals`` ``(n_groups, n_rows)`` when all its pattern is known
        and the table is dense (the usual case after the first chunk); False, adding nothing, otherwise."""
        if self._dense is None or self._known is None:
            return False
        index = codes.astype(np.intp)  # np.take is fastest with native indices
        if not np.take(self._known, index).all():
            return False
        for g, row in enumerate(self._dense):
            totals[g] += np.take(row, index)
        return True

    def knows(self, codes: np.ndarray) -> np.ndarray:
        if self._known is not None:
            return self._known[codes.astype(np.intp)]
        return np.array([int(code) in self._sparse for code in codes], dtype=bool)

    def add(self, codes: np.ndarray, values: np.ndarray) -> None:
        for code, row in zip(codes, values, strict=True):
            if self._dense is not None and self._known is not None:
                self._dense[:, int(code)] = row
                self._known[int(code)] = True
            else:
                self._sparse[int(code)] = row

    def values(self, codes: np.ndarray) -> np.ndarray:
        """``(len(codes), n_groups)`` group sums of known codes."""
        if self._dense is not None:
            return self._dense[:, codes.astype(np.intp)].T
        return np.stack([self._sparse[int(code)] for code in codes])


def _tree(root: dict[str, Any]) -> _Tree:
    splits: dict[int, dict[str, Any]] = {}

    def walk(node: dict[str, Any]) -> None:
        if "split_index" in node:
            splits[int(node["split_index"])] = node
            walk(node["left_child"])
            walk(node["right_child"])

    walk(root)
    nodes = [splits[i] for i in range(len(splits))]
    categorical = [node["decision_type"] == "==" for node in nodes]
    paired = list(zip(nodes, categorical, strict=True))
    return _Tree(
        feature=np.array([int(node["split_feature"]) for node in nodes], dtype=np.int64),
        threshold=np.array(
            [np.nan if cat else float(node["threshold"]) for node, cat in paired],
            dtype=np.float64,
        ),
        categories=tuple(
            np.array([int(c) for c in str(node["threshold"]).split("||")], dtype=np.int64) if cat else None
            for node, cat in paired
        ),
        default_left=np.array([bool(node["default_left"]) for node in nodes], dtype=bool),
        missing_type=np.array([_MISSING_TYPES[str(node["missing_type"])] for node in nodes], dtype=np.int64),
    )


def cached_group_sums(
    owner: object, booster: lgb.Booster, n_iterations: int, fit_mask: np.ndarray
) -> GroupSums | None:
    """The fit/interest tables of ``booster`` (group 0: the features of ``fit_mask``, group 1: the
    others), kept in ``owner``'s transient cache (never pickled: ``training.layout_cache``) and rebuilt
    when the booster or the mask changes; None when ``GroupSums.supports`` refuses the booster."""
    state = owner.__dict__
    key = np.asarray(fit_mask, dtype=bool).tobytes()
    cached = state.get(TRANSIENT_GROUP_SUMS)
    if cached is None or cached[0] is not booster or cached[1] != key:
        tables = None
        if GroupSums.supports(booster):
            groups = np.where(np.asarray(fit_mask, dtype=bool), 0, 1)
            tables = GroupSums(booster, n_iterations, groups, 2)
        cached = state[TRANSIENT_GROUP_SUMS] = (booster, key, tables)
    return cached[2]

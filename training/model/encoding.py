"""``FeatureEncoder``: the one way features become the readiness model's input matrix.

LightGBM reads a C-contiguous float64 matrix with one column per model feature (``feature_names_in_``):
numerics as they are, categoricals as their code among the categories seen in training (NaN for a value
unseen in training). Features arrive either as a feature frame (training, reports, the MLflow model) or
as a ``FeatureMatrix`` (the API's pandas-free path); both go through ``FeatureEncoder.encode``, so the
two can never drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from training.features.matrix import FeatureMatrix


@dataclass(frozen=True)
class _MatrixLayout:
    """How one ``FeatureMatrix`` layout maps onto the model's columns (built once per layout)."""

    numeric_names: tuple[str, ...]  # the very tuple object the layout was built for
    dtypes: tuple[pd.CategoricalDtype, ...]
    column_order: np.ndarray | None  # None: the matrix's columns are the model's already
    category_codes: list[np.ndarray]  # per categorical: model code (float, NaN unknown) of each code


@dataclass(frozen=True)
class FeatureEncoder:
    """Where each model feature sits and which categories it had in training (one per fitted model)."""

    names: np.ndarray  # feature_names_in_ it was built from
    columns: pd.Index  # the same names as an Index, for a cheap equality check per call
    numeric: np.ndarray  # positions of numeric features
    categorical: np.ndarray  # positions of category features
    numeric_prefix: bool  # numeric features are exactly the first len(numeric) columns
    categories: Mapping[str, pd.Index]
    str_names: tuple[str, ...]  # the names as strings (explanations name their features per call)
    _matrix_layouts: dict[int, _MatrixLayout] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, names: np.ndarray, categories: Mapping[str, pd.Index]) -> FeatureEncoder:
        is_category = np.array([str(name) in categories for name in names], dtype=bool)
        numeric = np.flatnonzero(~is_category)
        return cls(
            names=names,
            columns=pd.Index(names),
            str_names=tuple(map(str, names)),
            numeric=numeric,
            categorical=np.flatnonzero(is_category),
            numeric_prefix=bool(np.array_equal(numeric, np.arange(len(numeric)))),
            categories=categories,
        )

    def encode(self, features: pd.DataFrame | FeatureMatrix) -> np.ndarray:
        """The model's float matrix of a feature frame or a ``FeatureMatrix``."""
        if isinstance(features, FeatureMatrix):
            return self._encode_matrix(features)
        if isinstance(features, pd.DataFrame):
            return self._encode_frame(features)
        raise TypeError(
            f"the readiness model reads a feature frame or a FeatureMatrix, got {type(features).__name__}"
        )

    def _encode_frame(self, X: pd.DataFrame) -> np.ndarray:
        if not X.columns.equals(self.columns):
            missing = self.columns.difference(X.columns)
            if len(missing):
                raise ValueError(
                    f"Feature frame lacks {len(missing)} column(s) the model was trained on: "
                    f"{list(missing[:10])}"
                )
            X = X[self.columns]  # same columns, other order or extra ones: align once
        matrix = np.empty((len(X), len(self.names)), dtype=np.float64)
        # LeadFeatures' layout (numerics first, in one float block): a column slice is a view of that
        # block, far cheaper than selecting ~100 columns by name (~1 ms per request).
        where: slice | np.ndarray = slice(0, len(self.numeric)) if self.numeric_prefix else self.numeric
        numeric = X.iloc[:, where]
        if len(self.numeric):
            try:
                matrix[:, where] = numeric.to_numpy(dtype=np.float64, na_value=np.nan)
            except (TypeError, ValueError) as error:
                bad = [n for n in numeric.columns if not pd.api.types.is_numeric_dtype(numeric[n].dtype)]
                raise TypeError(
                    f"Feature column(s) {bad[:5]} have dtype(s) {[str(numeric[n].dtype) for n in bad[:5]]}; "
                    "expected numeric or category columns"
                ) from error
        for i in self.categorical:
            name = str(self.names[i])
            matrix[:, i] = _category_codes(X[name].array, self.categories[name])
        return matrix

    def _encode_matrix(self, features: FeatureMatrix) -> np.ndarray:
        layout = self._matrix_layout(features)
        n_numeric = len(features.numeric_names)
        matrix = np.empty((len(features), n_numeric + len(features.categorical_names)))
        matrix[:, :n_numeric] = features.numeric_block.T
        for k, model_codes in enumerate(layout.category_codes):
            matrix[:, n_numeric + k] = model_codes[features.category_codes[k]]
        return matrix if layout.column_order is None else np.ascontiguousarray(matrix[:, layout.column_order])

    def column_arrays(self, features: FeatureMatrix) -> list[np.ndarray]:
        """The columns of ``encode(features)``, one contiguous array per model feature: numerics are views
        of the matrix's rows (no copy), categoricals their model codes. For column-wise readers
        (``training.model.tree_groups``), which would otherwise transpose the encoded matrix."""
        layout = self._matrix_layout(features)
        parts = [*features.numeric_block]
        for k, model_codes in enumerate(layout.category_codes):
            parts.append(model_codes[features.category_codes[k]])
        order = range(len(parts)) if layout.column_order is None else layout.column_order
        return [parts[int(i)] for i in order]

    def _matrix_layout(self, features: FeatureMatrix) -> _MatrixLayout:
        """Cached per ``FeatureMatrix`` layout: a fitted ``LeadFeatures`` hands out the same names tuple
        and category dtypes on every call, so the mapping is worked out once, not per request."""
        dtypes = tuple(features.dtypes[name] for name in features.categorical_names)
        cached = self._matrix_layouts.get(id(features.numeric_names))
        if (
            cached is not None
            and cached.numeric_names is features.numeric_names
            and len(cached.dtypes) == len(dtypes)
            and all(a is b for a, b in zip(cached.dtypes, dtypes, strict=True))
        ):
            return cached
        names = [*features.numeric_names, *features.categorical_names]
        position = {name: i for i, name in enumerate(names)}
        lacking = [str(name) for name in self.names if str(name) not in position]
        if lacking:
            raise ValueError(f"the model uses features the feature step does not make: {lacking[:10]}")
        order = np.array([position[str(name)] for name in self.names], dtype=np.intp)
        codes = []
        for name, dtype in zip(features.categorical_names, dtypes, strict=True):
            known = self.categories.get(name)
            if known is None:
                raise ValueError(f"feature '{name}' is categorical in the features but numeric in the model")
            model_codes = pd.Index(known).get_indexer(dtype.categories)
            codes.append(np.where(model_codes >= 0, model_codes, np.nan).astype(np.float64))
        layout = _MatrixLayout(
            numeric_names=features.numeric_names,
            dtypes=dtypes,
            column_order=None if np.array_equal(order, np.arange(len(names))) else order,
            category_codes=codes,
        )
        if len(self._matrix_layouts) > 8:  # a handful of feature layouts per model at most
            self._matrix_layouts.clear()
        self._matrix_layouts[id(features.numeric_names)] = layout
        return layout


def _category_codes(values: Any, categories: pd.Index) -> np.ndarray:
    """Codes of ``values`` (a column's array) in the training categories; unseen values and missing -> NaN."""
    if isinstance(values, pd.Categorical) and values.categories.equals(categories):
        codes = values.codes  # the common case: same categories as in training, no lookup
    else:
        plain = values.astype(object) if isinstance(values, pd.Categorical) else values
        codes = categories.get_indexer(pd.Index(plain))
    out = codes.astype(np.float64)
    out[codes < 0] = np.nan
    return out

"""``FeatureMatrix``: ``LeadFeatures``' output as arrays, before (or instead of) becoming a DataFrame.

Numeric features sit in one float block with a row per feature (each feature is written as one
contiguous row); categorical features are integer codes into their fixed categories. ``to_frame`` gives
the documented ``transform`` output without copying the block; the API reads the arrays directly.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class FeatureMatrix:
    """Features of ``n`` snapshots: ``numeric_block`` is ``(n_numeric, n)``, ``category_codes``
    ``(n_categorical, n)`` with codes into ``dtypes[name].categories`` (never -1: missing values have the
    ``"missing"`` category)."""

    numeric_names: tuple[str, ...]
    numeric_block: np.ndarray
    numeric_rows: Mapping[str, int]  # name -> row of numeric_block
    categorical_names: tuple[str, ...]
    category_codes: np.ndarray
    dtypes: Mapping[str, pd.CategoricalDtype]

    def __len__(self) -> int:
        return int(self.numeric_block.shape[1])

    def __contains__(self, name: object) -> bool:
        """Whether ``name`` is a numeric feature (``inactivity_days`` and the like read either this or a
        feature frame)."""
        return name in self.numeric_rows

    def __getitem__(self, name: str) -> np.ndarray:
        return self.numeric(name)

    def numeric(self, name: str) -> np.ndarray:
        """One numeric feature's values (a view); ``KeyError`` naming it if there is no such feature."""
        row = self.numeric_rows.get(name)
        if row is None:
            raise KeyError(f"no numeric feature named '{name}'")
        return self.numeric_block[row]

    def category_names(self, name: str) -> np.ndarray:
        """One categorical feature's values as category names (object array)."""
        k = self.categorical_names.index(name)
        return _category_array(self.dtypes[name])[self.category_codes[k]]

    def take(self, rows: np.ndarray) -> FeatureMatrix:
        """The features of the snapshots at positions ``rows`` only (same layout: encoders built for
        this matrix's layout apply unchanged)."""
        return FeatureMatrix(
            numeric_names=self.numeric_names,
            numeric_block=np.ascontiguousarray(self.numeric_block[:, rows]),
            numeric_rows=self.numeric_rows,
            categorical_names=self.categorical_names,
            category_codes=np.ascontiguousarray(self.category_codes[:, rows]),
            dtypes=self.dtypes,
        )

    def followed_by(self, other: FeatureMatrix) -> FeatureMatrix:
        """These rows, then ``other``'s (same layout: the same transformer's output)."""
        if other.numeric_names != self.numeric_names or other.categorical_names != self.categorical_names:
            raise ValueError("feature matrices of different layouts cannot be joined")
        return FeatureMatrix(
            numeric_names=self.numeric_names,
            numeric_block=np.concatenate([self.numeric_block, other.numeric_block], axis=1),
            numeric_rows=self.numeric_rows,
            categorical_names=self.categorical_names,
            category_codes=np.concatenate([self.category_codes, other.category_codes], axis=1),
            dtypes=self.dtypes,
        )

    def split(self, n: int) -> tuple[FeatureMatrix, FeatureMatrix]:
        """The first ``n`` rows and the rest, as views (no copy): one transform call computes two looks
        at the same leads (the API's verdict hysteresis) and hands each to its reader."""
        return self._rows(slice(0, n)), self._rows(slice(n, None))

    def parts(self, *sizes: int) -> list[FeatureMatrix]:
        """Consecutive parts of ``sizes`` rows each, then the rest, as views (no copy): what one transform
        call computed for several readers (the leads, their earlier looks, their counterfactuals)."""
        bounds = [0, *itertools.accumulate(sizes), len(self)]
        return [self._rows(slice(a, b)) for a, b in itertools.pairwise(bounds)]

    def _rows(self, rows: slice) -> FeatureMatrix:
        return FeatureMatrix(
            numeric_names=self.numeric_names,
            numeric_block=self.numeric_block[:, rows],
            numeric_rows=self.numeric_rows,
            categorical_names=self.categorical_names,
            category_codes=self.category_codes[:, rows],
            dtypes=self.dtypes,
        )

    def to_frame(self) -> pd.DataFrame:
        """The ``LeadFeatures.transform`` frame: float numerics (no copy of the block), then ``category``
        columns with their fixed categories; index ``0..n-1``."""
        frame = pd.DataFrame(self.numeric_block.T, columns=list(self.numeric_names), copy=False)
        for k, name in enumerate(self.categorical_names):
            frame[name] = pd.Categorical.from_codes(self.category_codes[k], dtype=self.dtypes[name])
        return frame


#: Category names as object arrays, by dtype: a transformer's dtypes live as long as it does and serve
#: every request, and converting a pandas index to an array cost more than the lookup itself.
_CATEGORY_ARRAYS: dict[int, tuple[pd.CategoricalDtype, np.ndarray]] = {}


def _category_array(dtype: pd.CategoricalDtype) -> np.ndarray:
    cached = _CATEGORY_ARRAYS.get(id(dtype))
    if cached is not None and cached[0] is dtype:  # the same object, not a new one at a reused id
        return cached[1]
    if len(_CATEGORY_ARRAYS) >= 4096:
        _CATEGORY_ARRAYS.clear()
    names = np.asarray(dtype.categories, dtype=object)
    names.flags.writeable = False
    _CATEGORY_ARRAYS[id(dtype)] = (dtype, names)
    return names

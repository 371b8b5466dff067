"""Profile ("fit") attributes as model inputs: categorical levels with rare/unseen/missing handling, numerics.

Categoricals become pandas ``category`` columns with a fixed category list (learned levels, then
``"other"`` and ``"missing"``), identical in training and serving, so LightGBM can split on them natively.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

#: Level for values rarer than the minimum frequency in training, and for values unseen in training.
OTHER = "other"
#: Level for missing values.
MISSING = "missing"


def learn_levels(values: pd.Series, min_frequency: int) -> list[str]:
    """Levels (as strings) seen at least ``min_frequency`` times, sorted for a stable category order."""
    codes, uniques = pd.factorize(values)
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    kept = {str(level) for level, count in zip(uniques, counts, strict=True) if count >= min_frequency}
    return sorted(kept - {OTHER, MISSING})


def category_dtype(levels: list[str]) -> pd.CategoricalDtype:
    """The output dtype of one categorical feature: learned levels, then ``other``, then ``missing``."""
    return pd.CategoricalDtype([*levels, OTHER, MISSING])


def category_codes(
    codes: np.ndarray, distinct: Sequence[Any] | pd.Index | np.ndarray, levels: Sequence[str]
) -> np.ndarray:
    """Codes in ``category_dtype(levels)`` of values given as ``(codes, distinct)`` (``pd.factorize``'s
    output, -1 = missing): known level -> itself, unseen -> other, missing -> missing.

    Each distinct value is looked up once, in a dict built once per fitted column: the API calls this
    per request with a handful of values, where building pandas indexes cost ~0.2 ms per column.
    """
    lookup = _level_lookup(tuple(levels))
    other, missing = len(levels), len(levels) + 1
    # A raw value literally named "other"/"missing" is not a learned level, so it maps to other: unseen.
    # The table's last entry is "missing", which code -1 picks: one gather, no mask.
    table = np.fromiter(
        itertools.chain((lookup.get(str(value), other) for value in distinct), (missing,)),
        np.int32,
        len(distinct) + 1,
    )
    return table[codes]


@functools.lru_cache(maxsize=1024)
def _level_lookup(levels: tuple[str, ...]) -> dict[str, int]:
    return {level: code for code, level in enumerate(levels)}


@functools.lru_cache(maxsize=1024)
def cached_category_dtype(levels: tuple[str, ...]) -> pd.CategoricalDtype:
    """``category_dtype(levels)``, built once per fitted column (building and validating one costs
    ~0.3 ms, per request in serving)."""
    return category_dtype(list(levels))


def numeric_values(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A numeric profile column as float64; a clear error naming the column if it is not numeric."""
    series = frame[column]
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    numbers = pd.to_numeric(series, errors="coerce")
    bad = numbers.isna().to_numpy() & series.notna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(f"snapshots column '{column}', row {row}: not a number: {series.iloc[row]!r}")
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan)


def numeric_ranges(numeric: Mapping[str, np.ndarray]) -> dict[str, tuple[float, float]]:
    """``column -> (smallest, largest)`` finite training value, for the columns that have one."""
    ranges = {}
    for column, values in numeric.items():
        finite = values[np.isfinite(values)]
        if finite.size:
            ranges[column] = (float(finite.min()), float(finite.max()))
    return ranges

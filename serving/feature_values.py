"""The values reasons quote, read once per feature for a batch of rows."""

from __future__ import annotations

import math
from collections.abc import Sequence

from training.features.matrix import FeatureMatrix


class FeatureValues:
    """Reason values of some features: numeric ones as floats (None if unknown), categorical ones as
    their category names."""

    def __init__(self, features: FeatureMatrix, names: Sequence[str], categorical: frozenset[str]) -> None:
        wanted = [name for name in dict.fromkeys(names) if name]
        self._numeric = {name: features.numeric(name) for name in wanted if name not in categorical}
        self._categorical = {name: features.category_names(name) for name in wanted if name in categorical}

    def get(self, row: int, name: str) -> float | str | None:
        values = self._numeric.get(name)
        if values is not None:
            value = float(values[row])
            return None if math.isnan(value) else round(value, 6)
        names = self._categorical.get(name)
        return None if names is None else str(names[row])  # missing values are the "missing" category

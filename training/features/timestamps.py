"""Timestamps as int64 nanoseconds since the epoch (UTC), the unit of every time in the feature pipeline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

#: Missing time (NaT) as int64 nanoseconds.
NAT_NS = np.iinfo(np.int64).min
DAY_NS = 86_400 * 10**9


def timestamps_ns(values: pd.Series | pd.Index | np.ndarray | Sequence[Any]) -> np.ndarray:
    """UTC timestamps as int64 nanoseconds since the epoch, NaT as ``int64.min``, whatever the unit."""
    if isinstance(values, pd.Series | pd.Index | np.ndarray) and values.dtype.kind == "M":
        # Already timestamps: epoch values are UTC whatever the zone (naive ones are taken as UTC).
        stamps = pd.DatetimeIndex(values)
    else:
        stamps = pd.DatetimeIndex(pd.to_datetime(values, utc=True))
    return np.asarray(stamps.as_unit("ns").asi8, dtype=np.int64)

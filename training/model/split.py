"""Train/test split by time, with a gap of one horizon so that no training label peeks into the test period.

A snapshot's label ("won within the horizon after the cutoff") is only known at ``cutoff + horizon``.
The test window starts at ``T``; a training snapshot is kept only if ``cutoff + horizon <= T``, so its
label was settled before the test period began. Snapshots in between (the gap) are used by neither side.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

DEFAULT_MIN_POSITIVES = 40
DEFAULT_MIN_NEGATIVES = 40


class InsufficientDataError(ValueError):
    """Too few won or not-won snapshots on one side of the split to train or evaluate honestly."""


@dataclass
class SplitInfo:
    """Where the split put its boundaries and how many snapshots each side got (JSON-able via ``to_dict``)."""

    kind: str  # "time" (timestamps, with a horizon gap) or "row_order" (ordered positions, no gap)
    test_start: Any
    train_start: Any
    train_end: Any
    test_end: Any
    horizon: Any
    n_train: int
    n_gap: int
    n_test: int
    train_positives: int | None = None
    test_positives: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Flat values as strings/ints, ready for MLflow params or a run report."""
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            out[key] = value if isinstance(value, int | float | str) or value is None else str(value)
        return out


def time_split(
    time_key: np.ndarray | pd.Series | pd.Index,
    horizon: pd.Timedelta | int | None,
    test_fraction: float = 0.25,
    *,
    y: np.ndarray | pd.Series | None = None,
    min_positives: int = DEFAULT_MIN_POSITIVES,
    min_negatives: int = DEFAULT_MIN_NEGATIVES,
) -> tuple[np.ndarray, np.ndarray, SplitInfo]:
    """Split snapshot positions into train and test by time.

    ``time_key``: each snapshot's cutoff (timestamps), or its row position for row-order data (integers).
    ``horizon``: the label horizon (``pd.Timedelta``) for timestamps; for integer keys an integer gap in
    key units (``None`` or 0: a plain ordered split with no gap).

    Test = snapshots with ``time_key >= T``, ``T`` chosen so that about ``test_fraction`` of the snapshots
    are test (all snapshots sharing ``T`` go to test). Train = snapshots with ``time_key + horizon <= T``
    and ``time_key < T``. With ``y`` given, raises ``InsufficientDataError`` when either side has fewer
    than ``min_positives`` positive or ``min_negatives`` negative snapshots.

    Returns ``(train_idx, test_idx, info)``; the index arrays are sorted positions into ``time_key``.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    keys = pd.Series(
        time_key.to_numpy() if isinstance(time_key, pd.Series | pd.Index) else np.asarray(time_key)
    )
    n = len(keys)
    if n < 2:
        raise InsufficientDataError(f"A time split needs at least 2 snapshots, got {n}")
    if keys.isna().any():
        positions = np.flatnonzero(keys.isna().to_numpy())[:5].tolist()
        raise ValueError(
            f"time_key has {int(keys.isna().sum())} missing values (first positions: {positions})"
        )
    is_time = pd.api.types.is_datetime64_any_dtype(keys.dtype)
    if is_time:
        if not isinstance(horizon, pd.Timedelta):
            raise TypeError(f"Timestamp keys need a pd.Timedelta horizon, got {horizon!r}")
        gap: Any = horizon
    else:
        if not pd.api.types.is_numeric_dtype(keys.dtype):
            raise TypeError(f"time_key must hold timestamps or row positions, got dtype {keys.dtype}")
        if isinstance(horizon, pd.Timedelta):
            raise TypeError(
                "Row-order (numeric) keys take an integer gap or None as horizon, not a Timedelta"
            )
        gap = int(horizon or 0)

    sorted_keys = keys.sort_values(kind="stable").reset_index(drop=True)
    n_test_wanted = max(1, int(np.ceil(test_fraction * n)))
    test_start = sorted_keys.iloc[n - n_test_wanted]
    is_test = (keys >= test_start).to_numpy()
    is_train = ((keys + gap <= test_start) & (keys < test_start)).to_numpy()
    train_idx, test_idx = np.flatnonzero(is_train), np.flatnonzero(is_test)

    info = SplitInfo(
        kind="time" if is_time else "row_order",
        test_start=test_start,
        train_start=keys.iloc[train_idx].min() if train_idx.size else None,
        train_end=keys.iloc[train_idx].max() if train_idx.size else None,
        test_end=keys.iloc[test_idx].max(),
        horizon=gap,
        n_train=int(train_idx.size),
        n_gap=int(n - train_idx.size - test_idx.size),
        n_test=int(test_idx.size),
    )
    if train_idx.size == 0:
        raise InsufficientDataError(
            f"No training snapshots left: the test window starts at {test_start} and a training snapshot "
            f"needs time_key + {gap} <= that, but the earliest key is {sorted_keys.iloc[0]}. "
            "The data spans too little time for this horizon and test_fraction."
        )
    if y is not None:
        labels = np.asarray(y).astype(bool)
        if labels.shape != (n,):
            raise ValueError(f"y has shape {labels.shape} but time_key has {n} values")
        info.train_positives = int(labels[train_idx].sum())
        info.test_positives = int(labels[test_idx].sum())
        check_class_counts(labels[train_idx], labels[test_idx], min_positives, min_negatives, info=info)
    return train_idx, test_idx, info


def check_class_counts(
    y_train: np.ndarray,
    y_test: np.ndarray,
    min_positives: int = DEFAULT_MIN_POSITIVES,
    min_negatives: int = DEFAULT_MIN_NEGATIVES,
    *,
    info: SplitInfo | None = None,
) -> None:
    """Raise ``InsufficientDataError`` naming the counts when either side lacks positives or negatives."""
    counts = {}
    for side, labels in (("train", y_train), ("test", y_test)):
        positive = np.asarray(labels).astype(bool)
        counts[side] = (int(positive.sum()), int(positive.size - positive.sum()))
    short = [side for side, (pos, neg) in counts.items() if pos < min_positives or neg < min_negatives]
    if short:
        described = "; ".join(
            f"{side}: {pos} positive / {neg} negative snapshots" for side, (pos, neg) in counts.items()
        )
        window = ""
        if info is not None:
            window = (
                f" (train window {info.train_start} .. {info.train_end}, gap of {info.horizon} with "
                f"{info.n_gap} unused snapshots, test window {info.test_start} .. {info.test_end})"
            )
        raise InsufficientDataError(
            f"Too few outcomes to train and evaluate on {' and '.join(short)}: {described}{window}. "
            f"Each side needs at least min_positives={min_positives} and min_negatives={min_negatives} "
            "(configurable). Use more history, a shorter horizon or a different test_fraction."
        )

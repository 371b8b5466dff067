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
    """Too few won or not-won leads (or snapshots) on one side of the split to train or evaluate honestly."""


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
    #: distinct leads with a won snapshot / with snapshots but none won, per side (when lead ids are known)
    train_won_leads: int | None = None
    train_not_won_leads: int | None = None
    test_won_leads: int | None = None
    test_not_won_leads: int | None = None

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
    groups: np.ndarray | pd.Series | None = None,
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
    than ``min_positives`` won or ``min_negatives`` not-won *leads* (``groups`` holds each snapshot's
    lead id; without it snapshots are counted). Leads, not snapshots: one lead seen weekly for a year
    gives 50 snapshots but only one outcome, so snapshot counts overstate how much evidence there is.

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
        lead_ids = None if groups is None else np.asarray(groups)
        if lead_ids is not None and lead_ids.shape != (n,):
            raise ValueError(f"groups has shape {lead_ids.shape} but time_key has {n} values")
        check_class_counts(
            labels[train_idx],
            labels[test_idx],
            min_positives,
            min_negatives,
            info=info,
            groups_train=None if lead_ids is None else lead_ids[train_idx],
            groups_test=None if lead_ids is None else lead_ids[test_idx],
        )
    return train_idx, test_idx, info


def lead_counts(labels: np.ndarray, groups: np.ndarray | None) -> tuple[int, int]:
    """(won, not won) counted by lead when ``groups`` (lead ids) is given, else by snapshot.

    A lead counts as won on a side when any of its snapshots there is labelled won; otherwise as not won.
    """
    positive = np.asarray(labels).astype(bool)
    if groups is None:
        return int(positive.sum()), int(positive.size - positive.sum())
    frame = pd.DataFrame({"lead": np.asarray(groups), "won": positive})
    won_by_lead = frame.groupby("lead", sort=False, observed=True)["won"].any()
    return int(won_by_lead.sum()), int((~won_by_lead).sum())


def check_class_counts(
    y_train: np.ndarray,
    y_test: np.ndarray,
    min_positives: int = DEFAULT_MIN_POSITIVES,
    min_negatives: int = DEFAULT_MIN_NEGATIVES,
    *,
    info: SplitInfo | None = None,
    groups_train: np.ndarray | None = None,
    groups_test: np.ndarray | None = None,
) -> None:
    """Raise ``InsufficientDataError`` naming the counts, and how many more are needed, when either side
    has too few won or not-won leads (snapshots when no lead ids are given)."""
    by_lead = groups_train is not None and groups_test is not None
    counts = {
        "train": lead_counts(y_train, groups_train if by_lead else None),
        "test": lead_counts(y_test, groups_test if by_lead else None),
    }
    if info is not None and by_lead:
        info.train_won_leads, info.train_not_won_leads = counts["train"]
        info.test_won_leads, info.test_not_won_leads = counts["test"]
    short = [side for side, (pos, neg) in counts.items() if pos < min_positives or neg < min_negatives]
    if short:
        unit = "leads" if by_lead else "snapshots"
        won_word, lost_word = ("won", "not-won") if by_lead else ("positive", "negative")
        described = "; ".join(
            f"{side}: {pos} {won_word} / {neg} {lost_word} {unit}" for side, (pos, neg) in counts.items()
        )
        missing = []
        for side, (pos, neg) in counts.items():
            if pos < min_positives:
                missing.append(f"{min_positives - pos} more {won_word} {unit} on the {side} side")
            if neg < min_negatives:
                missing.append(f"{min_negatives - neg} more {lost_word} {unit} on the {side} side")
        described += f" (needs {', '.join(missing)})"
        window = ""
        if info is not None:
            window = (
                f" (train window {info.train_start} .. {info.train_end}, gap of {info.horizon} with "
                f"{info.n_gap} unused snapshots, test window {info.test_start} .. {info.test_end})"
            )
        raise InsufficientDataError(
            f"Too few outcomes to train and evaluate on {' and '.join(short)}: {described}{window}. "
            f"Each side needs at least min_positives={min_positives} and min_negatives={min_negatives} "
            f"(configurable; counted in {unit}). Use more history, a shorter horizon or a different "
            "test_fraction."
        )

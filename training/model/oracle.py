"""The simulator's truth next to the model: each snapshot's true probability, and the oracle ROC-AUC (the
best any model could rank the same snapshots, up to chance)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from training.data.contract import LEAD_ID
from training.model.ranking import roc_auc

CUTOFF = "cutoff"


def match_ground_truth(
    snapshots: pd.DataFrame, ground_truth: pd.DataFrame, column: str = "p_win_90d"
) -> np.ndarray:
    """The simulator's truth ``column`` for each snapshot (NaN where no truth is known).

    Snapshots and ground truth share the simulator's grid (cutoffs every 7 days from creation), so matches
    are normally exact on ``(lead_id, cutoff)``; otherwise each snapshot takes its lead's latest truth row
    at or before its cutoff (``merge_asof`` backward per lead).
    """
    for name, frame, required in (
        ("snapshots", snapshots, (LEAD_ID, CUTOFF)),
        ("ground_truth", ground_truth, (LEAD_ID, CUTOFF, column)),
    ):
        absent = [c for c in required if c not in frame.columns]
        if absent:
            raise ValueError(f"{name} lacks column(s) {absent}; it has {list(frame.columns)}")
    left = pd.DataFrame(
        {
            LEAD_ID: snapshots[LEAD_ID].astype(str).to_numpy(),
            CUTOFF: _utc_ns(snapshots[CUTOFF]),
            "position": np.arange(len(snapshots)),
        }
    )
    right = pd.DataFrame(
        {
            LEAD_ID: ground_truth[LEAD_ID].astype(str).to_numpy(),
            CUTOFF: _utc_ns(ground_truth[CUTOFF]),
            "truth": ground_truth[column].to_numpy(dtype=np.float64),
        }
    )
    if left[CUTOFF].isna().any() or right[CUTOFF].isna().any():
        raise ValueError("match_ground_truth needs cutoffs on both snapshots and ground truth (no NaT)")
    matched = pd.merge_asof(
        left.sort_values(CUTOFF, kind="stable"),
        right.sort_values(CUTOFF, kind="stable"),
        on=CUTOFF,
        by=LEAD_ID,
        direction="backward",
    )
    out = np.full(len(snapshots), np.nan)
    out[matched["position"].to_numpy()] = matched["truth"].to_numpy(dtype=np.float64)
    return out


def _utc_ns(values: pd.Series) -> np.ndarray:
    # One time zone and one unit on both sides of the as-of merge, as plain datetime64[ns] values.
    stamps = pd.to_datetime(values, utc=True).astype("datetime64[ns, UTC]")
    return np.asarray(stamps.dt.tz_convert(None).to_numpy(dtype="datetime64[ns]"))


def oracle_auc(
    ground_truth: pd.DataFrame, snapshots: pd.DataFrame, y_true: Any, column: str = "p_win_90d"
) -> float:
    """ROC-AUC of the simulator's true win probability against the realised labels of the same snapshots.

    The best any model could rank these snapshots, up to chance. Snapshots without a truth row are left
    out; raises ``ValueError`` when none match.
    """
    truth = match_ground_truth(snapshots, ground_truth, column)
    labels = np.asarray(y_true).astype(bool)
    if labels.shape != truth.shape:
        raise ValueError(f"y_true has {labels.size} values but snapshots has {truth.size} rows")
    known = np.isfinite(truth)
    if not known.any():
        raise ValueError("No snapshot matched a ground-truth row by (lead_id, cutoff)")
    return roc_auc(labels[known], truth[known])

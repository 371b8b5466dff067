"""Snapshots: leads seen at cutoff times, the unit that features, labels and scores are about."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class SnapshotBatch:
    """The input of the feature pipeline, in training and in serving alike.

    ``snapshots`` has one row per (lead, cutoff), index ``0..n-1``: ``lead_id``, ``cutoff`` (UTC
    timestamp; NaT for row-order datasets) and the lead's profile columns. ``events`` is a flat
    events table (``lead_id``, ``occurred_at``, ``event_type``) for those leads; it may hold events at
    or after a snapshot's cutoff, which features must ignore (point in time).
    """

    snapshots: pd.DataFrame
    events: pd.DataFrame

    def __len__(self) -> int:
        return len(self.snapshots)

    def take(self, positions: np.ndarray | list[int]) -> SnapshotBatch:
        """The batch restricted to some snapshots (by position); events are shared, not copied."""
        return SnapshotBatch(self.snapshots.iloc[positions].reset_index(drop=True), self.events)

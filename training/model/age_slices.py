"""The test period's ROC-AUC among young and old leads: what a new lead's ranking is worth.

A CRM keeps leads that never close (Salesforce's "Closed - Not Converted" has no date, a HubSpot contact
stays a subscriber): each gives a snapshot every week for years, almost never won, and old quiet leads are
easy to rank below everyone. The headline ROC-AUC then mixes that easy part with the hard one, ranking
leads young enough to still be won. Split at the horizon (a lead at most ``horizon_days`` old at the look
against older ones), the first figure is what sales gets for new leads.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.model.ranking import roc_auc

#: A slice is measured only with at least this many won and not-won snapshots.
MIN_PER_CLASS = 10


def auc_by_lead_age(
    scores: np.ndarray, y: np.ndarray, snapshots: pd.DataFrame, horizon_days: int
) -> dict[str, float] | None:
    """``young_roc_auc`` / ``old_roc_auc`` and their snapshot counts (``young_snapshots``,
    ``old_snapshots``) and ``age_days`` (the split), or None without creation times (row-order data) or
    where a slice has fewer than ``MIN_PER_CLASS`` won or not-won snapshots."""
    if "created_at" not in snapshots or "cutoff" not in snapshots:
        return None
    age = pd.to_datetime(snapshots["cutoff"], utc=True) - pd.to_datetime(snapshots["created_at"], utc=True)
    days = age.dt.total_seconds().to_numpy() / 86_400
    if np.isnan(days).all():
        return None
    positive = np.asarray(y).astype(bool)
    figures: dict[str, float] = {"age_days": float(horizon_days)}
    for name, rows in (("young", days <= horizon_days), ("old", days > horizon_days)):
        won = int(positive[rows].sum())
        if min(won, int(rows.sum()) - won) < MIN_PER_CLASS:
            return None
        figures[f"{name}_roc_auc"] = roc_auc(positive[rows], np.asarray(scores)[rows])
        figures[f"{name}_snapshots"] = float(rows.sum())
    return figures

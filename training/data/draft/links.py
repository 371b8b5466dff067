"""Which column of another export file (activities, deals) holds the leads' ids: the one whose values
match the most lead ids of the leads file."""

from __future__ import annotations

import pandas as pd

from training.data.draft.column_profile import ColumnProfile
from training.data.mapping_columns import id_text

#: Below this share of rows naming a lead of the leads file, the link column is a guess for the user.
MIN_LINKED = 0.5


def link_column(
    frame: pd.DataFrame, profiles: list[ColumnProfile], lead_ids: pd.Series
) -> tuple[str | None, int]:
    """The column of ``frame`` whose values are most often lead ids (None: no column holds any), and how
    many of its rows name no lead of the leads file."""
    known = set(id_text(lead_ids).dropna())
    overlap = {p.name: float(id_text(frame[p.name]).isin(known).mean()) for p in profiles if not p.is_date}
    best = max(overlap, key=lambda name: overlap[name], default=None)
    if best is None or overlap[best] == 0:
        return None, 0
    return best, int((~id_text(frame[best]).isin(known) & frame[best].notna()).sum())

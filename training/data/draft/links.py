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
    # A row naming no lead at all (a deal on an account) is as unknown as one naming another lead.
    return best, int((~id_text(frame[best]).isin(known)).sum())


def linked(
    frame: pd.DataFrame,
    profiles: list[ColumnProfile],
    lead_ids: pd.Series | None,
    kind: str,
    rows: str,
    todos: list[str],
) -> tuple[str | None, int]:
    """``link_column`` for the ``kind`` file ("events") of ``rows`` ("events", "outcome rows"), with a to-do
    when nothing links (the leads file has no ids, or no column holds them) or the link is weak (under
    ``MIN_LINKED`` of the rows name a lead)."""
    if lead_ids is None:
        todos.append(f"the leads file has no id column, so {rows} cannot name their lead: export an id")
        return None, 0
    link, unknown = link_column(frame, profiles, lead_ids)
    if link is None:
        todos.append(f"no column of the {kind} file holds the leads' ids: set [{kind}] lead_id")
    elif unknown > (1 - MIN_LINKED) * len(frame):
        todos.append(
            f"only {len(frame) - unknown:,} of {len(frame):,} {rows} name a lead of the leads file by "
            f"{link!r}: check that it holds the leads' ids before skipping the rest"
        )
    return link, unknown

"""Do the events reach the end of observation? A check for exports cut short.

A CRM export capped by a row limit or a date filter still parses: its events simply stop early. Every
lead created after that looks like a lead that never engaged, and the model learns that silence. The
evidence is in the tables themselves: many leads created well after the last event. Internal to
``training.data``.
"""

from __future__ import annotations

import pandas as pd

from training.data.contract import CREATED_AT, OCCURRED_AT
from training.data.problems import Problem

#: Leads created this long after the last event still count as normal (a quiet last fortnight happens).
GRACE = pd.Timedelta(days=14)
#: Leads created after last event + GRACE, as a share of all leads and in number, that make the export
#: look truncated: both must be exceeded.
MAX_LATE_SHARE = 0.05
MIN_LATE_LEADS = 20


def events_cut_short(
    events_file: str, leads_file: str, occurred_at: pd.Series, created_at: pd.Series
) -> Problem | None:
    """A problem naming the events file when leads keep arriving long after its last event, else None."""
    last_event = occurred_at.max()
    if pd.isna(last_event):
        return None
    late = created_at > last_event + GRACE
    n_late, n_leads = int(late.sum()), int(created_at.notna().sum())
    if n_late < MIN_LATE_LEADS or n_late <= MAX_LATE_SHARE * n_leads:
        return None
    latest = created_at.max()
    return Problem(
        events_file,
        None,
        OCCURRED_AT,
        f"the events end at {last_event:%Y-%m-%d %H:%M} but {n_late:,} of {n_leads:,} leads in {leads_file} "
        f"({n_late / n_leads:.0%}) were created more than {GRACE.days} days later (the latest on "
        f"{latest:%Y-%m-%d}): the events export looks cut short (a row limit or a date filter). Export the "
        f"events up to the end of observation, or leave out the leads whose {CREATED_AT} is after "
        f"{last_event + GRACE:%Y-%m-%d} if their engagement really was not tracked",
    )

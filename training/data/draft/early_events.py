"""How many events of an activity export come before their lead's creation, as the draft reads both
files: CRMs tie the anonymous visits that led to a contact to it, dated before it existed. Above a small
share the import would refuse them by default (the reject cap), so the draft sets ``before_created =
"creation"`` with the count, rather than leaving the user to meet the refusal first."""

from __future__ import annotations

import pandas as pd

from training.data.date_order import AmbiguousDatesError, to_iso_dates
from training.data.mapping_columns import id_text

#: Above this share of linked events before their lead's creation, the draft counts them at it.
MIN_EARLY_SHARE = 0.005


def early_share(
    leads: pd.DataFrame,
    lead_id: str,
    created_at: str,
    created_format: str | None,
    events: pd.DataFrame,
    event_lead: str,
    occurred_at: str,
    occurred_format: str | None,
) -> tuple[int, int]:
    """``(events before their lead's creation, events of known leads with both times)``, both files read
    in the formats the draft declares for them (UTC where no zone is said: a rough count for a draft)."""
    try:
        created = _times(leads[created_at], created_format)
        occurred = _times(events[occurred_at], occurred_format)
    except AmbiguousDatesError:
        return 0, 0  # the draft asks for the order first
    ids = id_text(leads[lead_id])
    unique = ~ids.duplicated(keep=False) & ids.notna()
    by_lead = created[unique.to_numpy()].set_axis(ids[unique].to_numpy())
    lead_created = id_text(events[event_lead]).map(by_lead)
    known = lead_created.notna().to_numpy() & occurred.notna().to_numpy()
    early = known & (occurred.to_numpy() < lead_created.to_numpy())
    return int(early.sum()), int(known.sum())


def _times(values: pd.Series, date_format: str | None) -> pd.Series:
    text = to_iso_dates(values.astype("str").where(values.notna()), date_format, "draft")
    return pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce").astype("datetime64[ns, UTC]")

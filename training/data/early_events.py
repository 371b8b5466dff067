"""``[events] before_created`` of a mapping: what becomes of an event logged before its lead was created.

CRMs attach activity from before a contact existed to it: HubSpot ties the anonymous page views that led
to a form submission to the contact the form created, so a real export has events hours or days before
their lead's creation. The data contract has none (a lead's features start at its creation), so:

- ``"reject"`` (default): quarantined with their rows, like any other bad row, and counted against the
  reject cap (an early event can also be a sign of dates read in the wrong zone or day/month order);
- ``"creation"``: moved to the lead's creation, so the engagement that preceded the lead counts as
  engagement at its start; counted in a warning;
- ``"skip"``: left out, counted in a warning.
"""

from __future__ import annotations

import pandas as pd

from training.data.contract import CREATED_AT, LEAD_ID, OCCURRED_AT
from training.data.mapping_columns import id_text
from training.data.parsing import implausible, parse_timestamps


def settle_early_events(
    events: pd.DataFrame,
    leads: pd.DataFrame,
    policy: str,
    file: str,
    leads_file: str,
    warnings: list[str],
) -> pd.DataFrame:
    """``events`` with those before their lead's creation moved or left out as ``policy`` says (``reject``:
    unchanged, validation quarantines them). Rows keep their index, so that the rest still name their row."""
    if policy == "reject" or CREATED_AT not in leads:
        return events
    created, _ = parse_timestamps(leads[CREATED_AT])
    # set_axis, not Series(values, index=...): that aligns on labels, and to_numpy() drops the zone.
    by_lead = created.set_axis(id_text(leads[LEAD_ID]).to_numpy())
    by_lead = by_lead[~by_lead.index.duplicated(keep="first")]
    occurred, _ = parse_timestamps(events[OCCURRED_AT])
    lead_created = pd.to_datetime(id_text(events[LEAD_ID]).map(by_lead), utc=True).set_axis(events.index)
    # Unknown dates compare False, and implausible ones (1900-01-01, the Unix epoch) are no early
    # engagement: both are left for validation to report.
    early = (occurred < lead_created).to_numpy(dtype=bool) & ~implausible(occurred)
    count = int(early.sum())
    if count == 0:
        return events
    leads_affected = int(events.loc[early, LEAD_ID].nunique())
    what = (
        f"{count:,} of {len(events):,} rows of {file} are events before their lead's creation in "
        f"{leads_file} ({leads_affected:,} leads)"
    )
    if policy == "skip":
        warnings.append(f'{what}: left out (before_created = "skip")')
        return events.loc[~early]
    warnings.append(f'{what}: counted at the creation (before_created = "creation")')
    moved = events.copy()
    creation = pd.to_datetime(lead_created[early], utc=True)
    column = moved[OCCURRED_AT]
    if isinstance(column.dtype, pd.DatetimeTZDtype):  # typed (Parquet): the instant itself
        moved.loc[early, OCCURRED_AT] = creation.dt.tz_convert(column.dt.tz)
    elif pd.api.types.is_datetime64_dtype(column.dtype):  # typed without a zone: read as UTC
        moved.loc[early, OCCURRED_AT] = creation.dt.tz_convert(None)
    else:  # text; isoformat keeps nanoseconds, so the moved event is never still a hair early
        moved.loc[early, OCCURRED_AT] = creation.map(pd.Timestamp.isoformat)
    return moved

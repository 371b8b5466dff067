"""``unknown_leads = "skip"`` of an events or outcome file section: rows naming a lead the leads file
does not have, or no lead at all, are left out and counted, instead of quarantined against the reject
cap. An activity or deals export often covers every contact, a leads export only some."""

from __future__ import annotations

import pandas as pd

from training.data.contract import LEAD_ID
from training.data.mapping_columns import id_text


def without_unknown_leads(
    table: pd.DataFrame, lead_ids: pd.Series, file: str, leads_file: str, what: str, warnings: list[str]
) -> pd.DataFrame:
    """``table`` (with a ``lead_id`` column, read from ``file``) without the rows of leads that are not
    among ``lead_ids``; the count goes into ``warnings``. ``what`` names the rows ("events"). Rows keep
    their index, so the remaining rows' problems still name their row of the file."""
    ids = id_text(table[LEAD_ID])
    unknown = ids.notna() & ~ids.isin(id_text(lead_ids))
    count = int(unknown.sum())
    if count:
        leads = int(ids[unknown].nunique())
        warnings.append(
            f"{count:,} of {len(table):,} rows of {file} are {what} of {leads:,} "
            f'lead{"s" if leads != 1 else ""} not in {leads_file}: left out (unknown_leads = "skip")'
        )
    # A row that names no lead at all (an opportunity created on an account, a task on nobody) is no
    # lead's either: left out and counted the same way.
    blank = int(ids.isna().sum())
    if blank:
        warnings.append(
            f'{blank:,} of {len(table):,} rows of {file} name no lead: left out (unknown_leads = "skip")'
        )
    return table.loc[~unknown & ids.notna()]

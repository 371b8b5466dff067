"""Milestone dates a separate outcome file lacks but the leads file has.

Salesforce's leads report dates the conversion (``Converted Date``: the hand-over to sales, when the
opportunity was created), while the opportunities file that holds the outcome does not. The ``[outcome]``
section's ``handed_over_at``, ``accepted_at`` and ``opportunity_at`` may then name a column of the leads
file: its dates are taken per lead, for the leads the outcome file lists (a lead it does not list has no
row of a file on which a problem could be named). Without the hand-over date, snapshots run on past the
conversion and sales' own calls and emails become signals.

Also the outcome rows for the leads a joined outcome file does not mention (``absent_outcomes``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.data.contract import ACCEPTED_AT, HANDED_OVER_AT, LEAD_ID, OPPORTUNITY_AT, STATUS
from training.data.mapping_columns import clean_columns, id_text, section_dates
from training.data.mapping_config import MappingConfig, OutcomeMapping
from training.data.mapping_sections import ColumnRules

#: The outcome dates a leads file may give (a close date is the outcome file's own).
MILESTONES = (HANDED_OVER_AT, ACCEPTED_AT, OPPORTUNITY_AT)


def milestones_in_leads(
    outcome: OutcomeMapping, outcome_raw: pd.DataFrame, leads_raw: pd.DataFrame
) -> dict[str, str]:
    """The milestone keys of the ``[outcome]`` section whose column the outcome file lacks and the leads
    file has (contract column -> export column)."""
    return {
        key: column
        for key, column in outcome.outcome_dates().items()
        if key in MILESTONES and column not in outcome_raw.columns and column in leads_raw.columns
    }


def milestone_columns_of_leads(config: MappingConfig, leads_raw: pd.DataFrame) -> list[str]:
    """The leads file's columns that a separate outcome file's milestone keys may name (accounted for in
    the leads file, never features)."""
    outcome = config.outcome
    if outcome.source is None:
        return []
    return [
        column for key, column in outcome.outcome_dates().items() if key in MILESTONES and column in leads_raw
    ]


def with_lead_milestones(
    config: MappingConfig,
    outcomes: pd.DataFrame,
    from_leads: dict[str, str],
    leads_raw: pd.DataFrame,
    lead_ids: pd.Series,
    warnings: list[str],
) -> pd.DataFrame:
    """``outcomes`` with the ``from_leads`` milestone columns taken from the leads file by lead id (in
    the outcome section's date formats); a value that is no date is left empty and counted."""
    if not from_leads:
        return outcomes
    leads_file = config.leads.source.file
    columns = list(dict.fromkeys(from_leads.values()))
    # The leads file's missing markers, not its value maps (those name its other columns).
    markers = ColumnRules(missing=config.leads.rules.missing)
    cleaned = clean_columns(config, "leads", leads_file, leads_raw, columns, markers, warnings)
    ids = id_text(lead_ids)
    unique = ~ids.duplicated(keep=False) & ids.notna()
    outcome_ids = id_text(outcomes[LEAD_ID])
    result = outcomes.copy()
    for key, column in from_leads.items():
        text = section_dates(config, "outcome", config.outcome, leads_file, column, cleaned[column], warnings)
        dates = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
        unread = int((dates.isna() & text.notna() & (text.astype("str").str.strip() != "")).sum())
        if unread:
            warnings.append(f"{unread:,} values of {column!r} in {leads_file} are no dates: left empty")
        by_lead = dates[unique.to_numpy()].set_axis(ids[unique].to_numpy())
        # Rows of the outcome file only: a problem on a row the mapping added (an absent lead) could not
        # be named by any file's row.
        from_file = np.asarray(result.index > 0) if pd.api.types.is_integer_dtype(result.index) else None
        mapped = outcome_ids.map(by_lead)
        result[key] = (mapped if from_file is None else mapped.where(from_file)).to_numpy()
    return result


def absent_outcomes(outcomes: pd.DataFrame, lead_ids: pd.Series, absent: str) -> pd.DataFrame:
    """Outcome rows for the leads a joined outcome file does not mention, with status ``absent``.

    Only leads with a usable id get one: a missing or duplicated id is reported on the lead itself.
    Their row numbers are 0, -1, -2, ...: no file has them.
    """
    ids = id_text(lead_ids)
    usable = ids.notna() & ~ids.duplicated(keep=False) & ~ids.isin(id_text(outcomes[LEAD_ID]))
    missing = ids[usable]
    added = pd.DataFrame({LEAD_ID: missing.to_numpy(), STATUS: absent}, index=-pd.RangeIndex(len(missing)))
    return pd.concat([outcomes, added], axis=0)

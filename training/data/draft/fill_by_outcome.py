"""Columns a CRM fills in as a lead moves toward its outcome, told by their values rather than their
names: a field filled for most won leads and few open ones ("Segment" entered when the deal closes, a
loss reason, a contract type) reveals the outcome, whatever it is called.

The leakage audit warns about the same pattern at training time (``progress_missingness``); the draft
goes one step further and keeps such a column out of the features from the start
(``known_at = "after_contact"``: imported and audited, never a feature), with the fill rates as the
reason, for the user to overrule where the column is honest.
"""

from __future__ import annotations

import pandas as pd

from training.data.draft.roles import ColumnRole, LeadsDraft, outcome_value

#: Outcome groups (won / lost / open) smaller than this are not compared.
MIN_GROUP = 30
#: A fill rate this much higher in one outcome group than in another marks the column, as the audit's
#: default ``progress_missingness_gap`` does.
GAP = 0.3
_ATTRIBUTES = ("categorical", "numeric", "activity")


def stage_outcomes(stages: pd.Series, values: dict[str, str]) -> pd.Series:
    """Each row's won / lost / open as the draft maps its stage (``values``, else ``outcome_value``);
    a blank stage is open."""
    text = stages.astype("str").str.strip().where(stages.notna(), "")
    return text.map(lambda stage: values.get(stage, outcome_value(stage)) if stage else "open")


def mark_filled_by_outcome(
    frame: pd.DataFrame, leads: LeadsDraft, markers: set[str], outcome: pd.Series | None = None
) -> None:
    """Mark, in place, the attribute columns of ``leads`` whose fill rate differs by outcome group by at
    least ``GAP`` (``frame``: the leads file as read; ``markers``: values that mean "missing";
    ``outcome``: each lead's won / lost / open where a separate outcome file says it, see
    ``outcomes_of_leads``; else the leads file's own status column)."""
    status = leads.column("status")
    if outcome is None:
        if status is None:
            return
        outcome = stage_outcomes(frame[status], leads.status_values)
    sizes = outcome.value_counts()
    groups = [str(group) for group, size in sizes.items() if size >= MIN_GROUP]
    if len(groups) < 2:
        return
    for index, role in enumerate(leads.roles):
        if role.role not in _ATTRIBUTES or role.known_at is not None:
            continue
        text = frame[role.column].astype("str").str.strip()
        filled = frame[role.column].notna() & (text != "") & ~text.isin(markers)
        shares = {group: float(filled[outcome == group].mean()) for group in groups}
        if max(shares.values()) - min(shares.values()) < GAP:
            continue
        listed = ", ".join(f"{group} {share:.0%}" for group, share in sorted(shares.items()))
        leads.roles[index] = ColumnRole(
            role.column,
            role.role,
            f"{role.why}; filled for {listed} of leads: written as the lead moves, audited, never a feature",
            "after_contact",
        )


def outcomes_of_leads(
    lead_ids: pd.Series, outcome_ids: pd.Series, stages: pd.Series | None, values: dict[str, str]
) -> pd.Series:
    """Each lead's won / lost / open from a separate outcome file (its rows' ``stages``, None: every row
    is a won deal), aligned with ``lead_ids``: won if any of its rows is won, else lost if any is lost,
    else open (a lead without rows too, as ``absent = "open"`` imports it)."""
    per_row = pd.Series("won", index=outcome_ids.index) if stages is None else stage_outcomes(stages, values)
    ids = outcome_ids.astype("str").str.strip()
    rank = per_row.map({"won": 2, "lost": 1, "open": 0})
    best = rank.groupby(ids.to_numpy()).max()
    by_lead = lead_ids.astype("str").str.strip().map(best).fillna(0)
    return by_lead.map({2: "won", 1: "lost", 0: "open"}).set_axis(lead_ids.index)

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


def mark_filled_by_outcome(frame: pd.DataFrame, leads: LeadsDraft, markers: set[str]) -> None:
    """Mark, in place, the attribute columns of ``leads`` whose fill rate differs by outcome group by at
    least ``GAP`` (``frame``: the leads file as read; ``markers``: values that mean "missing")."""
    status = leads.column("status")
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

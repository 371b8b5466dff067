"""A first look at a lead data set: outcome rates, the funnel, the event mix and time to close.

Tables and figures for notebook 01 (and anyone exploring an import); plain pandas on the contract's
tables, no model involved.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from training.data.contract import (
    CLOSED_AT,
    CREATED_AT,
    EVENT_TYPE,
    HANDED_OVER_AT,
    LEAD_ID,
    STATUS,
    LeadDataset,
)
from training.features.high_intent import HIGH_INTENT_NAME_PATTERN


def _status(dataset: LeadDataset) -> pd.Series:
    """Each lead's status (leads without an outcome row count as open), indexed like ``dataset.leads``."""
    status = dataset.outcomes.set_index(LEAD_ID)[STATUS].astype(str)
    return dataset.leads[LEAD_ID].map(status).fillna("open").astype(str)


def outcome_rates(dataset: LeadDataset, by: str | None = None) -> pd.DataFrame:
    """Leads per outcome (won / lost / open) and their shares, overall or per value of the field ``by``."""
    status = _status(dataset).rename("status")
    if by is None:
        counts = status.value_counts().rename("leads").to_frame()
        counts["share"] = counts["leads"] / counts["leads"].sum()
        return counts
    if by not in dataset.leads.columns:
        raise ValueError(
            f"outcome_rates: {by!r} is not a column of the leads table: {list(dataset.leads.columns)}"
        )
    table = pd.crosstab(dataset.leads[by].astype(str), status)
    table = table.reindex(columns=["won", "lost", "open"], fill_value=0)
    table["leads"] = table.sum(axis=1)
    closed = (table["won"] + table["lost"]).to_numpy(dtype=float)
    table["win_rate_of_closed"] = np.divide(
        table["won"].to_numpy(dtype=float), closed, where=closed > 0, out=np.full(len(table), np.nan)
    )
    return table.sort_values("leads", ascending=False)


def funnel(dataset: LeadDataset) -> pd.DataFrame:
    """How many leads reached each stage: created, engaged, showed high intent, handed over, won."""
    leads = dataset.leads[LEAD_ID]
    events = dataset.events
    engaged = leads.isin(events[LEAD_ID]) if len(events) else pd.Series(False, index=leads.index)
    if len(events):
        intent_types = [
            t for t in events[EVENT_TYPE].astype(str).unique() if HIGH_INTENT_NAME_PATTERN.search(t)
        ]
        intent = leads.isin(events.loc[events[EVENT_TYPE].astype(str).isin(intent_types), LEAD_ID])
    else:
        intent = pd.Series(False, index=leads.index)
    outcomes = dataset.outcomes.set_index(LEAD_ID)
    handed = (
        leads.map(outcomes[HANDED_OVER_AT]).notna()
        if HANDED_OVER_AT in outcomes
        else pd.Series(False, index=leads.index)
    )
    won = _status(dataset) == "won"
    stages = {
        "created": np.ones(len(leads), dtype=bool),
        "engaged (any event)": engaged.to_numpy(),
        "high intent (pricing, demo, trial, contact, ...)": intent.to_numpy(),
        "handed over to sales": handed.to_numpy(),
        "won": won.to_numpy(),
    }
    table = pd.DataFrame({"stage": list(stages), "leads": [int(v.sum()) for v in stages.values()]})
    table["share_of_created"] = table["leads"] / max(len(leads), 1)
    return table


def event_mix(dataset: LeadDataset) -> pd.DataFrame:
    """Per event type: events, leads with at least one, their share, and those leads' win rate (of closed)."""
    events = dataset.events
    if not len(events):
        return pd.DataFrame(columns=["events", "leads", "share_of_leads", "win_rate_of_closed"])
    status = dataset.outcomes.set_index(LEAD_ID)[STATUS].astype(str)
    pairs = events[[LEAD_ID, EVENT_TYPE]].astype({EVENT_TYPE: str}).drop_duplicates()
    pairs = pairs.assign(status=pairs[LEAD_ID].map(status).fillna("open"))
    table = events[EVENT_TYPE].astype(str).value_counts().rename("events").to_frame()
    table["leads"] = pairs.groupby(EVENT_TYPE).size()
    table["share_of_leads"] = table["leads"] / len(dataset.leads)
    won = (
        pairs["status"].eq("won").groupby(pairs[EVENT_TYPE]).sum().reindex(table.index).to_numpy(dtype=float)
    )
    closed = pairs["status"].isin(["won", "lost"]).groupby(pairs[EVENT_TYPE]).sum()
    n_closed = closed.reindex(table.index).to_numpy(dtype=float)
    table["win_rate_of_closed"] = np.divide(
        won, n_closed, where=n_closed > 0, out=np.full(len(table), np.nan)
    )
    return table


def time_to_close(dataset: LeadDataset) -> pd.DataFrame:
    """Days from creation to close for every closed lead (``lead_id``, ``status``, ``days``)."""
    outcomes = dataset.outcomes
    if CLOSED_AT not in outcomes:
        return pd.DataFrame(columns=[LEAD_ID, "status", "days"])
    created = dataset.leads.set_index(LEAD_ID)[CREATED_AT]
    closed = outcomes[outcomes[STATUS].astype(str).isin(["won", "lost"]) & outcomes[CLOSED_AT].notna()]
    days = (closed[CLOSED_AT] - closed[LEAD_ID].map(created)).dt.total_seconds() / 86_400.0
    return pd.DataFrame(
        {LEAD_ID: closed[LEAD_ID].to_numpy(), "status": closed[STATUS].astype(str).to_numpy(), "days": days}
    ).dropna(subset=["days"])


def funnel_figure(table: pd.DataFrame) -> Figure:
    """Horizontal funnel bars with counts and shares of created leads."""
    fig = Figure(figsize=(8.0, 3.8), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(table))[::-1]
    ax.barh(y, table["leads"], color="tab:blue")
    for position, (count, share) in zip(
        y, zip(table["leads"], table["share_of_created"], strict=True), strict=True
    ):
        ax.annotate(
            f"{count:,} ({share:.0%})",
            (count, position),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
        )
    ax.set(yticks=y, yticklabels=table["stage"], title="Lead funnel", xlabel="Leads")
    ax.set_xlim(0, table["leads"].max() * 1.2)
    return fig


def event_mix_figure(table: pd.DataFrame) -> Figure:
    """Share of leads with each event type, and the win rate of those leads (closed ones)."""
    fig = Figure(figsize=(11.0, 0.9 + 0.35 * len(table)), layout="constrained")
    left, right = fig.subplots(1, 2, sharey=True)
    ordered = table.sort_values("share_of_leads")
    labels = [name.replace("_", " ") for name in ordered.index]
    left.barh(labels, ordered["share_of_leads"] * 100, color="tab:blue")
    left.set(title="Leads with at least one such event", xlabel="Share of leads (%)")
    right.barh(labels, ordered["win_rate_of_closed"] * 100, color="tab:green")
    right.set(title="Win rate of those leads (closed leads only)", xlabel="Won (%)")
    for ax in (left, right):
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle("Event mix")
    return fig


def time_to_close_figure(table: pd.DataFrame) -> Figure:
    """Histograms of days from creation to close, won vs lost."""
    fig = Figure(figsize=(8.0, 4.0), layout="constrained")
    ax = fig.add_subplot()
    bins = list(np.linspace(0, max(float(table["days"].max()) if len(table) else 1.0, 1.0), 40))
    for status, colour in (("won", "tab:green"), ("lost", "tab:red")):
        days = table.loc[table["status"] == status, "days"]
        ax.hist(days, bins=bins, alpha=0.5, color=colour, label=f"{status} (median {days.median():.0f} days)")
    ax.set(title="Time from creation to close", xlabel="Days", ylabel="Leads")
    ax.legend()
    return fig

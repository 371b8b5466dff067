"""A backtest: every lead open at a past date, scored as of that date, against what happened next."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from training.bundle import ModelBundle
from training.data.contract import CLOSED_AT, CREATED_AT, LEAD_ID, STATUS, LeadDataset
from training.features.profile_asof import profile_at
from training.features.snapshots import CUTOFF, SnapshotBatch
from training.features.timestamps import timestamps_ns


def card_threshold(bundle: ModelBundle) -> float:
    """The hand-over threshold stored (once) in the bundle's card; a clear error if it has none."""
    return bundle.card.threshold_value()


@dataclass
class Backtest:
    """Leads open at ``as_of``, scored as of that date, and what happened to them within the horizon."""

    as_of: pd.Timestamp
    horizon_days: int
    threshold: float
    #: one row per lead: lead_id, readiness, score, handover, grade, what_happened (won/lost/still open)
    leads: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def by_group(self, column: str) -> pd.DataFrame:
        """Counts and win rate per value of ``column`` (``handover`` or ``grade``)."""
        frame = self.leads
        table = pd.crosstab(frame[column], frame["what_happened"]).reindex(
            columns=["won", "lost", "still open"], fill_value=0
        )
        table["leads"] = table.sum(axis=1)
        table["win_rate"] = table["won"] / table["leads"]
        return table.reset_index()

    @property
    def overall_win_rate(self) -> float:
        return float((self.leads["what_happened"] == "won").mean()) if len(self.leads) else math.nan


def default_backtest_date(dataset: LeadDataset, horizon_days: int, not_before: Any = None) -> pd.Timestamp:
    """The latest date whose whole horizon has been observed, but not before ``not_before`` (e.g. the
    test period's start, so that the model never saw what happened after it)."""
    until = dataset.metadata.observed_until
    if until is None:
        until = pd.concat([dataset.outcomes[CLOSED_AT].dropna(), dataset.leads[CREATED_AT].dropna()]).max()
    as_of = pd.Timestamp(until) - pd.Timedelta(days=horizon_days)
    if not_before is not None and as_of < pd.Timestamp(not_before):
        as_of = pd.Timestamp(not_before)
    return as_of


def backtest(
    bundle: ModelBundle, dataset: LeadDataset, as_of: Any = None, *, horizon_days: int | None = None
) -> Backtest:
    """Score every lead open at ``as_of`` (created before, not closed by then) as of that date, and look
    up what happened to it within the horizon: won, lost, or still open.

    ``as_of`` defaults to ``default_backtest_date`` (not before the model's test period).
    """
    horizon = int(horizon_days or bundle.card.horizon_days)
    split = bundle.card.split
    not_before = split.test_start if split is not None and split.kind == "time" else None
    when = pd.Timestamp(as_of) if as_of is not None else default_backtest_date(dataset, horizon, not_before)
    if when.tzinfo is None:
        when = when.tz_localize("UTC")
    notes: list[str] = []
    leads = dataset.leads
    outcomes = dataset.outcomes.set_index(LEAD_ID).reindex(leads[LEAD_ID].to_numpy())
    closed = pd.to_datetime(outcomes[CLOSED_AT], utc=True) if CLOSED_AT in outcomes else None
    open_then = np.array(leads[CREATED_AT] < when, dtype=bool)
    if closed is not None:
        open_then &= ~(closed <= when).to_numpy()
    chosen = leads.loc[open_then].reset_index(drop=True)
    if chosen.empty:
        raise ValueError(f"backtest: no lead was open at {when} (created before it and not yet closed)")
    snapshots = chosen.copy()
    snapshots.insert(1, CUTOFF, when)
    # Profile fields with history as they were at the backtest date, as training saw them.
    positions = np.flatnonzero(open_then)
    cutoff_ns = np.repeat(timestamps_ns([when]), len(positions))
    as_of = profile_at(dataset, positions, cutoff_ns, list(chosen.columns))
    for column, values in as_of.items():
        snapshots[column] = values
    features = bundle.pipeline[0]
    batch = SnapshotBatch(
        snapshots,
        dataset.events,
        tuple(getattr(features, "categorical_columns_", dataset.metadata.categorical_columns)),
        tuple(getattr(features, "numeric_columns_", dataset.metadata.numeric_columns)),
    )
    readiness = bundle.pipeline[-1].readiness(bundle.pipeline[:-1].transform(batch))
    threshold = card_threshold(bundle)
    end = when + pd.Timedelta(days=horizon)
    status = outcomes.loc[open_then, STATUS].astype(str).to_numpy()
    closed_in = (
        ((closed > when) & (closed <= end)).to_numpy()[open_then]
        if closed is not None
        else np.zeros(len(chosen), dtype=bool)
    )
    happened = np.where(
        closed_in & (status == "won"), "won", np.where(closed_in & (status == "lost"), "lost", "still open")
    )
    until = dataset.metadata.observed_until
    if until is not None and end > until:
        notes.append(
            f"the horizon ends {end.date()}, after the data ends ({pd.Timestamp(until).date()}): "
            "some 'still open' leads may yet have been won in time"
        )
    stats = bundle.card.serving
    frame = pd.DataFrame(
        {
            LEAD_ID: chosen[LEAD_ID].to_numpy(),
            "readiness": readiness,
            "score": np.round(readiness * 100.0, 1),
            "handover": readiness >= threshold,
            "grade": stats.grades.grades(readiness) if stats is not None else "",
            "what_happened": happened,
        }
    )
    return Backtest(as_of=when, horizon_days=horizon, threshold=threshold, leads=frame, notes=notes)

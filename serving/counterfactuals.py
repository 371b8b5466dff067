"""Counterfactual leads for "what would ripen it": the lead plus the high-intent events it lacks.

For each too-green lead and each signal of the model card's ripe profile that the lead shows less of
than ripe leads typically do (its count in the profile's window is below the typical count), we build
a copy of the lead with the missing events added one day before ``as_of`` (one second apart), and one
more copy with all missing signals added together. All copies of all leads form one ``SnapshotBatch``
that the real pipeline scores in a single call, so "the score it would have" is the model's answer,
not a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from training.contract import EVENT_TYPE, LEAD_ID, OCCURRED_AT
from training.snapshots import CUTOFF, SnapshotBatch, timestamps_ns

#: How long before ``as_of`` the added events are placed.
ADDED_EVENT_LEAD_TIME = pd.Timedelta(days=1)
#: Marks the counterfactual that adds every missing signal at once.
ALL_SIGNALS = -1


@dataclass(frozen=True)
class RipeningPlan:
    """Counterfactual snapshots (``batch``) and, per snapshot, what it stands for."""

    batch: SnapshotBatch
    rows: np.ndarray  # the original lead's row in the scored batch
    profile_index: np.ndarray  # index into the ripe profile, or ALL_SIGNALS
    add_events: np.ndarray  # events added (total, for ALL_SIGNALS)
    current_count: np.ndarray  # the lead's count in the window (0 for ALL_SIGNALS)

    def __len__(self) -> int:
        return len(self.rows)


def plan_ripening(
    batch: SnapshotBatch, features: pd.DataFrame, rows: np.ndarray, ripe_profile: list[dict[str, Any]]
) -> RipeningPlan | None:
    """Counterfactuals for the leads at ``rows`` of ``batch`` (whose features are ``features``).

    ``batch``'s lead ids must be unique per row (the API uses row positions). Returns None when no
    lead lacks any ripe-profile signal.
    """
    if not len(rows) or not ripe_profile:
        return None
    typical = np.array([int(p["typical_count"]) for p in ripe_profile])
    current = (
        np.column_stack(
            [np.nan_to_num(features[p["feature"]].to_numpy(dtype=float)[rows]) for p in ripe_profile]
        )
        .round()
        .astype(int)
    )
    missing = np.clip(typical[None, :] - current, 0, None)  # (len(rows), n_profile)
    lead_pos, profile_pos = np.nonzero(missing)
    if not len(lead_pos):
        return None
    # One counterfactual per (lead, lacking signal), then one per lead adding everything it lacks.
    n_lacking = (missing > 0).sum(axis=1)
    several = np.flatnonzero(n_lacking > 1)
    cf_rows = np.concatenate([rows[lead_pos], rows[several]])
    cf_profile = np.concatenate([profile_pos, np.full(len(several), ALL_SIGNALS)])
    cf_add = np.concatenate([missing[lead_pos, profile_pos], missing[several].sum(axis=1)])
    cf_current = np.concatenate([current[lead_pos, profile_pos], np.zeros(len(several), dtype=int)])

    # Added events: (counterfactual, signal, count) for single signals, and all lacking ones for "all".
    add_cf = np.arange(len(lead_pos))
    add_signal = profile_pos.copy()
    add_count = missing[lead_pos, profile_pos]
    if len(several):
        all_lead, all_profile = np.nonzero(missing[several])
        add_cf = np.concatenate([add_cf, len(lead_pos) + all_lead])
        add_signal = np.concatenate([add_signal, all_profile])
        add_count = np.concatenate([add_count, missing[several][all_lead, all_profile]])
    signal_names = np.array([str(p["signal"]) for p in ripe_profile], dtype=object)
    added = _added_events(batch, cf_rows, add_cf, signal_names[add_signal], add_count)
    return RipeningPlan(
        batch=_counterfactual_batch(batch, cf_rows, added),
        rows=cf_rows,
        profile_index=cf_profile,
        add_events=cf_add,
        current_count=cf_current,
    )


def _added_events(
    batch: SnapshotBatch, cf_rows: np.ndarray, add_cf: np.ndarray, types: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The new events as (counterfactual, occurred_at ns, type): ``counts[k]`` events of ``types[k]`` for
    counterfactual ``add_cf[k]``."""
    cf = np.repeat(add_cf, counts)
    event_type = np.repeat(types, counts)
    # Spread the events one second apart so that none coincide.
    offset = np.arange(len(cf)) - np.repeat(np.cumsum(counts) - counts, counts)
    cutoff_ns = timestamps_ns(batch.snapshots[CUTOFF])[cf_rows[cf]]
    occurred_ns = cutoff_ns - ADDED_EVENT_LEAD_TIME.value - offset * 10**9
    return cf, occurred_ns, event_type


def _counterfactual_batch(
    batch: SnapshotBatch, cf_rows: np.ndarray, added: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> SnapshotBatch:
    """Copies of the snapshots at ``cf_rows`` with their own events plus ``added``; built from arrays
    (category codes and int64 times), so its cost hardly depends on how many events are copied."""
    snapshots = batch.snapshots.iloc[cf_rows].reset_index(drop=True)
    cf_ids = pd.Index([f"cf{k}" for k in range(len(cf_rows))], dtype="str")
    snapshots[LEAD_ID] = cf_ids.array

    events = batch.events
    owner = _event_owners(batch)
    order = np.argsort(owner, kind="stable")
    per_row = np.bincount(owner[owner >= 0], minlength=len(batch.snapshots))
    starts = np.concatenate([[0], np.cumsum(per_row)[:-1]]) + int((owner < 0).sum())
    # Each counterfactual takes its original lead's events: concatenated index ranges, built without loops.
    sizes = per_row[cf_rows]
    within = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    taken = order[np.repeat(starts[cf_rows], sizes) + within]
    type_codes, type_names = _codes(events[EVENT_TYPE])

    added_cf, added_ns, added_types = added
    added_codes, added_names = pd.factorize(added_types)
    names = type_names.append(pd.Index(added_names, dtype="str"))
    codes = np.concatenate([type_codes[taken], np.where(added_codes >= 0, added_codes + len(type_names), -1)])
    unique_names, name_codes = np.unique(names.to_numpy(dtype=object), return_inverse=True)
    codes = np.where(codes >= 0, np.append(name_codes, -1)[codes], -1)
    occurred = np.concatenate([timestamps_ns(events[OCCURRED_AT])[taken], added_ns])
    combined = pd.DataFrame(
        {
            LEAD_ID: pd.Categorical.from_codes(
                np.concatenate([np.repeat(np.arange(len(cf_rows)), sizes), added_cf]),
                dtype=pd.CategoricalDtype(cf_ids),
            ),
            # Event times travel as int64 nanoseconds (converting tz-aware columns to numpy makes objects).
            OCCURRED_AT: pd.DatetimeIndex(occurred.view("datetime64[ns]")).tz_localize("UTC"),
            EVENT_TYPE: pd.Categorical.from_codes(
                codes, dtype=pd.CategoricalDtype(pd.Index(unique_names, dtype="str"))
            ),
        }
    )
    return SnapshotBatch(snapshots, combined, batch.categorical_columns, batch.numeric_columns)


def _event_owners(batch: SnapshotBatch) -> np.ndarray:
    """Row of ``batch.snapshots`` each event belongs to (-1: none), hashing each distinct lead id once."""
    codes, distinct = _codes(batch.events[LEAD_ID])
    rows = pd.Index(batch.snapshots[LEAD_ID].astype(str)).get_indexer(distinct)
    return np.where(codes >= 0, np.append(rows, -1)[codes], -1)


def _codes(column: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes and the distinct values (as strings) of an events column; -1 for missing."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy().astype(np.int64), pd.Index(column.cat.categories.astype(str))
    codes, distinct = pd.factorize(column)
    return codes.astype(np.int64), pd.Index(pd.Index(distinct).astype(str))

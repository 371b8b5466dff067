"""Counterfactual leads for "what would ripen it": the lead plus the high-intent events it lacks.

For each too-green lead and each signal of the model card's ripe profile (``RipeSignal``: an event type,
its count feature and window, as the features' specs name them) that the lead shows less of
than ripe leads typically do (its count in the profile's window is below the typical count), we build
a copy of the lead with the missing events added one day before ``as_of`` (one second apart), and one
more copy with all missing signals added together. All copies of all leads form one ``SnapshotArrays``
that the real feature definition and model score in a single call, so "the score it would have" is the
model's answer, not a guess.

The scorer builds the copies before it knows which leads are too green, from the lead's counts read off
its events (``counts_from_events``), so that they go through the same feature transform as the leads
themselves: a second transform call for a single lead cost about a quarter of its answer, almost all of
it fixed cost. It then keeps the copies of the too-green leads whose counts equal their count features
(``counts_from_features``), and plans the rest again from the features.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from training.features.events import DAY_NS, type_slots
from training.features.matrix import FeatureMatrix
from training.features.snapshot_arrays import NAT_NS, SnapshotArrays
from training.model.serving_types import RipeSignal

#: How long before ``as_of`` the added events are placed.
ADDED_EVENT_LEAD_TIME = pd.Timedelta(days=1)
#: Marks the counterfactual that adds every missing signal at once.
ALL_SIGNALS = -1


@dataclass(frozen=True)
class RipeningPlan:
    """Counterfactual snapshots (``arrays``) and, per snapshot, what it stands for."""

    arrays: SnapshotArrays
    rows: np.ndarray  # the original lead's row in the scored batch
    profile_index: np.ndarray  # index into the ripe profile, or ALL_SIGNALS
    add_events: np.ndarray  # events added (total, for ALL_SIGNALS)
    current_count: np.ndarray  # the lead's count in the window (0 for ALL_SIGNALS)
    positions: np.ndarray  # each counterfactual's snapshot in ``arrays``

    def __len__(self) -> int:
        return len(self.rows)

    def take(self, rows: np.ndarray) -> RipeningPlan:
        """The counterfactuals of the leads at ``rows`` (rows of the scored batch) only, in plan order;
        ``arrays`` stays whole (the kept copies are at ``positions``)."""
        keep = np.isin(self.rows, rows)
        return RipeningPlan(
            arrays=self.arrays,
            rows=self.rows[keep],
            profile_index=self.profile_index[keep],
            add_events=self.add_events[keep],
            current_count=self.current_count[keep],
            positions=self.positions[keep],
        )


def counts_from_features(
    features: FeatureMatrix, rows: np.ndarray, ripe_profile: list[RipeSignal]
) -> np.ndarray:
    """``(len(rows), len(ripe_profile))``: each row's value of each profile signal's count feature, as
    whole numbers (NaN: 0)."""
    profile_rows = np.array([features.numeric_rows[p.feature] for p in ripe_profile], dtype=np.intp)
    counts = features.numeric_block[np.ix_(profile_rows, rows)].T
    return np.where(np.isnan(counts), 0.0, counts).round().astype(np.int64)


def counts_from_events(
    arrays: SnapshotArrays, slot_of_type: dict[str, int], ripe_profile: list[RipeSignal]
) -> np.ndarray | None:
    """``counts_from_features`` for every snapshot, counted from the events: events whose type has the
    signal's slot, in ``[cutoff - window, cutoff)``. None unless each lead has one snapshot (the API's
    batches). The feature transform floors times to a unit it picks per batch, so at a unit boundary the
    two may differ: callers check against the features before relying on these."""
    n = len(arrays)
    snapshot_of_lead = np.full(arrays.n_leads, -1, dtype=np.int64)
    snapshot_of_lead[arrays.lead_codes] = np.arange(n)
    if np.count_nonzero(snapshot_of_lead >= 0) != n:  # a lead with several snapshots
        return None
    owned = arrays.event_lead_codes >= 0
    snapshot = np.where(owned, snapshot_of_lead[np.where(owned, arrays.event_lead_codes, 0)], -1)
    owned &= snapshot >= 0
    cutoff = arrays.cutoff_ns[snapshot]  # snapshot -1 reads the last cutoff: masked by ``owned``
    # Each event's profile signal (-1: none), by its slot; signals are distinct event types.
    slots = type_slots(*arrays.event_types, slot_of_type)
    signal_of_slot = np.full(max(slot_of_type.values(), default=0) + 2, -1, dtype=np.int64)
    for j, signal in enumerate(ripe_profile):
        if signal.event_type in slot_of_type:
            signal_of_slot[slot_of_type[signal.event_type]] = j
    signal = signal_of_slot[slots]  # slot -1 (unknown type) reads the last entry: -1
    window_ns = np.array([p.window_days * DAY_NS for p in ripe_profile], dtype=np.int64)
    inside = owned & (signal >= 0) & (cutoff != NAT_NS)
    event_ns = arrays.event_ns
    inside[inside] = (event_ns[inside] < cutoff[inside]) & (
        event_ns[inside] >= cutoff[inside] - window_ns[signal[inside]]
    )
    cells = np.bincount(
        snapshot[inside] * len(ripe_profile) + signal[inside], minlength=n * len(ripe_profile)
    )
    return cells.reshape(n, len(ripe_profile)).astype(np.int64)


def plan_ripening(
    arrays: SnapshotArrays, current: np.ndarray, rows: np.ndarray, ripe_profile: list[RipeSignal]
) -> RipeningPlan | None:
    """Counterfactuals for the snapshots at ``rows`` of ``arrays``, whose counts of the profile's signals
    are ``current`` (``(len(rows), len(ripe_profile))``, ``counts_from_features``).

    A counterfactual copies all events of its snapshot's lead (the API has one snapshot per lead). The
    ripe profile's features must be numeric. Returns None when no lead lacks any ripe-profile signal.
    """
    if not len(rows) or not ripe_profile:
        return None
    typical = np.array([p.typical_count for p in ripe_profile])
    missing = np.maximum(typical[None, :] - current, 0)  # (len(rows), n_profile)
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
    # The events added are of the profile's event type as the data names it (the feature's own type),
    # coded by their signal's position in the profile.
    added = _added_events(arrays, cf_rows, add_cf, add_signal, add_count)
    event_types = [p.event_type for p in ripe_profile]
    return RipeningPlan(
        arrays=_counterfactual_arrays(arrays, cf_rows, added, event_types),
        rows=cf_rows,
        profile_index=cf_profile,
        add_events=cf_add,
        current_count=cf_current,
        positions=np.arange(len(cf_rows)),
    )


def _added_events(
    arrays: SnapshotArrays, cf_rows: np.ndarray, add_cf: np.ndarray, types: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The new events as (counterfactual, occurred_at ns, type code): ``counts[k]`` events of type code
    ``types[k]`` for counterfactual ``add_cf[k]``."""
    cf = np.repeat(add_cf, counts)
    event_type = np.repeat(types, counts)
    # Spread the events one second apart so that none coincide.
    offset = np.arange(len(cf)) - np.repeat(np.cumsum(counts) - counts, counts)
    cutoff_ns = arrays.cutoff_ns[cf_rows[cf]]
    occurred_ns = cutoff_ns - ADDED_EVENT_LEAD_TIME.value - offset * 10**9
    return cf, occurred_ns, event_type


def _counterfactual_arrays(
    arrays: SnapshotArrays,
    cf_rows: np.ndarray,
    added: tuple[np.ndarray, np.ndarray, np.ndarray],
    added_names: list[str],
) -> SnapshotArrays:
    """Copies of the snapshots at ``cf_rows`` (counterfactual ``k`` is lead ``k``) with all events of their
    original lead plus ``added`` (type codes into ``added_names``); index arithmetic only, no loop over
    leads or events."""
    lead_of_copy = arrays.lead_codes[cf_rows]
    event_leads = arrays.event_lead_codes
    # The events of lead L are order[starts[L] : starts[L] + per_lead[L]] (events without a lead first).
    order = np.argsort(event_leads, kind="stable")
    per_lead = np.bincount(event_leads[event_leads >= 0], minlength=arrays.n_leads)
    starts = np.concatenate([[0], np.cumsum(per_lead)[:-1]]) + int((event_leads < 0).sum())
    sizes = per_lead[lead_of_copy]
    within = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    taken = order[np.repeat(starts[lead_of_copy], sizes) + within]

    added_cf, added_ns, added_codes = added
    type_codes, type_names = arrays.event_types
    n_copies = len(cf_rows)
    return SnapshotArrays(
        lead_codes=np.arange(n_copies, dtype=np.int64),
        n_leads=n_copies,
        cutoff_ns=arrays.cutoff_ns[cf_rows],
        created_ns=arrays.created_ns[cf_rows],
        event_lead_codes=np.concatenate([np.repeat(np.arange(n_copies, dtype=np.int64), sizes), added_cf]),
        event_ns=np.concatenate([arrays.event_ns[taken], added_ns]),
        # Added types are coded after the existing names (a name may then appear twice: lookups go by name).
        event_types=(
            np.concatenate([type_codes[taken], added_codes + len(type_names)]),
            [*type_names, *added_names],
        ),
        numeric={column: values[cf_rows] for column, values in arrays.numeric.items()},
        categorical={
            column: (codes[cf_rows], distinct) for column, (codes, distinct) in arrays.categorical.items()
        },
    )

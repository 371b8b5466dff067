"""Snapshots: leads seen at cutoff times, the unit that features, labels and scores are about.

``build_snapshots`` turns a validated ``LeadDataset`` into labelled training snapshots;
``batch_from_columns`` turns live leads (``training.data.live_arrays``) into the same ``SnapshotBatch``
shape, so that training and serving feed one feature definition
(``training.features.transformer.LeadFeatures``).

How cutoffs are chosen (timestamped datasets with an events table):

* every lead gets cutoffs ``created_at + k * every_days`` for ``k = 0, 1, 2, ...``. ``k = 0`` (the lead
  at creation, before any engagement) is included by default because serving scores brand-new leads
  too; ``SnapshotPolicy(include_creation=False)`` starts at ``k = 1``;
* cutoffs stop before the lead closes (a cutoff at or after ``closed_at`` is not built and is counted
  as ``after_close``) and at ``observed_until`` (a cutoff may equal it);
* with ``include_handover`` a further cutoff sits exactly at ``handed_over_at`` (when known, not before
  creation, before the close and not after ``observed_until``), unless a periodic cutoff already sits
  there; such rows have ``at_handover = True``;
* cutoffs after ``handed_over_at`` are not kept unless ``include_after_handover`` (counted as
  ``after_handover``): readiness is about leads not yet handed over;
* ``max_per_lead`` thins a lead's kept snapshots to that many, evenly spaced in time (the first is
  always kept).

Labels (``training.features.labels``): the policy's target (``training.features.targets``: won, an
opportunity created, or accepted by sales) reached within the horizon after the cutoff; see there for
censoring, for snapshots after the target was reached (``after_target``) and for the leads that
reached it only after the horizon (``late_positive_leads`` / ``late_positive_snapshots``).

Leads that cannot be placed in time are left out and counted, never dropped silently: no
``created_at`` (``missing_created_at``), or ``won``/``lost`` without ``closed_at``
(``closed_without_closed_at``; won and lost alike, so that leaving them out does not bias the positive
rate). Leads without an outcome row count as open (``missing_outcome``).

Timestamped datasets without events (e.g. an export of marketing-qualified leads): one snapshot per lead
at its ``created_at``, labelled by the horizon as above.

Profile columns: the leads table's values, except for fields with a profile history, which are taken as
of each cutoff (``training.features.profile_asof``), so a value changed after the cutoff does not leak.

Row-order datasets (``TimeBasis.ROW_ORDER``): one snapshot per lead with ``cutoff = NaT`` and the
lead's ``row_order``; label = (status == won); open leads are censored (their outcome is unknown).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from training.data.contract import (
    CLOSED_AT,
    CREATED_AT,
    HANDED_OVER_AT,
    LEAD_ID,
    ROW_ORDER,
    STATUS,
    LeadDataset,
    Outcome,
    TimeBasis,
)
from training.features.labels import (
    known_closes,
    late_positives,
    observed_until_ns,
    outcomes_for_leads,
    row_order_labels,
    target_labels,
    undated_wins,
)
from training.features.profile_asof import profile_at
from training.features.targets import TARGET_DATE_COLUMN, TargetKind, check_target_available, label_notes
from training.features.timestamps import DAY_NS, NAT_NS, timestamps_ns

#: Column of ``SnapshotBatch.snapshots`` holding the point in time the snapshot sees the lead at.
CUTOFF = "cutoff"
#: Boolean column of built snapshots: True for the cutoff placed at ``handed_over_at``.
AT_HANDOVER = "at_handover"

_DAY_NS = DAY_NS
_NAT_NS = NAT_NS


@dataclass
class SnapshotBatch:
    """The input of the feature pipeline, in training and in serving alike.

    ``snapshots`` has one row per (lead, cutoff), index ``0..n-1``: ``lead_id``, ``cutoff`` (UTC
    timestamp; NaT for row-order datasets) and the lead's profile columns; built batches also carry
    ``created_at`` (used for the lead's age), ``row_order`` (row-order datasets) and ``at_handover``.
    ``events`` is a flat events table (``lead_id``, ``occurred_at``, ``event_type``) for those leads; it
    may hold events at or after a snapshot's cutoff, which features must ignore (point in time).
    ``categorical_columns`` / ``numeric_columns`` name the profile columns of ``snapshots`` that
    features may use (numeric includes aggregated activity columns).
    """

    snapshots: pd.DataFrame
    events: pd.DataFrame
    categorical_columns: tuple[str, ...] = field(default=())
    numeric_columns: tuple[str, ...] = field(default=())

    def __len__(self) -> int:
        return len(self.snapshots)

    @property
    def profile_columns(self) -> list[str]:
        return [*self.categorical_columns, *self.numeric_columns]

    @property
    def time_key(self) -> pd.Series:
        """What orders snapshots in time (for the split): ``row_order`` if present, else ``cutoff``."""
        if ROW_ORDER in self.snapshots.columns:
            return self.snapshots[ROW_ORDER]
        return self.snapshots[CUTOFF]

    def take(self, positions: np.ndarray | list[int]) -> SnapshotBatch:
        """The batch restricted to some snapshots (by position); events are shared, not copied."""
        return SnapshotBatch(
            self.snapshots.iloc[positions].reset_index(drop=True),
            self.events,
            self.categorical_columns,
            self.numeric_columns,
        )


@dataclass(frozen=True)
class SnapshotPolicy:
    """Where to cut leads in time and how to label them (see the module docstring)."""

    every_days: int = 7
    horizon_days: int = 90
    include_handover: bool = True
    max_per_lead: int | None = None
    #: Include the cutoff at ``created_at`` itself (``k = 0``): the lead before any engagement.
    include_creation: bool = True
    #: Keep cutoffs after ``handed_over_at``. Off by default: readiness is about leads not yet handed
    #: over (the ones the API is asked about); afterwards the outcome is in sales' hands, and those
    #: snapshots would teach the model the historical hand-over policy rather than ripeness.
    include_after_handover: bool = False
    #: What the label says happened within the horizon (``training.features.targets``).
    target: TargetKind = "won"

    def __post_init__(self) -> None:
        if self.every_days <= 0:
            raise ValueError(f"SnapshotPolicy.every_days must be positive, got {self.every_days}")
        if self.horizon_days <= 0:
            raise ValueError(f"SnapshotPolicy.horizon_days must be positive, got {self.horizon_days}")
        if self.max_per_lead is not None and self.max_per_lead <= 0:
            raise ValueError(f"SnapshotPolicy.max_per_lead must be positive or None, got {self.max_per_lead}")


@dataclass
class LabelledSnapshots:
    """Training snapshots with their labels and an account of what was left out."""

    batch: SnapshotBatch
    #: 1 = won within the horizon after the cutoff (closed_at in (cutoff, cutoff + horizon]), else 0.
    label: np.ndarray
    #: Snapshots left out because their horizon runs past observed_until and the lead had not closed.
    censored_count: int
    #: built, censored, after_close, handover, thinned, positives, leads, leads_with_snapshots,
    #: missing_created_at, closed_without_closed_at, missing_outcome, late_positive_leads, ... (ints).
    counts: dict[str, int]
    #: What a user should know about the labels, in words (e.g. leads that reached the target late).
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.label)

    @property
    def time_key(self) -> pd.Series:
        """Time key per snapshot (``cutoff``, or ``row_order`` for row-order datasets)."""
        return self.batch.time_key


# ----------------------------------------------------------------------------------------- helpers


def _profile_columns(dataset: LeadDataset) -> tuple[tuple[str, ...], tuple[str, ...]]:
    meta = dataset.metadata
    numeric = list(meta.numeric_columns)
    numeric += [c for c in meta.activity_columns if c not in numeric]
    missing = [c for c in [*meta.categorical_columns, *numeric] if c not in dataset.leads.columns]
    if missing:
        raise ValueError(f"leads table: profile columns named in the metadata are missing: {missing}")
    return tuple(meta.categorical_columns), tuple(numeric)


def _snapshot_frame(
    dataset: LeadDataset,
    lead_idx: np.ndarray,
    cutoff_ns: np.ndarray,
    columns: tuple[str, ...],
    extra: dict[str, np.ndarray],
) -> pd.DataFrame:
    leads = dataset.leads
    # ExtensionArray.take keeps every column's own storage (Arrow strings, categoricals): no Python objects.
    frame: dict[str, Any] = {
        LEAD_ID: leads[LEAD_ID].array.take(lead_idx),
        CUTOFF: pd.DatetimeIndex(cutoff_ns.view("datetime64[ns]")).tz_localize("UTC"),
    }
    if CREATED_AT in leads.columns:
        frame[CREATED_AT] = leads[CREATED_AT].array.take(lead_idx)
    for column in columns:
        frame[column] = leads[column].array.take(lead_idx)
    # Fields with a profile history are seen as of the cutoff, not as the leads table has them now.
    frame.update(profile_at(dataset, lead_idx, cutoff_ns, columns))
    frame.update(extra)
    return pd.DataFrame(frame)


# ----------------------------------------------------------------------------------- build_snapshots


def build_snapshots(
    dataset: LeadDataset, policy: SnapshotPolicy = SnapshotPolicy(), *, part_of: int | None = None
) -> LabelledSnapshots:
    """Cut every lead of ``dataset`` at its cutoffs and label each snapshot (rules: module docstring);
    vectorised over leads (cutoffs expanded with ``np.repeat``/``arange``, no loop per lead).
    ``part_of``: ``dataset`` is one group of a larger dataset whose end (``observed_until``, ns) this is
    (Spark builds each group apart); the target's column is then checked on the whole data, not here.
    """
    categorical, numeric = _profile_columns(dataset)
    if part_of is None:
        check_target_available(dataset, policy.target)
    target_date = () if policy.target == "won" else (TARGET_DATE_COLUMN[policy.target],)
    outcomes, missing_outcome = outcomes_for_leads(dataset, target_date)
    if dataset.metadata.time_basis == TimeBasis.ROW_ORDER:
        result = _row_order_snapshots(dataset, outcomes, categorical, numeric)
    else:
        result = _timestamped_snapshots(dataset, outcomes, policy, categorical, numeric, part_of)
    result.counts["missing_outcome"] = missing_outcome
    return result


def _row_order_snapshots(
    dataset: LeadDataset, outcomes: pd.DataFrame, categorical: tuple[str, ...], numeric: tuple[str, ...]
) -> LabelledSnapshots:
    status = outcomes[STATUS].to_numpy()
    known, label = row_order_labels(status)
    lead_idx = np.flatnonzero(known)
    if ROW_ORDER in dataset.leads.columns:
        row_order = dataset.leads[ROW_ORDER].to_numpy()[lead_idx]
    else:
        row_order = lead_idx.copy()  # the leads table is in time order by definition of row_order data
    cutoffs = np.full(len(lead_idx), _NAT_NS, dtype=np.int64)
    frame = _snapshot_frame(dataset, lead_idx, cutoffs, (*categorical, *numeric), {ROW_ORDER: row_order})
    censored = int((~known).sum())
    counts = {
        "leads": len(status),
        "built": len(lead_idx),
        "censored": censored,
        "positives": int(label.sum()),
        "leads_with_snapshots": len(lead_idx),
    }
    batch = SnapshotBatch(frame, dataset.events, categorical, numeric)
    return LabelledSnapshots(batch, label, censored, counts)


def _timestamped_snapshots(
    dataset: LeadDataset,
    outcomes: pd.DataFrame,
    policy: SnapshotPolicy,
    categorical: tuple[str, ...],
    numeric: tuple[str, ...],
    part_of: int | None,
) -> LabelledSnapshots:
    observed_until = observed_until_ns(dataset) if part_of is None else part_of
    every = policy.every_days * _DAY_NS
    horizon = policy.horizon_days * _DAY_NS
    created = timestamps_ns(dataset.leads[CREATED_AT])
    closed = outcomes[CLOSED_AT].to_numpy()
    handover = outcomes[HANDED_OVER_AT].to_numpy()
    status = outcomes[STATUS].to_numpy()
    is_closed = (status == str(Outcome.WON)) | (status == str(Outcome.LOST))
    missing_created = created == _NAT_NS
    closed_unplaced = ~missing_created & is_closed & (closed == _NAT_NS)
    usable = ~missing_created & ~closed_unplaced
    is_won, close_known = known_closes(usable, status, closed, observed_until)

    # Periodic cutoffs k*every after creation: k_first..k_last, before the close, not after the data end.
    age_at_end = np.where(usable, observed_until - created, -1)
    k_last_observed = np.where(age_at_end >= 0, age_at_end // every, -1)
    k_last_open = np.where(close_known, (closed - created - 1) // every, k_last_observed)
    one_per_lead = not dataset.has_events
    k_first = 0 if (policy.include_creation or one_per_lead) else 1
    k_last = np.minimum(k_last_observed, k_last_open)
    if one_per_lead:
        k_last = np.minimum(k_last, 0)
        after_close = close_known & (k_last_open < 0) & (k_last_observed >= 0)
        after_close_count = int(after_close.sum())
    else:
        after_close_count = int(
            np.clip(k_last_observed - np.maximum(k_last_open, k_first - 1), 0, None).sum()
        )
    per_lead = np.clip(k_last - k_first + 1, 0, None)
    lead_idx = np.repeat(np.arange(len(created)), per_lead)
    starts = np.cumsum(per_lead) - per_lead
    k = np.arange(len(lead_idx)) - np.repeat(starts, per_lead) + k_first
    cutoff = created[lead_idx] + k * every
    at_handover = np.zeros(len(lead_idx), dtype=bool)

    handover_count = 0
    if policy.include_handover and not one_per_lead:
        ok = usable & (handover != _NAT_NS) & (handover >= created) & (handover <= observed_until)
        ok &= ~close_known | (handover < closed)
        since = handover - created
        on_periodic = (since % every == 0) & (since // every >= k_first) & (since // every <= k_last)
        periodic_hit = ok & on_periodic
        ok &= ~on_periodic
        extra_idx = np.flatnonzero(ok)
        handover_count = len(extra_idx) + int(periodic_hit.sum())
        if periodic_hit.any():
            hit_rows = periodic_hit[lead_idx] & (cutoff == handover[lead_idx])
            at_handover[hit_rows] = True
        # Merge the handover rows into the (lead, cutoff)-sorted periodic rows without a sort: a lead's
        # handover row lands after its periodic cutoffs that precede it, shifted by earlier handover rows.
        before = np.clip((since[extra_idx] - 1) // every - k_first + 1, 0, per_lead[extra_idx])
        position = starts[extra_idx] + np.arange(len(extra_idx)) + before
        is_extra = np.zeros(len(lead_idx) + len(extra_idx), dtype=bool)
        is_extra[position] = True
        lead_idx = _merge(lead_idx, extra_idx, is_extra)
        cutoff = _merge(cutoff, handover[extra_idx], is_extra)
        at_handover = _merge(at_handover, np.ones(len(extra_idx), dtype=bool), is_extra)

    label, censored, after_target, reached_at = target_labels(
        policy.target, outcomes, lead_idx, cutoff, close_known, is_won, horizon, observed_until
    )
    lead_handover = handover[lead_idx]
    after_handover = (
        np.zeros(len(lead_idx), dtype=bool)
        if policy.include_after_handover
        else (lead_handover != _NAT_NS) & (cutoff > lead_handover)
    )
    keep = ~censored & ~after_handover & ~after_target
    thinned = 0
    if policy.max_per_lead is not None:
        thin_keep = _evenly_spaced(lead_idx[keep], policy.max_per_lead)
        thinned = int((~thin_keep).sum())
        keep[np.flatnonzero(keep)[~thin_keep]] = False

    late = late_positives(label[keep], reached_at[keep], cutoff[keep], horizon, observed_until)
    late_leads = len(np.unique(lead_idx[keep][late]))
    lead_idx, cutoff, label = lead_idx[keep], cutoff[keep], label[keep]
    frame = _snapshot_frame(
        dataset, lead_idx, cutoff, (*categorical, *numeric), {AT_HANDOVER: at_handover[keep]}
    )
    counts = {
        "leads": len(created),
        "built": len(lead_idx),
        "censored": int((censored & ~after_handover & ~after_target).sum()),
        "after_close": after_close_count,
        "after_handover": int(after_handover.sum()),
        "handover": int(at_handover[keep].sum()) if handover_count else 0,
        "thinned": thinned,
        "positives": int(label.sum()),
        "leads_with_snapshots": int(np.count_nonzero(np.diff(lead_idx))) + 1 if len(lead_idx) else 0,
        "missing_created_at": int(missing_created.sum()),
        "closed_without_closed_at": int(closed_unplaced.sum()),
        "late_positive_leads": late_leads,
        "late_positive_snapshots": int(late.sum()),
    }
    if policy.target != "won":
        counts["after_target"] = int((after_target & ~after_handover).sum())
        counts["won_without_target_date"] = undated_wins(policy.target, outcomes, is_won & close_known)
    batch = SnapshotBatch(frame, dataset.events, categorical, numeric)
    return LabelledSnapshots(
        batch, label, counts["censored"], counts, label_notes(policy.target, policy.horizon_days, counts)
    )


def _merge(base: np.ndarray, extra: np.ndarray, is_extra: np.ndarray) -> np.ndarray:
    merged = np.empty(len(is_extra), dtype=base.dtype)
    merged[is_extra] = extra
    merged[~is_extra] = base
    return merged


def _evenly_spaced(group: np.ndarray, limit: int) -> np.ndarray:
    """Mask keeping at most ``limit`` rows per run of equal ``group`` values, evenly spaced in each run.

    Row ``j`` of a run of length ``m > limit`` is kept iff ``j == floor(i * m / limit)`` for some
    ``i < limit``, which is ``i = ceil(j * limit / m)``; ``group`` must be sorted.
    """
    if len(group) == 0:
        return np.ones(0, dtype=bool)
    run_start = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    run_length = np.diff(np.r_[run_start, len(group)])
    m = np.repeat(run_length, run_length)
    j = np.arange(len(group)) - np.repeat(run_start, run_length)
    i = (j * limit + m - 1) // m
    return (m <= limit) | ((i < limit) & ((i * m) // limit == j))

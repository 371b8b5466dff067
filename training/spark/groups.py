"""What each Spark executor runs for training: one group of leads with their events, through the
single-machine functions (``validate_tables``, the exclusions, ``build_snapshots``,
``LeadFeatures.transform``), never a second implementation of them.

A group's rows reach the executor in no particular order; ``ROW`` (each row's position in its table as
Spark read it) restores the input order first, so that validation orders the group's leads as it
orders the whole table and the snapshots come out in the single machine's order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from training.audit.exclusions import resolve_exclusions, without_columns
from training.config import TrainConfig
from training.data.contract import CREATED_AT, LEAD_ID, DatasetMetadata, LeadDataset
from training.data.validation import ValidationReport, validate_tables
from training.features.snapshots import CUTOFF, LabelledSnapshots, build_snapshots
from training.features.timestamps import timestamps_ns
from training.features.transformer import LeadFeatures
from training.snapshot_source import snapshot_policy
from training.spark.session import BUCKET, times_from_nanos

#: Each lead's (event's) position in its table as read; orders a group's rows as the input had them.
ROW = "_leadripe_row"
#: On leads joined with the outcomes table: True where the lead had an outcome row.
HAS_OUTCOME = "_leadripe_has_outcome"
#: The snapshot keys phase: one row per snapshot, and per group one row with its counts (lead_id null).
KEY_SCHEMA = f"lead_id string, {ROW} bigint, created_ns bigint, cutoff_ns bigint, label int, counts string"


@dataclass(frozen=True)
class GroupPlan:
    """What every group is built with: the dataset's metadata, the run's config and the whole data's end
    (``observed_until`` in ns, which labels and censoring are relative to)."""

    metadata: DatasetMetadata
    config: TrainConfig
    observed_until_ns: int
    #: outcome columns joined onto the leads (from the outcomes table), split off again in the group
    outcome_columns: tuple[str, ...] = ()


def group_dataset(
    leads: pd.DataFrame, events: pd.DataFrame, plan: GroupPlan
) -> tuple[LeadDataset, ValidationReport, pd.Series]:
    """The group's tables validated (strict: any problem raises, naming column and row within the group),
    the validation's report, and each lead's ``ROW`` by lead id."""
    leads = times_from_nanos(leads.drop(columns=[BUCKET], errors="ignore").sort_values(ROW, kind="stable"))
    events = times_from_nanos(events.drop(columns=[BUCKET], errors="ignore").sort_values(ROW, kind="stable"))
    rows = pd.Series(leads[ROW].to_numpy(), index=leads[LEAD_ID].astype(str).to_numpy())
    leads = leads.drop(columns=[ROW]).reset_index(drop=True)
    events = events.drop(columns=[ROW]).reset_index(drop=True)
    outcomes = None
    if plan.outcome_columns:
        had = leads[HAS_OUTCOME].fillna(False).astype(bool).to_numpy()
        outcomes = leads.loc[had, [LEAD_ID, *plan.outcome_columns]].reset_index(drop=True)
        leads = leads.drop(columns=[HAS_OUTCOME, *plan.outcome_columns])
    dataset, report = validate_tables(leads, events, outcomes, plan.metadata, mode="strict")
    return dataset, report, rows


def group_snapshots(dataset: LeadDataset, plan: GroupPlan, *, exclude: bool = True) -> LabelledSnapshots:
    """The group's labelled snapshots, as the whole data's build would give them for these leads; with
    ``exclude``, the excluded columns are dropped first (``fit_and_evaluate`` does that itself)."""
    if exclude:
        dataset = without_columns(dataset, list(resolve_exclusions(dataset, plan.config.exclude_columns)))
    return build_snapshots(dataset, snapshot_policy(plan.config), part_of=plan.observed_until_ns)


def snapshot_keys(leads: pd.DataFrame, events: pd.DataFrame, plan: GroupPlan) -> pd.DataFrame:
    """Each snapshot of the group as (lead id, lead's ``ROW``, created_at, cutoff, label), and one row with
    the group's snapshot counts as JSON: all the driver needs to split by time and sample by lead."""
    if not len(leads):
        return pd.DataFrame(
            {name: [] for name in (LEAD_ID, ROW, "created_ns", "cutoff_ns", "label", "counts")}
        )
    dataset, _, rows = group_dataset(leads, events, plan)
    labelled = group_snapshots(dataset, plan)
    snapshots = labelled.batch.snapshots
    ids = snapshots[LEAD_ID].astype(str).to_numpy()
    keys = pd.DataFrame(
        {
            LEAD_ID: ids.astype(object),
            ROW: rows.reindex(pd.Index(ids)).to_numpy(dtype=np.int64),
            "created_ns": timestamps_ns(snapshots[CREATED_AT]),
            "cutoff_ns": timestamps_ns(snapshots[CUTOFF]),
            "label": labelled.label.astype(np.int32),
            "counts": None,
        }
    )
    counts = pd.DataFrame(
        {
            LEAD_ID: [None],
            ROW: [-1],
            "created_ns": [0],
            "cutoff_ns": [0],
            "label": [0],
            "counts": [json.dumps(labelled.counts)],
        }
    )
    return pd.concat([keys, counts], ignore_index=True)


def feature_rows(
    leads: pd.DataFrame, events: pd.DataFrame, plan: GroupPlan, features: LeadFeatures, keep: pd.DataFrame
) -> pd.DataFrame:
    """The features of the group's snapshots listed in ``keep`` (``lead_id``, ``cutoff_ns``): the lead id,
    the cutoff, then column ``f<i>`` for the i-th feature (categorical ones as their category codes)."""
    columns = [LEAD_ID, "cutoff_ns", *(f"f{i}" for i in range(len(features.feature_names_)))]
    if not len(leads):
        return pd.DataFrame({name: [] for name in columns})
    dataset, _, _ = group_dataset(leads, events, plan)
    batch = group_snapshots(dataset, plan).batch
    snapshots = pd.DataFrame(
        {
            LEAD_ID: batch.snapshots[LEAD_ID].astype(str).to_numpy(),
            "cutoff_ns": timestamps_ns(batch.snapshots[CUTOFF]),
        }
    )
    wanted = snapshots.reset_index().merge(keep, on=[LEAD_ID, "cutoff_ns"], how="inner")
    frame = features.transform(batch.take(wanted["index"].to_numpy()))
    out = {LEAD_ID: wanted[LEAD_ID].astype(object).to_numpy(), "cutoff_ns": wanted["cutoff_ns"].to_numpy()}
    for i, name in enumerate(features.feature_names_):
        values = frame[name]
        out[f"f{i}"] = (
            values.cat.codes.to_numpy(dtype=np.int32)
            if isinstance(values.dtype, pd.CategoricalDtype)
            else values.to_numpy()
        )
    return pd.DataFrame(out)

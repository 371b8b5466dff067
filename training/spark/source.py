"""``leadripe train --engine spark``: snapshots and features built on Spark, the model fit on the driver.

What runs where:

1. executors (``training.spark.groups.snapshot_keys``): every lead's group is validated and cut into
   labelled snapshots by ``build_snapshots`` against the whole data's end; only each snapshot's key
   (lead, cutoff, label) and the counts reach the driver;
2. driver: the time split with its horizon gap and the sampling by lead (``split_and_sample``, the
   single machine's functions on the same keys in the same order), so memory is bounded by the
   snapshot budgets, not by the data;
3. executors -> driver: the kept leads' rows and events (the training and test leads only), validated
   again on the driver: the leakage audit, the points baseline, the decision and the report read them;
4. driver: ``LeadFeatures.fit`` on the training snapshots (vocabulary, high-intent types and levels);
5. executors (``training.spark.groups.feature_rows``): the fitted transformer, broadcast, computes the
   features of the kept snapshots; the driver collects the feature matrix and fits and evaluates the
   model on it exactly as on one machine (``training.pipeline.fit_and_evaluate``).

The result equals the single-machine run's on the same data (same snapshots, split, sample, features and
so the same model and test metrics), with two differences that do not touch the model: the leakage
audit, the data fingerprint and the report see the kept leads only, and lenient mode is not offered
(strict validation in the executors; a bad row stops the run naming its column).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from training.config import TrainConfig
from training.data.contract import (
    CLOSED_AT,
    CREATED_AT,
    HANDED_OVER_AT,
    LEAD_ID,
    OCCURRED_AT,
    LeadDataset,
    TimeBasis,
)
from training.data.validation import ValidationReport
from training.features.snapshots import CUTOFF, SnapshotBatch
from training.features.targets import TARGET_DATE_COLUMN, label_notes
from training.features.timestamps import NAT_NS, timestamps_ns
from training.features.transformer import LeadFeatures
from training.model.sampling import SnapshotSample
from training.model.split import SplitInfo
from training.snapshot_source import PreparedSnapshots, StageCallback, split_and_sample
from training.spark.groups import (
    HAS_OUTCOME,
    KEY_SCHEMA,
    ROW,
    GroupPlan,
    feature_rows,
    group_dataset,
    group_snapshots,
    snapshot_keys,
)
from training.spark.session import (
    BUCKET,
    dataset_metadata,
    executor_errors,
    nanos_without_nulls,
    optional_table,
    with_bucket,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

#: Leads per group: one group's leads, events and snapshots must fit an executor's Python worker.
DEFAULT_LEADS_PER_BUCKET = 50_000


class SparkTrainingError(ValueError):
    """The dataset cannot be trained on with Spark (the message says why and what to do)."""


@dataclass
class SparkTables:
    """The dataset folder's tables on Spark: leads (outcomes joined, ``ROW``, ``BUCKET``) and events."""

    leads: DataFrame
    events: DataFrame
    plan: GroupPlan
    n_leads: int


@dataclass
class SparkSnapshots:
    """The ``SnapshotSource`` of a Spark run (``training.snapshot_source``): the split and sample were
    decided on the whole data's keys; ``prepare`` finds them among the kept leads' snapshots and
    ``features`` has the executors compute the feature matrix."""

    tables: SparkTables
    keys: pd.DataFrame  # every snapshot's key in the single machine's order
    train_keys: np.ndarray  # positions of the kept training snapshots in ``keys``
    test_keys: np.ndarray
    split: SplitInfo
    sampling: dict[str, SnapshotSample]
    counts: dict[str, int]
    notes: list[str] = field(default_factory=list)

    def prepare(self, dataset: LeadDataset, config: TrainConfig, stage: StageCallback) -> PreparedSnapshots:
        """The kept leads' snapshots (built here, as the executors built them) with the split's positions."""
        labelled = group_snapshots(dataset, self.tables.plan, exclude=False)
        snapshots = labelled.batch.snapshots
        index = pd.MultiIndex.from_arrays(
            [snapshots[LEAD_ID].astype(str).to_numpy(), timestamps_ns(snapshots[CUTOFF])]
        )
        positions = []
        for rows in (self.train_keys, self.test_keys):
            wanted = self.keys.iloc[rows]
            found = index.get_indexer(pd.MultiIndex.from_arrays([wanted[LEAD_ID], wanted["cutoff_ns"]]))
            if (found < 0).any() or (np.diff(found) <= 0).any():
                raise RuntimeError("Spark snapshots differ from the driver's for the same leads (a bug)")
            if not np.array_equal(labelled.label[found], wanted["label"].to_numpy()):
                raise RuntimeError("Spark labels differ from the driver's for the same snapshots (a bug)")
            positions.append(found)
        return PreparedSnapshots(
            labelled, positions[0], positions[1], self.split, self.sampling, self.counts, self.notes
        )

    def features(
        self, features: LeadFeatures, train: SnapshotBatch, y_train: np.ndarray, test: SnapshotBatch
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Fit on the driver; the executors transform the kept snapshots; the driver collects them."""
        features.fit(train, y_train)
        keep = pd.concat([_keys_of(train), _keys_of(test)], ignore_index=True)
        tables = self.tables
        session = tables.leads.sparkSession
        shared = session.sparkContext.broadcast((features, keep, tables.plan))

        def run(leads: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
            fitted, wanted, plan = shared.value
            return feature_rows(leads, events, plan, fitted, wanted)

        kind = "float" if np.dtype(features.float_dtype) == np.float32 else "double"
        specs = features.feature_specs()
        schema = ", ".join(
            [f"{LEAD_ID} string", "cutoff_ns bigint"]
            + [
                f"f{i} {'int' if spec.name in features.categorical_features_ else kind}"
                for i, spec in enumerate(specs)
            ]
        )
        leads, events = _kept(tables, keep[LEAD_ID].unique())
        with executor_errors():
            rows = (
                leads.groupBy(BUCKET)
                .cogroup(events.groupBy(BUCKET))
                .applyInPandas(run, schema=schema)
                .toPandas()
            )
        shared.unpersist()
        template = features.transform(train.take(np.arange(min(1, len(train)))))
        index = pd.MultiIndex.from_arrays([rows[LEAD_ID].to_numpy(), rows["cutoff_ns"].to_numpy()])
        return _frame(rows, index, _keys_of(train), template), _frame(rows, index, _keys_of(test), template)


def _keys_of(batch: SnapshotBatch) -> pd.DataFrame:
    return pd.DataFrame(
        {
            LEAD_ID: batch.snapshots[LEAD_ID].astype(str).to_numpy(dtype=object),
            "cutoff_ns": timestamps_ns(batch.snapshots[CUTOFF]),
        }
    )


def _frame(
    rows: pd.DataFrame, index: pd.MultiIndex, keys: pd.DataFrame, template: pd.DataFrame
) -> pd.DataFrame:
    """The feature frame of the snapshots ``keys`` from the collected rows, as ``LeadFeatures.transform``
    lays it out (``template``: its columns and dtypes)."""
    found = index.get_indexer(pd.MultiIndex.from_arrays([keys[LEAD_ID], keys["cutoff_ns"]]))
    if (found < 0).any():
        raise RuntimeError(f"Spark returned no features for {int((found < 0).sum())} snapshots (a bug)")
    numeric = [name for name in template.columns if not isinstance(template[name].dtype, pd.CategoricalDtype)]
    position = {name: i for i, name in enumerate(template.columns)}
    block = np.empty(
        (len(numeric), len(found)), dtype=np.dtype(str(template[numeric[0]].dtype)) if numeric else np.float64
    )
    for k, name in enumerate(numeric):
        block[k] = rows[f"f{position[name]}"].to_numpy()[found]
    frame = pd.DataFrame(block.T, columns=numeric, copy=False)
    for name in template.columns:
        dtype = template[name].dtype
        if isinstance(dtype, pd.CategoricalDtype):
            codes = rows[f"f{position[name]}"].to_numpy(dtype=np.int32)[found]
            frame[name] = pd.Categorical.from_codes(codes, dtype=dtype)
    return frame[list(template.columns)]


def read_tables(
    root: str, session: SparkSession, config: TrainConfig, leads_per_bucket: int = DEFAULT_LEADS_PER_BUCKET
) -> SparkTables:
    """The dataset folder's Parquet tables (``leads``, optional ``events`` and ``outcomes``, ``dataset.json``)
    as Spark DataFrames grouped by lead; refuses what Spark training does not support, saying why."""
    from pyspark.sql import functions as F

    root = root.rstrip("/")
    metadata = dataset_metadata(root, session)
    if metadata.time_basis == TimeBasis.ROW_ORDER:
        raise SparkTrainingError(
            f"{root}: a row-order dataset has no time axis to cut on Spark; train it with --engine local"
        )
    if not metadata.profile_columns:
        raise SparkTrainingError(
            f"{root}/dataset.json declares no profile columns; Spark training needs them declared (each "
            "group of leads would infer its own); `leadripe import` writes them, or train with --engine local"
        )
    leads = session.read.parquet(f"{root}/leads.parquet").withColumn(ROW, F.monotonically_increasing_id())
    outcome_columns: tuple[str, ...] = ()
    outcomes = optional_table(session, f"{root}/outcomes.parquet")
    if outcomes is not None:
        outcome_columns = tuple(c for c in outcomes.columns if c != LEAD_ID)
        clash = sorted(set(outcome_columns) & set(leads.columns))
        if clash:
            raise SparkTrainingError(
                f"{root}: leads.parquet and outcomes.parquet both have the columns {clash}; keep them in one"
            )
        leads = leads.join(outcomes.withColumn(HAS_OUTCOME, F.lit(True)), LEAD_ID, "left")
    events = optional_table(session, f"{root}/events.parquet")
    if events is None:
        events = session.createDataFrame([], f"{LEAD_ID} string, {OCCURRED_AT} bigint, event_type string")
    events = nanos_without_nulls(events.withColumn(ROW, F.monotonically_increasing_id()))
    leads = nanos_without_nulls(leads)
    _check_target(leads, config, root)
    n_leads = leads.count()
    buckets = max(1, -(-n_leads // leads_per_bucket), session.sparkContext.defaultParallelism)
    until = _observed_until(metadata.observed_until, leads, events, root)
    plan = GroupPlan(metadata, config, until, outcome_columns)
    return SparkTables(with_bucket(leads, buckets), with_bucket(events, buckets), plan, n_leads)


def _check_target(leads: DataFrame, config: TrainConfig, root: str) -> None:
    """The target's date column exists and has a date (as ``check_target_available`` on one machine)."""
    kind = config.target.kind
    if kind == "won":
        return
    column = TARGET_DATE_COLUMN[kind]
    if column not in leads.columns or leads.where(leads[column].isNotNull()).limit(1).count() == 0:
        raise SparkTrainingError(
            f"target '{kind}' is learnt from the outcome column '{column}', which {root}/outcomes.parquet "
            "does not have (or has no dates in); add it or train the target 'won'"
        )


def _observed_until(declared: pd.Timestamp | None, leads: DataFrame, events: DataFrame, root: str) -> int:
    """``observed_until_ns`` of the whole data: the metadata's, else the latest timestamp anywhere."""
    if declared is not None:
        return int(timestamps_ns([declared])[0])
    from pyspark.sql import functions as F

    latest = []
    for frame, columns in ((leads, (CREATED_AT, HANDED_OVER_AT, CLOSED_AT)), (events, (OCCURRED_AT,))):
        types = dict(frame.dtypes)
        for column in columns:
            if column not in types:
                continue
            if types[column] == "bigint":  # nanoseconds, missing ones as NAT_NS (the smallest long)
                value = frame.agg(F.max(column)).collect()[0][0]
            elif types[column].startswith("timestamp"):
                value = frame.agg(F.max(F.unix_micros(F.col(column))) * 1000).collect()[0][0]
            else:
                raise SparkTrainingError(
                    f"{root}: column {column} is stored as {types[column]}, not as a Parquet timestamp; "
                    "set observed_until in dataset.json or convert the column (leadripe import does)"
                )
            if value is not None and value != NAT_NS:
                latest.append(int(value))
    if not latest:
        raise SparkTrainingError(f"{root}: no timestamps at all; set observed_until in dataset.json")
    return max(latest)


def _kept(tables: SparkTables, lead_ids: np.ndarray) -> tuple[DataFrame, DataFrame]:
    """The leads and events of ``lead_ids`` only (a broadcast semi-join)."""
    from pyspark.sql import functions as F

    session = tables.leads.sparkSession
    ids = session.createDataFrame(pd.DataFrame({"_kept_id": pd.Series(lead_ids, dtype=object)}))
    ids = F.broadcast(ids)
    leads = tables.leads.join(ids, F.col(LEAD_ID).cast("string") == F.col("_kept_id"), "left_semi")
    events = tables.events.join(ids, F.col(LEAD_ID).cast("string") == F.col("_kept_id"), "left_semi")
    return leads, events


def load_with_spark(
    root: str, config: TrainConfig, stage: StageCallback, session: SparkSession | None = None
) -> tuple[LeadDataset, ValidationReport, SparkSnapshots]:
    """``spark_training_data`` in a Spark session of its own (``spark_session``), with a validation report
    of the whole data (strict: every row read was kept, or the run stopped)."""
    from training.spark.session import spark_session

    session = session or spark_session(app_name="leadripe-train")
    dataset, source = spark_training_data(root, config, session, stage)
    tables = source.tables
    n_events = tables.events.count()
    read = {"leads": tables.n_leads, "events": n_events}
    return dataset, ValidationReport(rows_read=read, rows_kept=dict(read)), source


def spark_training_data(
    root: str, config: TrainConfig, session: SparkSession, stage: StageCallback
) -> tuple[LeadDataset, SparkSnapshots]:
    """Steps 1-3 of the module docstring: the kept leads' dataset (for ``fit_and_evaluate``) and the
    ``SparkSnapshots`` that hand it the split, the sample and (step 5) the features."""
    tables = read_tables(root, session, config)
    plan = tables.plan
    stage(f"building the snapshots of {tables.n_leads:,} leads on Spark")

    def run(leads: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
        return snapshot_keys(leads, events, plan)

    with executor_errors():
        rows = (
            tables.leads.groupBy(BUCKET)
            .cogroup(tables.events.groupBy(BUCKET))
            .applyInPandas(run, schema=KEY_SCHEMA)
            .toPandas()
        )
    is_counts = rows[LEAD_ID].isna().to_numpy()
    counts: dict[str, int] = {}
    for text in rows.loc[is_counts, "counts"]:
        for name, value in json.loads(text).items():
            counts[name] = counts.get(name, 0) + int(value)
    keys = rows.loc[~is_counts].sort_values(["created_ns", ROW, "cutoff_ns"], kind="stable")
    keys = keys.reset_index(drop=True)
    notes = label_notes(config.target.kind, config.horizon_days, counts)
    stage(f"splitting {len(keys):,} snapshots by time")
    cutoffs = pd.Series(
        pd.DatetimeIndex(keys["cutoff_ns"].to_numpy().view("datetime64[ns]")).tz_localize("UTC")
    )
    lead_ids = keys[LEAD_ID].astype(object)
    train_keys, test_keys, split, sampling = split_and_sample(
        cutoffs, keys["label"].to_numpy(), lead_ids, config, row_order=False, label_notes=notes
    )
    kept = pd.unique(np.concatenate([lead_ids.to_numpy()[train_keys], lead_ids.to_numpy()[test_keys]]))
    stage(f"collecting the {len(kept):,} training and test leads from Spark")
    leads, events = _kept(tables, kept)
    with executor_errors():
        dataset, _, _ = group_dataset(leads.drop(BUCKET).toPandas(), events.drop(BUCKET).toPandas(), plan)
    source = SparkSnapshots(tables, keys, train_keys, test_keys, split, sampling, counts, notes)
    return dataset, source

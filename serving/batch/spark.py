"""Batch scoring on Apache Spark: the same validation, features, model and answers, run in executors.

Spark does the part one machine cannot: it reads the leads and events wherever they are (any path Spark
reads, e.g. ``s3a://`` or HDFS Parquet), hashes each lead to one of ``buckets`` groups and brings every
group's leads and events together on one executor (``cogroup``). Inside the executor each group runs
exactly the single-machine code: ``validate_tables`` (the data contract), ``ScoringTables`` (one
snapshot per lead at ``as_of``), ``LeadFeatures.transform_arrays`` and the model through
``serving.batch.answers`` -- no second implementation of anything. The model is loaded once per
executor Python worker from the MLflow model URI (resolved to a version on the driver, so every
executor scores with the same one) and kept for the worker's later tasks.

Spark's timestamps carry microseconds; Parquet timestamps in nanoseconds (what pandas writes) are read
as their int64 nanoseconds (``spark.sql.legacy.parquet.nanosAsLong``) and turned back into times in the
executor, so no precision is lost and Spark's answers equal the single machine's exactly. Errors in the
data name the column and the row within its group (not the file's row).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from serving.batch.answers import answer_columns
from serving.batch.output import OutputFormat, crm_rows
from serving.batch.run import AsOfCounts, BatchPlan, BatchSummary, score_chunks
from serving.batch.tables import ScoringTables
from training.data.contract import LEAD_ID, OUTCOME_TIMESTAMPS, STATUS, DatasetMetadata
from training.data.validation import validate_tables
from training.spark.session import (
    BUCKET,
    NANOS_AS_LONG,
    dataset_metadata,
    nanos_without_nulls,
    optional_table,
    plain_strings,
    spark_session,
    times_from_nanos,
    with_bucket,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from serving.scorer import LeadScorer

#: Groups per Spark partition of the input: enough that one group's leads and events fit an executor.
DEFAULT_LEADS_PER_BUCKET = 50_000
_OUTCOME_COLUMNS = (STATUS, *OUTCOME_TIMESTAMPS)
_SCORERS: dict[str, LeadScorer] = {}


def executor_scorer(model_uri: str, tracking_uri: str | None) -> LeadScorer:
    """The model of ``model_uri``, loaded once per Python worker and kept for its later tasks."""
    scorer = _SCORERS.get(model_uri)
    if scorer is None:
        if tracking_uri is not None and not Path(model_uri).is_dir():
            import mlflow

            mlflow.set_tracking_uri(tracking_uri)
        from serving.model_holder import load_model

        scorer = _SCORERS[model_uri] = load_model(model_uri).scorer
    return scorer


def score_group(
    leads: pd.DataFrame,
    events: pd.DataFrame,
    *,
    model_uri: str,
    tracking_uri: str | None,
    metadata: DatasetMetadata,
    plan: BatchPlan,
    output_format: OutputFormat,
) -> pd.DataFrame:
    """Score one group of leads with their events (what each executor runs; see the module docstring)."""
    scorer = executor_scorer(model_uri, tracking_uri)
    columns = answer_columns(plan.answers.reasons_per_side)
    if not len(leads):
        return pd.DataFrame({name: [] for name in columns})
    leads = times_from_nanos(leads.drop(columns=[BUCKET]))
    events = times_from_nanos(events.drop(columns=[BUCKET], errors="ignore"))
    outcome_columns = [c for c in _OUTCOME_COLUMNS if c in leads.columns]
    outcomes = leads[[LEAD_ID, *outcome_columns]] if STATUS in leads.columns else None
    dataset, _ = validate_tables(
        leads.drop(columns=outcome_columns) if outcomes is not None else leads,
        events,
        outcomes,
        metadata,
        mode="strict",
    )
    tables = ScoringTables.from_dataset(dataset, scorer.categorical_columns, scorer.numeric_columns)
    frames = list(score_chunks(scorer, tables, plan, BatchSummary()))
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({n: [] for n in columns})
    return plain_strings(crm_rows(frame) if output_format == "crm-csv" else frame)


def score_spark_frames(
    leads: DataFrame,
    events: DataFrame | None,
    *,
    model_uri: str,
    plan: BatchPlan,
    metadata: DatasetMetadata,
    outcomes: DataFrame | None = None,
    tracking_uri: str | None = None,
    buckets: int | None = None,
    output_format: OutputFormat = "parquet",
) -> DataFrame:
    """The answers as a Spark DataFrame, for Spark jobs that hold the tables already (lazy: nothing runs
    until it is written or collected). ``outcomes`` (optional) is joined onto the leads by ``lead_id``."""

    if outcomes is not None:
        leads = leads.join(
            outcomes.select(LEAD_ID, *[c for c in _OUTCOME_COLUMNS if c in outcomes.columns]), LEAD_ID, "left"
        )
    leads = nanos_without_nulls(leads)
    n_buckets = buckets or max(1, leads.rdd.getNumPartitions())
    leads = with_bucket(leads, n_buckets)
    if events is None:
        events = leads.sparkSession.createDataFrame(
            [], f"{LEAD_ID} string, occurred_at timestamp, event_type string"
        )
    events = with_bucket(nanos_without_nulls(events), n_buckets)
    schema = _spark_schema(plan.answers.reasons_per_side, output_format)

    def run(group_leads: pd.DataFrame, group_events: pd.DataFrame) -> pd.DataFrame:
        return score_group(
            group_leads,
            group_events,
            model_uri=model_uri,
            tracking_uri=tracking_uri,
            metadata=metadata,
            plan=plan,
            output_format=output_format,
        )

    return leads.groupBy(BUCKET).cogroup(events.groupBy(BUCKET)).applyInPandas(run, schema=schema)


def score_with_spark(
    data: Path | str,
    plan: BatchPlan,
    out: Path | str,
    *,
    model_uri: str,
    output_format: OutputFormat = "parquet",
    changed_since: Path | str | None = None,
    spark: SparkSession | None = None,
    leads_per_bucket: int = DEFAULT_LEADS_PER_BUCKET,
    on_progress: Callable[[int, int], None] | None = None,
) -> BatchSummary:
    """``leadripe score --engine spark``: read the dataset folder's Parquet tables with Spark, score them
    (``score_spark_frames``) and write ``out`` as a Spark output directory (Parquet, or CSV part files
    with a header for ``crm-csv``). ``changed_since`` keeps only leads whose verdict or grade differs
    from their latest row in a previous Parquet output (or that are new)."""
    from pyspark.sql import functions as F

    from serving.model_holder import resolve_model_uri
    from training.registry.tracking import configure_tracking

    started = time.perf_counter()
    session = spark or spark_session()
    session.conf.set(NANOS_AS_LONG, "true")
    root = str(data).rstrip("/")
    tracking_uri = None if Path(model_uri).is_dir() else configure_tracking()
    resolved = resolve_model_uri(model_uri)
    metadata = dataset_metadata(root, session)
    leads = session.read.parquet(f"{root}/leads.parquet")
    events = optional_table(session, f"{root}/events.parquet")
    outcomes = optional_table(session, f"{root}/outcomes.parquet")
    n_leads = leads.count()
    buckets = max(1, -(-n_leads // leads_per_bucket), session.sparkContext.defaultParallelism)
    answers = score_spark_frames(
        leads,
        events,
        model_uri=resolved,
        plan=plan,
        metadata=metadata,
        outcomes=outcomes,
        tracking_uri=tracking_uri,
        buckets=buckets,
        output_format="parquet",
    )
    summary = BatchSummary()
    answers = answers.cache()
    for row in answers.groupBy("verdict").count().collect():
        summary.by_verdict[str(row["verdict"])] = int(row["count"])
    for row in answers.groupBy("grade").count().collect():
        summary.by_grade[str(row["grade"])] = int(row["count"])
    for row in answers.groupBy("as_of").count().orderBy("as_of").collect():
        summary.per_as_of.append(
            AsOfCounts(pd.Timestamp(row["as_of"], tz="UTC"), int(row["count"]), None, None)
        )
    summary.rows_scored = sum(summary.by_verdict.values())
    if changed_since is not None:
        previous = session.read.parquet(str(changed_since))
        latest = previous.groupBy(LEAD_ID).agg(
            F.max_by(F.struct("verdict", "grade"), "as_of").alias("before")
        )
        joined = answers.join(latest, LEAD_ID, "left")
        changed = (
            F.col("before").isNull()
            | (F.col("before.verdict") != F.col("verdict"))
            | (F.col("before.grade") != F.col("grade"))
        )
        answers = joined.where(changed).drop("before")
    written = answers.count()
    summary.rows_written = written
    summary.rows_unchanged = summary.rows_scored - written
    if output_format == "crm-csv":
        crm = answers.mapInPandas(
            _crm_batches, schema=_spark_schema(plan.answers.reasons_per_side, "crm-csv")
        )
        crm.write.mode("overwrite").option("header", True).csv(str(out))
    else:
        answers.write.mode("overwrite").parquet(str(out))
    answers.unpersist()
    if on_progress is not None:
        on_progress(summary.rows_scored, summary.rows_scored)
    summary.seconds = time.perf_counter() - started
    return summary


def _crm_batches(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    for frame in frames:
        frame = frame.assign(as_of=pd.to_datetime(frame["as_of"], utc=True))
        yield plain_strings(crm_rows(frame))


def _spark_schema(reasons_per_side: int, output_format: OutputFormat) -> str:
    columns = answer_columns(reasons_per_side)
    if output_format == "crm-csv":
        return (
            "lead_id string, as_of string, score double, handover_score double, grade string, "
            "verdict string, handover string, "
            "fit string, interest bigint, reasons_up string, reasons_down string, model_version string"
        )
    return ", ".join(f"`{name}` {kind}" for name, kind in columns.items())


__all__: list[Any] = ["score_group", "score_spark_frames", "score_with_spark", "spark_session"]

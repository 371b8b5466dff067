"""Spark sessions and the dataset folder's tables as Spark DataFrames, for training and batch scoring.

Spark's timestamps carry microseconds; Parquet timestamps in nanoseconds (what pandas writes) are read
as their int64 nanoseconds (``spark.sql.legacy.parquet.nanosAsLong``) and turned back into times in the
executors (``times_from_nanos``), so no precision is lost and Spark's results equal the single
machine's exactly. Each lead is hashed to one of a number of groups (``with_bucket``); a group's leads
and events meet on one executor (``cogroup``), which runs the single-machine code on them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from training.data.contract import (
    CREATED_AT,
    LEAD_ID,
    METADATA_FILE,
    OCCURRED_AT,
    OUTCOME_TIMESTAMPS,
    TARGET_DATES,
    DatasetMetadata,
)
from training.features.snapshot_arrays import NAT_NS

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

#: Column with each lead's group (a hash of its id), on leads and events alike.
BUCKET = "_leadripe_bucket"
TIME_COLUMNS = (CREATED_AT, OCCURRED_AT, *OUTCOME_TIMESTAMPS, *TARGET_DATES)
NANOS_AS_LONG = "spark.sql.legacy.parquet.nanosAsLong"


def spark_session(master: str | None = None, app_name: str = "leadripe") -> SparkSession:
    """A Spark session with UTC as its time zone (the data contract's) and Arrow transfers on.

    Under ``spark-submit`` the cluster's master and settings apply. Otherwise Spark runs on this machine:
    ``master``, else ``LEADRIPE_SPARK_MASTER``, else ``local[*]``, with the driver's memory from
    ``LEADRIPE_SPARK_DRIVER_MEMORY`` (default 4g)."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app_name)
    if master is None and "PYSPARK_GATEWAY_PORT" not in os.environ:
        # Not launched by spark-submit (which starts the JVM first and says where): run Spark here.
        master = os.environ.get("LEADRIPE_SPARK_MASTER", "local[*]")
    if master is not None:
        # Local executors run this interpreter (its virtual environment), not whatever python3 is first
        # on the PATH; on a cluster, spark-submit's PYSPARK_PYTHON decides.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        # In local mode the driver's JVM is the executor too; Spark's 1 GiB default is too small for
        # buckets of 50,000 leads and their events on the way to Python.
        builder = builder.master(master).config(
            "spark.driver.memory", os.environ.get("LEADRIPE_SPARK_DRIVER_MEMORY", "4g")
        )
    return (
        builder.config("spark.sql.session.timeZone", "UTC")
        .config(NANOS_AS_LONG, "true")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )


def dataset_metadata(root: str, session: SparkSession) -> DatasetMetadata:
    """``dataset.json`` of the dataset folder (read through Spark, so remote paths work too)."""
    root = root.rstrip("/")
    try:
        text = "\n".join(
            row.value for row in session.read.text(f"{root}/{METADATA_FILE}", wholetext=True).collect()
        )
    except Exception:  # no dataset.json: a default one, as load_dataset does
        return DatasetMetadata(name=root.rsplit("/", 1)[-1])
    return DatasetMetadata.from_json(text)


def optional_table(session: SparkSession, path: str) -> DataFrame | None:
    """The Parquet table at ``path``, or None when there is none."""
    try:
        return session.read.parquet(path)
    except Exception as error:  # a missing optional table; anything else is the user's to see
        if "PATH_NOT_FOUND" in str(error) or "does not exist" in str(error):
            return None
        raise


def times_from_nanos(frame: pd.DataFrame) -> pd.DataFrame:
    """Time columns read as int64 nanoseconds (see the module docstring; missing ones as int64's
    minimum, ``nanos_without_nulls``) back as UTC times."""
    for column in TIME_COLUMNS:
        if column in frame.columns and pd.api.types.is_integer_dtype(frame[column].dtype):
            nanos = frame[column].to_numpy(dtype=np.int64)
            frame[column] = pd.DatetimeIndex(nanos.view("datetime64[ns]")).tz_localize("UTC")
    return frame


def nanos_without_nulls(frame: DataFrame) -> DataFrame:
    """Nanosecond time columns (read as longs) with missing values as int64's minimum, pandas' NaT: a
    nullable long would reach pandas as float64 and lose its last digits."""
    from pyspark.sql import functions as F

    types = dict(frame.dtypes)
    for column in TIME_COLUMNS:
        if types.get(column) == "bigint":
            frame = frame.withColumn(column, F.coalesce(F.col(column), F.lit(NAT_NS).cast("bigint")))
    return frame


def with_bucket(frame: DataFrame, buckets: int) -> DataFrame:
    """``frame`` with ``BUCKET``: its lead's group, one of ``buckets`` (the same for a lead everywhere)."""
    from pyspark.sql import functions as F

    return frame.withColumn(BUCKET, F.pmod(F.xxhash64(F.col(LEAD_ID).cast("string")), F.lit(buckets)))


def plain_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as Python objects: PySpark's Arrow transfer does not take pandas' Arrow-backed
    ``str`` columns."""
    return frame.astype({c: object for c in frame.columns if pd.api.types.is_string_dtype(frame[c].dtype)})


@contextmanager
def executor_errors() -> Iterator[None]:
    """A data or configuration error raised inside an executor, as the ``ValueError`` it was there (its
    message names file, column and row; the CLI shows it without a traceback) instead of Spark's
    exception with the executor's Python traceback in it."""
    try:
        yield
    except Exception as error:
        if type(error).__name__ not in ("PythonException", "Py4JJavaError"):
            raise
        text = str(error)
        for name in ("DataValidationError", "TargetUnavailableError", "ValueError"):
            marker = f"{name}: "
            if marker in text:
                message = text.rsplit(marker, 1)[1].strip().split("\n\n", 1)[0]
                raise ValueError(message) from None
        raise

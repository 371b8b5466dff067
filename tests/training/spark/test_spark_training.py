"""``leadripe train --engine spark`` (local[2]) builds exactly the single machine's snapshots, split, sample
and feature matrices, so the model and its test metrics are the same.

One Spark session for the module (starting one takes seconds); small simulated data. Needs Java and the
``spark`` extra (``.ci/run`` installs both).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from serving.cli import app
from training.config import TrainConfig
from training.data.io import load_dataset
from training.features.transformer import LeadFeatures
from training.pipeline import MODEL, fit_and_evaluate
from training.simulation.simulator import simulate, write_simulation
from training.snapshot_source import LocalSnapshots, PreparedSnapshots, SnapshotSource
from training.spark.session import spark_session
from training.spark.source import spark_training_data
from training.train import train

pytestmark = pytest.mark.spark

#: Small and fast, with a training budget below the data's training snapshots: sampling by lead happens.
CONFIG = TrainConfig.model_validate(
    {
        "max_train_snapshots": 1000,
        "n_bootstrap": 10,
        "min_positives": 5,
        "min_negatives": 5,
        "selection": {"candidates": ["linear", "trees"], "folds": 2, "n_bootstrap": 10},
        "model": {"n_estimators": 60},
    }
)


@pytest.fixture(scope="module")
def spark() -> Iterator[object]:
    session = spark_session("local[2]", "leadripe-train-tests")
    session.conf.set("spark.sql.shuffle.partitions", "4")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Simulated data with times in whole microseconds, as CRM exports have them (seconds, at most
    microseconds): the event index keeps times on a grid of its batch's earliest time, so nanosecond
    times would round differently in a Spark group than in the whole batch (by under a microsecond)."""
    directory = tmp_path_factory.mktemp("spark-train-data")
    write_simulation(simulate(400, seed=4), directory)
    for name in ("leads", "events", "outcomes"):
        frame = pd.read_parquet(directory / f"{name}.parquet")
        for column in frame.columns:
            if isinstance(frame[column].dtype, pd.DatetimeTZDtype):
                frame[column] = frame[column].dt.floor("us")
        frame.to_parquet(directory / f"{name}.parquet", index=False)
    return directory


def _matrices(prepared: PreparedSnapshots, source: SnapshotSource) -> tuple[pd.DataFrame, pd.DataFrame]:
    batch, label = prepared.labelled.batch, prepared.labelled.label
    features = LeadFeatures(**CONFIG.features.estimator_kwargs())
    train, test = batch.take(prepared.train_idx), batch.take(prepared.test_idx)
    return source.features(features, train, label[prepared.train_idx], test)


def test_spark_training_equals_the_single_machine_run(spark: object, data_dir: Path, tmp_path: Path) -> None:
    dataset, _ = load_dataset(data_dir)
    local = LocalSnapshots().prepare(dataset, CONFIG, lambda _: None)
    kept, source = spark_training_data(str(data_dir), CONFIG, spark, lambda _: None)  # type: ignore[arg-type]
    on_spark = source.prepare(kept, CONFIG, lambda _: None)
    # The same split, sample (by lead, recorded) and counts, decided on the whole data's snapshots.
    assert on_spark.split == local.split and on_spark.sampling == local.sampling
    assert local.sampling["train"].sampled and on_spark.counts == local.counts
    assert on_spark.notes == local.notes
    # The driver holds the kept leads only; their training and test snapshots are the single machine's.
    assert len(kept.leads) < len(dataset.leads)
    for part in ("train_idx", "test_idx"):
        got = on_spark.labelled.batch.snapshots.iloc[getattr(on_spark, part)][["lead_id", "cutoff"]]
        want = local.labelled.batch.snapshots.iloc[getattr(local, part)][["lead_id", "cutoff"]]
        pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))
    # The feature matrices computed in the executors equal the single machine's, value for value.
    for got, want in zip(_matrices(on_spark, source), _matrices(local, LocalSnapshots()), strict=True):
        pd.testing.assert_frame_equal(got, want, check_exact=True)

    # And so the model, its test scores and metrics, and the sampling recorded in the card: through
    # `leadripe train`'s entry point, logged and registered in MLflow.
    single = fit_and_evaluate(dataset, CONFIG)
    run = train(str(data_dir), CONFIG, tracking_uri=f"sqlite:///{tmp_path}/mlflow.db", engine="spark")
    spark_run = run.outcome
    assert run.version == 1 and run.validation.rows_read["leads"] == len(dataset.leads)
    for name, scores in single.test_scores.items():
        assert np.array_equal(spark_run.test_scores[name], scores), (
            name,
            np.abs(spark_run.test_scores[name] - scores).max(),
        )
    assert spark_run.evaluations[MODEL].roc_auc == single.evaluations[MODEL].roc_auc
    assert spark_run.bundle.card.split == single.bundle.card.split
    assert spark_run.snapshot_counts == single.snapshot_counts


def test_a_bad_row_stops_spark_training_naming_the_column(spark: object, tmp_path: Path) -> None:
    write_simulation(simulate(60, seed=1), tmp_path)
    events = pd.read_parquet(tmp_path / "events.parquet")
    types = events["event_type"].astype(object).copy()
    types.iloc[3] = None
    events["event_type"] = types
    events.to_parquet(tmp_path / "events.parquet", index=False)
    with pytest.raises(ValueError, match="event_type"):
        spark_training_data(str(tmp_path), CONFIG, spark, lambda _: None)  # type: ignore[arg-type]


def test_cli_refuses_lenient_mode_and_unknown_engines(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["train", "--data", str(tmp_path), "--engine", "spark", "--mode", "lenient"]
    )
    assert result.exit_code == 2 and "strictly" in result.output
    result = CliRunner().invoke(app, ["train", "--data", str(tmp_path), "--engine", "dask"])
    assert result.exit_code == 2

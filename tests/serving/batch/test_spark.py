"""Batch scoring on Spark (local[2]) gives exactly the single-machine answers.

One Spark session for the module: starting one takes seconds. Needs Java and the ``spark`` extra
(``.ci/run`` installs both).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from serving.batch.answers import AnswerOptions
from serving.batch.run import BatchPlan, score_dataset
from serving.batch.spark import score_with_spark, spark_session
from serving.cli import app
from serving.scorer import LeadScorer
from training.data.contract import LeadDataset

pytestmark = pytest.mark.spark

TIMES = (pd.Timestamp("2026-01-15T00:00:00Z"), pd.Timestamp("2026-02-01T00:00:00Z"))


@pytest.fixture(scope="module")
def spark() -> Iterator[object]:
    session = spark_session("local[2]", "leadripe-tests")
    session.conf.set("spark.sql.shuffle.partitions", "4")
    yield session
    session.stop()


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.assign(as_of=pd.to_datetime(frame["as_of"], utc=True))
    return frame.sort_values(["as_of", "lead_id"], kind="stable").reset_index(drop=True)


def test_spark_scores_equal_the_single_machine_scores(
    spark: object,
    batch_scorer: LeadScorer,
    batch_dataset: LeadDataset,
    batch_data_dir: Path,
    batch_model_dir: Path,
    tmp_path: Path,
) -> None:
    plan = BatchPlan(as_of=TIMES, answers=AnswerOptions(reasons_per_side=2))
    local_out = tmp_path / "local.parquet"
    local = score_dataset(batch_scorer, batch_dataset, plan, local_out)
    spark_out = tmp_path / "spark"
    summary = score_with_spark(
        batch_data_dir, plan, spark_out, model_uri=str(batch_model_dir), spark=spark, leads_per_bucket=400
    )
    expected = _sorted(pd.read_parquet(local_out))
    got = _sorted(pd.read_parquet(spark_out))[list(expected.columns)]
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert summary.rows_scored == local.rows_scored == len(expected)
    assert summary.by_verdict == local.by_verdict and summary.by_grade == local.by_grade
    assert [c.scored for c in summary.per_as_of] == [c.scored for c in local.per_as_of]


def test_spark_from_the_mlflow_registry_with_crm_csv_and_changed_since(
    spark: object,
    batch_scorer: LeadScorer,
    batch_dataset: LeadDataset,
    batch_data_dir: Path,
    registry_uri: str,
    tmp_path: Path,
) -> None:
    first = tmp_path / "first.parquet"
    score_dataset(batch_scorer, batch_dataset, BatchPlan(as_of=TIMES[:1]), first)
    out = tmp_path / "crm"
    result = CliRunner().invoke(
        app,
        [
            "score",
            "--engine",
            "spark",
            "--data",
            str(batch_data_dir),
            "--model",
            "models:/batch-test@champion",
            "--out",
            str(out),
            "--as-of",
            TIMES[1].isoformat(),
            "--format",
            "crm-csv",
            "--changed-since",
            str(first),
            "--reasons",
            "1",
        ],
        env={"MLFLOW_TRACKING_URI": registry_uri},
    )
    assert result.exit_code == 0, result.output
    rows = pd.concat(
        [pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted(out.glob("part-*.csv"))]
    )
    local_crm = tmp_path / "local.csv"
    score_dataset(
        batch_scorer,
        batch_dataset,
        BatchPlan(as_of=TIMES[1:], answers=AnswerOptions(1)),
        local_crm,
        output_format="crm-csv",
        changed_since=first,
    )
    expected = pd.read_csv(local_crm, dtype=str, keep_default_na=False)
    assert 0 < len(expected) < len(batch_dataset.leads)
    pd.testing.assert_frame_equal(
        rows.sort_values("lead_id").reset_index(drop=True)[list(expected.columns)],
        expected.sort_values("lead_id").reset_index(drop=True),
    )


@pytest.fixture(scope="module")
def registry_uri(batch_bundle: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A SQLite MLflow registry holding the test model as ``batch-test@champion``."""
    import mlflow

    from training.pyfunc import log_bundle
    from training.registry import promote, register_candidate
    from training.registry.tracking import configure_tracking

    uri = f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"
    previous = mlflow.get_tracking_uri()
    configure_tracking(uri, experiment="batch-test")
    with mlflow.start_run():
        info = log_bundle(batch_bundle)  # type: ignore[arg-type]
    promote("batch-test", register_candidate(info, "batch-test"))
    yield uri
    mlflow.set_tracking_uri(previous)

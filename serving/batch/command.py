"""``leadripe score``: score a whole dataset in batch, on this machine or on Spark.

A thin Typer command: it parses options, loads the model and data, and calls ``serving.batch.run``
(or ``serving.batch.spark``), then prints a summary by verdict and grade.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from training.console import console, key_value_table, progress_bar, user_errors

if TYPE_CHECKING:
    import pandas as pd

    from serving.batch.output import OutputFormat
    from serving.batch.run import BatchPlan, BatchSummary
    from training.bundle import ModelCard

EngineOption = Annotated[
    str,
    typer.Option(
        "--engine", help="local: this machine, in chunks; spark: a Spark job (pip install 'leadripe[spark]')."
    ),
]


def score(
    data: Annotated[
        str,
        typer.Option(
            "--data", help="Directory with leads/events/outcomes tables (Spark: any path it reads)."
        ),
    ],
    out: Annotated[
        str,
        typer.Option(
            "--out", help="File to write (Parquet, or CSV with --format crm-csv); Spark: an output directory."
        ),
    ],
    as_of: Annotated[
        list[str] | None,
        typer.Option(
            "--as-of",
            help="Score as seen at this time (ISO 8601; no zone = UTC). Repeat it, give a comma list, or a "
            "range START..END stepped by --every. Default: the dataset's observed_until, else now.",
        ),
    ] = None,
    every: Annotated[
        int, typer.Option("--every", min=1, help="Days between the times of an --as-of range.")
    ] = 7,
    model: Annotated[
        str, typer.Option("--model", help="MLflow model URI, or a local model bundle directory.")
    ] = "models:/lead-maturity@champion",
    all_leads: Annotated[
        bool,
        typer.Option(
            "--all", help="Also score leads already closed (won or lost) or handed over to sales at as_of."
        ),
    ] = False,
    reasons: Annotated[
        int,
        typer.Option("--reasons", min=0, max=20, help="Top reasons per side as columns (0: none, fastest)."),
    ] = 3,
    output_format: Annotated[
        str,
        typer.Option(
            "--format", help="parquet: every answer column; crm-csv: flat columns for a CRM import."
        ),
    ] = "parquet",
    changed_since: Annotated[
        Path | None,
        typer.Option(
            "--changed-since", help="A previous score file: write only leads whose verdict or grade changed."
        ),
    ] = None,
    chunk_size: Annotated[
        int, typer.Option("--chunk-size", min=1, help="Leads scored per chunk (memory).")
    ] = 100_000,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="Threads computing the next chunks' features and scores while the answers of one are "
            "made (memory: one chunk each).",
        ),
    ] = 2,
    engine: EngineOption = "local",
    mode: Annotated[
        str,
        typer.Option("--mode", help="strict: refuse the load on any bad row; lenient: leave bad rows out."),
    ] = "strict",
) -> None:
    """Score every open lead of a dataset (or all) as of one or more times, with the API's answers."""
    import pandas as pd

    from serving.batch.answers import AnswerOptions
    from serving.batch.run import BatchPlan, as_of_times

    if output_format not in ("parquet", "crm-csv"):
        raise typer.BadParameter("must be 'parquet' or 'crm-csv'", param_hint="--format")
    if engine not in ("local", "spark"):
        raise typer.BadParameter("must be 'local' or 'spark'", param_hint="--engine")
    if mode not in ("strict", "lenient"):
        raise typer.BadParameter("must be 'strict' or 'lenient'", param_hint="--mode")
    fmt: OutputFormat = "crm-csv" if output_format == "crm-csv" else "parquet"
    with user_errors():
        metadata_until = _observed_until(data, engine)
        default = metadata_until if metadata_until is not None else pd.Timestamp.now(tz="UTC")
        plan = BatchPlan(
            as_of=as_of_times(as_of or [], every_days=every, default=default),
            include_closed=all_leads,
            chunk_size=chunk_size,
            answers=AnswerOptions(reasons_per_side=reasons),
            model_workers=workers,
        )
        if engine == "spark":
            from serving.batch.spark import score_with_spark

            summary = score_with_spark(
                data, plan, out, model_uri=model, output_format=fmt, changed_since=changed_since
            )
        else:
            summary = _score_locally(Path(data), plan, Path(out), model, fmt, changed_since, mode)
        console.print(summary_table(summary, str(out)))


def _score_locally(
    data: Path,
    plan: BatchPlan,
    out: Path,
    model: str,
    output_format: OutputFormat,
    changed_since: Path | None,
    mode: str,
) -> BatchSummary:
    import pyarrow as pa

    from serving.batch.run import score_dataset
    from serving.model_holder import load_model
    from serving.preflight import check_registered_model
    from training.data.io import load_dataset

    # Reading and validating tens of millions of events allocates and frees large Arrow buffers; Arrow's
    # default pool (jemalloc) hands their pages back and faults them in again: the system allocator
    # took loading 1M leads / 35M events from 24 to 20 s (BENCHMARKS.md, "Batch scoring").
    pa.set_memory_pool(pa.system_memory_pool())

    if not Path(model).is_dir():  # a registry URI: MLflow (~2 s to import) only then
        from training.registry.tracking import configure_tracking

        configure_tracking()
        check_registered_model(model)
    with console.status(f"loading model {model}"):
        scorer = load_model(model).scorer
    _warn_if_blocked(scorer.bundle.card, model)
    with console.status(f"loading and validating {data}"):
        dataset, _ = load_dataset(data, mode=mode)  # type: ignore[arg-type]
    with progress_bar("Scoring leads") as progress:
        return score_dataset(
            scorer,
            dataset,
            plan,
            out,
            output_format=output_format,
            changed_since=changed_since,
            on_progress=progress,
        )


def _warn_if_blocked(card: ModelCard, model: str) -> None:
    """Say so when the model named is one its own leakage audit blocked (a version named by number can
    be one no promotion would ever make champion): its scores are not to be trusted in a CRM."""
    blocking = [f for f in card.leakage_warnings if f.severity == "blocking" and f.accepted == "no"]
    if blocking:
        names = ", ".join(f"{f.table}.{f.column}" for f in blocking[:3])
        console.print(
            f"warning: {model} was blocked by its leakage audit ({names}): it never earned promotion, and "
            "its scores may rest on what knows the outcome; see its run's findings",
            style="yellow",
            markup=False,
            highlight=False,
        )


def _observed_until(data: str, engine: str) -> pd.Timestamp | None:
    from training.data.contract import METADATA_FILE, DatasetMetadata

    if engine == "spark":  # the path may be remote: read dataset.json through Spark
        from serving.batch.spark import dataset_metadata, spark_session

        return dataset_metadata(data, spark_session()).observed_until
    path = Path(data) / METADATA_FILE
    if not path.is_file():
        return None
    try:
        return DatasetMetadata.from_json(path.read_text(encoding="utf-8")).observed_until
    except (ValueError, TypeError):
        return None  # load_dataset reports a broken dataset.json with its file name


def summary_table(summary: BatchSummary, out: str) -> Table:
    """Counts by verdict and grade, leads left out, and where the scores went."""
    rows = [("written to", out), ("rows scored", f"{summary.rows_scored:,}")]
    if summary.rows_unchanged:
        rows.append(("unchanged (not written)", f"{summary.rows_unchanged:,}"))
    rows.append(("rows written", f"{summary.rows_written:,}"))
    for verdict in ("ripe", "too_green", "gone_cold"):
        rows.append((f"verdict {verdict}", f"{summary.by_verdict.get(verdict, 0):,}"))
    for grade in sorted(summary.by_grade):
        rows.append((f"grade {grade}", f"{summary.by_grade[grade]:,}"))
    for counts in summary.per_as_of[:10]:
        left_out = (
            ""
            if counts.closed is None or counts.not_yet_created is None
            else f" ({counts.closed:,} closed, {counts.handed_over or 0:,} handed over, "
            f"{counts.not_yet_created:,} not yet created)"
        )
        rows.append((f"as of {counts.as_of.isoformat()}", f"{counts.scored:,} leads{left_out}"))
    if len(summary.per_as_of) > 10:
        rows.append(("as of ...", f"{len(summary.per_as_of) - 10} more times"))
    rows.append(("seconds", f"{summary.seconds:.1f}"))
    return key_value_table("Batch scores", rows)

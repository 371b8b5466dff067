"""The ``leadripe`` command line: thin Typer commands whose bodies call package functions.

Serving adds ``leadripe serve`` in ``serving.cli`` (serving imports training, never the reverse).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from training.audit.console import audit_renderables, drift_renderables, guard_table
from training.console import console, key_value_table, progress_bar, stage_progress, user_errors
from training.draft_cli import draft_mapping_command

if TYPE_CHECKING:
    from training.train import TrainingRun

app = typer.Typer(
    name="leadripe",
    help="Lead maturity predictor: simulate, import, train, promote and explain lead readiness.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EncodingOption = Annotated[
    str | None,
    typer.Option("--encoding", help="Text encoding of the CSV files (e.g. cp1252, latin-1); default utf-8."),
]

ModeOption = Annotated[
    str,
    typer.Option(
        "--mode",
        help="strict: refuse the whole load on any bad row; lenient: quarantine bad rows into rejects.csv.",
    ),
]


@app.command()
def simulate(
    leads: Annotated[int, typer.Option("--leads", min=1, help="Number of leads to simulate.")] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; the same seed gives the same data.")] = 0,
    out: Annotated[Path, typer.Option("--out", help="Directory to write the tables into.")] = Path(
        "data/simulated"
    ),
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", min=1, help="Worker processes (default: up to 2); same data for any number."
        ),
    ] = None,
) -> None:
    """Simulate lead journeys (leads, events, outcomes and the ground truth) into OUT."""
    from training.simulation.simulator import simulate as run_simulation
    from training.simulation.simulator import write_simulation

    with user_errors():
        with progress_bar(f"Simulating {leads:,} leads") as progress:
            result = run_simulation(
                leads, seed, progress=progress, workers=workers or min(2, os.cpu_count() or 1)
            )
        write_simulation(result, out)
        dataset = result.dataset
        status_counts = dataset.outcomes["status"].value_counts()
        rows = [
            ("leads", f"{len(dataset.leads):,}"),
            ("events", f"{len(dataset.events):,}"),
            ("event types", str(dataset.events["event_type"].nunique())),
            *((f"outcome {status}", f"{count:,}") for status, count in status_counts.items()),
            ("win rate", f"{(dataset.outcomes['status'] == 'won').mean():.1%}"),
            ("observed until", str(dataset.metadata.observed_until)),
            ("written to", str(out)),
        ]
        console.print(key_value_table("Simulated leads", rows))


@app.command("import")
def import_command(
    mapping: Annotated[
        Path, typer.Option("--mapping", help="Mapping config (TOML), e.g. data/mappings/olist.toml.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Directory to write the validated tables into.")],
    mode: ModeOption = "lenient",
    data_root: Annotated[
        Path | None, typer.Option("--data-root", help="Directory the mapping's source paths are relative to.")
    ] = None,
    encoding: EncodingOption = None,
    max_reject_share: Annotated[
        float | None,
        typer.Option(
            "--max-reject-share",
            min=0.0,
            max=1.0,
            help="Lenient mode fails when more than this share of a file's rows would be quarantined "
            "(default: the mapping's max_reject_share, else 0.02).",
        ),
    ] = None,
) -> None:
    """Import a CRM export through a mapping config, validate it and write the contract's tables."""
    from training.data.mapping import import_export

    if mode not in ("strict", "lenient"):
        raise typer.BadParameter("must be 'strict' or 'lenient'", param_hint="--mode")
    with user_errors():
        summary = import_export(
            mapping,
            out,
            mode=mode,
            data_root=data_root,
            encoding=encoding,
            max_reject_share=max_reject_share,
        )
        console.print(key_value_table(f"Imported {summary.name}", summary.to_table()))
        for warning in summary.warnings:
            # Escaped: a warning names mapping sections ("[events] before_created"), not markup.
            console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)


app.command(name="draft-mapping")(draft_mapping_command)


@app.command()
def train(
    data: Annotated[
        str,
        typer.Option(
            "--data", help="Directory with leads/events/outcomes tables (Spark: any path it reads)."
        ),
    ],
    horizon: Annotated[
        int | None, typer.Option("--horizon", min=1, help="Days after a cutoff in which a win counts.")
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", help="Training config (TOML).")] = None,
    model_name: Annotated[str | None, typer.Option("--model-name", help="Registered model name.")] = None,
    mode: ModeOption = "strict",
    encoding: EncodingOption = None,
    target: Annotated[
        str | None,
        typer.Option(
            "--target",
            help="What the model predicts: won (default), opportunity or accepted "
            "(overrides \\[target] kind).",
        ),
    ] = None,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="local: this machine; spark: snapshots and features on Spark, the model fit on the driver "
            "(needs the spark extra and Java).",
        ),
    ] = "local",
) -> None:
    """Train, evaluate against the baselines on a later test period, register, and maybe promote."""
    from training.config import load_train_config
    from training.train import train as run_training

    if mode not in ("strict", "lenient"):
        raise typer.BadParameter("must be 'strict' or 'lenient'", param_hint="--mode")
    if engine not in ("local", "spark"):
        raise typer.BadParameter("must be 'local' or 'spark'", param_hint="--engine")
    with user_errors():
        train_config = load_train_config(config).with_overrides(
            horizon_days=horizon, model_name=model_name, target=target
        )
        with stage_progress() as on_stage:
            run = run_training(
                data if engine == "spark" else Path(data),
                train_config,
                mode=mode,  # type: ignore[arg-type]
                encoding=encoding or "utf-8",
                on_stage=on_stage,
                engine=engine,  # type: ignore[arg-type]
            )
        console.print(training_summary(run))


SCORER_LABELS = {"model": "model", "logistic_baseline": "logistic", "points_baseline": "points"}


def training_summary(run: TrainingRun) -> Group:
    """The final summary: model vs baselines on the test period, threshold, registry outcome."""
    from training.features.targets import describe_target
    from training.model.decision_console import decision_table

    outcome = run.outcome
    metrics = Table(
        title="Test period: data the model never saw",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        caption_justify="left",
    )
    for column in ("scorer", "ROC-AUC", "95% CI", "PR-AUC", "ECE", "lift@10%", "accepted"):
        metrics.add_column(
            column, justify="left" if column == "scorer" else "right", no_wrap=True, min_width=len(column)
        )
    for name, result in outcome.evaluations.items():
        low, high = result.roc_auc_ci
        metrics.add_row(
            SCORER_LABELS.get(name, name),
            f"{result.roc_auc:.3f}",
            f"{low:.3f}-{high:.3f}",
            f"{result.pr_auc:.3f}",
            f"{result.ece:.3f}",
            f"{result.lift_top_decile:.1f}x",
            # Nobody handed over at the threshold: no acceptance rate to show.
            "-"
            if math.isnan(result.at_threshold.acceptance_rate)
            else f"{result.at_threshold.acceptance_rate:.0%}",
        )
    if outcome.oracle_auc is not None:
        ratio = outcome.evaluations["model"].roc_auc / outcome.oracle_auc
        metrics.add_row("oracle (truth)", f"{outcome.oracle_auc:.3f}", "", "", "", "", "")
    # Name only the baselines that ran (the points baseline is skipped without events).
    described = {
        "logistic_baseline": "logistic regression on the same features",
        "points_baseline": "points per event type, halved every 30 days",
    }
    ran = [text for name, text in described.items() if name in outcome.evaluations]
    metrics.caption = f"baselines: {'; '.join(ran)}. " if ran else ""
    metrics.caption += "accepted: share of handed-over leads won."
    for name, (difference, low, high) in outcome.comparisons.items():
        metrics.caption += (
            f" Model minus {SCORER_LABELS.get(name, name)}: {difference:+.3f} ROC-AUC"
            f" (paired 95% CI {low:+.3f} to {high:+.3f})."
        )
    if outcome.oracle_auc is not None:
        metrics.caption += f" The model reaches {ratio:.1%} of the oracle ROC-AUC."
    by_age = outcome.bundle.card.metrics.get("by_lead_age")
    if by_age:  # old leads that never close are easy to rank: the young leads' figure is the honest one
        metrics.caption += (
            f" Among leads at most {by_age['age_days']:.0f} days old at the look: ROC-AUC "
            f"{by_age['young_roc_auc']:.3f} ({by_age['young_snapshots']:,.0f} snapshots); older: "
            f"{by_age['old_roc_auc']:.3f} ({by_age['old_snapshots']:,.0f})."
        )
    split = outcome.split
    if run.promoted:
        champion = f"yes: v{run.version} is now champion"
    elif run.champion_before is not None:
        champion = f"no: champion stays v{run.champion_before}"
    else:
        champion = "no (there is no champion yet; `leadripe promote` moves it by hand)"
    card = run.outcome.bundle.card
    rows = [
        ("target", describe_target(card.target, card.horizon_days)),
        ("snapshots", f"{split.n_train:,} train, {split.n_gap:,} in the gap, {split.n_test:,} test"),
        ("train window", f"{_day(split.train_start)} .. {_day(split.train_end)}"),
        ("test window", f"{_day(split.test_start)} .. {_day(split.test_end)}"),
        ("censored", f"{outcome.snapshot_counts.get('censored', 0):,} snapshots left out"),
        ("threshold", f"{outcome.threshold.threshold:.3f} ({outcome.threshold.policy.kind})"),
        ("registered", f"{run.outcome.bundle.card.name} v{run.version} (alias challenger)"),
        ("champion", champion),
        ("why", run.decision.reason),
        ("MLflow run", f"{run.run_id} in {run.tracking_uri}"),
        *_artifact_rows(run),
    ]
    parts: list[RenderableType] = [
        metrics,
        *audit_renderables(outcome.audit),
        *drift_renderables(outcome.drift),
    ]
    parts += [guard_table(run.decision), key_value_table("Model", rows)]
    if outcome.decision is not None:
        parts.append(decision_table(outcome.decision, outcome.decision_metrics))
    parts.extend(Text(f"note: {note}") for note in outcome.notes)
    parts.extend(Text(f"repaired: {repair}") for repair in run.repairs)
    if len(run.validation.rejects):
        parts.append(
            Text(f"{len(run.validation.rejects):,} input rows quarantined into rejects.csv (see above)")
        )
    return Group(*parts)


def _artifact_rows(run: TrainingRun) -> list[tuple[str, str]]:
    """Where the run's report and rejects went (the run's artifact directory, as a path when local)."""
    from mlflow.tracking import MlflowClient

    try:
        location = MlflowClient(tracking_uri=run.tracking_uri).get_run(run.run_id).info.artifact_uri
    except Exception:  # the summary must never fail on a lookup
        return []
    where = location[len("file://") :] if location.startswith("file://") else location
    rows = []
    if run.outcome.bundle.report_html is not None:
        rows.append(("report", f"{where}/report.html"))
    if len(run.validation.rejects):
        rows.append(("rejects", f"{where}/rejects.csv ({len(run.validation.rejects):,} rows)"))
    return rows


def _day(value: object) -> str:
    """A window boundary as a date (timestamps) or as it is (row positions)."""
    text = str(value)
    return text[:10] if len(text) > 10 and text[4] == "-" else text


@app.command()
def report(
    out: Annotated[Path, typer.Option("--out", help="Directory to write report.html into.")],
    model: Annotated[
        str, typer.Option("--model", help="MLflow model URI of the model to report on.")
    ] = "models:/lead-maturity@champion",
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Dataset directory (default: the one the model was trained on)."),
    ] = None,
) -> None:
    """Write the self-contained HTML report on what drives readiness, for marketing."""
    import pandas as pd

    from training.data.contract import GROUND_TRUTH_FILE
    from training.data.io import load_dataset
    from training.registry import load_bundle
    from training.registry.tracking import configure_tracking
    from training.report.build import build_report, write_report

    with user_errors():
        configure_tracking()
        bundle = load_bundle(model)
        data_dir = data or (Path(bundle.card.data_dir) if bundle.card.data_dir else None)
        if data_dir is None:
            raise ValueError(f"{model}: the model does not record its training data; pass --data DIR")
        dataset, _ = load_dataset(data_dir)
        truth_path = data_dir / GROUND_TRUTH_FILE
        ground_truth = pd.read_parquet(truth_path) if truth_path.exists() else None
        with console.status("building the report") as status:
            html = build_report(bundle, dataset, ground_truth=ground_truth, on_stage=status.update)
        path = write_report(html, out)
        size_mb = path.stat().st_size / 1e6
        console.print(f"Report written to {path} ({size_mb:.1f} MB); open it in any browser, offline.")


@app.command()
def promote(
    version: Annotated[int, typer.Argument(help="Model version to make champion.")],
    model_name: Annotated[str, typer.Option("--model-name", help="Registered model name.")] = "lead-maturity",
    reason: Annotated[
        str | None,
        typer.Option(
            "--reason",
            help="Why, recorded on the version (e.g. overriding the champion-collapse check).",
        ),
    ] = None,
) -> None:
    """Make VERSION the champion by hand (the API serves the champion).

    Overrides the automatic promotion checks (record why with --reason), except the leakage audit: a
    version with blocking findings is never promoted.
    """
    from training.registry import promote as promote_version
    from training.registry.tracking import configure_tracking

    with user_errors():
        configure_tracking()
        change = promote_version(model_name, version, reason=reason)
        console.print(f"{change.name}: champion v{change.previous} -> v{change.current}")
        if reason:
            console.print(f"reason recorded on v{change.current}: {reason}", markup=False, highlight=False)


@app.command()
def rollback(
    model_name: Annotated[str, typer.Option("--model-name", help="Registered model name.")] = "lead-maturity",
) -> None:
    """Move the champion back to the previous champion."""
    from training.registry import rollback as rollback_champion
    from training.registry.tracking import configure_tracking

    with user_errors():
        configure_tracking()
        change = rollback_champion(model_name)
        console.print(f"{change.name}: champion v{change.previous} -> v{change.current}")

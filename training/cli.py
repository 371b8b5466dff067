"""The ``leadripe`` command line: thin Typer commands whose bodies call package functions.

Serving adds ``leadripe serve`` in ``serving.cli`` (serving imports training, never the reverse).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from training.console import console, key_value_table, progress_bar, user_errors

app = typer.Typer(
    name="leadripe",
    help="Lead maturity predictor: simulate, import, train, promote and explain lead readiness.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

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
) -> None:
    """Simulate lead journeys (leads, events, outcomes and the ground truth) into OUT."""
    from training.simulator import simulate as run_simulation
    from training.simulator import write_simulation

    with user_errors():
        with progress_bar(f"Simulating {leads:,} leads") as progress:
            result = run_simulation(leads, seed, progress=progress)
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
) -> None:
    """Import a CRM export through a mapping config, validate it and write the contract's tables."""
    from training.mapping import import_export

    if mode not in ("strict", "lenient"):
        raise typer.BadParameter("must be 'strict' or 'lenient'", param_hint="--mode")
    with user_errors():
        summary = import_export(mapping, out, mode=mode, data_root=data_root)
        console.print(key_value_table(f"Imported {summary.name}", summary.to_table()))
        for warning in summary.warnings:
            console.print(f"[yellow]warning:[/] {warning}", highlight=False)


def main() -> None:
    app()

"""``leadripe draft-mapping``: write a commented mapping config for an export, to review before importing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from training.console import console, user_errors


def draft_mapping_command(
    leads: Annotated[Path, typer.Argument(help="The export's leads file (.csv, .parquet or .xlsx).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the drafted mapping config (TOML).")],
    events: Annotated[
        Path | None, typer.Option("--events", help="An activity export: one row per event (optional).")
    ] = None,
    outcomes: Annotated[
        Path | None,
        typer.Option("--outcomes", help="The outcome as a file of its own: deals or won opportunities."),
    ] = None,
    events_sheet: Annotated[
        str | None, typer.Option("--events-sheet", help="The events workbook's sheet.")
    ] = None,
    outcomes_sheet: Annotated[
        str | None, typer.Option("--outcomes-sheet", help="The outcome workbook's sheet.")
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="The dataset's name (default: the file's).")
    ] = None,
    sheet: Annotated[str | None, typer.Option("--sheet", help="The leads workbook's sheet.")] = None,
    delimiter: Annotated[
        str | None, typer.Option("--delimiter", help="The CSV delimiter (default: sniffed).")
    ] = None,
    encoding: Annotated[
        str | None, typer.Option("--encoding", help="The CSV files' encoding (default utf-8).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file at --out.")] = False,
) -> None:
    """Draft a mapping config from an export's columns: each column's role with the reason, and what is
    left to decide. Review it, then run leadripe import --mapping OUT."""
    from training.data.draft import draft_mapping

    with user_errors():
        if out.is_dir():
            raise ValueError(f"{out} is a directory; --out names the config file to write (e.g. crm.toml)")
        if out.exists() and not force:
            raise ValueError(f"{out} exists; choose another --out or pass --force to replace it")
        draft = draft_mapping(
            leads,
            out,
            events_path=events,
            outcomes_path=outcomes,
            events_sheet=events_sheet,
            outcomes_sheet=outcomes_sheet,
            name=name,
            sheet=sheet,
            delimiter=delimiter,
            encoding=encoding,
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text(draft.text, encoding="utf-8")
        tmp.replace(out)
    table = Table(title=f"Drafted {out}", box=box.SIMPLE_HEAD, title_justify="left")
    for column in ("column", "role", "why"):
        table.add_column(column, overflow="fold")
    for role in draft.roles:
        label = role.role + (" (never a feature)" if role.known_at else "")
        table.add_row(escape(role.column), label, escape(role.why))
    console.print(table)
    for todo in draft.todos:
        console.print(f"[yellow]to do:[/] {escape(todo)}", highlight=False)
    console.print(
        f"Review {out} (every line says why), then: leadripe import --mapping {out} --out DIR",
        highlight=False,
    )

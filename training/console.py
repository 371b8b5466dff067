"""Terminal output shared by the CLI commands: a progress bar and the one way user errors are shown."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

console = Console(stderr=False)
error_console = Console(stderr=True)

ProgressCallback = Callable[[int, int], None]


@contextmanager
def progress_bar(description: str) -> Iterator[ProgressCallback]:
    """A rich progress bar driven by a ``callback(done, total)``, the shape our library functions take."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update


@contextmanager
def stage_progress(waiting: str = "starting") -> Iterator[Callable[[str], None]]:
    """A spinner with the current stage and its running time; each finished stage stays as a line
    with its duration. Yields ``on_stage(message)``, the callback library functions take."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(waiting, total=None)
        started = time.monotonic()
        current: str | None = None

        def finish() -> None:
            if current is not None:
                took = time.monotonic() - started
                progress.console.print(f"  [green]✓[/] {current} [dim]({took:.1f} s)[/]", highlight=False)

        def on_stage(message: str) -> None:
            nonlocal started, current
            finish()
            current, started = message, time.monotonic()
            progress.reset(task, description=message)

        yield on_stage
        finish()


def key_value_table(title: str, rows: list[tuple[str, str]]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(overflow="fold")  # paths wrap rather than end in an ellipsis
    for label, value in rows:
        table.add_row(label, value)
    return table


@contextmanager
def user_errors() -> Iterator[None]:
    """Show a user-facing error as a clear message and exit 2, instead of a traceback.

    Library code raises ``ValueError`` subclasses (bad data, bad config, too little data, registry
    problems) whose message already names the file, row and column. ``LEADRIPE_DEBUG=1`` re-raises
    them for a full traceback.
    """
    try:
        yield
    except (ValueError, FileNotFoundError) as error:
        if os.environ.get("LEADRIPE_DEBUG"):
            raise
        error_console.print("[bold red]error:[/] ", end="")
        # The message is data (file names, values): never interpret it as rich markup.
        error_console.print(str(error), markup=False, highlight=False)
        raise typer.Exit(code=2) from None

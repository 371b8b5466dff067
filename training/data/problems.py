"""What validation found: problems with their file, row and column, the error that lists them, and the
report of what was read, kept and quarantined (``rejects.csv``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from training.data.contract import REJECTS_FILE
from training.data.problem_groups import empty_problems, group_problems, problems_frame

#: How many problems an error message lists before it summarises the rest.
MAX_LISTED_PROBLEMS = 20
#: How many kinds of problem (column and message) a summary lists, most rows first.
MAX_LISTED_GROUPS = 8
REJECT_COLUMNS = ("file", "row", "column", "reason", "record")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, and where: file, data row (1-based) and column when known."""

    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}"


class DataValidationError(ValueError):
    """The input breaks the data contract; ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(_describe_problems(self.problems))


def _describe_problems(problems: Sequence[Problem]) -> str:
    count = len(problems)
    lines = [f"{count} problem{'s' if count != 1 else ''} in the input data:"]
    if count > MAX_LISTED_PROBLEMS:
        # The first rows alone may show one column's trouble and hide another's: the kinds come first.
        lines += ["by column, most rows first:", *(f"  {group}" for group in _groups_of(problems))]
        lines.append(f"the first {MAX_LISTED_PROBLEMS}:")
    lines += [f"  {problem}" for problem in problems[:MAX_LISTED_PROBLEMS]]
    if count > MAX_LISTED_PROBLEMS:
        lines.append(f"  ... and {count - MAX_LISTED_PROBLEMS} more")
    return "\n".join(lines)


def _groups_of(problems: Sequence[Problem]) -> list[str]:
    with_rows = [problem for problem in problems if problem.row is not None]
    frame = problems_frame(
        [p.file for p in with_rows],
        [p.row or 0 for p in with_rows],
        [p.column for p in with_rows],
        [p.message for p in with_rows],
    )
    groups = group_problems(frame)
    listed = [str(group) for group in groups[:MAX_LISTED_GROUPS]]
    if len(groups) > MAX_LISTED_GROUPS:
        listed.append(f"... and {len(groups) - MAX_LISTED_GROUPS} more kinds")
    return listed


def empty_rejects() -> pd.DataFrame:
    return pd.DataFrame(
        {name: pd.Series(dtype="int64" if name == "row" else "str") for name in REJECT_COLUMNS}
    )


@dataclass
class ValidationReport:
    """What validation read, kept and quarantined, per table ("leads", "events", "outcomes").

    ``rejects`` has one row per rejected source row: ``file``, ``row`` (1-based data row), ``column``
    (the offending columns, comma-separated), ``reason`` (all problems of the row, "; "-separated) and
    ``record`` (the raw row's values as JSON). ``problems`` has one row per problem found
    (``PROBLEM_COLUMNS``: file, row, column, message), which ``problem_groups`` groups by kind.
    """

    rows_read: dict[str, int]
    rows_kept: dict[str, int]
    rejects: pd.DataFrame = field(default_factory=empty_rejects)
    problems: pd.DataFrame = field(default_factory=empty_problems)

    @property
    def rows_rejected(self) -> dict[str, int]:
        return {table: self.rows_read[table] - self.rows_kept.get(table, 0) for table in self.rows_read}

    def summary(self) -> str:
        """A few human-readable lines: counts per table and where the rejected rows went wrong."""
        lines = [
            f"{table}: {self.rows_read[table]:,} rows read, {self.rows_kept.get(table, 0):,} kept, "
            f"{rejected:,} rejected"
            for table, rejected in self.rows_rejected.items()
        ]
        if len(self.rejects):
            columns = self.rejects["column"].fillna("").replace("", "(whole row)")
            counts = self.rejects.assign(column=columns).groupby(["file", "column"], sort=False).size()
            lines.append("rejected rows by file and column:")
            lines += [
                f"  {file}, {column}: {count:,}"
                for file, column, count in counts.reset_index(name="rows").itertuples(index=False)
            ]
        groups = group_problems(self.problems, limit=MAX_LISTED_GROUPS)
        if groups:
            lines.append("problems, most rows first:")
            lines += [f"  {group}" for group in groups]
        return "\n".join(lines)


def write_rejects(report: ValidationReport, directory: Path) -> Path | None:
    """Write the quarantined rows to ``directory / REJECTS_FILE``; returns its path, None if none."""
    if report.rejects.empty:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / REJECTS_FILE
    tmp = path.with_name(f".{path.name}.tmp")
    report.rejects.to_csv(tmp, index=False)
    tmp.replace(path)
    return path

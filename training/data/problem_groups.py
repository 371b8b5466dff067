"""Problems of the same kind in the same column, counted once with a few example values.

A bad export rarely has 2,000 different problems: it has one column of currency values, one of
``N/A``s. Listed row by row (or grouped by the exact message, which quotes the value), the commonest
problem may not even show and each line reads "1 rows". Grouped by file, column and message with its
quoted value left out, the user sees every column that needs a fix, how many rows each costs, and what
the values look like:

    leads.csv, column Revenue: cannot parse … as a number (2,000 rows: '$2,451.27', '$13,291.42', ...)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

#: A quoted value in a problem's message (``show`` quotes values in single quotes): a quote not inside a
#: word ("a mapping's" is no quote) up to the first quote that does not go on into one ('O'Brien').
_QUOTED = r"(?<!\w)'.*?'(?!\w)"
#: A timestamp as messages write parsed ones ("closed_at 2023-03-02 15:57:00+00:00 is before ...").
_TIMESTAMP = r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[+-]\d{2}:\d{2}|Z)?)?"
#: What differs between problems of one kind: the value (the first quoted text; later quotes are part of
#: the problem, such as a declared convention), timestamps, and the row of another file they point to.
_VALUES = re.compile(rf"{_TIMESTAMP}|(?<=row )\d+")
_PLACEHOLDER = "…"
_EXAMPLES = 3
PROBLEM_COLUMNS = ("file", "row", "column", "message")


@dataclass(frozen=True)
class ProblemGroup:
    """Rows of one file with the same problem in the same column (``column`` None: the whole row)."""

    file: str
    column: str | None
    problem: str
    rows: int
    examples: tuple[str, ...]
    more_examples: bool

    def __str__(self) -> str:
        where = Path(self.file).name + (f", column {self.column}" if self.column else " (whole row)")
        shown = ", ".join(self.examples) + (", ..." if self.more_examples else "")
        counted = f"{self.rows:,} row{'s' if self.rows != 1 else ''}"
        return f"{where}: {self.problem} ({counted}{': ' + shown if shown else ''})"


def empty_problems() -> pd.DataFrame:
    return pd.DataFrame(
        {name: pd.Series(dtype="int64" if name == "row" else object) for name in PROBLEM_COLUMNS}
    )


def group_problems(problems: pd.DataFrame, limit: int | None = None) -> list[ProblemGroup]:
    """The groups of a ``PROBLEM_COLUMNS`` frame, most rows first (then in order of first appearance);
    at most ``limit`` of them."""
    if problems.empty:
        return []
    messages = problems["message"].astype(str)
    frame = pd.DataFrame(
        {
            "file": problems["file"].astype(str).to_numpy(),
            "column": problems["column"].where(problems["column"].notna(), "").astype(str).to_numpy(),
            "problem": messages.str.replace(_QUOTED, _PLACEHOLDER, n=1, regex=True)
            .str.replace(_VALUES, _PLACEHOLDER, regex=True)
            .to_numpy(),
            # The quoted value if there is one, else the first timestamp.
            "example": messages.str.extract(f"({_QUOTED})", expand=False)
            .fillna(messages.str.extract(f"({_TIMESTAMP})", expand=False))
            .to_numpy(),
            "row": problems["row"].to_numpy(),
        }
    )
    grouped = frame.groupby(["file", "column", "problem"], sort=False)
    sizes = grouped["row"].nunique().sort_values(ascending=False, kind="stable")
    if limit is not None:
        sizes = sizes.head(limit)
    groups = []
    for key, rows in sizes.items():
        file, column, problem = (str(part) for part in key)  # type: ignore[attr-defined]
        examples = grouped.get_group((file, column, problem))["example"].dropna().unique()
        groups.append(
            ProblemGroup(
                file=file,
                column=column or None,
                problem=problem,
                rows=int(rows),
                examples=tuple(str(example) for example in examples[:_EXAMPLES]),
                more_examples=len(examples) > _EXAMPLES,
            )
        )
    return groups


def problems_frame(
    file: Iterable[str], row: Iterable[int], column: Iterable[object], message: Iterable[str]
) -> pd.DataFrame:
    """A ``PROBLEM_COLUMNS`` frame from aligned sequences (lists, arrays, series)."""
    return pd.DataFrame(
        {
            "file": list(file),
            "row": pd.array(list(row), dtype="int64"),
            "column": list(column),
            "message": list(message),
        }
    ).astype({"file": object, "column": object, "message": object})

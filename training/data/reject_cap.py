"""The reject cap of a lenient import: quarantining a few bad rows is fine, quarantining a third is not.

A forgotten status value or a wrong date format can make lenient validation quarantine most of an
export while the import "succeeds". The cap (default 2% of a file's rows, ``max_reject_share`` in the
mapping or ``--max-reject-share``) turns that into a clear failure that says what went wrong most often.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from pydantic import BaseModel, Field

DEFAULT_MAX_REJECT_SHARE = 0.02
#: Problems listed in the failure message, most frequent first.
_LISTED = 5


class RejectCapKey(BaseModel):
    """The mapping config's top-level ``max_reject_share`` key (a lenient import fails above it)."""

    max_reject_share: float = Field(default=DEFAULT_MAX_REJECT_SHARE, ge=0, le=1)


class TooManyRejectsError(ValueError):
    """A lenient import would quarantine more than the allowed share of some file's rows."""


def check_reject_share(rows_read: dict[str, int], rejects: pd.DataFrame, max_share: float) -> None:
    """Raise ``TooManyRejectsError`` when any file's rejected rows exceed ``max_share`` of its rows.

    ``rows_read``: data rows per source file; ``rejects``: the report's rejects (``file``, ``column``,
    ``reason``). The message names each file over the cap with its counts and the commonest problems.
    """
    if not 0.0 <= max_share <= 1.0:
        raise ValueError(f"max_reject_share must be between 0 and 1, got {max_share}")
    if rejects.empty:
        return
    per_file = rejects["file"].value_counts()
    over = [
        (str(file), int(count), rows_read.get(str(file), 0))
        for file, count in per_file.items()
        if rows_read.get(str(file), 0) and count / rows_read[str(file)] > max_share
    ]
    if not over:
        return
    lines = [
        f"{Path(file).name}: {count:,} of {total:,} rows ({count / total:.1%}) would be quarantined"
        for file, count, total in over
    ]
    # The reason text starts with the problem; the part before the first ":" groups similar rows.
    kinds = (
        rejects.assign(
            column=rejects["column"].fillna("").replace("", "(whole row)"),
            problem=rejects["reason"].fillna("").str.split(";").str[0].str.slice(0, 120),
        )
        .groupby(["file", "column", "problem"], sort=False)
        .size()
        .sort_values(ascending=False)
        .head(_LISTED)
    )
    lines.append("most common problems:")
    for key, count in kinds.items():
        file, column, problem = (str(part) for part in key)  # type: ignore[attr-defined]
        lines.append(f"  {Path(file).name}, column {column}: {problem} ({int(count):,} rows)")
    raise TooManyRejectsError(
        f"lenient import stopped: more than {max_share:.1%} of a file's rows would be quarantined "
        "(max_reject_share); nothing was written.\n"
        + "\n".join(lines)
        + "\nFix the mapping (a value map, a date format, a missing marker), or allow more with "
        "--max-reject-share or max_reject_share in the mapping."
    )

"""The reject cap of a lenient import: quarantining a few bad rows is fine, quarantining a third is not.

A forgotten status value or a wrong date format can make lenient validation quarantine most of an
export while the import "succeeds". The cap (default 2% of a file's rows, ``max_reject_share`` in the
mapping or ``--max-reject-share``) turns that into a clear failure that says what went wrong most often.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from training.data.problem_groups import group_problems
from training.data.problems import ValidationReport

DEFAULT_MAX_REJECT_SHARE = 0.02
#: Problems listed in the failure message, most frequent first.
_LISTED = 5


class RejectCapKey(BaseModel):
    """The mapping config's top-level ``max_reject_share`` key (a lenient import fails above it)."""

    max_reject_share: float = Field(default=DEFAULT_MAX_REJECT_SHARE, ge=0, le=1)


class TooManyRejectsError(ValueError):
    """A lenient import would quarantine more than the allowed share of some file's rows."""


def check_reject_share(rows_read: dict[str, int], report: ValidationReport, max_share: float) -> None:
    """Raise ``TooManyRejectsError`` when any file's rejected rows exceed ``max_share`` of its rows.

    ``rows_read``: data rows per source file; ``report``: validation's report, whose rejects (one per
    row) are counted and whose problems (one per row and column) are grouped by kind. The message names
    each file over the cap with its counts, then the commonest kinds of problem with example values.
    """
    if not 0.0 <= max_share <= 1.0:
        raise ValueError(f"max_reject_share must be between 0 and 1, got {max_share}")
    rejects = report.rejects
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
    lines.append("most common problems:")
    lines += [f"  {group}" for group in group_problems(report.problems, limit=_LISTED)]
    raise TooManyRejectsError(
        f"lenient import stopped: more than {max_share:.1%} of a file's rows would be quarantined "
        "(max_reject_share); nothing was written.\n"
        + "\n".join(lines)
        + "\nFix the mapping (a value map, a date format, a missing marker), or allow more with "
        "--max-reject-share or max_reject_share in the mapping."
    )

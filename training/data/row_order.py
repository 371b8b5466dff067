"""The time axis of an export without dates: its declared row order, checked against a sequence column.

Exports without timestamps are split by row position, so the direction matters: read the wrong way
round, the "test period" is the oldest data. The mapping must declare ``row_order = "oldest_first"`` or
``"newest_first"``; an optional ``sequence_column`` (a lead number, a running id) is checked to run the
declared way, and the import is refused otherwise, naming the first row where it does not.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, model_validator

from training.config_errors import KeyProblem

RowOrder = Literal["oldest_first", "newest_first"]


class TimeAxisKeys(BaseModel):
    """The ``[leads]`` keys besides ``created_at`` that define an export's time axis."""

    #: used where ``created_at`` is empty (its own format in ``date_formats``, else ``date_format``)
    created_at_fallback: str | None = None
    #: required without ``created_at``: which rows are the oldest
    row_order: RowOrder | None = None
    #: optional with ``row_order``: a column numbering the leads in time, checked to run that way
    sequence_column: str | None = None

    @model_validator(mode="after")
    def _time_axis(self) -> TimeAxisKeys:
        check_time_axis(
            getattr(self, "created_at", None), self.created_at_fallback, self.row_order, self.sequence_column
        )
        return self


class RowOrderError(ValueError):
    """The sequence column runs against the declared row order."""


def check_time_axis(
    created_at: str | None, fallback: str | None, row_order: RowOrder | None, sequence: str | None
) -> None:
    """The ``[leads]`` keys that define the time axis are consistent (raises ``KeyProblem``)."""
    if created_at is None and row_order is None:
        raise KeyProblem(
            "row_order",
            "the export has no created_at column, so its rows' order is its only time axis: declare it "
            'with row_order = "oldest_first" or "newest_first" (check the file: which rows are the latest?)',
        )
    if created_at is not None and row_order is not None:
        raise KeyProblem("row_order", "only applies to exports without created_at")
    if sequence is not None and row_order is None:
        raise KeyProblem("sequence_column", "only applies together with row_order")
    if fallback is not None and created_at is None:
        raise KeyProblem("created_at_fallback", "only applies together with created_at")


def row_positions(
    raw: pd.DataFrame, row_order: RowOrder | None, sequence: str | None, config: str, file: str
) -> pd.Series:
    """Each row's position in time (0 = oldest) from the declared ``row_order``, after checking the
    optional sequence column agrees with it (``RowOrderError`` naming ``config``, ``file`` and the row)."""
    n = len(raw)
    newest_first = row_order == "newest_first"
    if sequence is not None:
        present = pd.to_numeric(raw[sequence], errors="coerce").dropna()
        steps = present.diff().iloc[1:]
        against = steps > 0 if newest_first else steps < 0
        if bool(against.any()):
            position = int(np.argmax(against.to_numpy())) + 1  # into present; steps start at its 2nd row
            row = present.index[position]
            previous, current = float(present.iloc[position - 1]), float(present.iloc[position])
            raise RowOrderError(
                f"{config}: key 'leads.row_order' = {row_order!r} contradicts the sequence column "
                f"{sequence!r} of {file}: at row {row} it goes from {previous:g} to {current:g} "
                f"({int((steps > 0).sum()):,} steps up, {int((steps < 0).sum()):,} steps down over the "
                "file). Check which rows are the latest and declare row_order accordingly."
            )
    positions = pd.Series(range(n), index=raw.index, dtype="int64")
    return (n - 1 - positions) if newest_first else positions

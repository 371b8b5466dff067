"""Columns that cannot inform any model: empty in every row, one value in every row, or a different value
in almost every row (an identifier or free text imported as a category).

None of these is leakage, and none blocks; each is usually a mapping slip (the wrong column mapped, a
missing marker that matches every value, an id listed under ``categorical``) that would otherwise go
unnoticed: the column simply carries no importance, and the user wonders why a field they trust does
nothing.
"""

from __future__ import annotations

import pandas as pd

from training.audit.findings import Finding, FindingKind, Severity

#: An identifier-like category needs at least this many rows to be judged ...
MIN_ROWS_FOR_IDENTIFIER = 50
#: ... and this share of them holding a value seen in fewer than ``min_level_count`` rows.
IDENTIFIER_SHARE = 0.9


def column_quality(table: str, column: str, values: pd.Series, min_level_count: int) -> list[Finding]:
    """Findings on one feature column of ``table`` (all rows; cheap: one value count)."""
    present = values.dropna()
    if present.empty:
        return [
            Finding(
                table,
                column,
                FindingKind.EMPTY_COLUMN,
                Severity.WARNING,
                f"empty in all {len(values):,} rows, so it cannot inform the model",
                "check the mapping (the column name, a `missing` marker that matches every value); "
                "drop the column if the export never fills it",
            )
        ]
    counts = present.value_counts()
    if len(counts) == 1:
        return [
            Finding(
                table,
                column,
                FindingKind.CONSTANT_COLUMN,
                Severity.WARNING,
                f"holds one value ({str(counts.index[0])[:40]!r}) in all {len(present):,} rows that have "
                "one, so it cannot inform the model",
                "check the mapping (a value map sending every value to one); drop the column if the "
                "export is really like this",
            )
        ]
    is_category = isinstance(values.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(
        values.dtype
    )
    if not is_category or len(present) < MIN_ROWS_FOR_IDENTIFIER:
        return []
    rare_share = float(counts[counts < min_level_count].sum()) / len(present)
    if rare_share < IDENTIFIER_SHARE:
        return []
    return [
        Finding(
            table,
            column,
            FindingKind.IDENTIFIER_LIKE,
            Severity.WARNING,
            f"{rare_share:.0%} of its {len(present):,} values occur in fewer than {min_level_count} rows "
            f"({len(counts):,} distinct values): an identifier or free text rather than a category, "
            "which no model can learn from (rare values are pooled)",
            "drop it, or map a coarser column in its place (a domain instead of an email, a region "
            "instead of a city)",
            value=rare_share,
        )
    ]

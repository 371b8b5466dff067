"""Infinities in numeric columns are refused at validation, by file, row and column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from training.data.io import load_dataset
from training.data.validation import DataValidationError

NOW = pd.Timestamp("2025-01-01", tz="UTC")


@pytest.mark.parametrize("value", ["inf", "1e400", "-Infinity"])
def test_infinite_numbers_are_refused_naming_file_row_and_column(tmp_path: Path, value: str) -> None:
    (tmp_path / "leads.csv").write_text(
        "lead_id,created_at,employees,status\n"
        f"L1,2024-01-01,10,won\nL2,2024-01-02,{value},lost\nL3,2024-01-03,30,open\n"
    )
    with pytest.raises(DataValidationError) as caught:
        load_dataset(tmp_path, now=NOW)
    (problem,) = caught.value.problems
    assert str(problem).startswith("leads.csv, row 2, column employees:")
    assert "not a finite number" in problem.message
    dataset, report = load_dataset(tmp_path, mode="lenient", now=NOW)
    assert report.rows_read["leads"] == report.rows_kept["leads"] + 1 == 3
    assert np.isfinite(dataset.leads["employees"]).all()


def test_infinity_in_a_typed_parquet_column_is_refused(tmp_path: Path) -> None:
    pd.DataFrame(
        {
            "lead_id": ["L1", "L2", "L3"],
            "created_at": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"], utc=True),
            "employees": [10.0, np.inf, 30.0],
            "status": ["won", "lost", "open"],
        }
    ).to_parquet(tmp_path / "leads.parquet")
    with pytest.raises(DataValidationError, match=r"leads\.parquet, row 2, column employees"):
        load_dataset(tmp_path, now=NOW)

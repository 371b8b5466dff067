"""Per-column out-of-range report: the share of later (test) values outside each numeric profile
column's training range, its warning in the drift report and in the ``leadripe train`` output."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from training.audit.console import drift_renderables
from training.model.drift import drift_report
from training.model.out_of_range import out_of_range, out_of_range_warning


def _frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    # A rate that moves to a new regime later on (like Bank Marketing's euribor3m), a stable size
    # column, a column whose test values are mostly missing, and a categorical column.
    train = pd.DataFrame(
        {
            "rate": [4.8, 4.9, 5.0, 4.9, 4.85, 4.95, 5.0, 4.8],
            "size": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0],
            "sparse": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
            "source": ["a", "b"] * 4,
        }
    )
    test = pd.DataFrame(
        {
            "rate": [1.2, 1.3, 4.9, 1.1, 5.2, 1.0, 1.3, 4.8, 1.2, 1.25],
            "size": [15.0, 25.0, 35.0, 45.0, 55.0, 65.0, 75.0, 10.0, 80.0, 90.0],
            "sparse": [np.nan] * 8 + [9.0, 4.0],
            "source": ["a"] * 10,
        }
    )
    return train, test


def test_shares_outside_the_training_range_per_column() -> None:
    train, test = _frames()
    ranges = {r.column: r for r in out_of_range(train, test, ["rate", "size", "sparse", "absent"])}
    assert set(ranges) == {"rate", "size", "sparse"}
    rate = ranges["rate"]
    assert (rate.train_min, rate.train_max) == (4.8, 5.0)
    assert rate.below_share == pytest.approx(0.7) and rate.above_share == pytest.approx(0.1)
    assert rate.share == pytest.approx(0.8) and rate.test_values == 10
    # The edges themselves are inside the range; 90 is one value above the maximum of 80.
    assert ranges["size"].share == pytest.approx(0.1) and ranges["size"].below_share == 0.0
    # Missing test values are neither inside nor outside: 1 of the 2 present values is above 8.
    assert ranges["sparse"].share == pytest.approx(0.5) and ranges["sparse"].test_values == 2
    assert [r.column for r in out_of_range(train, test, ["size", "rate"])] == ["rate", "size"]
    assert out_of_range(train, train, ["rate", "size"])[0].share == 0.0


def test_warning_names_only_columns_above_the_share() -> None:
    train, test = _frames()
    ranges = out_of_range(train, test, ["rate", "size"])
    warning = out_of_range_warning(ranges, 0.2)
    assert warning is not None and "rate (80% of test values outside 4.8 to 5)" in warning
    assert "size" not in warning
    assert out_of_range_warning(ranges, 0.8) is None


def test_drift_report_records_the_ranges_and_the_train_output_shows_the_warning() -> None:
    train, test = _frames()
    rng = np.random.default_rng(0)
    features = pd.DataFrame({"x": rng.normal(size=8)})
    later = pd.DataFrame({"x": rng.normal(size=10)})
    report = drift_report(
        features,
        later,
        np.array([0, 1] * 4),
        np.array([0, 1] * 5),
        {"x": "x"},
        profiles=(train, test),
        numeric_columns=("rate", "size", "sparse"),
        max_out_of_range_share=0.3,
    )
    assert [r["column"] for r in report.to_dict()["out_of_range"]] == ["rate", "sparse", "size"]
    assert report.to_dict()["out_of_range"][0]["share"] == 0.8
    (warning,) = [w for w in report.warnings if "training range" in w]
    assert "2 numeric profile column(s)" in warning and "rate" in warning and "sparse" in warning
    console = Console(width=400, record=True, file=io.StringIO())
    for part in drift_renderables(report):
        console.print(part)
    assert "rate (80% of test values outside 4.8 to 5)" in console.export_text()
    # Without the profiles (older callers) there is no range report and no such warning.
    plain = drift_report(features, later, np.array([0, 1] * 4), np.array([0, 1] * 5), {"x": "x"})
    assert plain.out_of_range == [] and not any("training range" in w for w in plain.warnings)

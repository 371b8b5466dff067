"""Drift between the training and the test period: change in base rate and in each feature group's
distribution (population stability index, PSI), with warnings where it makes test metrics misleading.

PSI of one feature: bins from the training period (deciles for numbers, the 20 commonest levels for
categories, missing values as a bin of their own), ``sum((test - train) * ln(test / train))`` over the
bins' shares. A group (an event type, a profile column, engagement) reports its largest feature PSI.
Numeric profile columns also report the share of test values outside their training range
(``training.model.out_of_range``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from training.model.out_of_range import ColumnRange, out_of_range, out_of_range_warning

BINS = 10
TOP_LEVELS = 20
#: Floor of a bin's share, so an empty bin does not make the PSI infinite.
EPSILON = 1e-4


@dataclass(frozen=True)
class GroupDrift:
    group: str
    psi: float
    #: the feature of the group with the largest PSI
    feature: str


@dataclass
class DriftReport:
    train_base_rate: float
    test_base_rate: float
    groups: list[GroupDrift] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: numeric profile columns, largest share of test values outside the training range first
    out_of_range: list[ColumnRange] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "train_base_rate": self.train_base_rate,
            "test_base_rate": self.test_base_rate,
            "groups": [{"group": g.group, "psi": round(g.psi, 4), "feature": g.feature} for g in self.groups],
            "warnings": list(self.warnings),
            "out_of_range": [r.to_dict() for r in self.out_of_range],
        }


def psi(train: pd.Series, test: pd.Series) -> float:
    """Population stability index of one feature between two periods (0: same distribution)."""
    if isinstance(train.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(train.dtype):
        top = train.astype(object).value_counts().index[:TOP_LEVELS]

        def bins_of(values: pd.Series) -> pd.Series:
            text = values.astype(object)
            return text.where(text.isin(top), "(other)").where(values.notna(), "(missing)")

        a, b = bins_of(train), bins_of(test)
    else:
        numeric_train = train.to_numpy(dtype=np.float64, na_value=np.nan)
        numeric_test = test.to_numpy(dtype=np.float64, na_value=np.nan)
        finite = numeric_train[np.isfinite(numeric_train)]
        edges = (
            np.unique(np.quantile(finite, np.linspace(0, 1, BINS + 1))[1:-1]) if finite.size else np.array([])
        )
        a = pd.Series(
            np.where(np.isnan(numeric_train), -1, np.searchsorted(edges, numeric_train, side="right"))
        )
        b = pd.Series(
            np.where(np.isnan(numeric_test), -1, np.searchsorted(edges, numeric_test, side="right"))
        )
    share_a = a.value_counts(normalize=True)
    share_b = b.value_counts(normalize=True)
    levels = share_a.index.union(share_b.index)
    pa = np.maximum(share_a.reindex(levels, fill_value=0).to_numpy(dtype=np.float64), EPSILON)
    pb = np.maximum(share_b.reindex(levels, fill_value=0).to_numpy(dtype=np.float64), EPSILON)
    return float(np.sum((pb - pa) * np.log(pb / pa)))


def drift_report(
    X_train: pd.DataFrame,
    X_test: pd.DataFrame,
    y_train: np.ndarray,
    y_test: np.ndarray,
    feature_groups: Mapping[str, str],
    *,
    max_psi: float = 0.25,
    base_rate_factor: float = 1.5,
    profiles: tuple[pd.DataFrame, pd.DataFrame] | None = None,
    numeric_columns: Sequence[str] = (),
    max_out_of_range_share: float = 0.05,
) -> DriftReport:
    """Base rates and per-group PSI between the periods, with warnings past the thresholds.

    ``profiles`` (the training and test snapshots' profile values) and ``numeric_columns`` add each
    numeric column's share of test values outside its training range, with a warning above
    ``max_out_of_range_share``.
    """
    train_rate, test_rate = float(np.mean(y_train)), float(np.mean(y_test))
    report = DriftReport(train_rate, test_rate)
    by_group: dict[str, GroupDrift] = {}
    for feature in X_train.columns:
        group = feature_groups.get(feature, feature)
        value = psi(X_train[feature], X_test[feature])
        if group not in by_group or value > by_group[group].psi:
            by_group[group] = GroupDrift(group, value, str(feature))
    report.groups = sorted(by_group.values(), key=lambda g: -g.psi)
    if (
        min(train_rate, test_rate) > 0
        and max(train_rate, test_rate) / min(train_rate, test_rate) > base_rate_factor
    ):
        report.warnings.append(
            f"the base rate moved from {train_rate:.1%} (training) to {test_rate:.1%} (test): calibration "
            "(ECE), PR-AUC, lift and the acceptance rate at the threshold partly measure this shift, not "
            "the model; ROC-AUC is the comparable figure"
        )
    shifted = [g for g in report.groups if g.psi > max_psi]
    if shifted:
        listed = ", ".join(f"{g.group} (PSI {g.psi:.2f}, {g.feature})" for g in shifted[:5])
        report.warnings.append(
            f"{len(shifted)} feature group(s) shifted strongly between training and test: {listed}; test "
            "metrics describe a population the model was not trained on, so expect live figures to differ"
        )
    if profiles is not None:
        report.out_of_range = out_of_range(profiles[0], profiles[1], numeric_columns)
        warning = out_of_range_warning(report.out_of_range, max_out_of_range_share)
        if warning is not None:
            report.warnings.append(warning)
    return report

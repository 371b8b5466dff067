"""Drift between the training and test periods: base rate and feature-group PSI, with warnings."""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.model.drift import drift_report, psi


def test_psi_is_zero_for_the_same_distribution_and_large_for_a_shift() -> None:
    rng = np.random.default_rng(0)
    same = psi(pd.Series(rng.normal(size=5000)), pd.Series(rng.normal(size=5000)))
    shifted = psi(pd.Series(rng.normal(size=5000)), pd.Series(rng.normal(1.0, 1.0, 5000)))
    assert same < 0.02 and shifted > 0.25
    levels = psi(
        pd.Series(pd.Categorical(rng.choice(["a", "b"], 3000))), pd.Series(pd.Categorical(["a"] * 3000))
    )
    assert levels > 0.25
    missing = psi(pd.Series(rng.normal(size=3000)), pd.Series(np.where(rng.random(3000) < 0.5, np.nan, 0.0)))
    assert missing > 0.25


def test_report_warns_on_a_moved_base_rate_and_a_shifted_group_only() -> None:
    rng = np.random.default_rng(1)
    n = 4000
    train = pd.DataFrame(
        {"visits_7d": rng.poisson(2, n), "visits_30d": rng.poisson(5, n), "size": rng.normal(size=n)}
    )
    test = pd.DataFrame(
        {"visits_7d": rng.poisson(6, n), "visits_30d": rng.poisson(5, n), "size": rng.normal(size=n)}
    )
    groups = {"visits_7d": "site_visit", "visits_30d": "site_visit", "size": "size"}
    report = drift_report(train, test, rng.random(n) < 0.05, rng.random(n) < 0.20, groups)
    assert report.groups[0].group == "site_visit" and report.groups[0].feature == "visits_7d"
    assert [g.group for g in report.groups if g.psi > 0.25] == ["site_visit"]
    assert len(report.warnings) == 2
    assert "base rate moved" in report.warnings[0] and "site_visit" in report.warnings[1]
    calm = drift_report(train, train, rng.random(n) < 0.1, rng.random(n) < 0.11, groups)
    assert calm.warnings == []
    assert calm.to_dict()["groups"][0]["psi"] == 0.0

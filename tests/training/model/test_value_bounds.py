"""Wild training values (typos far outside the bulk) do not flatten a numeric column for the linear
candidate or the logistic baseline; drifting regimes and rare-event tails keep their full range."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from training.model.baselines import LogisticBaseline
from training.model.linear import LinearReadinessModel
from training.model.ranking import roc_auc
from training.model.value_bounds import WildValueClipper, clip_bounds


def test_a_typo_is_left_out_of_the_range_a_regime_and_a_rare_tail_are_not() -> None:
    rng = np.random.default_rng(0)
    scores = np.append(rng.uniform(0, 100, 2000), 1e12)
    low, high = clip_bounds(scores)
    assert -101 < low < 0 and 100 < high < 201  # one range of the ordinary values beyond them
    # Two regimes (a rate mostly near 4.9, 2% of rows near 1): both are real, the range spans them.
    rate = np.append(rng.uniform(4.8, 5.0, 2000), rng.uniform(0.6, 1.3, 40))
    assert clip_bounds(rate) == (2 * rate.min() - rate.max(), 2 * rate.max() - rate.min())
    # A rare event's decayed count: 0 for 99.6% of the rows, up to 3 for the rest.
    decayed = np.append(np.zeros(2000), rng.uniform(0.1, 3.0, 8))
    assert clip_bounds(decayed) == (2 * decayed.min() - decayed.max(), 2 * decayed.max() - decayed.min())


def test_the_clipper_keeps_missing_values_and_clips_per_column() -> None:
    train = np.array([[1.0, 10.0], [2.0, np.nan], [3.0, 30.0]] * 100 + [[1e12, 20.0]])
    clipper = WildValueClipper().fit(train)
    out = clipper.transform(np.array([[5e11, np.nan], [2.0, 1e6]]))
    assert out[0, 0] == 5.0 and np.isnan(out[0, 1])  # 1, 2, 3 are the ordinary values: 5 = 3 + (3 - 1)
    assert out[1, 0] == 2.0 and out[1, 1] == 50.0


def _typo_export(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    employees = rng.lognormal(4, 1, n)
    source = rng.choice(["web", "event"], n)
    margin = np.log(employees) - 5.5 + 0.3 * (source == "event")
    y = (rng.random(n) < 1 / (1 + np.exp(-margin))).astype(int)
    frame = pd.DataFrame(
        {"employees": employees, "source": pd.Categorical(source), "empty": np.full(n, np.nan)}
    )
    return frame, y


@pytest.mark.parametrize("model", ["linear", "logistic"])
def test_one_typo_in_training_does_not_flatten_the_column(model: str) -> None:
    X, y = _typo_export(3000, 1)
    X.loc[7, "employees"] = 1e12  # one export row with a typo
    later_X, later_y = _typo_export(2000, 2)
    time_key = pd.Series(pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(np.arange(3000) // 20, "D"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an all-missing column is not a library warning on the console
        if model == "linear":
            fitted = LinearReadinessModel().fit(X, y, time_key=time_key, groups=pd.Series(range(3000)))
            score = fitted.readiness(later_X)
        else:
            score = LogisticBaseline().fit(X, y).predict_proba(later_X)[:, 1]
    # Ranked by the employee count (the truth's main input): 0.74 for both. With the typo in its
    # standard deviation every ordinary count standardised to about the same number, so the L2 penalty
    # all but removed it and both read 0.66.
    assert roc_auc(later_y, score) > 0.7

"""The linear candidate on drifting exports: extrapolation beyond the training range, rare levels."""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.model.linear import LinearReadinessModel
from training.model.ranking import roc_auc


def _time_and_leads(n: int) -> tuple[pd.Series, pd.Series]:
    time_key = pd.Series(pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(np.arange(n) // 20, "D"))
    return time_key, pd.Series([f"lead-{i}" for i in range(n)])


def test_a_drifting_column_keeps_ranking_beyond_its_training_quantiles() -> None:
    """Training sits mostly in one regime (rate in [0, 1]) with a few rows of an earlier one (rate near
    -3); later leads arrive at rates between -2.5 and -1.5, beyond the 0.5% training quantile but inside
    the training range. The linear effect continues there, and the model must keep ranking by it
    (clipped at one quantile range beyond the quantiles, every later value was the same number)."""
    rng = np.random.default_rng(3)
    n = 3000
    rate = rng.uniform(0.0, 1.0, n)
    rate[rng.choice(n, 12, replace=False)] = rng.uniform(-3.0, -2.8, 12)  # 0.4%: below the 0.5% quantile
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(1.5 * rate - 1.0)))).astype(int)
    X = pd.DataFrame({"rate": rate})
    time_key, leads = _time_and_leads(n)
    model = LinearReadinessModel().fit(X, y, time_key=time_key, groups=leads)

    later_rate = rng.uniform(-2.5, -1.5, 2000)
    later_y = (rng.random(2000) < 1.0 / (1.0 + np.exp(-(1.5 * later_rate + 3.0)))).astype(int)
    later = pd.DataFrame({"rate": later_rate})
    score = model.raw_score(later)
    assert np.unique(np.round(score, 9)).size > 100  # not flattened by the clip
    assert roc_auc(later_y, score) > 0.6


def test_a_rare_level_is_shrunk_not_given_its_raw_log_odds() -> None:
    """A level seen in 12 of 3000 training rows, half of them won (base rate ~10%): its empirical
    log-odds lift is ~2.2. Penalised in 0/1 units it is shrunk towards the pool; standardised, its tiny
    standard deviation all but lifted the penalty and it kept nearly the full lift."""
    rng = np.random.default_rng(4)
    n = 3000
    source = np.where(np.arange(n) % 250 == 0, "rare", rng.choice(["web", "event"], n))
    y = (rng.random(n) < 0.1).astype(int)
    y[source == "rare"] = np.arange(int((source == "rare").sum())) % 2
    X = pd.DataFrame(
        {
            "lead_source": pd.Categorical(source, categories=["web", "event", "rare"]),
            "noise": rng.normal(size=n),
        }
    )
    time_key, leads = _time_and_leads(n)
    model = LinearReadinessModel().fit(X, y, time_key=time_key, groups=leads)
    rows = X.iloc[:3].copy()
    rows["lead_source"] = pd.Categorical(["rare", "web", "event"], categories=X["lead_source"].cat.categories)
    margin = model.raw_score(rows)
    lift = margin[0] - margin[1:].mean()
    assert 0.0 < lift < 1.2

"""Baselines: exact decayed points on hand-built events, learned points, and the logistic baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.features.snapshots import SnapshotBatch
from training.model.baselines import LogisticBaseline, PointsScoreBaseline
from training.model.ranking import roc_auc


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


@pytest.fixture()
def tiny_batch() -> SnapshotBatch:
    snapshots = pd.DataFrame(
        {
            "lead_id": ["a", "a", "b", "c"],
            "cutoff": [ts("2024-01-31"), ts("2024-03-01"), ts("2024-01-31"), ts("2024-01-31")],
        }
    )
    events = pd.DataFrame(
        {
            "lead_id": ["a", "a", "a", "b", "b", "zz"],
            "occurred_at": [
                ts("2024-01-01"),  # a: click, 30 days before the first cutoff
                ts("2024-01-31"),  # a: demo exactly at the first cutoff: not before it
                ts("2024-02-15"),  # a: demo, 15 days before the second cutoff
                ts("2024-01-16"),  # b: click, 15 days before its cutoff
                ts("2024-02-01"),  # b: demo after its cutoff: ignored
                ts("2024-01-01"),  # a lead without snapshots: ignored
            ],
            "event_type": pd.Categorical(["click", "demo", "demo", "click", "demo", "demo"]),
        }
    )
    return SnapshotBatch(snapshots, events)


def test_points_score_is_exact_with_half_life_decay(tiny_batch: SnapshotBatch) -> None:
    model = PointsScoreBaseline(points={"click": 5.0, "demo": 20.0}, half_life_days=30.0)
    model.fit(tiny_batch, np.array([0, 1, 0, 1]))
    expected = [
        5.0 * 0.5,  # one click, 30 days old
        5.0 * 0.5**2 + 20.0 * 0.5**1 + 20.0 * 0.5**0.5,  # click 60 d, demo 30 d, demo 15 d before 2024-03-01
        5.0 * 0.5**0.5,  # one click, 15 days old
        0.0,  # no events
    ]
    np.testing.assert_allclose(model.score(tiny_batch), expected, rtol=1e-12)


def test_points_score_half_life_changes_decay(tiny_batch: SnapshotBatch) -> None:
    model = PointsScoreBaseline(points={"click": 8.0}, half_life_days=15.0).fit(
        tiny_batch, np.array([0, 1, 0, 1])
    )
    np.testing.assert_allclose(
        model.score(tiny_batch), [8.0 * 0.25, 8.0 * 0.5**4, 8.0 * 0.5, 0.0], rtol=1e-12
    )


def test_points_are_learned_from_log_lift(tiny_batch: SnapshotBatch) -> None:
    # Before the cutoffs: click seen by snapshots 0, 1, 2 (one won); demo only by snapshot 1 (won).
    model = PointsScoreBaseline().fit(tiny_batch, np.array([0, 1, 0, 1]))
    # click: 10 * ln(((1 + 1) / (2 + 2)) / ((3 + 1) / (4 + 2))) = -2.88 -> -3
    # demo: 10 * ln(((1 + 1) / (2 + 2)) / ((1 + 1) / (4 + 2))) = 4.05 -> 4
    assert model.points_ == {"click": -3.0, "demo": 4.0}


def test_learned_points_are_clipped() -> None:
    n = 200
    snapshots = pd.DataFrame({"lead_id": [f"L{i}" for i in range(n)], "cutoff": ts("2024-02-01")})
    events = pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(0, n, 20)],
            "occurred_at": ts("2024-01-20"),
            "event_type": "contract_sent",
        }
    )
    y = np.zeros(n, dtype=int)
    y[::20] = 1
    model = PointsScoreBaseline(max_points=20.0).fit(SnapshotBatch(snapshots, events), y)
    assert model.points_ == {"contract_sent": 20.0}


def test_points_probability_is_monotone_in_score(tiny_batch: SnapshotBatch) -> None:
    model = PointsScoreBaseline(points={"click": 5.0, "demo": 20.0}).fit(tiny_batch, np.array([0, 1, 0, 1]))
    score = model.score(tiny_batch)
    proba = model.predict_proba(tiny_batch)[:, 1]
    order = np.argsort(score)
    assert np.all(np.diff(proba[order]) >= 0)
    assert roc_auc(np.array([0, 1, 0, 1]), proba) == roc_auc(np.array([0, 1, 0, 1]), score)


def test_points_baseline_ranks_engaged_leads_higher() -> None:
    rng = np.random.default_rng(0)
    n = 400
    engaged = rng.random(n) < 0.5
    snapshots = pd.DataFrame({"lead_id": [f"L{i}" for i in range(n)], "cutoff": ts("2024-03-01")})
    n_events = np.where(engaged, 6, 1)
    lead_ids = np.repeat(snapshots["lead_id"].to_numpy(), n_events)
    types = np.where(np.repeat(engaged, n_events), "webinar", "newsletter_open")
    days = rng.uniform(1, 60, lead_ids.size)
    events = pd.DataFrame(
        {
            "lead_id": lead_ids,
            "occurred_at": ts("2024-03-01") - pd.to_timedelta(days, unit="D"),
            "event_type": types,
        }
    )
    y = (rng.random(n) < np.where(engaged, 0.6, 0.1)).astype(int)
    batch = SnapshotBatch(snapshots, events)
    model = PointsScoreBaseline().fit(batch, y)
    assert model.points_["webinar"] > 0 > model.points_["newsletter_open"]
    assert roc_auc(y, model.predict_proba(batch)[:, 1]) > 0.7


def test_points_baseline_refuses_feature_frames() -> None:
    with pytest.raises(TypeError, match="SnapshotBatch"):
        PointsScoreBaseline().fit(pd.DataFrame({"x": [1.0, 2.0]}), np.array([0, 1]))  # type: ignore[arg-type]


def test_points_baseline_without_cutoffs_names_the_problem(tiny_batch: SnapshotBatch) -> None:
    snapshots = tiny_batch.snapshots.assign(
        cutoff=pd.Series(pd.NaT, index=range(4), dtype="datetime64[ns, UTC]")
    )
    with pytest.raises(ValueError, match="cutoff"):
        PointsScoreBaseline(points={"click": 1.0}).fit(
            SnapshotBatch(snapshots, tiny_batch.events), [0, 1, 0, 1]
        )


def test_logistic_baseline_handles_nan_and_categories() -> None:
    rng = np.random.default_rng(0)
    n = 600
    x = rng.normal(size=n)
    source = rng.choice(["web", "event", "referral"], n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(2 * x + (source == "referral"))))).astype(int)
    x[::10] = np.nan
    X = pd.DataFrame({"x": x, "lead_source": pd.Categorical(source)})
    model = LogisticBaseline().fit(X, y)
    proba = model.predict_proba(X)
    assert proba.shape == (n, 2)
    assert roc_auc(y, proba[:, 1]) > 0.75
    unseen = pd.DataFrame({"x": [np.nan], "lead_source": pd.Categorical(["podcast"])})
    assert np.isfinite(model.predict_proba(unseen)).all()

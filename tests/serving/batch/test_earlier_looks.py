"""The gone-cold hysteresis's earlier looks, computed with the leads (the API) or deferred to the rows
that need them (batch scoring): the same features, so the same verdicts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from serving.batch.run import _ns
from serving.batch.tables import ScoringTables
from serving.scorer import LeadScorer
from serving.verdicts import EarlierLooks
from training.data.contract import LeadDataset
from training.features.snapshot_arrays import SnapshotArrays

AS_OF = pd.Timestamp("2026-02-01T00:00:00Z")
WEEK_NS = 7 * 86_400 * 10**9
LOOKBACKS = (WEEK_NS, 2 * WEEK_NS, 3 * WEEK_NS)


@pytest.fixture(scope="module")
def arrays(batch_scorer: LeadScorer, batch_dataset: LeadDataset) -> SnapshotArrays:
    tables = ScoringTables.from_dataset(
        batch_dataset, batch_scorer.categorical_columns, batch_scorer.numeric_columns
    )
    return tables.arrays(tables.select(_ns(AS_OF), include_closed=True).positions, _ns(AS_OF))


def test_selected_snapshots_keep_their_features(batch_scorer: LeadScorer, arrays: SnapshotArrays) -> None:
    rows = np.array([17, 3, 250, 3, len(arrays) - 1])  # any order, a repeat
    whole = batch_scorer.features.transform_arrays(arrays).to_frame()
    selected = arrays.select(rows)
    assert selected.n_leads == 4 and len(selected) == len(rows)
    assert set(np.unique(selected.event_lead_codes)) <= set(range(4))
    alone = batch_scorer.features.transform_arrays(selected).to_frame()
    pd.testing.assert_frame_equal(alone, whole.iloc[rows].reset_index(drop=True))


def test_deferred_looks_equal_the_looks_computed_with_the_leads(
    batch_scorer: LeadScorer, arrays: SnapshotArrays
) -> None:
    features = batch_scorer.features
    n = len(arrays)
    stacked = features.transform_arrays(arrays.with_earlier_looks(LOOKBACKS))
    _, earlier_part = stacked.split(n)
    computed = EarlierLooks.computed(earlier_part, LOOKBACKS, n)
    asked: list[np.ndarray] = []

    def transform(rows: np.ndarray) -> object:
        asked.append(rows)
        return features.transform_arrays(arrays.select(rows).at_earlier_looks(LOOKBACKS))

    deferred = EarlierLooks(LOOKBACKS, n, transform=transform)  # type: ignore[arg-type]
    rng = np.random.default_rng(0)
    first = rng.choice(n, size=40, replace=False)
    second = np.concatenate([first[:10], rng.choice(n, size=30, replace=False)])  # overlaps the first
    for rows in (first, second, first[::-1]):
        pd.testing.assert_frame_equal(deferred.of_rows(rows).to_frame(), computed.of_rows(rows).to_frame())
    # Each row's looks were computed once: the third call needed nothing new.
    assert len(asked) == 2 and not set(asked[1]) & set(first)
    assert sum(len(a) for a in asked) == len(np.union1d(first, second))


def test_batch_scores_compute_the_earlier_looks_only_for_the_rows_that_need_them(
    batch_scorer: LeadScorer, arrays: SnapshotArrays
) -> None:
    if batch_scorer._lookback is None:
        pytest.skip("the batch model has no gone-cold hysteresis")
    eager = batch_scorer.run_model(arrays, explain=False)
    deferred = batch_scorer.run_model(arrays, explain=False, defer_earlier_looks=True)
    first, second = batch_scorer.decide(arrays, eager), batch_scorer.decide(arrays, deferred)
    assert first.looked_back is not None and 0 < first.looked_back.sum() < len(arrays)
    for name in ("verdicts", "grades", "handover", "cold_before", "looked_back"):
        assert (getattr(first, name) == getattr(second, name)).all(), name
    assert deferred.earlier is not None
    assert deferred.earlier.rows_computed == int(first.looked_back.sum())
    assert eager.earlier is not None and eager.earlier.rows_computed == len(arrays)


def test_deferred_looks_score_each_row_once(batch_scorer: LeadScorer, arrays: SnapshotArrays) -> None:
    model = batch_scorer.model
    asked: list[int] = []

    class Counting:
        def readiness(self, features: object) -> np.ndarray:
            asked.append(len(features))  # type: ignore[arg-type]
            return model.readiness(features)  # type: ignore[arg-type]

    looks = EarlierLooks.deferred(batch_scorer.features, arrays, LOOKBACKS)
    first, second = np.array([5, 9, 30]), np.array([30, 9, 41])
    for rows in (first, second, first):
        features = looks.of_rows(rows)
        got = looks.readiness_of_rows(rows, features, Counting())  # type: ignore[arg-type]
        np.testing.assert_array_equal(got, model.readiness(features))
    # Three looks per row, each row scored once: 3 rows, then the one new row, then none.
    assert asked == [3 * len(LOOKBACKS), 1 * len(LOOKBACKS)]

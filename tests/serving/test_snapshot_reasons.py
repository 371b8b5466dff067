"""Notebook explanations are the API's: explain_snapshots runs the served path on a SnapshotBatch."""

from __future__ import annotations

import numpy as np
import pytest
from test_api import make_dataset

from serving.scorer import LeadScorer
from serving.snapshot_reasons import REASON_COLUMNS, explain_snapshots
from training.bundle import ModelBundle
from training.data.live import EventIn, LeadIn
from training.features.snapshots import SnapshotPolicy, build_snapshots


@pytest.fixture(scope="module")
def snapshots():
    dataset = make_dataset(n_leads=600)
    return dataset, build_snapshots(dataset, SnapshotPolicy(every_days=14, horizon_days=90)).batch


def test_reasons_agree_with_their_sign_and_are_the_largest_pushes(
    small_bundle: ModelBundle, snapshots
) -> None:
    _, batch = snapshots
    picked = batch.take(np.arange(0, len(batch.snapshots), max(1, len(batch.snapshots) // 40)))
    reasons = explain_snapshots(small_bundle, picked, top=3)
    assert list(reasons.columns) == list(REASON_COLUMNS)
    per_lead = reasons.groupby(["lead_id", "as_of"], sort=False).size()
    assert per_lead.max() <= 3 and len(per_lead) == len(picked.snapshots)
    assert ((reasons["contribution"] > 0) == (reasons["direction"] == "raises")).all()
    for _, group in reasons.groupby(["lead_id", "as_of"], sort=False):
        sizes = group["contribution"].abs().to_numpy()
        assert (np.diff(sizes) <= 1e-12).all()  # largest push first
    assert reasons["sentence"].str.endswith(".").all()
    assert not reasons["signal"].str.contains("_").any()


def test_a_snapshot_gets_the_sentences_the_api_gives_for_the_same_lead(
    small_bundle: ModelBundle, snapshots
) -> None:
    dataset, batch = snapshots
    row = batch.snapshots.iloc[len(batch.snapshots) // 2]
    lead_id, cutoff = row["lead_id"], row["cutoff"]
    reasons = explain_snapshots(small_bundle, batch.take(np.array([len(batch.snapshots) // 2])), top=3)
    events = dataset.events[dataset.events["lead_id"] == lead_id]
    lead = LeadIn(
        lead_id=str(lead_id),
        as_of=cutoff.floor("us").to_pydatetime(),
        created_at=row["created_at"].floor("us").to_pydatetime(),
        profile={
            c: (None if isinstance(row[c], float) and np.isnan(row[c]) else row[c])
            for c in batch.profile_columns
        },
        events=[
            EventIn(event_type=str(e.event_type), occurred_at=e.occurred_at.floor("us").to_pydatetime())
            for e in events.itertuples()
        ],
    )
    scorer = LeadScorer(small_bundle, version="t", source="memory")
    as_of = cutoff.floor("us").to_pydatetime()
    answer = scorer.score_payloads([lead], default_as_of=as_of, reasons_per_side=3)[0]
    api_sentences = {r["sentence"] for side in ("positive", "negative") for r in answer["reasons"][side]}
    assert set(reasons["sentence"]) <= api_sentences
    assert reasons["score"].iloc[0] == answer["score"]

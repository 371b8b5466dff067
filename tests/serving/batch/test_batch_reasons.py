"""Batch reason columns (``serving.batch.reasons``) equal the API's explanations, field by field."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from serving.batch.reasons import BatchReasons
from serving.batch.run import _ns
from serving.batch.tables import ScoringTables
from serving.reason_order import listable
from serving.scorer import LeadScorer, Scored
from training.data.contract import LeadDataset


def _backfill_scored(scorer: LeadScorer, dataset: LeadDataset) -> list[Scored]:
    """Every lead of the dataset at four times a month apart: a few thousand snapshots, many of them
    quiet, some busy, with every kind of feature among their reasons."""
    tables = ScoringTables.from_dataset(dataset, scorer.categorical_columns, scorer.numeric_columns)
    parts = []
    for as_of in pd.date_range("2025-11-01", "2026-02-01", periods=4, tz="UTC"):
        positions = tables.select(_ns(as_of), include_closed=True).positions
        parts.append(scorer.run_model(tables.arrays(positions, _ns(as_of)), explain=True))
    return parts


def test_batch_reasons_equal_the_explanations_field_by_field(
    batch_scorer: LeadScorer, batch_dataset: LeadDataset
) -> None:
    explainer = batch_scorer.explainer
    batch = BatchReasons(explainer)
    per_side = 4
    checked = quoted = 0
    kinds = set()
    for scored in _backfill_scored(batch_scorer, batch_dataset):
        features, contributions = scored.features, scored.contributions
        ranked = batch.ranked_reasons(features, contributions, per_side)
        axes = explainer.axes(contributions)
        explanations = explainer.explanations(
            features, contributions, scored.raw, scored.base_value, axes, per_side
        )
        for side, key in (("up", "positive"), ("down", "negative")):
            assert len(ranked[side]) == per_side
            for rank, columns in enumerate(ranked[side]):
                for row, explanation in enumerate(explanations):
                    listed = explanation[key]
                    if rank >= len(listed):
                        assert columns.feature[row] is None and columns.sentence[row] is None
                        assert math.isnan(columns.contribution[row]) and math.isnan(columns.value[row])
                        continue
                    reason = listed[rank]
                    assert columns.feature[row] == reason["feature"]
                    assert columns.signal[row] == reason["signal"]
                    assert columns.contribution[row] == reason["contribution"]
                    assert columns.sentence[row] == reason["sentence"], (row, side, rank)
                    value = reason["value"]
                    if isinstance(value, str):
                        assert columns.level[row] == value and math.isnan(columns.value[row])
                    elif value is None:
                        assert columns.level[row] is None and math.isnan(columns.value[row])
                    else:
                        assert columns.level[row] is None and columns.value[row] == value
                    checked += 1
                    quoted += reason["evidence"] is not None
                    kinds.add(explainer.facts[explainer.feature_names.index(reason["feature"])].kind)
    # The comparison covered many reasons, win-rate quotes, and most kinds of sentence.
    assert checked > 5_000 and quoted > 500
    assert {"profile_categorical", "event_count", "inactivity"} <= kinds and len(kinds) >= 6


def test_more_reasons_asked_than_features_leave_the_extra_ranks_empty(
    batch_scorer: LeadScorer, batch_dataset: LeadDataset
) -> None:
    scored = _backfill_scored(batch_scorer, batch_dataset)[-1]
    n_features = scored.contributions.shape[1]
    ranked = BatchReasons(batch_scorer.explainer).ranked_reasons(
        scored.features, scored.contributions, n_features + 2
    )
    for side in ("up", "down"):
        assert len(ranked[side]) == n_features + 2
        for extra in ranked[side][n_features:]:
            assert (extra.sentence == None).all() and np.isnan(extra.contribution).all()  # noqa: E711
    # Every lead has all its contributions on their signal's side among the two sides' ranks; those
    # against it (one signal's features pulling both ways) are never listed (serving.reason_order).
    listed = sum((~np.isnan(r.contribution)).sum() for side in ("up", "down") for r in ranked[side])
    on_side = listable(scored.contributions, batch_scorer.explainer.signal_codes)
    assert listed == int((on_side != 0).sum()) < int((scored.contributions != 0).sum())

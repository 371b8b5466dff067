"""The trees' column sample, chosen on the selection's rolling folds by the paired rule of the candidates."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from training.config import ModelConfig, SelectionConfig, TrainConfig
from training.model.fold_comparison import challenge_in_order
from training.model.selection import BLEND, LINEAR, TREES, fit_selected, select_model

FAST_TREES: dict[str, Any] = {"n_estimators": 150, "learning_rate": 0.1}


def redundant(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, pd.Series, pd.Series]:
    """One latent readiness seen through 40 noisy copies (as event counts over several windows and decays
    see one engagement) and a column of pure noise; two snapshots per lead, rows in time order."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=n)
    columns = {f"copy_{i}": latent + rng.normal(scale=2.0, size=n) for i in range(40)}
    columns["noise"] = rng.normal(size=n)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(2.0 * latent - 1.5)))).astype(int)
    lead = pd.Series([f"lead-{i // 2}" for i in range(n)])
    time_key = pd.Series(pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(np.arange(n) // 10, "D"))
    return pd.DataFrame(columns), y, time_key, lead


def test_a_later_option_replaces_only_when_better_by_more_than_one_paired_se() -> None:
    rng = np.random.default_rng(0)
    labels = [rng.integers(0, 2, 600) for _ in range(3)]
    leads = [np.arange(600) for _ in range(3)]
    sharp = [y + rng.normal(scale=0.5, size=y.size) for y in labels]
    blurred = [y + rng.normal(scale=2.0, size=y.size) for y in labels]
    chosen, (comparison,) = challenge_in_order({"default": blurred, "other": sharp}, labels, leads, 50, rng)
    assert chosen == "other" and comparison.replaced
    assert comparison.difference > comparison.standard_error > 0
    assert comparison.summary().startswith("other vs default +") and comparison.summary().endswith("wins)")
    # The better option first: the worse one does not replace it.
    chosen, (comparison,) = challenge_in_order({"default": sharp, "other": blurred}, labels, leads, 50, rng)
    assert chosen == "default" and not comparison.replaced and comparison.difference < 0
    assert "not better by more than one SE" in comparison.summary()
    # One option only: nothing to compare.
    assert challenge_in_order({"default": sharp}, labels, leads, 50, rng) == ("default", [])


def test_the_chosen_column_sample_is_the_one_the_trees_and_the_blend_use() -> None:
    X, y, time_key, lead = redundant(3000, seed=0)
    settings = SelectionConfig(n_bootstrap=50, candidates=(TREES, BLEND))
    result = select_model(X, y, time_key, lead, None, settings, FAST_TREES, elapsed_features=())
    (comparison,) = result.column_comparisons
    assert comparison.incumbent == "trees (column sample 0.8)"
    assert comparison.challenger == "trees (column sample 0.3)"
    # 40 noisy copies of one signal: sampling a few per tree ranks these folds better.
    assert comparison.replaced, comparison.summary()
    chosen = 0.3
    assert result.tree_params["colsample_bytree"] == chosen
    assert comparison.summary() in result.reason
    # The trees' fold ROC-AUC is that of the chosen sample: the same as a selection that tries only it.
    alone = select_model(
        X,
        y,
        time_key,
        lead,
        None,
        settings.model_copy(update={"tree_column_samples": (chosen,)}),
        FAST_TREES,
        elapsed_features=(),
    )
    assert alone.column_comparisons == []
    assert result.fold_auc[TREES] == alone.fold_auc[TREES]
    assert result.fold_auc[BLEND] == alone.fold_auc[BLEND]
    assert result.to_dict()["column_comparisons"][0]["challenger"] == comparison.challenger


@pytest.mark.parametrize("configured", [{}, {"colsample_bytree": 0.6}])
def test_the_served_trees_use_the_chosen_sample_and_an_explicit_model_key_wins(
    configured: dict[str, float],
) -> None:
    # Neither configured sample is ReadinessModel's own default (0.8): the served trees must get theirs.
    X, y, time_key, lead = redundant(2000, seed=1)
    config = TrainConfig(
        model=ModelConfig(**configured),
        selection=SelectionConfig(n_bootstrap=20, candidates=(TREES, BLEND), tree_column_samples=(0.5, 0.3)),
    )
    model, selection = fit_selected(X, y, time_key, lead, None, config, elapsed_features=())
    trees = model if selection.chosen == TREES else model.trees_
    assert trees.colsample_bytree == selection.tree_params["colsample_bytree"]
    if configured:  # the user's [model] key: no sample is tried on the folds, and the run says so
        assert trees.colsample_bytree == 0.6 and selection.column_comparisons == []
        assert any("tree_column_samples were not tried" in note for note in selection.notes)
    else:
        (comparison,) = selection.column_comparisons
        assert trees.colsample_bytree == (0.3 if comparison.replaced else 0.5)


def test_one_configured_sample_leaves_the_candidate_choice_as_it_was() -> None:
    """With the default kept, trying 0.3 as well changes nothing of the candidates' comparison: the same
    trees scores, and the column choice draws its bootstrap from a stream of its own."""
    rng = np.random.default_rng(4)
    n = 3000
    a = rng.uniform(-1, 1, n)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(2.0 * a - 1.5)))).astype(int)
    X = pd.DataFrame({"a": a, "b": rng.uniform(-1, 1, n)})  # one column carries the signal
    lead = pd.Series([f"lead-{i // 2}" for i in range(n)])
    time_key = pd.Series(pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(np.arange(n) // 10, "D"))
    both = select_model(
        X, y, time_key, lead, None, SelectionConfig(n_bootstrap=50), FAST_TREES, elapsed_features=()
    )
    (column,) = both.column_comparisons
    assert not column.replaced, column.summary()
    alone = select_model(
        X,
        y,
        time_key,
        lead,
        None,
        SelectionConfig(n_bootstrap=50, tree_column_samples=(0.8,)),
        FAST_TREES,
        elapsed_features=(),
    )
    assert alone.column_comparisons == []
    assert (both.chosen, both.comparisons, both.fold_auc) == (alone.chosen, alone.comparisons, alone.fold_auc)


def test_the_blend_without_the_trees_candidate_still_chooses_its_trees_sample() -> None:
    X, y, time_key, lead = redundant(3000, seed=0)
    settings = SelectionConfig(n_bootstrap=50, candidates=(LINEAR, BLEND))
    result = select_model(X, y, time_key, lead, None, settings, FAST_TREES, elapsed_features=())
    assert set(result.fold_auc) == {LINEAR, BLEND}
    (comparison,) = result.column_comparisons
    assert result.tree_params["colsample_bytree"] == (0.3 if comparison.replaced else 0.8)


def test_a_trees_only_selection_uses_the_first_configured_sample() -> None:
    X, y, time_key, lead = redundant(600, seed=2)
    settings = SelectionConfig(candidates=(TREES,), tree_column_samples=(0.5, 0.3))
    result = select_model(X, y, time_key, lead, None, settings, FAST_TREES, elapsed_features=())
    assert result.tree_params["colsample_bytree"] == 0.5 and result.column_comparisons == []


@pytest.mark.parametrize("samples", [(0.0,), (1.2,), (0.3, 0.3), (0.3, 0.3000001), ()])
def test_settings_refuse_column_samples_outside_the_unit_interval_or_repeated(
    samples: tuple[float, ...],
) -> None:
    with pytest.raises(ValidationError, match="tree_column_samples"):
        SelectionConfig(tree_column_samples=samples)

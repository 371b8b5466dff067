"""Choose the readiness model for the data: candidates compared on rolling time folds of the training period.

Three candidates share one interface (``ReadinessModel``'s: readiness, raw score, exact contributions):

- ``linear``: the regularised logistic model over spline/one-hot bases (``LinearReadinessModel``);
- ``trees``: gradient-boosted trees with a capacity set from the data size (``tree_capacity``);
- ``blend``: both averaged in calibrated log-odds, Platt-calibrated (``BlendedReadinessModel``).

Each is fitted on the earlier part of the training period and scored on a later block, for
``folds`` rolling blocks at the end of the training period (a horizon gap before each block, so no
fold's training label peeks into its validation block); the test period is never touched. Candidates
are ranked from simplest to most complex, and a more complex one replaces the current choice only if
its mean ROC-AUC over the folds is higher by more than one paired standard error (a bootstrap over
leads within each fold, combined over folds) and above chance (0.5): where the conversion pattern
drifts so much that the candidates rank the later folds no better than a coin, the folds are no
evidence for the more complex one (``training.model.fold_comparison``). The others stay in the result as
comparisons.

Before the candidates, the same folds choose the trees' column sample (the share of columns each tree may
split on, ``[selection] tree_column_samples``): the default 0.8 unless 0.3 wins by the same rule, and the
trees and the blend then use the chosen one. Where many engineered columns carry the same signal (event
counts over several windows and decays) sampling a few per tree keeps the first-chosen columns from
dominating every tree (simulator, 10,000 leads: 0.3 chosen on 9 of 12 folds, the trees 0.9775 -> 0.9791
of the oracle); where one column carries most of the signal (Online Shoppers' page value) it costs, and
the folds keep the default (BENCHMARKS.md, "Trees' column sample"). Choosing the better of two samples on
the folds that then compare the trees with the linear candidate flatters the trees' fold ROC-AUC a little;
the one-SE rule keeps that small.

The chosen candidate's scores on the validation blocks are kept as ``OutOfFold`` readiness: each row
scored by a fold model that did not train on it, Platt-recalibrated on its whole block (so that what is
left is how a slice of the block deviates from the block's calibration, not the drift between the fold's
training rows and its block). Blocks hold out rows by time, not whole leads, as the test period and live
scoring do: a lead's snapshots from a horizon or more before the block may be among the fold's training
rows, as a live lead's earlier snapshots are among the served model's. The hand-raiser slice calibration
(``training.model.decision_learn``) learns from these rows as well as from the served model's held-out
leads: a few hundred hand-raising snapshots more, at no extra fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from training.config import SelectionConfig, TrainConfig
from training.model.blend import BlendedReadinessModel
from training.model.calibration import fit_platt, platt_probability
from training.model.fold_comparison import Comparison, challenge_in_order
from training.model.linear import IN_THE_LARGE, LinearReadinessModel
from training.model.ranking import roc_auc
from training.model.readiness import ReadinessModel

LINEAR = "linear"
TREES = "trees"
BLEND = "blend"
#: From simplest to most complex: the order in which a candidate must earn its place.
COMPLEXITY_ORDER: tuple[str, ...] = (LINEAR, TREES, BLEND)


@dataclass(frozen=True)
class OutOfFold:
    """Readiness of training rows by the chosen candidate's fold models, which did not train on them
    (module docstring): ``rows`` are positions in the ``n_rows`` training rows given to ``select_model``."""

    rows: np.ndarray
    readiness: np.ndarray
    n_rows: int

    def __post_init__(self) -> None:
        if len(self.rows) != len(self.readiness):
            raise ValueError("out-of-fold rows and readiness must have the same length")
        if len(self.rows) and not 0 <= int(self.rows.min()) <= int(self.rows.max()) < self.n_rows:
            raise ValueError(f"out-of-fold rows must be positions in the {self.n_rows} training rows")


@dataclass
class SelectionResult:
    """What the selection saw and chose (JSON-able through ``to_dict``)."""

    chosen: str
    #: candidate -> ROC-AUC on each usable fold (the blend at its chosen weight)
    fold_auc: dict[str, list[float]]
    comparisons: list[Comparison]
    blend_weight: float
    tree_params: dict[str, Any]
    folds_used: int
    reason: str
    notes: list[str] = field(default_factory=list)
    #: the chosen candidate's recalibrated fold scores (None when no fold was used)
    out_of_fold: OutOfFold | None = field(default=None, repr=False, compare=False)
    #: the trees' column samples tried on the folds (the chosen one is ``tree_params["colsample_bytree"]``)
    column_comparisons: list[Comparison] = field(default_factory=list)

    def mean_auc(self, name: str) -> float:
        values = self.fold_auc.get(name, [])
        return float(np.mean(values)) if values else float("nan")

    def to_dict(self) -> dict[str, Any]:
        # Without the arrays (asdict would deep-copy them): only how many rows they cover.
        raw = asdict(replace(self, out_of_fold=None))
        del raw["out_of_fold"]
        raw["out_of_fold_rows"] = 0 if self.out_of_fold is None else len(self.out_of_fold.rows)
        raw["mean_auc"] = {name: self.mean_auc(name) for name in self.fold_auc}
        return raw


def tree_capacity(n_rows: int, n_positives: int, n_leads: int) -> dict[str, Any]:
    """Tree parameters scaled to the data: fewer, larger leaves and more shrinkage on small data.

    Snapshots of one lead are correlated, so what limits the trees is the number of leads and of
    wins, not of rows: with a few hundred won leads, 4 leaves of at least ~2% of the rows and a strong
    L2 penalty keep the trees from memorising leads; with thousands, the defaults that measured best on
    the simulator (7 leaves, 100 rows each).
    """
    evidence = min(n_positives, n_leads)
    if evidence < 500:
        return {
            "num_leaves": 4,
            "min_child_samples": int(np.clip(n_rows // 50, 20, 100)),
            "reg_lambda": 10.0,
            "cat_smooth": 50.0,
            "min_data_per_group": 50,
            "learning_rate": 0.03,
        }
    if evidence < 3000:
        return {"num_leaves": 7, "min_child_samples": int(np.clip(n_rows // 100, 50, 100)), "reg_lambda": 5.0}
    return {"num_leaves": 7, "min_child_samples": 100, "reg_lambda": 1.0}


def rolling_folds(
    time_key: pd.Series, gap: pd.Timedelta | int | None, folds: int, fold_fraction: float
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``folds`` (train, validation) position pairs: validation blocks are consecutive slices of the last
    ``folds x fold_fraction`` of the rows in time; each trains on rows ``gap`` or more before its block."""
    keys = pd.Series(np.asarray(time_key))
    order = np.argsort(keys.to_numpy(), kind="stable")
    n = len(keys)
    out = []
    for k in range(folds):
        start = int(n * (1.0 - (folds - k) * fold_fraction))
        end = int(n * (1.0 - (folds - k - 1) * fold_fraction))
        if start <= 0 or end <= start:
            continue
        block_start, block_end = keys.iloc[order[start]], keys.iloc[order[end - 1]]
        is_val = ((keys >= block_start) & (keys <= block_end)).to_numpy()
        # Training rows end a horizon before the block, so no training label looks into it.
        bound = block_start if gap is None else block_start - gap
        is_train = ((keys < bound) & (keys < block_start)).to_numpy()
        out.append((np.flatnonzero(is_train), np.flatnonzero(is_val)))
    return out


def _sampled(column_sample: float) -> str:
    """How the trees fitted with ``column_sample`` are named in the selection's comparisons."""
    return f"{TREES} (column sample {column_sample:g})"


def build_candidate(
    name: str,
    tree_params: dict[str, Any],
    blend_weight: float = 0.5,
    calibration_gap: Any = None,
    elapsed_features: tuple[str, ...] = (),
) -> ReadinessModel:
    """An unfitted candidate estimator by name. ``elapsed_features``: the features that count days
    elapsed, which a linear model holds at their training range (``LinearReadinessModel``)."""
    trees = ReadinessModel(**tree_params)
    if calibration_gap is not None:
        trees.set_params(calibration_gap=calibration_gap)
    if name == TREES:
        return trees
    linear = LinearReadinessModel(calibration_gap=calibration_gap, elapsed_features=tuple(elapsed_features))
    if name == LINEAR:
        return linear
    if name == BLEND:
        return BlendedReadinessModel(
            trees=trees, linear=linear, weight=blend_weight, calibration_gap=calibration_gap
        )
    raise ValueError(f"unknown candidate {name!r}; choose one of {list(COMPLEXITY_ORDER)}")


def select_model(
    X: pd.DataFrame,
    y: np.ndarray,
    time_key: pd.Series,
    groups: pd.Series,
    gap: pd.Timedelta | int | None,
    settings: SelectionConfig,
    tree_params: dict[str, Any],
    seed: int = 0,
    *,
    elapsed_features: tuple[str, ...],
) -> SelectionResult:
    """Compare the candidates on rolling folds of the training period and pick one (see module doc).

    The trees' column sample comes from ``settings.tree_column_samples`` (any ``colsample_bytree`` in
    ``tree_params`` is replaced); the chosen one is in the result's ``tree_params``. ``elapsed_features``
    as in ``build_candidate``."""
    positive = np.asarray(y).astype(bool)
    tree_params = {**tree_params, "colsample_bytree": settings.tree_column_samples[0]}
    names: list[str] = [name for name in COMPLEXITY_ORDER if name in settings.candidates]
    notes: list[str] = []
    if len(names) == 1:
        return SelectionResult(names[0], {}, [], 0.5, tree_params, 0, "the only configured candidate")
    needs = {TREES: TREES in names or BLEND in names, LINEAR: LINEAR in names or BLEND in names}
    samples = settings.tree_column_samples if needs[TREES] else ()
    # The trees' scores per column sample, the linear candidate's once.
    logits: dict[str, list[np.ndarray]] = {**{_sampled(s): [] for s in samples}, LINEAR: []}
    labels: list[np.ndarray] = []
    leads: list[np.ndarray] = []
    validation_rows: list[np.ndarray] = []
    group_values = np.asarray(groups)
    for fold, (train, val) in enumerate(rolling_folds(time_key, gap, settings.folds, settings.fold_fraction)):
        y_fit, y_val = positive[train], positive[val]
        if min(y_fit.sum(), (~y_fit).sum(), y_val.sum(), (~y_val).sum()) < settings.min_class_per_fold:
            notes.append(f"fold {fold + 1} skipped: too few won or not-won snapshots")
            continue
        X_fit, X_val = X.iloc[train], X.iloc[val]
        fits = [
            (_sampled(c), build_candidate(TREES, {**tree_params, "colsample_bytree": c})) for c in samples
        ]
        if needs[LINEAR]:
            fits.append((LINEAR, build_candidate(LINEAR, tree_params, elapsed_features=elapsed_features)))
        try:
            for key, model in fits:
                model.fit(X_fit, y_fit, time_key=time_key.iloc[train], groups=group_values[train])
                raw = model.raw_score(X_val)
                logits[key].append(model.calibration_slope_ * raw + model.calibration_intercept_)
        except ValueError as error:  # e.g. a held-out slice with one outcome only
            notes.append(f"fold {fold + 1} skipped: {error}")
            for fold_logits in logits.values():
                del fold_logits[len(labels) :]
            continue
        labels.append(y_val)
        leads.append(group_values[val])
        validation_rows.append(val)
    if not labels:
        chosen = names[0]
        reason = f"no usable time fold in the training period: the simplest candidate ({chosen}) is used"
        return SelectionResult(chosen, {}, [], 0.5, tree_params, 0, reason, notes)

    column_comparisons: list[Comparison] = []
    if samples:
        # The column sample is chosen first, on its own random stream (the candidates' draws do not move).
        sample_scores = {_sampled(s): logits[_sampled(s)] for s in samples}
        chosen_sample, column_comparisons = challenge_in_order(
            sample_scores, labels, leads, settings.n_bootstrap, np.random.default_rng([seed, 1])
        )
        logits[TREES] = sample_scores[chosen_sample]
        tree_params = {**tree_params, "colsample_bytree": samples[list(sample_scores).index(chosen_sample)]}
    scores: dict[str, list[np.ndarray]] = {}
    if TREES in names:
        scores[TREES] = logits[TREES]
    if LINEAR in names:
        scores[LINEAR] = logits[LINEAR]
    weight = 0.5
    if BLEND in names:
        weight = max(
            settings.blend_weights,
            key=lambda w: np.mean(
                [
                    roc_auc(lab, w * t + (1 - w) * lin)
                    for lab, t, lin in zip(labels, logits[TREES], logits[LINEAR], strict=True)
                ]
            ),
        )
        scores[BLEND] = [
            weight * t + (1 - weight) * lin for t, lin in zip(logits[TREES], logits[LINEAR], strict=True)
        ]
    fold_auc: dict[str, list[float]] = {
        name: [roc_auc(lab, s) for lab, s in zip(labels, scores[name], strict=True)] for name in names
    }

    candidate_scores = {name: scores[name] for name in names}
    rng = np.random.default_rng(seed)
    chosen, comparisons = challenge_in_order(candidate_scores, labels, leads, settings.n_bootstrap, rng)
    reason = f"{chosen} chosen on {len(labels)} rolling time fold(s) of the training period: " + "; ".join(
        c.summary() for c in [*column_comparisons, *comparisons]
    )
    return SelectionResult(
        chosen,
        fold_auc,
        comparisons,
        float(weight),
        tree_params,
        len(labels),
        reason,
        notes,
        out_of_fold=_out_of_fold(scores[chosen], labels, validation_rows, len(X)),
        column_comparisons=column_comparisons,
    )


def _out_of_fold(
    scores: Sequence[np.ndarray],
    labels: Sequence[np.ndarray],
    validation_rows: Sequence[np.ndarray],
    n_rows: int,
) -> OutOfFold:
    """Each block's scores Platt-recalibrated on the block (module docstring); a row at the boundary of
    two blocks keeps the later fold's readiness (its model saw more data)."""
    parts = [platt_probability(score, *fit_platt(score, y)) for score, y in zip(scores, labels, strict=True)]
    rows = np.concatenate([np.asarray(r, dtype=np.int64) for r in validation_rows])
    readiness = np.concatenate(parts)
    # np.unique keeps the first occurrence: look from the end so that the later fold wins.
    unique_rows, last = np.unique(rows[::-1], return_index=True)
    return OutOfFold(unique_rows, readiness[::-1][last], n_rows)


def fit_selected(
    X: pd.DataFrame,
    y: np.ndarray,
    time_key: pd.Series,
    groups: pd.Series,
    gap: pd.Timedelta | int | None,
    config: TrainConfig,
    *,
    elapsed_features: tuple[str, ...],
) -> tuple[ReadinessModel, SelectionResult]:
    """What a training run serves: the trees sized to the data (``[model]`` keys win), their column sample
    and the candidate chosen on rolling folds of these training rows, fitted on all of them. Returns the
    fitted model and how it was chosen. ``elapsed_features``: the features that count days elapsed
    (``FeatureCatalog.elapsed_time_features``), held at their training range by a linear model."""
    user_params = config.model.estimator_kwargs()
    tree_params = {
        "random_state": config.seed,
        **tree_capacity(len(X), int(np.sum(y)), int(pd.Series(groups).nunique())),
        **user_params,  # what the user set explicitly wins over the size rule
    }
    settings = config.selection
    fixed_sample = "colsample_bytree" in user_params  # ... and over the folds' choice of column sample
    if fixed_sample:
        settings = settings.model_copy(update={"tree_column_samples": (user_params["colsample_bytree"],)})
    selection = select_model(
        X,
        y,
        time_key,
        groups,
        gap,
        settings,
        tree_params,
        seed=config.seed,
        elapsed_features=elapsed_features,
    )
    if fixed_sample and len(config.selection.tree_column_samples) > 1:
        selection.notes.append(
            f"[model] colsample_bytree = {user_params['colsample_bytree']:g} is used: "
            "[selection] tree_column_samples were not tried"
        )
    # Whole leads are held out for early stopping and calibration: a lead's other snapshots in the
    # trees' training rows would make the held-out slice look better than new leads will.
    model = build_candidate(
        selection.chosen, selection.tree_params, selection.blend_weight, elapsed_features=elapsed_features
    )
    model.fit(X, y, time_key=time_key, groups=groups)
    linear = model if isinstance(model, LinearReadinessModel) else getattr(model, "linear_", None)
    if getattr(linear, "calibration_method_", None) == IN_THE_LARGE:
        selection.notes.append(
            "calibration: the linear model fitted without the latest (held-out) leads did not rank them, "
            "so Platt scaling would give every lead one readiness; the model refitted on every row keeps "
            "its own log-odds scale and its level is set to the held-out leads' win rate"
        )
    return model, selection

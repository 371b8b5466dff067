"""Model families side by side on the same rolling time folds: the served model (chosen by leadripe's
selection), the logistic baseline, default LightGBM, scikit-learn's HistGradientBoosting and FLAML.

    .venv/bin/python bench/bench_models.py --write [--flaml-budget 60] [--sim-leads 5000] [--sim-seeds 1 2]

Datasets can run side by side as separate processes: ``--datasets olist --sim-leads 0 --runs DIR`` saves
each dataset's per-fold figures as JSON in DIR, and ``--combine DIR --write`` writes the section from all
of them (in the order olist, bank_marketing, online_shoppers, then the simulator by leads and seed).

For each public export (imported through its mapping in ``data/mappings``; the data live in
``../shared/datasets``) and for simulated data, three rolling test folds: the data up to 90%, 95% and
100% of its time span, each split as ``leadripe train`` splits (the latest 25% of snapshots are the test
period, one horizon gap before it for dated data), features fitted on the training side only. Every
family is trained on exactly the same training rows and scored on the same test rows. Reported: the
mean test ROC-AUC over the folds, the fit time of each family, the served model's family per fold, its
calibration error, and where training and test base rates differ by more than 2x the error after the
label-free prior-shift correction (``training.model.prior_shift``; none where its EM did not settle).
FLAML is optional (the ``bench`` extra); without it its column says so. ``--write`` replaces the
``## Model families`` section of BENCHMARKS.md.

``--served-only`` fits only the served model on the same folds and prints its ROC-AUC against the
simulator's oracle per fold and seed (the learning curve of BENCHMARKS.md, "Readiness model against the
oracle"); it never writes:

    .venv/bin/python bench/bench_models.py --served-only --datasets --sim-leads 40000 --sim-seeds 1 2 3 4
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks_md import write_section

from training.config import TrainConfig
from training.data.contract import TimeBasis
from training.data.io import load_dataset
from training.data.mapping import import_export
from training.features.specs import FeatureCatalog
from training.features.transformer import LeadFeatures
from training.model.baselines import LogisticBaseline
from training.model.evaluation import expected_calibration_error
from training.model.oracle import oracle_auc
from training.model.prior_shift import base_rates_shifted, estimate_prior_shift
from training.model.ranking import roc_auc
from training.model.selection import fit_selected
from training.model.split import InsufficientDataError, time_split
from training.pipeline import load_labelled

ROOT = Path(__file__).resolve().parents[1]
# The shared datasets sit beside the repository (``../shared/datasets``); LEADRIPE_SHARED_DATASETS elsewhere.
SHARED = Path(os.environ.get("LEADRIPE_SHARED_DATASETS", ROOT.parent / "shared" / "datasets"))
SECTION = "## Model families"
EXPORTS = ("olist", "bank_marketing", "online_shoppers")
FOLD_ENDS = (0.9, 0.95, 1.0)
SERVED, LOGISTIC, LIGHTGBM, HGB, FLAML = "served", "logistic", "lightgbm", "hist_gb", "flaml"
FAMILIES = (SERVED, LOGISTIC, LIGHTGBM, HGB, FLAML)


@dataclass
class FoldResult:
    auc: dict[str, float]
    seconds: dict[str, float]
    chosen: str
    ece: float
    train_rate: float
    test_rate: float
    corrected_ece: float | None
    oracle: float | None
    n_train: int
    n_test: int
    #: the label-free correction's estimated test base rate, and whether EM settled on it
    corrected_estimate: float | None = None
    corrected_settled: bool | None = None


@dataclass
class DatasetResult:
    name: str
    folds: list[FoldResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def mean(self, family: str) -> float:
        values = [f.auc[family] for f in self.folds if family in f.auc]
        return float(np.mean(values)) if values else float("nan")

    def seconds(self, family: str) -> float:
        values = [f.seconds[family] for f in self.folds if family in f.seconds]
        return float(np.mean(values)) if values else float("nan")


def _default_lightgbm(X: pd.DataFrame, y: np.ndarray) -> Callable[[pd.DataFrame], np.ndarray]:
    import lightgbm as lgb

    model = lgb.LGBMClassifier(verbose=-1, n_jobs=2, random_state=0).fit(X, y)
    return lambda frame: model.predict_proba(frame)[:, 1]


def _hist_gb(X: pd.DataFrame, y: np.ndarray) -> Callable[[pd.DataFrame], np.ndarray]:
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0).fit(X, y)
    return lambda frame: model.predict_proba(frame)[:, 1]


def _flaml(budget: float) -> Callable[[pd.DataFrame, np.ndarray], Callable[[pd.DataFrame], np.ndarray]]:
    def fit(X: pd.DataFrame, y: np.ndarray) -> Callable[[pd.DataFrame], np.ndarray]:
        from flaml.automl import AutoML

        automl = AutoML()
        automl.fit(X, y, task="classification", metric="roc_auc", time_budget=budget, verbose=0, seed=0)
        return lambda frame: automl.predict_proba(frame)[:, 1]

    return fit


def served_against_oracle(datasets: list[str], leads: int, seeds: list[int]) -> None:
    """Print the served model's test ROC-AUC per fold, and its ratio to the oracle's on simulated data."""
    from training.simulation.simulator import simulate

    runs: list[tuple[str, Any, pd.DataFrame | None]] = []
    with tempfile.TemporaryDirectory(prefix="leadripe-models-") as tmp:
        runs += [(name, _imported(name, Path(tmp)), None) for name in datasets]
        for seed in seeds if leads else []:
            simulation = simulate(leads, seed=seed)
            runs.append(
                (f"simulator ({leads:,} leads, seed {seed})", simulation.dataset, simulation.ground_truth)
            )
        for name, dataset, truth in runs:
            result = run_dataset(name, dataset, truth, None, served_only=True)
            ratios = [f.auc[SERVED] / f.oracle for f in result.folds if f.oracle]
            folds = " / ".join(f"{f.auc[SERVED]:.4f} ({f.chosen})" for f in result.folds)
            against = f"; served / oracle {' / '.join(f'{r:.4f}' for r in ratios)}" if ratios else ""
            mean = f", mean {np.mean(ratios):.4f}" if ratios else ""
            print(f"{name}: served {folds}{against}{mean}", flush=True)


def flaml_available() -> bool:
    try:
        from flaml.automl import AutoML  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass
class FoldData:
    """One rolling fold: the training and test sides, their feature matrices and labels."""

    train_batch: Any
    test_batch: Any
    X_train: pd.DataFrame
    X_test: pd.DataFrame
    y_train: np.ndarray
    y_test: np.ndarray
    #: the label horizon before the test period (None for row-order data)
    gap: pd.Timedelta | None
    #: the features that count days elapsed (``FeatureCatalog.elapsed_time_features``)
    elapsed_features: tuple[str, ...]


def fold_data(labelled: Any, end: float, row_order: bool, config: TrainConfig) -> FoldData:
    """The data up to ``end`` of its span, split as ``leadripe train`` splits it, features fitted on the
    training side only."""
    keys = labelled.time_key
    ordered = np.sort(np.asarray(keys))
    limit = ordered[min(len(ordered) - 1, int(np.ceil(end * len(ordered))) - 1)]
    inside = np.flatnonzero(np.asarray(keys <= limit))
    gap = None if row_order else pd.Timedelta(days=config.horizon_days)
    train_pos, test_pos, _ = time_split(
        keys.iloc[inside], gap, config.test_fraction, y=labelled.label[inside]
    )
    train_idx, test_idx = inside[train_pos], inside[test_pos]
    train_batch, test_batch = labelled.batch.take(train_idx), labelled.batch.take(test_idx)
    y_train, y_test = labelled.label[train_idx], labelled.label[test_idx]
    features = LeadFeatures(**config.features.estimator_kwargs())
    X_train = features.fit_transform(train_batch, y_train)
    elapsed = FeatureCatalog(features.feature_specs()).elapsed_time_features()
    return FoldData(
        train_batch, test_batch, X_train, features.transform(test_batch), y_train, y_test, gap, elapsed
    )


def run_fold(
    labelled: Any,
    end: float,
    row_order: bool,
    config: TrainConfig,
    flaml_budget: float | None,
    ground_truth: pd.DataFrame | None,
    served_only: bool = False,
) -> FoldResult:
    data = fold_data(labelled, end, row_order, config)
    train_batch, test_batch = data.train_batch, data.test_batch
    X_train, X_test, y_train, y_test = data.X_train, data.X_test, data.y_train, data.y_test
    auc: dict[str, float] = {}
    seconds: dict[str, float] = {}

    started = time.perf_counter()
    served, selection = fit_selected(
        X_train,
        y_train,
        train_batch.time_key,
        train_batch.snapshots["lead_id"],
        data.gap,
        config,
        elapsed_features=data.elapsed_features,
    )
    seconds[SERVED] = time.perf_counter() - started
    served_proba = served.readiness(X_test)
    auc[SERVED] = roc_auc(y_test, served_proba)

    fitters: dict[str, Callable[[pd.DataFrame, np.ndarray], Callable[[pd.DataFrame], np.ndarray]]] = {
        LOGISTIC: lambda X, y: (lambda m: lambda f: m.predict_proba(f)[:, 1])(LogisticBaseline().fit(X, y)),
        LIGHTGBM: _default_lightgbm,
        HGB: _hist_gb,
    }
    if flaml_budget is not None:
        fitters[FLAML] = _flaml(flaml_budget)
    if served_only:
        fitters = {}
    for name, fit in fitters.items():
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            predict = fit(X_train, np.asarray(y_train).astype(int))
        seconds[name] = time.perf_counter() - started
        auc[name] = roc_auc(y_test, predict(X_test))

    train_rate, test_rate = float(np.mean(y_train)), float(np.mean(y_test))
    shift = None
    if base_rates_shifted(train_rate, test_rate):
        shift = estimate_prior_shift(served_proba, float(np.mean(served.readiness(X_train))))
    oracle = None
    if ground_truth is not None and not row_order:
        oracle = oracle_auc(ground_truth, test_batch.snapshots, y_test)
    return FoldResult(
        auc=auc,
        seconds=seconds,
        chosen=selection.chosen,
        ece=expected_calibration_error(y_test, served_proba),
        train_rate=train_rate,
        test_rate=test_rate,
        corrected_ece=None if shift is None else expected_calibration_error(y_test, shift.corrected),
        oracle=oracle,
        n_train=len(y_train),
        n_test=len(y_test),
        corrected_estimate=None if shift is None else shift.estimated,
        corrected_settled=None if shift is None else shift.settled,
    )


def run_dataset(
    name: str,
    dataset: Any,
    ground_truth: pd.DataFrame | None,
    flaml_budget: float | None,
    served_only: bool = False,
) -> DatasetResult:
    config = TrainConfig()
    labelled = load_labelled(dataset, config)
    row_order = dataset.metadata.time_basis == TimeBasis.ROW_ORDER
    result = DatasetResult(name)
    for end in FOLD_ENDS:
        try:
            fold = run_fold(labelled, end, row_order, config, flaml_budget, ground_truth, served_only)
        except InsufficientDataError as error:
            result.notes.append(f"{name}: fold ending at {end:.0%} of the data skipped: {str(error)[:160]}")
            print(result.notes[-1], flush=True)
            continue
        result.folds.append(fold)
        print(name, end, fold, flush=True)
    return result


def _imported(name: str, workdir: Path) -> Any:
    out = workdir / name
    import_export(ROOT / "data" / "mappings" / f"{name}.toml", out, data_root=SHARED)
    dataset, _ = load_dataset(out)
    return dataset


def _save(result: DatasetResult, directory: Path) -> None:
    """Write one dataset's per-fold figures to ``directory`` (one JSON file per dataset)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{_slug(result.name)}.json").write_text(json.dumps(dataclasses.asdict(result)))


def _slug(name: str) -> str:
    """A file name for a dataset's figures: the export's name, or simulator-<leads>-leads-seed-<seed>."""
    return re.sub(r"[^a-z0-9_]+", "-", name.lower().replace(",", "")).strip("-")


def _load(directory: Path) -> list[DatasetResult]:
    """The results saved by ``_save``, exports first in their usual order, then the simulator."""
    order = {name: i for i, name in enumerate((*EXPORTS, "simulator"))}
    results = []

    def position(path: Path) -> tuple[int, str]:
        return order.get(path.stem.split("-")[0], len(order)), path.stem

    for path in sorted(directory.glob("*.json"), key=position):
        raw = json.loads(path.read_text())
        folds = [FoldResult(**fold) for fold in raw.pop("folds")]
        results.append(DatasetResult(**raw, folds=folds))
    return results


def _corrected_cell(fold: FoldResult) -> str:
    """The ECE after the prior-shift correction, or why there is none (EM did not settle)."""
    if fold.corrected_ece is None:
        return ""
    if fold.corrected_settled is False:
        return f" (EM did not settle: reached {fold.corrected_estimate:.1%})"
    return f" ({fold.corrected_ece:.3f})"


def table(results: list[DatasetResult], flaml: bool) -> list[str]:
    header = (
        "| data | folds: train / test snapshots | served (family per fold) | logistic | default LightGBM "
        "| HistGradientBoosting | FLAML | served - logistic | served ECE (corrected) "
        "| base rate train / test | oracle | fit s: served / logistic / LightGBM / HGB / FLAML |"
    )
    lines = [header, "|---|---|---|---:|---:|---:|---:|---:|---|---|---:|---|"]
    for r in results:
        sizes = ", ".join(f"{f.n_train:,}/{f.n_test:,}" for f in r.folds)
        chosen = ", ".join(f.chosen for f in r.folds)
        eces = ", ".join(f"{f.ece:.3f}{_corrected_cell(f)}" for f in r.folds)
        rates = ", ".join(f"{f.train_rate:.1%}/{f.test_rate:.1%}" for f in r.folds)
        oracles = [f.oracle for f in r.folds if f.oracle is not None]
        oracle = (
            f"{np.mean(oracles):.3f} (served/oracle {r.mean(SERVED) / np.mean(oracles):.3f})"
            if oracles
            else "-"
        )
        flaml_cell = f"{r.mean(FLAML):.3f}" if flaml else "not installed"
        fit = " / ".join(f"{r.seconds(name):.1f}" if name != FLAML or flaml else "-" for name in FAMILIES)
        lines.append(
            f"| {r.name} | {sizes} | **{r.mean(SERVED):.3f}** ({chosen}) | {r.mean(LOGISTIC):.3f} "
            f"| {r.mean(LIGHTGBM):.3f} | {r.mean(HGB):.3f} | {flaml_cell} "
            f"| {r.mean(SERVED) - r.mean(LOGISTIC):+.3f} | {eces} | {rates} | {oracle} | {fit} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="replace the section in BENCHMARKS.md")
    parser.add_argument("--flaml-budget", type=float, default=60.0, help="FLAML time budget per fold (s)")
    parser.add_argument("--sim-leads", type=int, default=5000, help="simulated leads (0: skip)")
    parser.add_argument("--sim-seeds", type=int, nargs="+", default=[1], help="simulator seeds")
    parser.add_argument("--datasets", nargs="*", default=list(EXPORTS), help="public exports to run")
    parser.add_argument("--runs", type=Path, help="save each dataset's per-fold figures (JSON) here")
    parser.add_argument("--combine", type=Path, help="write the section from the saved figures")
    parser.add_argument("--command", default=None, help="the command to quote in BENCHMARKS.md")
    parser.add_argument("--wall-minutes", type=float, default=None, help="wall time to quote (--combine)")
    parser.add_argument(
        "--served-only",
        action="store_true",
        help="only the served model against the oracle; prints, never writes",
    )
    args = parser.parse_args()
    if args.served_only:
        served_against_oracle(args.datasets, args.sim_leads, args.sim_seeds)
        return
    flaml = flaml_available()
    if not flaml:
        print("FLAML is not installed (pip install -e '.[bench]'): its column is skipped", flush=True)
    budget = args.flaml_budget if flaml else None
    results: list[DatasetResult] = []
    started = time.perf_counter()
    if args.combine:
        results = _load(args.combine)
        flaml = all(FLAML in f.auc for r in results for f in r.folds)
    else:
        with tempfile.TemporaryDirectory(prefix="leadripe-models-") as tmp:
            for name in args.datasets:
                results.append(run_dataset(name, _imported(name, Path(tmp)), None, budget))
                if args.runs:
                    _save(results[-1], args.runs)
        if args.sim_leads:
            from training.simulation.simulator import simulate

            for seed in args.sim_seeds:
                simulation = simulate(args.sim_leads, seed=seed)
                results.append(
                    run_dataset(
                        f"simulator ({args.sim_leads:,} leads, seed {seed})",
                        simulation.dataset,
                        simulation.ground_truth,
                        budget,
                    )
                )
                if args.runs:
                    _save(results[-1], args.runs)
    wall = args.wall_minutes if args.wall_minutes is not None else (time.perf_counter() - started) / 60
    command = args.command or (
        "python bench/bench_models.py --write"
        + (f" --flaml-budget {args.flaml_budget:g}" if args.flaml_budget != 60 else "")
        + (f" --sim-leads {args.sim_leads}" if args.sim_leads != 5000 else "")
        + (" --sim-seeds " + " ".join(map(str, args.sim_seeds)) if args.sim_seeds != [1] else "")
    )
    section = "\n".join(
        [
            SECTION,
            "",
            "All families on the same three rolling time folds per dataset (data up to 90%, 95% and 100% of "
            "its span, each split as `leadripe train` splits it: latest 25% of snapshots as the test period, "
            "one horizon gap for dated data; features fitted on the training side). Mean test ROC-AUC over "
            "the folds. *served* is what `leadripe train` serves: the candidate (linear, trees or blend) "
            "chosen on rolling folds inside each training period. Default LightGBM and HistGradientBoosting "
            f"use their library defaults; FLAML searches for {args.flaml_budget:g} s per fold (its default "
            "estimators and holdout). ECE in brackets: after the label-free prior-shift correction, shown "
            "where training and test base rates differ by more than 2x; where its EM did not settle (ran to "
            "the edge of (0, 1) or kept moving), the scores moved in a way a change of base rate alone does "
            "not explain, and no corrected figure is given.",
            "",
            f"Command: `{command}` ({wall:.0f} min wall on the shared 2-core machine; fit times are "
            "noisy and only comparable within a row).",
            "",
            *table(results, flaml),
            "",
            *[note for r in results for note in r.notes],
            "",
        ]
    )
    print(section)
    if args.write:
        write_section(section)


if __name__ == "__main__":
    main()

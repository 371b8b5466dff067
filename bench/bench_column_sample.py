"""The trees' column sample: what the selection's rolling folds say against what the test period shows.

    python bench/bench_column_sample.py --write [--datasets NAME ...] [--sim-leads N] [--sim-seeds S]

On the Model families folds (``bench_models.fold_data``: data up to 90%, 95% and 100% of its span, split as
``leadripe train`` splits it), for each fold: the selection's choice between the trees' column samples
(``[selection] tree_column_samples``, 0.8 then 0.3: the later one must win by one paired SE on rolling
folds of the training period, ``training.model.selection``), and the trees alone fitted on the whole
training side at each sample, scored on the test period (ROC-AUC; on simulated data as a ratio to the
oracle's). A choice the folds make should be one the test period agrees with: where 0.3 is chosen its
test figure should be higher, and where the default is kept 0.3 should not have been much better.
``--write`` replaces the ``## Trees' column sample`` section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_models import EXPORTS, FOLD_ENDS, _imported, fold_data
from benchmarks_md import write_section

from training.config import SelectionConfig, TrainConfig
from training.data.contract import TimeBasis
from training.model.oracle import oracle_auc
from training.model.ranking import roc_auc
from training.model.readiness import ReadinessModel
from training.model.selection import select_model, tree_capacity
from training.model.split import InsufficientDataError
from training.pipeline import load_labelled

SECTION = "## Trees' column sample"

DEFAULT, SPARSE = SelectionConfig().tree_column_samples  # the two samples this benchmark reads


class NothingCompared(Exception):
    """The selection had no usable fold, so no column sample was compared (the default is used)."""


@dataclass
class FoldChoice:
    data: str
    end: float
    n_features: int
    difference: float
    standard_error: float
    chosen: float
    #: test ROC-AUC of the trees alone at each sample (a ratio to the oracle's on simulated data)
    test: dict[float, float]

    @property
    def group(self) -> str:
        """The export, or the simulator size without its seed: what the summary averages over."""
        return self.data.split(" (seed ")[0]


def fold_choice(
    name: str, labelled: Any, end: float, row_order: bool, truth: pd.DataFrame | None
) -> FoldChoice:
    config = TrainConfig()
    data = fold_data(labelled, end, row_order, config)
    groups = data.train_batch.snapshots["lead_id"]
    y_train = np.asarray(data.y_train).astype(bool)
    tree_params = {
        "random_state": config.seed,
        **tree_capacity(len(data.X_train), int(y_train.sum()), int(groups.nunique())),
    }
    # Two candidates, or the selection would not run its folds; the linear one adds nothing here.
    settings = SelectionConfig(candidates=("trees", "blend"))
    time_key = data.train_batch.time_key
    selection = select_model(
        data.X_train,
        y_train,
        time_key,
        groups,
        data.gap,
        settings,
        tree_params,
        config.seed,
        elapsed_features=data.elapsed_features,
    )
    if not selection.column_comparisons:  # no usable fold: nothing was compared, the default is used
        raise NothingCompared(f"no column sample compared ({selection.reason})")
    (comparison,) = selection.column_comparisons
    oracle = 1.0
    if truth is not None and not row_order:
        oracle = oracle_auc(truth, data.test_batch.snapshots, data.y_test)
    test = {}
    for sample in settings.tree_column_samples:
        trees = ReadinessModel(**{**tree_params, "colsample_bytree": sample})
        trees.fit(data.X_train, y_train, time_key=time_key, groups=groups)
        test[sample] = roc_auc(data.y_test, trees.raw_score(data.X_test)) / oracle
    return FoldChoice(
        name,
        end,
        data.X_train.shape[1],
        comparison.difference,
        comparison.standard_error,
        float(selection.tree_params["colsample_bytree"]),
        test,
    )


def run(name: str, dataset: Any, truth: pd.DataFrame | None, notes: list[str]) -> list[FoldChoice]:
    labelled = load_labelled(dataset, TrainConfig())
    row_order = dataset.metadata.time_basis == TimeBasis.ROW_ORDER
    out = []
    for end in FOLD_ENDS:
        try:
            out.append(fold_choice(name, labelled, end, row_order, truth))
        except (InsufficientDataError, NothingCompared) as error:
            notes.append(f"{name}: fold ending at {end:.0%} skipped: {str(error)[:200]}")
            print(notes[-1], flush=True)
            continue
        print(out[-1], flush=True)
    return out


def table(choices: list[FoldChoice]) -> list[str]:
    rows = [
        f"| data | fold | columns | folds: {SPARSE:g} - {DEFAULT:g} (SE) | chosen | test: {DEFAULT:g} | "
        f"test: {SPARSE:g} | test: {SPARSE:g} - {DEFAULT:g} |",
        "|---|---:|---:|---|---:|---:|---:|---:|",
    ]
    for c in choices:
        rows.append(
            f"| {c.data} | {c.end:.0%} | {c.n_features} | {c.difference:+.4f} ({c.standard_error:.4f}) | "
            f"{c.chosen:g} | {c.test[DEFAULT]:.4f} | {c.test[SPARSE]:.4f} | "
            f"{c.test[SPARSE] - c.test[DEFAULT]:+.4f} |"
        )
    return rows


def summary(choices: list[FoldChoice]) -> list[str]:
    lines = []
    for data in dict.fromkeys(c.group for c in choices):
        mine = [c for c in choices if c.group == data]
        served = [c.test[c.chosen] for c in mine]
        default = [c.test[DEFAULT] for c in mine]
        picked = sum(c.chosen != DEFAULT for c in mine)
        lines.append(
            f"- {data}: {SPARSE:g} chosen on {picked} of {len(mine)} folds; the trees at the chosen sample "
            f"{np.mean(served):.4f} against {np.mean(default):.4f} at {DEFAULT:g} (mean over the folds)."
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="replace the section in BENCHMARKS.md")
    parser.add_argument("--datasets", nargs="*", default=list(EXPORTS), help="public exports to run")
    parser.add_argument("--sim-leads", type=int, nargs="*", default=[10000], help="simulated leads per run")
    parser.add_argument("--sim-seeds", type=int, nargs="+", default=[1, 2, 3, 4], help="simulator seeds")
    args = parser.parse_args()
    started = time.perf_counter()
    choices: list[FoldChoice] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="leadripe-columns-") as tmp:
        for name in args.datasets:
            choices += run(name, _imported(name, Path(tmp)), None, notes)
    from training.simulation.simulator import simulate

    for leads in args.sim_leads:
        for seed in args.sim_seeds:
            simulation = simulate(leads, seed=seed)
            choices += run(
                f"simulator {leads:,} leads (seed {seed})", simulation.dataset, simulation.ground_truth, notes
            )
    command = (
        "python bench/bench_column_sample.py --write --datasets"
        + "".join(f" {name}" for name in args.datasets)
        + " --sim-leads "
        + " ".join(map(str, args.sim_leads))
        + " --sim-seeds "
        + " ".join(map(str, args.sim_seeds))
    )
    section = "\n".join(
        [
            SECTION,
            "",
            __doc__.split("\n\n", 2)[2].split("``--write``")[0].strip().replace("``", "`"),
            "",
            f"Command: `{command}` ({(time.perf_counter() - started) / 60:.0f} min wall on the shared 2-core "
            "machine).",
            "",
            *table(choices),
            "",
            *summary(choices),
            "",
            *notes,
            "",
        ]
    )
    print(section)
    if args.write:
        write_section(section)


if __name__ == "__main__":
    main()

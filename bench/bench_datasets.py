"""Benchmark on real CRM exports: import each public dataset through its mapping, then train and
evaluate exactly as ``leadripe train`` does (``fit_and_evaluate``, default config), and report the
test-period metrics of the model and the baselines.

    .venv/bin/python bench/bench_datasets.py --write

The datasets live in ``../shared/datasets`` (read-only, not part of the repository); the mappings in
``data/mappings``. ``--write`` replaces the ``## Real datasets`` section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks_md import write_section

from training.config import TrainConfig
from training.data.io import load_dataset
from training.data.mapping import import_export
from training.pipeline import LOGISTIC, MODEL, POINTS, TrainingOutcome, fit_and_evaluate

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Real datasets"
DATASETS = ("olist", "bank_marketing", "online_shoppers")


def run(name: str, workdir: Path) -> tuple[str, TrainingOutcome, float, int]:
    """Import one dataset, train and evaluate; return its table row inputs."""
    out = workdir / name
    summary = import_export(ROOT / "data" / "mappings" / f"{name}.toml", out)
    dataset, _ = load_dataset(out)
    started = time.perf_counter()
    outcome = fit_and_evaluate(dataset, TrainConfig())
    return summary.time_basis, outcome, time.perf_counter() - started, summary.leads


def row(name: str, time_basis: str, outcome: TrainingOutcome, seconds: float, leads: int) -> str:
    def auc(key: str) -> str:
        result = outcome.evaluations.get(key)
        if result is None:
            return "n/a (no event log)"
        low, high = result.roc_auc_ci
        return f"{result.roc_auc:.3f} [{low:.3f}, {high:.3f}]"

    model = outcome.evaluations[MODEL]
    split = outcome.split
    return (
        f"| {name} | {leads:,} | {time_basis} | {split.n_train:,} / {split.n_test:,} | "
        f"{model.base_rate:.1%} | {auc(MODEL)} | {auc(LOGISTIC)} | {auc(POINTS)} | {model.pr_auc:.3f} | "
        f"{model.ece:.3f} | {model.lift_top_decile:.2f} | {len(outcome.leakage_warnings)} | {seconds:.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="replace the section in BENCHMARKS.md")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="leadripe-datasets-") as tmp:
        for name in DATASETS:
            rows.append(row(name, *run(name, Path(tmp))))
            print(rows[-1], flush=True)
    section = "\n".join(
        [
            SECTION,
            "",
            "Each public dataset in `../shared/datasets` imported through its mapping (`data/mappings/`) and "
            "trained with the default configuration, exactly as `leadripe train` does; metrics on the test "
            "period (time split; row order for exports without dates). None of these exports has an event "
            "log, so the points baseline does not apply and the model sees only profile and aggregated "
            "activity columns.",
            "",
            "Command: `.venv/bin/python bench/bench_datasets.py --write`",
            "",
            "| dataset | leads | time basis | train / test snapshots | test win rate "
            "| model ROC-AUC [95% CI] | logistic | points | model PR-AUC | model ECE | lift top decile "
            "| leakage warnings | train s |",
            "|---|---:|---|---:|---:|---|---|---|---:|---:|---:|---:|---:|",
            *rows,
            "",
            "Reading: on these profile-only exports (a few thousand to 40k rows, no event log, strong drift "
            "in conversion over time) the logistic baseline ranks better than the gradient-boosted model. "
            "The champion/challenger rule sees this and does not promote the model, which is the intended "
            "protection; making the model win here (e.g. stronger regularisation for small profile-only "
            "data) is open work.",
            "",
        ]
    )
    print(section)
    if args.write:
        write_section(section)


if __name__ == "__main__":
    main()

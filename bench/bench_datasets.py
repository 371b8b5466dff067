"""Benchmark on real CRM exports: import each public dataset through its mapping, then train and
evaluate exactly as ``leadripe train`` does (``fit_and_evaluate``, default config), and report the
test-period metrics of the model and the baselines.

    .venv/bin/python bench/bench_datasets.py --write

The datasets live in ``../shared/datasets`` (read-only, not part of the repository;
``LEADRIPE_SHARED_DATASETS`` elsewhere); the mappings in ``data/mappings``. ``--write`` replaces the
``## Real datasets`` section of BENCHMARKS.md. Datasets can run side by side as processes:
``--datasets olist --runs DIR`` saves each table row in DIR, ``--combine DIR --write`` writes the section.
"""

from __future__ import annotations

import argparse
import os
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
SHARED = Path(os.environ.get("LEADRIPE_SHARED_DATASETS", ROOT.parent / "shared" / "datasets"))
SECTION = "## Real datasets"
DATASETS = ("olist", "bank_marketing", "online_shoppers")
#: What the figures say, checked against the measured run before each --write (written as it stands).
READING = (
    "Reading (one split each; the Model families section has three folds per export): the served model "
    "ranks above the logistic baseline on Olist (+0.021) and Bank Marketing (+0.043), the linear "
    "candidate on both, fitted with period intercepts so that levels common in periods that won little "
    "are not blamed for them (before: 0.699 and 0.728), and on Bank Marketing standardising `pdays` by "
    "its spread where present (missing for the 96% never contacted before; before: 0.748). "
    "On Online Shoppers the served blend is 0.013 "
    "below the baseline on this last fold; over three folds the two are within 0.002. Bank Marketing's "
    "out-of-range columns are the macro-economic indicators; its calibration error (0.18) is the "
    "base-rate shift (6% -> 26%), which the run reports. On Olist the threshold hands over nobody in the "
    "test period (highest readiness 0.148 against 0.167), which the run reports with the policies that "
    "would. Before the linear-candidate and selection fixes these rows read 0.607, 0.677 and 0.841."
)


def run(name: str, workdir: Path) -> tuple[str, TrainingOutcome, float, int]:
    """Import one dataset, train and evaluate; return its table row inputs."""
    out = workdir / name
    summary = import_export(ROOT / "data" / "mappings" / f"{name}.toml", out, data_root=SHARED)
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
    family = outcome.selection.chosen if outcome.selection is not None else "-"
    # Numeric profile columns whose test values leave the training range (training.model.out_of_range).
    ranges = outcome.drift.out_of_range if outcome.drift is not None else []
    outside = ", ".join(f"{r.column} {r.share:.0%}" for r in ranges[:3] if r.share > 0.05) or "none"
    return (
        f"| {name} | {leads:,} | {time_basis} | {split.n_train:,} / {split.n_test:,} | "
        f"{model.base_rate:.1%} | {family} | {auc(MODEL)} | {auc(LOGISTIC)} | {auc(POINTS)} | "
        f"{model.pr_auc:.3f} | {model.ece:.3f} | {model.lift_top_decile:.2f} | {outside} | "
        f"{len(outcome.leakage_warnings)} | {seconds:.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="replace the section in BENCHMARKS.md")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--runs", type=Path, help="save each dataset's table row here")
    parser.add_argument("--combine", type=Path, help="write the section from the rows saved in this folder")
    args = parser.parse_args()
    rows = []
    if args.combine:
        rows = [
            (args.combine / f"{name}.md").read_text().strip()
            for name in DATASETS
            if (args.combine / f"{name}.md").exists()
        ]
    else:
        with tempfile.TemporaryDirectory(prefix="leadripe-datasets-") as tmp:
            for name in args.datasets:
                rows.append(row(name, *run(name, Path(tmp))))
                print(rows[-1], flush=True)
                if args.runs:
                    args.runs.mkdir(parents=True, exist_ok=True)
                    (args.runs / f"{name}.md").write_text(rows[-1] + "\n")
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
            "Command: `LEADRIPE_SHARED_DATASETS=../shared/datasets nice -n 10 python bench/bench_datasets.py "
            "--write`.",
            "",
            "*served*: the candidate `leadripe train` chose on rolling folds of the training period. "
            "*out of range*: numeric profile columns with more than 5% of their test values outside "
            "their training range (`training.model.out_of_range`; the three largest shares).",
            "",
            "| dataset | leads | time basis | train / test snapshots | test win rate | served "
            "| model ROC-AUC [95% CI] | logistic | points | model PR-AUC | model ECE | lift top decile "
            "| out of range | leakage warnings | train s |",
            "|---|---:|---|---:|---:|---|---|---|---|---:|---:|---:|---|---:|---:|",
            *rows,
            "",
            READING,
            "",
        ]
    )
    print(section)
    if args.write:
        write_section(section)


if __name__ == "__main__":
    main()

"""Benchmark of model quality: the readiness model against both baselines and the oracle, on the simulator.

For each seed: ``training.simulation.simulator.simulate(leads, seed=seed)``, then
``training.pipeline.fit_and_evaluate(dataset, config, ground_truth=...)`` exactly as ``leadripe train``
runs it (default ``TrainConfig`` unless ``--config`` names a TOML file). Reported on the test period:
ROC-AUC and PR-AUC with bootstrap confidence intervals, Brier score, expected calibration error and lift
in the top decile for the model and both baselines; the oracle ROC-AUC (the simulator's true win
probability); the model/oracle ratio (issue target: at least 0.97 on 20k leads); and whether the model
is *clearly* above both baselines, meaning the paired-bootstrap 95% interval of (model ROC-AUC minus
baseline ROC-AUC) on the same test snapshots lies above zero for both baselines; the stricter, unpaired
reading (the low end of the model's own interval above both baselines' ROC-AUC) is reported beside it.

    .venv/bin/python bench/bench_quality.py --leads 20000 --seeds 1 2 3 --write

The first seed gets the full table; every seed gets a summary row. ``--write`` replaces the
``## Model quality`` section of BENCHMARKS.md and leaves the other sections alone.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks_md import write_section

from training.config import TrainConfig, load_train_config
from training.model.evaluation import EvaluationResult
from training.pipeline import LOGISTIC, MODEL, POINTS, TrainingOutcome, fit_and_evaluate
from training.simulation.simulator import simulate

SECTION = "## Model quality"
#: The issue's target for the model's ROC-AUC as a share of the oracle's.
ORACLE_RATIO_TARGET = 0.97
SCORER_LABELS = {MODEL: "model (LightGBM)", LOGISTIC: "logistic baseline", POINTS: "points baseline"}


@dataclass
class SeedRun:
    """One simulated dataset, trained and evaluated."""

    seed: int
    leads: int
    events: int
    outcome: TrainingOutcome
    simulate_s: float
    train_s: float

    @property
    def model(self) -> EvaluationResult:
        return self.outcome.evaluations[MODEL]

    @property
    def ratio(self) -> float:
        oracle = self.outcome.oracle_auc
        return self.model.roc_auc / oracle if oracle else float("nan")

    def best_baseline(self) -> tuple[str, float]:
        """The strongest baseline by ROC-AUC and its value."""
        baselines = {k: v.roc_auc for k, v in self.outcome.evaluations.items() if k != MODEL}
        name = max(baselines, key=lambda k: baselines[k])
        return name, baselines[name]

    @property
    def clearly_above(self) -> bool:
        """The paired 95% interval of the model's ROC-AUC lead over every baseline is above zero."""
        return all(low > 0 for _, low, _ in self.outcome.comparisons.values())

    @property
    def above_unpaired(self) -> bool:
        """Stricter: the model's own ROC-AUC interval starts above every baseline's ROC-AUC."""
        return self.model.roc_auc_ci[0] > self.best_baseline()[1]

    def lead_over_best(self) -> str:
        name, _ = self.best_baseline()
        difference, low, high = self.outcome.comparisons[name]
        return f"{difference:+.3f} [{low:+.3f}, {high:+.3f}]"


def run(leads: int, seed: int, config: TrainConfig) -> SeedRun:
    """Simulate ``leads`` leads with ``seed`` and run the training pipeline on them."""
    t = time.perf_counter()
    result = simulate(leads, seed=seed)
    simulate_s = time.perf_counter() - t
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn/lightgbm chatter; the metrics are what this reports
        outcome = fit_and_evaluate(result.dataset, config, ground_truth=result.ground_truth)
    return SeedRun(seed, leads, len(result.dataset.events), outcome, simulate_s, time.perf_counter() - t)


def _ci(value: float, ci: tuple[float, float]) -> str:
    return f"{value:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]"


def full_table(r: SeedRun) -> list[str]:
    """Markdown table of every scorer's test metrics for one run, with the oracle's ROC-AUC."""
    lines = [
        "| scorer | ROC-AUC [95% CI] | PR-AUC [95% CI] | Brier | ECE | lift top decile |",
        "|---|---|---|---:|---:|---:|",
    ]
    for name, evaluation in r.outcome.evaluations.items():
        lines.append(
            f"| {SCORER_LABELS.get(name, name)} | {_ci(evaluation.roc_auc, evaluation.roc_auc_ci)} | "
            f"{_ci(evaluation.pr_auc, evaluation.pr_auc_ci)} | {evaluation.brier:.4f} | "
            f"{evaluation.ece:.4f} | {evaluation.lift_top_decile:.2f} |"
        )
    if r.outcome.oracle_auc is not None:
        lines.append(f"| oracle (true win probability) | {r.outcome.oracle_auc:.3f} | | | | |")
    return lines


def summary_table(runs: list[SeedRun]) -> list[str]:
    """One row per seed: ROC-AUCs, the model/oracle ratio, margin over the best baseline, sizes, time."""
    lines = [
        "| seed | model ROC-AUC [95% CI] | logistic | points | oracle | model/oracle "
        "| model - best baseline [paired 95% CI] | clearly above both (paired) | unpaired CI above both "
        "| train / test snapshots | positives train / test | model trees | wall s |",
        "|---:|---|---:|---:|---:|---:|---|---|---|---:|---:|---:|---:|",
    ]
    for r in runs:
        split, ev = r.outcome.split, r.outcome.evaluations
        points = f"{ev[POINTS].roc_auc:.3f}" if POINTS in ev else "-"
        oracle = f"{r.outcome.oracle_auc:.3f}" if r.outcome.oracle_auc is not None else "-"
        trees = getattr(r.outcome.bundle.pipeline[-1], "n_iterations_", "-")
        lines.append(
            f"| {r.seed} | {_ci(r.model.roc_auc, r.model.roc_auc_ci)} | {ev[LOGISTIC].roc_auc:.3f} | "
            f"{points} | {oracle} | {r.ratio:.3f} | {r.lead_over_best()} | "
            f"{'yes' if r.clearly_above else 'no'} | {'yes' if r.above_unpaired else 'no'} | "
            f"{split.n_train:,} / {split.n_test:,} | "
            f"{split.train_positives:,} / {split.test_positives:,} | {trees} | {r.train_s:.0f} |"
        )
    return lines


def markdown(runs: list[SeedRun], config: TrainConfig, command: str) -> str:
    """The ``## Model quality`` section."""
    main = runs[0]
    counts = main.outcome.snapshot_counts
    lines = [
        SECTION,
        "",
        f"The training pipeline (`training.pipeline.fit_and_evaluate`, as `leadripe train` runs it) on "
        f"`simulate({main.leads}, seed=...)`: time split with a {config.horizon_days}-day gap, metrics on "
        f"the test period, {config.n_bootstrap} bootstrap resamples for the confidence intervals. The "
        "oracle scores each test snapshot with the simulator's true 90-day win probability (the best any "
        "model could rank them). Target (issue 3): model ROC-AUC >= "
        f"{ORACLE_RATIO_TARGET} x oracle, and clearly above both baselines (here: the paired-bootstrap 95% "
        "interval of the model's ROC-AUC lead over each baseline, on the same test snapshots, above zero; "
        "the stricter unpaired reading is shown beside it).",
        "",
        f"Command: `{command}`",
        "",
        f"Configuration: model {config.model.estimator_kwargs() or 'defaults'}, features "
        f"{config.features.estimator_kwargs() or 'defaults'}. Machine: {os.cpu_count()} cores (shared, "
        f"so wall times are noisy), Python {platform.python_version()}, LightGBM {lgb.__version__}, "
        f"pandas {pd.__version__}.",
        "",
        f"### Seed {main.seed}",
        "",
        f"{main.leads:,} leads, {main.events:,} events; snapshots built {counts.get('built', 0):,}, "
        f"censored {counts.get('censored', 0):,}; train {main.outcome.split.n_train:,} / gap "
        f"{main.outcome.split.n_gap:,} / test {main.outcome.split.n_test:,} snapshots. Simulate "
        f"{main.simulate_s:.1f} s, train and evaluate {main.train_s:.1f} s (wall).",
        "",
        *full_table(main),
        "",
        f"Model / oracle ROC-AUC: {main.ratio:.3f} (target >= {ORACLE_RATIO_TARGET}: "
        f"{'met' if main.ratio >= ORACLE_RATIO_TARGET else 'not met'}); clearly above both baselines: "
        f"{'yes' if main.clearly_above else 'no'}.",
        "",
    ]
    if len(runs) > 1:
        ratios = [r.ratio for r in runs]
        margins = [r.model.roc_auc - r.best_baseline()[1] for r in runs]
        lines += [
            "### All seeds",
            "",
            *summary_table(runs),
            "",
            f"Over seeds {', '.join(str(r.seed) for r in runs)}: model ROC-AUC "
            f"{min(r.model.roc_auc for r in runs):.3f}-{max(r.model.roc_auc for r in runs):.3f}, "
            f"model/oracle {min(ratios):.3f}-{max(ratios):.3f}, margin over the best baseline "
            f"{min(margins):+.3f} to {max(margins):+.3f}; clearly above both baselines on "
            f"{sum(r.clearly_above for r in runs)} of {len(runs)} seeds.",
            "",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1], help="the first one gets the full table")
    parser.add_argument("--config", type=Path, default=None, help="training config TOML (default: defaults)")
    parser.add_argument("--write", action="store_true", help="write the results into BENCHMARKS.md")
    args = parser.parse_args()
    config = load_train_config(args.config)
    runs = []
    for seed in args.seeds:
        r = run(args.leads, seed, config)
        ev = r.outcome.evaluations
        print(
            f"seed {seed}: "
            + ", ".join(
                f"{name} {e.roc_auc:.4f} [{e.roc_auc_ci[0]:.4f}, {e.roc_auc_ci[1]:.4f}]"
                for name, e in ev.items()
            )
            + f", oracle {r.outcome.oracle_auc or np.nan:.4f}, ratio {r.ratio:.4f}, "
            f"clearly above: {r.clearly_above}, {r.train_s:.0f} s",
            flush=True,
        )
        runs.append(r)
    command = "python " + " ".join(["bench/bench_quality.py", *sys.argv[1:]])
    section = markdown(runs, config, command)
    print(section)
    if args.write:
        write_section(section)


if __name__ == "__main__":
    main()

"""Batch scoring (`leadripe score`) on one machine and on Spark local[2], and bounded-memory training.

Scoring: simulated data sets of each size (`simulate(n, seed=0)`, written once to --work) are scored
with one model trained on 20,000 other simulated leads (seed 99), as of the data's end, every lead
(`--all`), by the real command in a fresh process each: `leadripe score` (wall time from process start
to exit, loading the data and the model included) and its peak RSS (the process and its waited-for
children; for Spark the JVM and its Python workers). Goal (issue 14): 1M leads / ~30M events scored
(score, grade, verdict) in <= 60 s and <= 8 GiB; with reasons in <= 5 min.

Training (--train): `leadripe train` on the simulated leads with the default snapshot budgets, its
wall time and peak RSS; and at 100k leads the ROC-AUC cost of sampling training snapshots by lead at
the fraction 1M leads need, measured on the same test snapshots as the unsampled run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
from benchmarks_md import write_section

REPO = Path(__file__).resolve().parents[1]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "PYSPARK_PYTHON": sys.executable}


def simulated(work: Path, n_leads: int, seed: int = 0) -> Path:
    """A simulated data set of ``n_leads`` in ``work`` (made once)."""
    directory = work / f"sim-{n_leads}-{seed}"
    if not (directory / "leads.parquet").exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "serving.cli",
                "simulate",
                "--leads",
                str(n_leads),
                "--seed",
                str(seed),
                "--out",
                str(directory),
            ],
            check=True,
            env=_env(),
            capture_output=True,
        )
    return directory


def model_dir(work: Path) -> Path:
    """A model bundle trained on 20,000 simulated leads (seed 99), saved once."""
    directory = work / "model-20k"
    if not (directory / "model_card.json").exists():
        code = (
            "import sys; from pathlib import Path; from training.data.io import load_dataset;"
            "from training.pipeline import fit_and_evaluate;"
            "d, _ = load_dataset(Path(sys.argv[1])); o = fit_and_evaluate(d);"
            "o.bundle.card.version = '20k'; o.bundle.save(Path(sys.argv[2]))"
        )
        subprocess.run(
            [sys.executable, "-c", code, str(simulated(work, 20_000, 99)), str(directory)],
            check=True,
            env=_env(),
        )
    return directory


# A fresh wrapper process per measurement: RUSAGE_CHILDREN's peak is the largest child ever waited
# for, so measuring in this process would carry one run's peak into the next. RUSAGE_CHILDREN misses
# processes nobody waits for (PySpark's JVM and its Python workers), so the wrapper also samples the
# whole process tree in /proc every 0.5 s: CPU s is the larger of the two (the sampled tree's loses at
# most the last half second of each process), peak RSS the larger of the waited child's and the tree's
# summed RSS at a sample.
_WRAPPER = r"""
import json, os, resource, subprocess, sys, time
TICK = os.sysconf("SC_CLK_TCK")
def stat(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open(f"/proc/{pid}/statm") as f:
            pages = int(f.read().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK, pages * os.sysconf("SC_PAGE_SIZE")
def tree(root):
    stats = {int(p): stat(p) for p in os.listdir("/proc") if p.isdigit()}
    children = {}
    for pid, st in stats.items():
        if st is not None:
            children.setdefault(st[0], []).append(pid)
    found, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if stats.get(pid) is not None:
            found[pid] = stats[pid]
        todo.extend(children.get(pid, []))
    return found
proc = subprocess.Popen(sys.argv[1:])
cpu, peak = {}, 0
while proc.poll() is None:
    now = tree(proc.pid)
    for pid, (_, seconds, _) in now.items():
        cpu[pid] = max(cpu.get(pid, 0.0), seconds)
    peak = max(peak, sum(rss for _, _, rss in now.values()))
    time.sleep(0.5)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print("MEASURED " + json.dumps({"rc": proc.returncode,
      "cpu_s": max(u.ru_utime + u.ru_stime, sum(cpu.values())),
      "peak_rss_gib": max(u.ru_maxrss / 2**20, peak / 2**30)}), file=sys.stderr)
"""


def measured(command: list[str]) -> dict[str, float]:
    """Wall time, CPU time and peak RSS (GiB) of one command run in a fresh process tree; the command's
    own stdout is returned as ``stdout``."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *command], env=_env(), capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    line = [x for x in result.stderr.splitlines() if x.startswith("MEASURED ")][-1]
    figures = json.loads(line.removeprefix("MEASURED "))
    if figures.pop("rc") != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return {"wall_s": wall, **figures, "load": os.getloadavg()[0], "stdout": result.stdout}


def score_run(work: Path, n_leads: int, engine: str, reasons: int) -> dict[str, object]:
    data = simulated(work, n_leads)
    out = work / f"scores-{n_leads}-{engine}-{reasons}" / ("scores.parquet" if engine == "local" else "")
    command = [
        sys.executable,
        "-m",
        "serving.cli",
        "score",
        "--data",
        str(data),
        "--model",
        str(model_dir(work)),
        "--out",
        str(out),
        "--all",
        "--reasons",
        str(reasons),
        "--engine",
        engine,
    ]
    figures = measured(command)
    figures.pop("stdout")
    events = pq.ParquetFile(data / "events.parquet").metadata.num_rows
    return {"leads": n_leads, "events": events, "engine": engine, "reasons": reasons, **figures}


def train_run(
    work: Path, n_leads: int, overrides: dict[str, object], predictions: Path | None = None
) -> dict[str, object]:
    """`fit_and_evaluate` with the config overrides in a fresh process: wall, peak RSS, test ROC-AUC.
    With ``predictions``, only the served model is fitted (``fit_model_only``: the same snapshots,
    split, sampling, features and model selection as `fit_and_evaluate`, without the baselines,
    decision, audit and report), its test scores, labels and snapshot keys are saved there (.npz), and
    an existing file is reused instead of fitting again (the full-data run at 100k is the expensive one)."""
    if predictions is not None and predictions.exists():
        cached = json.loads(predictions.with_suffix(".json").read_text())
        return {**cached, "cached": True}
    if predictions is None:
        code = (
            "import json, sys; from pathlib import Path; from training.data.io import load_dataset;"
            "from training.config import TrainConfig; from training.pipeline import fit_and_evaluate;"
            "d, _ = load_dataset(Path(sys.argv[1])); c = TrainConfig(**json.loads(sys.argv[2]));"
            "o = fit_and_evaluate(d, c); s = o.sampling['train'];"
            "print(json.dumps({'auc': o.evaluations['model'].roc_auc, 'n_test': len(o.y_test),"
            " 'n_train': s.snapshots_after, 'fraction': s.fraction, 'design': s.design,"
            " 'test_fraction': o.sampling['test'].fraction}))"
        )
    else:
        code = (
            f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import bench_batch;"
            "bench_batch.fit_model_only(*sys.argv[1:])"
        )
    data = simulated(work, n_leads)
    target = [] if predictions is None else [str(predictions)]
    figures = measured([sys.executable, "-c", code, str(data), json.dumps(overrides), *target])
    result = json.loads(str(figures.pop("stdout")).strip().splitlines()[-1])
    row = {"leads": n_leads, "overrides": overrides, **figures, **result}
    if predictions is not None:
        predictions.with_suffix(".json").write_text(json.dumps(row, default=str))
    return row


def fit_model_only(data: str, overrides: str, predictions: str) -> None:
    """The served model of `fit_and_evaluate` alone (same steps, same functions, up to the model's test
    scores), its test scores saved to ``predictions``; prints the figures as JSON."""
    import numpy as np
    import pandas as pd

    from training.audit.exclusions import resolve_exclusions, without_columns
    from training.config import TrainConfig
    from training.data.contract import TimeBasis
    from training.data.io import load_dataset
    from training.features.specs import FeatureCatalog
    from training.features.transformer import LeadFeatures
    from training.model.ranking import roc_auc
    from training.model.selection import fit_selected
    from training.snapshot_source import LocalSnapshots

    dataset, _ = load_dataset(Path(data))
    config = TrainConfig(**json.loads(overrides))
    dataset = without_columns(dataset, list(resolve_exclusions(dataset, config.exclude_columns)))
    row_order = dataset.metadata.time_basis == TimeBasis.ROW_ORDER
    source = LocalSnapshots()
    prepared = source.prepare(dataset, config, lambda _message: None)
    labelled = prepared.labelled
    train, test = labelled.batch.take(prepared.train_idx), labelled.batch.take(prepared.test_idx)
    y_train, y_test = labelled.label[prepared.train_idx], labelled.label[prepared.test_idx]
    features = LeadFeatures(**config.features.estimator_kwargs())
    X_train, X_test = source.features(features, train, y_train, test)
    horizon = None if row_order else pd.Timedelta(days=config.horizon_days)
    leads = train.snapshots["lead_id"]
    elapsed = FeatureCatalog(features.feature_specs()).elapsed_time_features()
    model, selection = fit_selected(
        X_train, y_train, train.time_key, leads, horizon, config, elapsed_features=elapsed
    )
    score = model.readiness(X_test)
    keys = test.snapshots
    np.savez(
        predictions,
        score=score,
        y=y_test,
        lead=np.asarray(keys["lead_id"].astype(str), dtype="U"),
        cutoff=pd.to_datetime(keys["cutoff"], utc=True).dt.as_unit("ns").astype("int64").to_numpy(),
    )
    sample = prepared.sampling["train"]
    figures = {
        "auc": roc_auc(y_test.astype(bool), score),
        "n_test": len(y_test),
        "n_train": sample.snapshots_after,
        "fraction": sample.fraction,
        "design": sample.design,
        "chosen": selection.chosen,
        "test_fraction": prepared.sampling["test"].fraction,
    }
    print(json.dumps(figures))


#: sampling designs compared by --sampling-cost: their ``train_min_within_lead_fraction``
DESIGNS = {"within": 0.25, "leads": 1.0}


def sampling_cost(full: Path, sampled: Path, n_bootstrap: int = 500) -> dict[str, float]:
    """ROC-AUC of the full-data model minus the sampled one's on the same test snapshots (checked), with
    a paired bootstrap interval resampling whole leads."""
    import numpy as np

    from training.model.ranking import paired_auc_difference

    a, b = np.load(full), np.load(sampled)
    for key in ("y", "lead", "cutoff"):
        if not np.array_equal(a[key], b[key]):
            raise RuntimeError(f"{full} and {sampled} are not scored on the same test snapshots ({key})")
    difference, low, high = paired_auc_difference(
        a["y"], a["score"], b["score"], n_bootstrap=n_bootstrap, seed=0, groups=a["lead"]
    )
    return {"cost": difference, "ci_low": low, "ci_high": high, "n_bootstrap": n_bootstrap}


def cost_table(rows: list[dict[str, object]]) -> str:
    lines = [
        "| design | ROC-AUC cost (full minus sampled) | 95% interval (paired, by lead) | replicates |",
        "|---|---:|---|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['design']} | {r['cost']:.4f} | [{r['ci_low']:.4f}, {r['ci_high']:.4f}] | "
            f"{r['n_bootstrap']} |"
        )
    return "\n".join(lines)


def scoring_table(rows: list[dict[str, object]]) -> str:
    lines = [
        "| leads | engine | reasons per side | wall s | CPU s (tree, JVM incl.) | peak RSS GiB | load |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['leads']:,} | {r['engine']} | {r['reasons']} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | "
            f"{r['peak_rss_gib']:.2f} | {r['load']:.1f} |"
        )
    return "\n".join(lines)


def training_table(rows: list[dict[str, object]]) -> str:
    lines = [
        "| leads | config | train snapshots used | sampled fraction (train / test) | test snapshots | "
        "test ROC-AUC | wall s | CPU s | peak RSS GiB | load |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['leads']:,} | `{json.dumps(r['overrides'])}` | {r['n_train']:,} | "
            f"{r['fraction']:.3f} / {r['test_fraction']:.3f} | {r['n_test']:,} | {r['auc']:.4f} | "
            f"{r['wall_s']:.0f} | {r['cpu_s']:.0f} | {r['peak_rss_gib']:.2f} | {r['load']:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, nargs="*", default=[100_000])
    parser.add_argument("--engines", nargs="+", default=["local"], choices=["local", "spark"])
    parser.add_argument("--reasons", type=int, nargs="+", default=[0])
    parser.add_argument("--train", type=int, nargs="*", default=[], help="lead counts to train on")
    parser.add_argument(
        "--sampling-cost",
        type=int,
        default=None,
        help="leads at which to compare sampled (--sample-fraction) and unsampled training",
    )
    parser.add_argument("--sample-fraction", type=float, default=0.235)
    parser.add_argument("--designs", nargs="+", default=["within"], choices=sorted(DESIGNS))
    parser.add_argument(
        "--candidates", nargs="*", default=[], help="model families of the sampling-cost runs"
    )
    parser.add_argument(
        "--run-bootstrap", type=int, default=10, help="bootstrap replicates of each sampling-cost run"
    )
    parser.add_argument("--work", type=Path, default=Path("/tmp/leadripe-bench-batch"))
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    scoring = []
    for n in args.leads:
        for engine in args.engines:
            for reasons in args.reasons:
                row = score_run(args.work, n, engine, reasons)
                print(json.dumps(row), flush=True)
                scoring.append(row)
    training = []
    for n in args.train:
        row = train_run(args.work, n, {})
        print(json.dumps(row, default=str), flush=True)
        training.append(row)
    comparisons: list[dict[str, object]] = []
    if args.sampling_cost:
        n = args.sampling_cost
        # Fewer bootstrap replicates for the runs' own intervals: the cost needs only the test scores.
        quick: dict[str, object] = {"n_bootstrap": args.run_bootstrap}
        if args.candidates:  # one family for both runs: the cost of sampling alone, no selection
            quick["selection"] = {"candidates": args.candidates}
        tag = "-" + "-".join(args.candidates) if args.candidates else ""
        full = train_run(
            args.work, n, {"max_train_snapshots": None, **quick}, args.work / f"preds-{n}-full{tag}.npz"
        )
        budget = max(1000, int(int(str(full["n_train"])) * args.sample_fraction))
        training.append(full)
        for design in args.designs:
            overrides = {
                "max_train_snapshots": budget,
                "train_min_within_lead_fraction": DESIGNS[design],
                **quick,
            }
            sampled = train_run(args.work, n, overrides, args.work / f"preds-{n}-{design}-{budget}{tag}.npz")
            training.append(sampled)
            comparisons.append(
                {
                    "design": design,
                    **sampling_cost(
                        args.work / f"preds-{n}-full{tag}.npz",
                        args.work / f"preds-{n}-{design}-{budget}{tag}.npz",
                    ),
                }
            )
        for row in training:
            print(json.dumps(row, default=str), flush=True)
    command = "python bench/bench_batch.py " + " ".join(sys.argv[1:])
    text = [
        "## Batch scoring and bounded-memory training",
        "",
        __doc__.split("\n\n", 1)[1].strip(),
        "",
        f"Command: `{command}`",
        "",
        f"Machine: 2 cores shared with other jobs (`load` = 1-minute load "
        f"average at the end of each run), Python {sys.version.split()[0]}.",
        "",
    ]
    if scoring:
        text += [scoring_table(scoring), ""]
    if training:
        text += [training_table(training), ""]
    if comparisons:
        text += [cost_table(comparisons), ""]
    if args.write:
        write_section("\n".join(text))
    print("\n".join(text))


if __name__ == "__main__":
    main()

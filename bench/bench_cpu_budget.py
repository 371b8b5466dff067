"""The single-lead answer's CPU against a base commit, side by side: the issues' CPU budget.

The budget shared by the issues is that the full single-lead answer costs no more server CPU than at
the base (``3d4ee35``, ~1.1 ms per request in ``bench_api.py`` then). Wall-clock figures on a shared
machine move by tens of percent with the load, so this compares ratios measured at the same time:

1. checks the base commit out into a temporary git worktree;
2. in each tree (a fresh process each, with that tree's code), trains the bundle ``bench_api.py`` trains
   (same simulated leads and seed; the current tree's with its learnt decision policy) and builds the same
   single-lead requests (50 events each, reasons and to_ripen included);
3. runs both trees' ``LeadScorer.score_payloads`` at the same time, one lead per call, in ``--rounds``
   rounds of ``--requests`` calls, and reports the CPU time per call (``time.process_time``, this
   process's one thread: no HTTP, no JSON) of each round and the ratio of the medians.

HTTP, JSON and routing cost the same in both trees (the server path did not change), so the ratio of the
scorer is an upper bound of the ratio of the server CPU per request.

``--instructions`` counts instead of timing, for a figure the machine's load cannot move: each tree's
bundle and requests are pickled, and ``valgrind --tool=cachegrind`` (Debian package ``valgrind``) counts
the instructions of a process that makes ``--requests`` single-lead calls, minus those of one that makes
none (start-up, imports, loading), divided by ``--requests``.

    .venv/bin/python bench/bench_cpu_budget.py [--base 3d4ee35] [--rounds 10] [--requests 300] [--write]
    .venv/bin/python bench/bench_cpu_budget.py --instructions [--requests 200] [--write]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks_md import write_section

REPO = Path(__file__).resolve().parents[1]
SECTION = "## Single-lead CPU against the base"
INSTRUCTIONS_SECTION = "## Single-lead instructions against the base"

#: Runs in each tree: trains, then measures rounds; prints one JSON line. The tree's own code is first on
#: the path; request models moved between the base and now, hence the two imports.
_WORKER = r"""
import json, os, sys, tempfile, time
from pathlib import Path
tree = sys.argv[1]
sys.path[:0] = [tree + "/bench", tree]
import pandas as pd
import bench_api
from serving.scorer import LeadScorer
try:
    from training.data.live import LeadIn
except ImportError:
    from serving.schemas import LeadIn
bundle, dataset = bench_api.train_and_register(Path(tempfile.mkdtemp()), int(sys.argv[2]), 1)
bodies = bench_api.make_leads(dataset, 20, 50, seed=3)
leads = [LeadIn.model_validate(body) for body in bodies]
scorer = LeadScorer(bundle, version="bench", source="memory")
as_of = pd.Timestamp("2026-01-15T12:00:00Z").to_pydatetime()
verdicts = [scorer.score_payloads([lead], default_as_of=as_of)[0]["verdict"] for lead in leads]
Path(sys.argv[5]).touch()  # trained: ready to measure
while not Path(sys.argv[6]).exists():  # both trees start measuring together
    time.sleep(0.05)
rounds = []
for _ in range(int(sys.argv[3])):
    start = time.process_time()
    for i in range(int(sys.argv[4])):
        scorer.score_payloads(leads[i % 20 : i % 20 + 1], default_as_of=as_of)
    rounds.append((time.process_time() - start) * 1000 / int(sys.argv[4]))
print(json.dumps({"rounds_ms": rounds, "verdicts": verdicts}))
"""


#: Instruction counting, step 1 (in each tree): train and pickle the bundle and the requests.
_PREPARE = r"""
import json, pickle, sys, tempfile
from pathlib import Path
tree = sys.argv[1]
sys.path[:0] = [tree + "/bench", tree]
import bench_api
bundle, dataset = bench_api.train_and_register(Path(tempfile.mkdtemp()), int(sys.argv[2]), 1)
Path(sys.argv[3]).write_bytes(pickle.dumps((bundle, bench_api.make_leads(dataset, 20, 50, seed=3))))
"""

#: Step 2, under valgrind: load them, warm up, make N single-lead calls (N = 0 for the fixed cost).
_COUNT = r"""
import pickle, sys
from pathlib import Path
sys.path[:0] = [sys.argv[1]]
import pandas as pd
from serving.scorer import LeadScorer
try:
    from training.data.live import LeadIn
except ImportError:
    from serving.schemas import LeadIn
bundle, bodies = pickle.loads(Path(sys.argv[2]).read_bytes())
scorer = LeadScorer(bundle, version="bench", source="memory")
leads = [LeadIn.model_validate(body) for body in bodies]
as_of = pd.Timestamp("2026-01-15T12:00:00Z").to_pydatetime()
for i in range(20):
    scorer.score_payloads(leads[i : i + 1], default_as_of=as_of)
for i in range(int(sys.argv[3])):
    scorer.score_payloads(leads[i % 20 : i % 20 + 1], default_as_of=as_of)
"""


def measure_instructions(base_tree: Path, args: argparse.Namespace, work: Path) -> dict[str, float]:
    """Instructions per single-lead call in each tree (valgrind's count, independent of the load)."""
    trees = {"base": base_tree, "current": REPO}
    print("training the same bundle in both trees ...", flush=True)
    for name, tree in trees.items():
        env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1"}
        command = [
            sys.executable,
            "-c",
            _PREPARE,
            str(tree),
            str(args.train_leads),
            str(work / f"{name}.pkl"),
        ]
        subprocess.run(command, check=True, env=env, cwd=work, capture_output=True)
    runs = {}
    for name, tree in trees.items():
        for calls in (0, args.requests):
            env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
            command = [
                "valgrind",
                "--tool=cachegrind",
                "--cache-sim=no",
                "--cachegrind-out-file=/dev/null",
                sys.executable,
                "-c",
                _COUNT,
                str(tree),
                str(work / f"{name}.pkl"),
                str(calls),
            ]
            runs[(name, calls)] = subprocess.Popen(command, env=env, cwd=work, stderr=subprocess.PIPE)
    print(
        f"counting the instructions of 0 and {args.requests} calls in both trees (valgrind) ...", flush=True
    )
    counts = {}
    for key, proc in runs.items():
        _, stderr = proc.communicate()
        found = re.search(r"I\s+refs:\s+([\d,]+)", stderr.decode())
        if proc.returncode != 0 or found is None:
            raise SystemExit(f"valgrind failed for {key} (exit {proc.returncode})")
        counts[key] = int(found.group(1).replace(",", ""))
    return {name: (counts[(name, args.requests)] - counts[(name, 0)]) / args.requests for name in trees}


def report_instructions(per_call: dict[str, float], args: argparse.Namespace) -> None:
    """Print the instructions per call and their ratio; with ``--write``, its section of BENCHMARKS.md."""
    ratio = per_call["current"] / per_call["base"]
    print(
        f"instructions per call: base {per_call['base'] / 1e6:.3f}M, current {per_call['current'] / 1e6:.3f}M"
    )
    print(f"current/base: {ratio:.3f}")
    if not args.write:
        return
    command = f"python bench/bench_cpu_budget.py {' '.join(sys.argv[1:])}"
    lines = [
        INSTRUCTIONS_SECTION,
        "",
        f"Command: `{command}` ({time.strftime('%Y-%m-%d %H:%M')} UTC). Instructions counted by valgrind",
        "(cachegrind) for the same single-lead calls as above, minus a process that makes none: a count the",
        "machine's load does not move (time is not measured; memory stalls are not counted).",
        "",
        "| tree | instructions per single-lead call |",
        "|---|---:|",
        f"| base `{args.base}` | {per_call['base'] / 1e6:.3f}M |",
        f"| current | {per_call['current'] / 1e6:.3f}M |",
        "",
        f"Current / base: **{ratio:.3f}**.",
    ]
    write_section("\n".join(lines))


def measure(base_tree: Path, args: argparse.Namespace, work: Path) -> dict[str, dict[str, list]]:
    """Both trees' per-call CPU rounds, measured at the same time."""
    go = work / "go"
    procs = {}
    for name, tree in (("base", base_tree), ("current", REPO)):
        ready = work / f"{name}.ready"
        procs[name] = (
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    _WORKER,
                    str(tree),
                    str(args.train_leads),
                    str(args.rounds),
                    str(args.requests),
                    str(ready),
                    str(go),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env={**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1"},
                cwd=work,
            ),
            ready,
        )
    print("training the same bundle in both trees ...", flush=True)
    while not all(ready.exists() for _, ready in procs.values()):
        if any(proc.poll() is not None for proc, _ in procs.values()):
            raise SystemExit("a worker stopped before measuring (run it by hand to see why)")
        time.sleep(0.5)
    print(f"measuring {args.rounds} rounds of {args.requests} single-lead calls in both trees at once ...")
    go.touch()
    out = {}
    for name, (proc, _) in procs.items():
        stdout, _ = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"the {name} worker failed (exit {proc.returncode})")
        out[name] = json.loads(stdout.decode().strip().splitlines()[-1])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--base", default="3d4ee35", help="the commit the budget refers to")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--requests", type=int, default=300, help="single-lead calls per round")
    parser.add_argument("--train-leads", type=int, default=1500)
    parser.add_argument("--write", action="store_true", help="write the figures to BENCHMARKS.md")
    parser.add_argument(
        "--instructions", action="store_true", help="count instructions under valgrind instead of timing"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cpu-") as tmp:
        work = Path(tmp)
        base_tree = work / "base"
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "--detach", str(base_tree), args.base],
            check=True,
            capture_output=True,
        )
        try:
            if args.instructions:
                report_instructions(measure_instructions(base_tree, args, work), args)
                return
            results = measure(base_tree, args, work)
        finally:
            remove = ["git", "-C", str(REPO), "worktree", "remove", "--force", str(base_tree)]
            subprocess.run(remove, check=False)
    report(results, args)


def _ms(values: list[float]) -> str:
    return " ".join(f"{x:.2f}" for x in values)


def report(results: dict[str, dict[str, list]], args: argparse.Namespace) -> None:
    """Print the rounds and the ratio; with ``--write``, the section of BENCHMARKS.md."""
    base, current = results["base"]["rounds_ms"], results["current"]["rounds_ms"]
    ratio = statistics.median(current) / statistics.median(base)
    pairs = [c / b for b, c in zip(base, current, strict=True)]
    spread = f"round by round {min(pairs):.3f}-{max(pairs):.3f}"
    load = os.getloadavg()[0]
    print(f"base    ms per call: {_ms(base)}")
    print(f"current ms per call: {_ms(current)}")
    print(f"median current/base: {ratio:.3f} ({spread}); load {load:.1f}")
    same = "the same" if results["base"]["verdicts"] == results["current"]["verdicts"] else "not all the same"
    if not args.write:
        return
    command = f"python bench/bench_cpu_budget.py {' '.join(sys.argv[1:])}"
    lines = [
        SECTION,
        "",
        f"Command: `{command}` ({time.strftime('%Y-%m-%d %H:%M')} UTC; both trees measured at the same",
        f"time on a {os.cpu_count()}-core machine at a 1-minute load average of {load:.1f}; the script's",
        "docstring says what is measured).",
        "",
        "| tree | CPU ms per single-lead call, median of rounds | rounds (ms) |",
        "|---|---:|---|",
        f"| base `{args.base}` | {statistics.median(base):.3f} | {_ms(base)} |",
        f"| current | {statistics.median(current):.3f} | {_ms(current)} |",
        "",
        f"Current / base: **{ratio:.3f}** ({spread}); the 20 leads' verdicts are {same} in both trees.",
        "Absolute times are inflated by the machine's load; the ratio is the figure.",
    ]
    write_section("\n".join(lines))


if __name__ == "__main__":
    main()

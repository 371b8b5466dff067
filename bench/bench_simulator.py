"""Benchmark of the lead-journey simulator: time, CPU and peak memory against the number of leads.

Each size runs in a fresh subprocess (so that peak RSS is that run's own) and times one call of
``training.simulation.simulator.simulate`` (leads, events, outcomes and ground truth, all in memory;
nothing is written). The machine is shared, so the load average is reported next to the wall-clock
time; CPU time is the figure that does not depend on what else runs. ``--write`` replaces the
``## Simulator`` section of BENCHMARKS.md.

    .venv/bin/python bench/bench_simulator.py [--leads 10000 100000 1000000] [--write]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

from benchmarks_md import BENCHMARKS, write_section

REPO = Path(__file__).resolve().parents[1]
SECTION = "## Simulator"

_CHILD = """
import json, os, resource, sys, time
sys.path.insert(0, {repo!r})
from training.simulation.simulator import simulate
n, workers = int(sys.argv[1]), int(sys.argv[2])
load_before = os.getloadavg()[0]
wall, cpu = time.perf_counter(), time.process_time()
result = simulate(n, seed=0, workers=workers)
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
children = resource.getrusage(resource.RUSAGE_CHILDREN)
status = result.dataset.outcomes["status"].astype(str)
print(json.dumps({{
    "leads": n,
    "workers": workers,
    "wall_s": wall,
    "cpu_s": cpu + children.ru_utime + children.ru_stime,
    "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
    "worker_rss_gib": children.ru_maxrss / 2**20,
    "events": len(result.dataset.events),
    "truth_rows": len(result.ground_truth),
    "win_rate": float((status == "won").mean()),
    "load": (load_before + os.getloadavg()[0]) / 2,
}}))
"""


def run(n_leads: int, workers: int) -> dict[str, float]:
    """Simulate ``n_leads`` with ``workers`` processes in a fresh interpreter; return its measurements."""
    child = _CHILD.format(repo=str(REPO))
    command = [sys.executable, "-c", child, str(n_leads), str(workers)]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def table(results: list[dict[str, float]]) -> str:
    lines = [
        "| leads | workers | events | events/lead | ground-truth rows | wall s | CPU s | CPU µs/lead "
        "| peak RSS GiB | worker peak RSS GiB | load |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['leads']:,.0f} | {r['workers']:.0f} | {r['events']:,.0f} | {r['events'] / r['leads']:.1f} "
            f"| {r['truth_rows']:,.0f} "
            f"| {r['wall_s']:.1f} | {r['cpu_s']:.1f} | {r['cpu_s'] / r['leads'] * 1e6:.0f} "
            f"| {r['peak_rss_gib']:.2f} | {r['worker_rss_gib'] if r['workers'] > 1 else 0:.2f} "
            f"| {r['load']:.1f} |"
        )
    return "\n".join(lines)


def section(results: list[dict[str, float]], command: str) -> str:
    return (
        f"{SECTION}\n\n"
        "One call of `training.simulation.simulator.simulate(n, seed=0)` "
        "(540 days, 7-day ground-truth grid), "
        "each size in a fresh process; peak RSS is the whole process's (interpreter and imports included). "
        "Target: 1,000,000 leads with their events in at most 60 s and 4 GiB, time linear in N.\n\n"
        f"{table(results)}\n\n"
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}. `load` is the 1-minute load "
        "average during the run: the machine is shared, and with other jobs running the wall-clock time "
        "stretches while the CPU time does not.\n\n"
        f"Command: `{command}`\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker processes to try")
    parser.add_argument("--write", action="store_true", help="write the results into BENCHMARKS.md")
    args = parser.parse_args()
    results = []
    for n, workers in ((n, w) for n in args.leads for w in args.workers):
        result = run(n, workers)
        print(
            f"{n:>9,} leads, {workers} workers: {result['events']:>11,.0f} events: "
            f"wall {result['wall_s']:.1f}s, "
            f"CPU {result['cpu_s']:.1f}s, peak RSS {result['peak_rss_gib']:.2f} GiB "
            f"(load {result['load']:.1f})",
            flush=True,
        )
        results.append(result)
    print(table(results))
    if args.write:
        command = ".venv/bin/python bench/bench_simulator.py " + " ".join(
            ["--leads", *map(str, args.leads), "--workers", *map(str, args.workers), "--write"]
        )
        write_section(section(results, command))
        print(f"wrote {SECTION} in {BENCHMARKS}")


if __name__ == "__main__":
    main()

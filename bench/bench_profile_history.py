"""Benchmark of point-in-time profiles: ``build_snapshots`` with and without a profile history.

Usage (from the repo root)::

    .venv/bin/python bench/bench_profile_history.py --leads 100000 --write

Synthetic leads (created over 500 days, observed for 600, one event each so that every lead gets a
cutoff every 7 days), one categorical and one numeric profile column, and a history of 2 changes per
field for half of the leads. The figure that matters is the ratio of the two build times on the same
data (``training.features.profile_asof`` is one sort and one ``searchsorted`` per field). ``--write``
replaces the ``## Profile history`` section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks_md import write_section

from training.data.contract import (
    CHANGED_AT,
    CLOSED_AT,
    CREATED_AT,
    EVENT_TYPE,
    HANDED_OVER_AT,
    HISTORY_FIELD,
    LEAD_ID,
    NEW_VALUE,
    OCCURRED_AT,
    OLD_VALUE,
    STATUS,
    DatasetMetadata,
    LeadDataset,
)
from training.features.snapshots import SnapshotPolicy, build_snapshots

T0 = pd.Timestamp("2023-01-01", tz="UTC")
INDUSTRIES = np.array(["retail", "software", "banking", "media", "health", "public"], dtype=object)


def make_dataset(n_leads: int, seed: int = 0) -> tuple[LeadDataset, pd.DataFrame]:
    """Leads, outcomes, one event per lead, and a history of 2 changes per field for half the leads."""
    rng = np.random.default_rng(seed)
    ids = pd.Series([f"L{i:07d}" for i in range(n_leads)], dtype="str")
    created = T0 + pd.to_timedelta(np.sort(rng.uniform(0, 500, n_leads)), unit="D")
    won = rng.random(n_leads) < 0.2
    closed = pd.Series(created + pd.to_timedelta(rng.uniform(10, 200, n_leads), unit="D")).where(
        won | (rng.random(n_leads) < 0.3)
    )
    leads = pd.DataFrame(
        {
            LEAD_ID: ids,
            CREATED_AT: pd.Series(created),
            "industry": pd.Series(rng.choice(INDUSTRIES, n_leads), dtype="category"),
            "employees": rng.integers(1, 5000, n_leads).astype(np.float64),
        }
    )
    status = np.where(closed.notna(), np.where(won, "won", "lost"), "open")
    outcomes = pd.DataFrame(
        {
            LEAD_ID: ids,
            STATUS: pd.Series(status, dtype="category"),
            HANDED_OVER_AT: pd.Series(pd.NaT, index=ids.index, dtype="datetime64[ns, UTC]"),
            CLOSED_AT: closed.where(status != "open"),
        }
    )
    events = pd.DataFrame({LEAD_ID: ids, OCCURRED_AT: pd.Series(created), EVENT_TYPE: "page_view"})
    events[EVENT_TYPE] = events[EVENT_TYPE].astype("category")
    metadata = DatasetMetadata(
        name="bench",
        observed_until=T0 + pd.Timedelta(days=600),
        categorical_columns=["industry"],
        numeric_columns=["employees"],
    )
    changed = rng.choice(n_leads, n_leads // 2, replace=False)
    parts = []
    for field, values in (("industry", INDUSTRIES), ("employees", np.arange(1, 5000).astype(str))):
        for _ in range(2):
            parts.append(
                pd.DataFrame(
                    {
                        LEAD_ID: ids.to_numpy()[changed],
                        HISTORY_FIELD: field,
                        OLD_VALUE: rng.choice(values, len(changed)),
                        NEW_VALUE: rng.choice(values, len(changed)),
                        CHANGED_AT: pd.Series(created[changed])
                        + pd.to_timedelta(rng.uniform(0, 300, len(changed)), unit="D"),
                    }
                )
            )
    return LeadDataset(leads, events, outcomes, metadata), pd.concat(parts, ignore_index=True)


def timed_build(dataset: LeadDataset) -> tuple[int, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = build_snapshots(dataset, SnapshotPolicy(every_days=7, horizon_days=90))
    return len(result), time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, nargs="+", default=[100_000])
    parser.add_argument("--write", action="store_true", help="replace the section in BENCHMARKS.md")
    args = parser.parse_args()
    rows = []
    for n_leads in args.leads:
        dataset, history = make_dataset(n_leads)
        timed_build(dataset)  # warm-up
        snapshots, plain_wall, plain_cpu = timed_build(dataset)
        dataset.profile_history = history
        _, asof_wall, asof_cpu = timed_build(dataset)
        load = os.getloadavg()[0]
        rows.append(
            f"| {n_leads:,} | {snapshots:,} | {len(history):,} | {plain_wall:.2f} | {plain_cpu:.2f} | "
            f"{asof_wall:.2f} | {asof_cpu:.2f} | {asof_cpu / plain_cpu:.2f} | {load:.1f} |"
        )
        print(rows[-1], flush=True)
    command = (
        "python bench/bench_profile_history.py --leads " + " ".join(str(n) for n in args.leads) + " --write"
    )
    section = "\n".join(
        [
            "## Profile history",
            "",
            "`build_snapshots` with and without a profile history on the same synthetic leads (one",
            "categorical and one numeric profile column; half of the leads have 2 changes of each; cutoffs",
            "every 7 days, horizon 90). With the history, both columns are read as of each cutoff",
            "(`training.features.profile_asof`: one sort of the changes and one `searchsorted` of the",
            "snapshots of leads with history, per field). The CPU time is this process's; wall time",
            "depends on what else runs on the machine.",
            "",
            f"Command: `{command}`",
            "",
            f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"numpy {np.__version__}, pandas {pd.__version__}. Load: the 1-minute load average at the end.",
            "",
            "| leads | snapshots | history rows | without: wall (s) | CPU (s) | with: wall (s) | CPU (s) "
            "| CPU ratio | load |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            *rows,
        ]
    )
    if args.write:
        write_section(section)
    else:
        print(section)


if __name__ == "__main__":
    main()

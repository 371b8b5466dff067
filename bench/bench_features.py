"""Benchmark of ``LeadFeatures``: time to featurise N leads (one snapshot each) with ~30 events per lead.

Usage (from the repo root)::

    .venv/bin/python bench/bench_features.py --leads 100000 1000000 --write

Synthetic data comes from a quick vectorised generator in this file (12 event types with skewed
frequencies, events spread over two years, one snapshot per lead at a random cutoff, string lead ids as
a validated table would have them). ``--write`` replaces the ``## Features`` section of BENCHMARKS.md.
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
    CLOSED_AT,
    CREATED_AT,
    EVENT_TYPE,
    HANDED_OVER_AT,
    LEAD_ID,
    OCCURRED_AT,
    STATUS,
    DatasetMetadata,
    LeadDataset,
)
from training.features.snapshots import CUTOFF, SnapshotBatch, SnapshotPolicy, build_snapshots
from training.features.transformer import LeadFeatures

EVENT_TYPES = (
    "email_open",
    "email_click",
    "page_view",
    "pricing_page_view",
    "webinar_registered",
    "webinar_attended",
    "content_download",
    "demo_request",
    "trial_started",
    "contact_form",
    "unsubscribe",
    "email_bounce",
)
TYPE_WEIGHTS = np.array([30, 12, 25, 5, 4, 3, 8, 1, 1, 1, 0.5, 0.5])
START = pd.Timestamp("2023-01-01", tz="UTC")
DAY_NS = 86_400 * 10**9


def synthetic_batch(n_leads: int, events_per_lead: float, seed: int = 0) -> SnapshotBatch:
    """One snapshot per lead, ~``events_per_lead`` events each (Poisson), some after the cutoff."""
    rng = np.random.default_rng(seed)
    ids = np.char.add("lead-", np.arange(n_leads).astype(str))
    created = START.value + rng.integers(0, 600, n_leads) * DAY_NS + rng.integers(0, DAY_NS, n_leads)
    cutoff = created + rng.integers(1, 180, n_leads) * DAY_NS
    per_lead = rng.poisson(events_per_lead, n_leads)
    owner = np.repeat(np.arange(n_leads), per_lead)
    occurred = created[owner] + (rng.random(len(owner)) * 200 * DAY_NS).astype(np.int64)
    types = rng.choice(len(EVENT_TYPES), len(owner), p=TYPE_WEIGHTS / TYPE_WEIGHTS.sum())
    snapshots = pd.DataFrame(
        {
            LEAD_ID: pd.array(ids, dtype="str"),
            CUTOFF: pd.to_datetime(cutoff, utc=True),
            CREATED_AT: pd.to_datetime(created, utc=True),
            "source": pd.Categorical.from_codes(rng.integers(0, 8, n_leads), [f"src{i}" for i in range(8)]),
            "industry": pd.Categorical.from_codes(
                rng.integers(0, 20, n_leads), [f"ind{i}" for i in range(20)]
            ),
            "employees": rng.lognormal(4, 1.5, n_leads),
            "pages_viewed": rng.poisson(5, n_leads).astype(np.float64),
        }
    )
    events = pd.DataFrame(
        {
            LEAD_ID: pd.array(ids[owner], dtype="str"),
            OCCURRED_AT: pd.to_datetime(occurred, utc=True),
            EVENT_TYPE: pd.Categorical.from_codes(types, list(EVENT_TYPES)),
        }
    )
    return SnapshotBatch(snapshots, events, ("source", "industry"), ("employees", "pages_viewed"))


def synthetic_dataset(n_leads: int, seed: int = 0) -> LeadDataset:
    """Leads created over 500 days, 10% won / 50% lost within 150 days, 40% open, 30% handed over."""
    rng = np.random.default_rng(seed)
    nat = np.iinfo(np.int64).min
    ids = pd.array(np.char.add("lead-", np.arange(n_leads).astype(str)), dtype="str")
    created = START.value + rng.integers(0, 500, n_leads) * DAY_NS
    status = rng.choice(["won", "lost", "open"], n_leads, p=[0.1, 0.5, 0.4])
    closed = np.where(status != "open", created + rng.integers(1, 150, n_leads) * DAY_NS, nat)
    handover = np.where(rng.random(n_leads) < 0.3, created + rng.integers(0, 60, n_leads) * DAY_NS, nat)
    leads = pd.DataFrame(
        {
            LEAD_ID: ids,
            CREATED_AT: pd.to_datetime(created, utc=True),
            "source": pd.Categorical.from_codes(rng.integers(0, 8, n_leads), [f"src{i}" for i in range(8)]),
            "employees": rng.lognormal(4, 1.5, n_leads),
        }
    )
    outcomes = pd.DataFrame(
        {
            LEAD_ID: ids,
            STATUS: pd.Categorical(status),
            HANDED_OVER_AT: pd.to_datetime(handover, utc=True),
            CLOSED_AT: pd.to_datetime(closed, utc=True),
        }
    )
    events = pd.DataFrame(  # one event: the dataset counts as an event log (periodic cutoffs)
        {LEAD_ID: ids[:1], OCCURRED_AT: leads[CREATED_AT][:1], EVENT_TYPE: pd.Categorical(["email_open"])}
    )
    meta = DatasetMetadata(
        "bench",
        observed_until=START + pd.Timedelta(days=600),
        categorical_columns=["source"],
        numeric_columns=["employees"],
    )
    return LeadDataset(leads, events, outcomes, meta)


def run_snapshots(n_leads: int) -> dict[str, float]:
    dataset = synthetic_dataset(n_leads)
    t, cpu = time.perf_counter(), time.process_time()
    result = build_snapshots(dataset, SnapshotPolicy(every_days=7, horizon_days=90))
    return {
        "leads": n_leads,
        "built": result.counts["built"],
        "censored": result.counts["censored"],
        "wall_s": time.perf_counter() - t,
        "cpu_s": time.process_time() - cpu,
        "load": os.getloadavg()[0],
    }


def run(n_leads: int, events_per_lead: float, fit_leads: int) -> dict[str, float]:
    t = time.perf_counter()
    batch = synthetic_batch(n_leads, events_per_lead)
    generate = time.perf_counter() - t
    fit_batch = batch.take(np.arange(min(fit_leads, n_leads)))
    t = time.perf_counter()
    transformer = LeadFeatures().fit(fit_batch)
    fit = time.perf_counter() - t
    t, cpu = time.perf_counter(), time.process_time()
    features = transformer.transform(batch)
    transform, transform_cpu = time.perf_counter() - t, time.process_time() - cpu
    return {
        "leads": n_leads,
        "events": len(batch.events),
        "features": features.shape[1],
        "generate_s": generate,
        "fit_s": fit,
        "transform_s": transform,
        "transform_cpu_s": transform_cpu,
        "load": os.getloadavg()[0],
    }


def markdown(results: list[dict[str, float]], snapshots: list[dict[str, float]], command: str) -> str:
    lines = [
        "## Features",
        "",
        "`LeadFeatures.transform` on synthetic data (one snapshot per lead, string lead ids, 12 event types,",
        "windows 7/30/90 days, trend 30 vs prior 60 days, decayed counts with half-lives 14 and 45 days,",
        "2 categorical + 2 numeric profile columns).",
        "Fit is on the first 100k snapshots (vocabulary, levels); transform is the full batch. Event",
        "features are computed one event-type slot at a time at this size (bounded memory) and all slots",
        "at once for API-sized batches, with identical values (`training.features.events`).",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"numpy {np.__version__}, pandas {pd.__version__}.",
        "",
        "Wall time depends on what else runs on the machine: the CPU time of the process and the 1-minute",
        "load average at the end of the run are given as well.",
        "",
        "| leads | events | features | fit (s) | transform wall (s) | transform CPU (s) | leads/s | load |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['leads']:,} | {r['events']:,} | {r['features']} | {r['fit_s']:.1f} | "
            f"{r['transform_s']:.1f} | {r['transform_cpu_s']:.1f} | {r['leads'] / r['transform_s']:,.0f} | "
            f"{r['load']:.1f} |"
        )
    if snapshots:
        lines += [
            "",
            "`build_snapshots` (every 7 days, horizon 90, handover cutoffs; leads created over 500 days,",
            "observed for 600):",
            "",
            "| leads | snapshots built | censored | wall (s) | CPU (s) | load |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
        for r in snapshots:
            lines.append(
                f"| {r['leads']:,} | {r['built']:,} | {r['censored']:,} | {r['wall_s']:.1f} | "
                f"{r['cpu_s']:.1f} | {r['load']:.1f} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--events-per-lead", type=float, default=30.0)
    parser.add_argument("--fit-leads", type=int, default=100_000)
    parser.add_argument("--snapshot-leads", type=int, nargs="*", default=[1_000_000])
    parser.add_argument("--write", action="store_true", help="write the results into BENCHMARKS.md")
    args = parser.parse_args()
    results = []
    for n in args.leads:
        result = run(n, args.events_per_lead, args.fit_leads)
        print(
            f"{n:>9,} leads {result['events']:>11,} events: generate {result['generate_s']:.1f}s, "
            f"fit {result['fit_s']:.1f}s, transform {result['transform_s']:.1f}s "
            f"(CPU {result['transform_cpu_s']:.1f}s, load {result['load']:.1f})",
            flush=True,
        )
        results.append(result)
    snapshots = []
    for n in args.snapshot_leads:
        snapshot_result = run_snapshots(n)
        print(f"build_snapshots {n:,} leads: {snapshot_result}", flush=True)
        snapshots.append(snapshot_result)
    command = "python " + " ".join(["bench/bench_features.py", *sys.argv[1:]])
    section = markdown(results, snapshots, command)
    print(section)
    if args.write:
        write_section(section)


if __name__ == "__main__":
    main()

"""Fingerprints of what the simulator generates for a seed, to compare two versions of it.

For each seed, each frame (leads, events, outcomes, ground truth): its row count and a hash per column.
Run it in a worktree of each commit and compare the JSON outputs: columns both versions have must hash
the same when a change drew no new random number (issue 10: every metric on the old and new simulator).

    git worktree add --detach /tmp/oldsim efde9cc^
    (cd /tmp/oldsim && PYTHONPATH=$PWD python /path/to/bench/simulator_fingerprint.py 5000 1 2 3) > old.json
    python bench/simulator_fingerprint.py 5000 1 2 3 > new.json
    python bench/simulator_fingerprint.py --compare old.json new.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import pandas as pd


def fingerprint(leads: int, seeds: list[int]) -> dict[str, dict[str, dict[str, object]]]:
    """``{seed: {frame: {"rows": n, "columns": {name: hash}}}}`` of ``simulate(leads, seed)``."""
    from training.simulation.simulator import simulate  # the simulator of the worktree this runs in

    out: dict[str, dict[str, dict[str, object]]] = {}
    for seed in seeds:
        result = simulate(leads, seed=seed)
        data = result.dataset
        frames = {
            "leads": data.leads,
            "events": data.events,
            "outcomes": data.outcomes,
            "ground_truth": result.ground_truth,
        }
        out[str(seed)] = {
            name: {
                "rows": len(frame),
                "columns": {
                    column: hashlib.sha256(
                        pd.util.hash_pandas_object(frame[column].reset_index(drop=True), index=False)
                        .to_numpy()
                        .tobytes()
                    ).hexdigest()[:16]
                    for column in sorted(frame.columns)
                },
            }
            for name, frame in frames.items()
        }
    return out


def compare(old: dict, new: dict) -> list[str]:
    """One line per seed and frame: rows, columns only one version has, columns that differ."""
    lines = []
    for seed, frames in old.items():
        for name, before in frames.items():
            after = new[seed][name]
            common = [c for c in before["columns"] if c in after["columns"]]
            differ = [c for c in common if before["columns"][c] != after["columns"][c]]
            added = [c for c in after["columns"] if c not in before["columns"]]
            lines.append(
                f"seed {seed} {name}: rows {before['rows']} -> {after['rows']}, {len(common)} common "
                f"columns, "
                f"differing {differ or 'none'}, added {added or 'none'}"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("leads", nargs="?", type=int, default=5_000)
    parser.add_argument("seeds", nargs="*", type=int, default=[1, 2, 3])
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("OLD", "NEW"))
    args = parser.parse_args()
    if args.compare:
        old, new = (json.loads(path.read_text()) for path in args.compare)
        print("\n".join(compare(old, new)))
    else:
        print(json.dumps(fingerprint(args.leads, args.seeds)))


if __name__ == "__main__":
    main()

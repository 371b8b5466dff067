"""Benchmark of the hand-raiser slice calibration (issue 10): readiness of test snapshots whose lead asked
for contact in the last 7 days against their observed win rate, above and below the threshold.

For each seed: the simulation and trained readiness model of ``bench/bench_verdicts.py`` (from its
``--cache``, trained there when absent), the training snapshots rebuilt as ``fit_and_evaluate`` builds
them (same config, same split), and this code's decision step (``learn_decision``) run three times on
that model:

- **before**: ``[decision] hand_raiser_calibration = false``: the policy as it was before the slice
  calibration (readiness as the model gives it);
- **held-out only**: the slice calibration learnt on the served model's held-out training leads alone
  (as it was learnt until the selection folds' scores were added);
- **after**: the default, the slice calibration learnt on those leads and on the model selection's
  out-of-fold scores (``training.model.selection.OutOfFold``; a cache trained by older code has none,
  and then "after" equals "held-out only").

On the test period every snapshot gets the verdict the API gives (``verdicts_with_hysteresis``). The
slice: test snapshots with a hand-raising event (``DecisionPolicy.hand_raisers``) in the 7 days before
the cutoff; "above" are those the policy calls ripe, "below" the others. Per seed and pooled over
seeds: mean readiness (the answer's ``readiness``), mean chance if handed over now, the observed win
rate with its 95% Wilson interval, the simulator's true chance, and the relative gap (readiness /
observed - 1) with a 95% interval from a bootstrap over leads (a lead's snapshots share one outcome).
No test label is used by either policy.

    nice -n 10 python bench/bench_handraisers.py --leads 5000 --seeds 1 2 3 --cache CACHE --runs DIR
    python bench/bench_handraisers.py --combine DIR [DIR ...] --write
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_verdicts import CONFIG, example_answers, relearn_decision, train, training_rows, wilson
from benchmarks_md import write_section

from training.features.snapshots import SnapshotBatch
from training.features.specs import FeatureCatalog
from training.model.decision import RIPE
from training.model.decision_learn import batch_contact, slice_evidence, verdicts_with_hysteresis
from training.model.decision_policy import DecisionPolicy
from training.model.oracle import match_ground_truth
from training.model.readiness import ReadinessModel
from training.model.selection import OutOfFold
from training.pipeline import TrainingOutcome
from training.simulation.simulator import P_WIN_IF_HANDED_OVER, SimulationResult

SECTION = "## Hand-raiser slice calibration"
SIDES = ("above", "below")
#: (name, slice calibration on, learnt also on the selection folds' scores): see the module docstring.
POLICIES = (("before", False, False), ("held-out only", True, False), ("after", True, True))


def policies(result: SimulationResult, outcome: TrainingOutcome) -> tuple[dict[str, DecisionPolicy], str]:
    """The decision step of this code on the cached model, without and with the slice calibration, and
    what the training evidence looked like (``training_slice``)."""
    out = {}
    for name, on, use_folds in POLICIES:
        config = CONFIG.model_copy(
            update={"decision": CONFIG.decision.model_copy(update={"hand_raiser_calibration": on})}
        )
        out[name] = relearn_decision(result, outcome, config, use_folds=use_folds)
    # The rows the calibration was learnt on, rebuilt once more (cheap next to the decision steps).
    X_train, y_train, train_batch = training_rows(result, outcome)
    out_of_fold = getattr(outcome.selection, "out_of_fold", None)
    return out, training_slice(out, outcome.bundle.pipeline[-1], X_train, y_train, train_batch, out_of_fold)


def training_slice(
    learnt: dict[str, DecisionPolicy],
    model: ReadinessModel,
    X_train: pd.DataFrame,
    y_train: np.ndarray,
    train_batch: SnapshotBatch,
    out_of_fold: OutOfFold | None,
) -> str:
    """The evidence the calibration was learnt from: training snapshots with a hand-raising event and an
    out-of-sample readiness (the served model's held-out leads; the selection folds' scores), by side of
    the threshold (the policy without calibration), mean readiness before and after the calibration
    against their win rate. Training data only."""
    _, held = model.held_out_split(len(X_train), train_batch.time_key, train_batch.snapshots["lead_id"])
    is_held_out = np.zeros(len(X_train), dtype=bool)
    is_held_out[held] = True
    readiness = np.zeros(len(X_train))
    readiness[held] = model.held_out_readiness(X_train.iloc[held])
    values, _, from_folds = slice_evidence(readiness, is_held_out, out_of_fold)
    contact = batch_contact(train_batch, learnt["before"])
    before = learnt["before"]
    ripe = before.estimate.chance(values, contact) >= before.threshold
    after = learnt["after"].hand_raiser_calibration.apply(values, contact)
    y = y_train.astype(float)
    parts = []
    for source, rows in (("held-out leads", is_held_out), ("selection folds", from_folds)):
        sides = []
        for side, mask in (("above", contact & ripe & rows), ("below", contact & ~ripe & rows)):
            if mask.any():
                sides.append(
                    f"{side} {values[mask].mean():.3f} -> {after[mask].mean():.3f} against "
                    f"{y[mask].mean():.3f} (n={int(mask.sum())})"
                )
        if sides:
            parts.append(f"{source}: " + "; ".join(sides))
    return "training slice, " + "; ".join(parts)


def slice_rows(leads: int, seed: int, cache: Path | None) -> tuple[pd.DataFrame, dict[str, str]]:
    """The test hand-raiser snapshots of one seed under both policies, and each policy's calibration."""
    result, outcome, _ = train(leads, seed, cache)
    batch = outcome.test_batch
    snapshots = batch.snapshots
    truth = match_ground_truth(snapshots, result.ground_truth, P_WIN_IF_HANDED_OVER)
    pipeline = outcome.bundle.pipeline
    catalog = FeatureCatalog(pipeline[0].feature_specs())
    frames, notes = [], {}
    learnt, evidence = policies(result, outcome)
    assert outcome.decision is not None
    # The cached run's own policy and "before" come from the same decision step on the same model.
    print(
        f"seed {seed}: threshold cached {outcome.decision.threshold:.4f}, before "
        f"{learnt['before'].threshold:.4f}, after {learnt['after'].threshold:.4f}",
        flush=True,
    )
    examples = []
    for name, policy in learnt.items():
        # The example lead with a demo request the day before its as_of, through the API's scorer.
        bundle = dataclasses.replace(
            outcome.bundle, card=outcome.bundle.card.model_copy(update={"decision": policy})
        )
        answer = example_answers(bundle)["demo_yesterday"]
        examples.append(
            f"{name} {answer['verdict']}, readiness {float(answer['readiness']):.3f}, chance "  # type: ignore[arg-type]
            f"{float(answer['handover_chance']):.3f}"  # type: ignore[arg-type]
        )
        verdicts, model_readiness = verdicts_with_hysteresis(
            policy, pipeline[0], pipeline[-1], batch, catalog
        )
        contact = batch_contact(batch, policy)
        calibration = policy.hand_raiser_calibration
        notes[name] = (
            f"intercept {calibration.intercept:+.3f}, slope {calibration.slope:.3f}; {calibration.basis} "
            f"({evidence})"
        )
        frames.append(
            pd.DataFrame(
                {
                    "leads": leads,
                    "seed": seed,
                    "policy": name,
                    "lead": snapshots["lead_id"].astype(str).to_numpy()[contact],
                    "side": np.where(verdicts.verdict[contact] == RIPE, "above", "below"),
                    "readiness": verdicts.readiness[contact],
                    "model_readiness": model_readiness[contact],
                    "chance": verdicts.chance[contact],
                    "won": outcome.y_test[contact].astype(float),
                    "truth": truth[contact],
                    "threshold": policy.threshold,
                }
            )
        )
    notes["after"] += (
        " Example lead with a demo request yesterday (threshold "
        f"{learnt['after'].threshold:.3f}): " + "; ".join(examples) + "."
    )
    return pd.concat(frames, ignore_index=True), notes


def gap_interval(rows: pd.DataFrame, rounds: int = 2000, seed: int = 0) -> tuple[float, float]:
    """95% bootstrap interval of mean(readiness) / mean(won) - 1, resampling leads (seed, lead)."""
    keys = rows["seed"].astype(str) + ":" + rows["lead"]
    codes, uniques = pd.factorize(keys)
    ready = np.bincount(codes, rows["readiness"].to_numpy(), len(uniques))
    won = np.bincount(codes, rows["won"].to_numpy(), len(uniques))
    rng = np.random.default_rng(seed)
    gaps = []
    for _ in range(rounds):
        pick = np.bincount(rng.integers(0, len(uniques), len(uniques)), minlength=len(uniques))
        observed = pick @ won
        if observed > 0:
            gaps.append((pick @ ready) / observed - 1.0)
    low, high = np.quantile(gaps, [0.025, 0.975])
    return float(low), float(high)


def cell(rows: pd.DataFrame) -> str:
    """``readiness / chance / observed [Wilson 95%] / true (gap [bootstrap 95%], n, leads)``."""
    n = len(rows)
    if n == 0:
        return "-"
    observed = float(rows["won"].mean())
    ready = float(rows["readiness"].mean())
    low, high = wilson(observed * n, n)
    gap = ready / observed - 1.0 if observed > 0 else float("nan")
    g_low, g_high = gap_interval(rows) if observed > 0 else (float("nan"), float("nan"))
    leads = rows["seed"].astype(str).str.cat(rows["lead"], sep=":").nunique()
    return (
        f"{ready:.3f} / {rows['chance'].mean():.3f} / {observed:.3f} [{low:.3f}, {high:.3f}] / "
        f"{rows['truth'].mean():.3f} ({gap:+.0%} [{g_low:+.0%}, {g_high:+.0%}], n={n}, {leads} leads)"
    )


def markdown(rows: pd.DataFrame, notes: dict[str, dict[str, str]], command: str) -> str:
    sizes = ", ".join(f"{n:,}" for n in sorted(rows["leads"].unique()))
    lines = [
        SECTION,
        "",
        "`bench/bench_handraisers.py` (module docstring: what before and after mean, how the rows are "
        f"chosen): `simulate(leads, seed)` ({sizes} leads), the readiness model of "
        "`bench/bench_verdicts.py`, this code's decision step without the hand-raiser slice calibration "
        "(before), with it learnt on the held-out training leads only, and learnt on those and the model "
        "selection's out-of-fold scores (after). Target (issue 10): the readiness of test snapshots with a "
        "hand-raising event in the last 7 days within +-20% of their observed win rate, above and below the "
        "threshold separately.",
        "",
        f"Command: `{command}`",
        "",
        "Each cell: mean readiness / mean chance if handed over now / observed win rate [95% Wilson] / "
        "true chance (readiness / observed - 1 [95% bootstrap over leads], snapshots, leads).",
        "",
        "| leads | seeds | | above the threshold | below the threshold |",
        "|---:|---|---|---|---|",
    ]
    groups = []
    for size in sorted(rows["leads"].unique()):
        of_size = rows[rows["leads"] == size]
        seeds = sorted(of_size["seed"].unique())
        groups += [(size, str(s), of_size[of_size["seed"] == s]) for s in seeds]
        if len(seeds) > 1:
            groups.append((size, "pooled " + ", ".join(map(str, seeds)), of_size))
    for size, label, part in groups:
        for policy, _, _ in POLICIES:
            mine = part[part["policy"] == policy]
            if mine.empty:  # runs saved before the "held-out only" row existed
                continue
            cells = [cell(mine[mine["side"] == side]) for side in SIDES]
            lines.append(f"| {size:,} | {label} | {policy} | {cells[0]} | {cells[1]} |")
    lines += ["", "The calibration each seed's training learnt (after):", ""]
    for key in sorted(notes):
        lines.append(f"- {key}: {notes[key]['after']}")
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--leads", type=int, default=5_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--cache", type=Path, help="bench_verdicts' cache of simulations and trainings")
    parser.add_argument("--runs", type=Path, help="save each seed's slice rows here")
    parser.add_argument(
        "--combine", type=Path, nargs="+", help="pool the slice rows saved in these folders (--runs)"
    )
    parser.add_argument("--write", action="store_true", help="write the results into BENCHMARKS.md")
    parser.add_argument("--command", default=None, help="the command to quote in BENCHMARKS.md")
    args = parser.parse_args()
    frames, notes = [], {}
    for directory in args.combine or []:
        for path in sorted(directory.glob("seed*.parquet")):
            frame = pd.read_parquet(path)
            frames.append(frame)
            before, after = path.with_suffix(".notes").read_text().split("\n", 1)
            key = f"{int(frame['leads'].iloc[0]):,} leads, seed {int(frame['seed'].iloc[0])}"
            notes[key] = {"before": before, "after": after.strip()}
    if not args.combine:
        for seed in args.seeds:
            rows, seed_notes = slice_rows(args.leads, seed, args.cache)
            notes[f"{args.leads:,} leads, seed {seed}"] = seed_notes
            print(f"seed {seed}: {seed_notes['after']}", flush=True)
            if args.runs:
                args.runs.mkdir(parents=True, exist_ok=True)
                rows.to_parquet(args.runs / f"seed{seed}.parquet")
                notes_text = seed_notes["before"] + "\n" + seed_notes["after"]
                (args.runs / f"seed{seed}.notes").write_text(notes_text)
            frames.append(rows)
    rows = pd.concat(frames, ignore_index=True)
    command = args.command or "python " + " ".join(["bench/bench_handraisers.py", *sys.argv[1:]])
    section = markdown(rows, notes, command)
    print(section)
    if args.write:
        write_section(section)


if __name__ == "__main__":
    main()

"""Snapshot sampling: what keeps training on one machine (and a Spark driver) within its memory.

Every lead gives a snapshot per week of its life, so 1M leads give ~17M snapshots and their feature
matrix alone outgrows a 24 GB machine. Above a budget, snapshots are sampled in two independent stages,
each from a deterministic hash of the lead id and the seed (a rerun keeps the same snapshots, whatever
the row order):

1. **within each lead** (``sample_snapshots``): a lead's snapshots in time order are thinned
   systematically, one in every ``1 / within_lead_fraction`` with a random phase per lead, down to at
   most ``min_within_lead_fraction`` (by default every 4th weekly look: 4 weeks apart, well inside a
   90-day horizon);
2. **whole leads**, if thinning within leads is not enough: each lead is kept with ``lead_fraction``.

Every snapshot is then kept with the same probability ``fraction = lead_fraction * within_lead_fraction``
(the random phase makes each position in a lead's life equally likely to be kept), so each kept snapshot
stands for ``1 / fraction`` snapshots, the same weight for all: rates, ROC-AUC and calibration learnt or
measured on them are unbiased estimates of the full data's without reweighting. Why thin within leads
first: the weekly snapshots of one lead are close to duplicates (same profile, mostly the same events),
so a quarter of the looks of every lead carries far more information than every look of a quarter of
the leads (measured at 100k leads in BENCHMARKS.md), while the number of leads kept (what a Spark driver
collects) still falls with the budget when the data grows further. ``sample_by_lead`` keeps whole leads
only (``min_within_lead_fraction`` 1.0): the test period uses it, because the verdicts are measured on
consecutive looks of a lead. What was done is recorded in the run (``SnapshotSample.to_dict``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

#: Default lower bound of the within-lead fraction: every 4th weekly look (see the module docstring).
MIN_WITHIN_LEAD_FRACTION = 0.25


@dataclass(frozen=True)
class SnapshotSample:
    """What sampling did to one set of snapshots (``fraction`` 1.0 and ``sampled`` False: nothing)."""

    budget: int | None
    snapshots_before: int
    snapshots_after: int
    leads_before: int
    leads_after: int
    #: the probability with which every snapshot was kept (``lead_fraction * within_lead_fraction``)
    fraction: float
    #: the probability with which a whole lead was kept
    lead_fraction: float = 1.0
    #: the share of a kept lead's snapshots kept (systematically, in time order)
    within_lead_fraction: float = 1.0

    @property
    def sampled(self) -> bool:
        return self.snapshots_after < self.snapshots_before

    @property
    def weight(self) -> float:
        """How many snapshots of the full data each kept snapshot stands for."""
        return 1.0 / self.fraction

    @property
    def design(self) -> str:
        """The sampling in words, for the run's notes."""
        if not self.sampled:
            return "not sampled"
        parts = []
        if self.within_lead_fraction < 1.0:
            parts.append(f"one in {1 / self.within_lead_fraction:.2f} of each lead's snapshots")
        if self.lead_fraction < 1.0:
            parts.append(f"whole leads with probability {self.lead_fraction:.4f}")
        return " and ".join(parts)

    def to_dict(self) -> dict[str, float | int | bool | None]:
        return {**asdict(self), "sampled": self.sampled, "weight": self.weight}


def _unit_draw(distinct: np.ndarray, key: str) -> np.ndarray:
    """A uniform number in [0, 1) per distinct lead id, from a hash of the id and ``key`` (16 chars)."""
    hashed = pd.util.hash_array(np.asarray(distinct, dtype=object).astype(str), hash_key=key)
    return hashed.astype(np.float64) / (float(np.iinfo(np.uint64).max) + 1.0)


def _seed_key(prefix: str, seed: int) -> str:
    """A 16-character hash key for ``seed`` (pandas needs exactly 16)."""
    digits = 16 - len(prefix)
    return f"{prefix}{seed % 10**digits:0{digits}d}"


def sample_snapshots(
    positions: np.ndarray,
    lead_ids: pd.Series,
    time_key: pd.Series | np.ndarray,
    budget: int | None,
    seed: int,
    min_within_lead_fraction: float = MIN_WITHIN_LEAD_FRACTION,
) -> tuple[np.ndarray, SnapshotSample]:
    """The ``positions`` (rows of ``lead_ids`` and ``time_key``) kept so that about ``budget`` snapshots
    remain (all of them when they fit, or without a budget), in their original order: thinned within
    each lead first, down to ``min_within_lead_fraction``, then whole leads (see the module docstring)."""
    if not 0.0 < min_within_lead_fraction <= 1.0:
        raise ValueError(f"min_within_lead_fraction must be in (0, 1], got {min_within_lead_fraction}")
    positions = np.asarray(positions)
    codes, distinct = pd.factorize(lead_ids.to_numpy()[positions])
    n_leads = len(distinct)
    if budget is None or len(positions) <= budget or n_leads == 0:
        return positions, SnapshotSample(budget, len(positions), len(positions), n_leads, n_leads, 1.0)
    fraction = budget / len(positions)
    within = max(fraction, min_within_lead_fraction)
    lead_fraction = fraction / within
    keep = np.ones(len(positions), dtype=bool)
    if lead_fraction < 1.0:
        keep &= (_unit_draw(distinct, _seed_key("leadripe", seed)) < lead_fraction)[codes]
    if within < 1.0:
        # Each snapshot's place in its lead's life (0, 1, 2, ... in time order; ties by position).
        times, _ = pd.factorize(pd.Series(time_key).iloc[positions], sort=True)
        order = np.lexsort((np.arange(len(positions)), times, codes))
        rank = np.empty(len(positions), dtype=np.int64)
        starts = np.r_[0, np.flatnonzero(np.diff(codes[order])) + 1]
        run = np.diff(np.r_[starts, len(order)])
        rank[order] = np.arange(len(order)) - np.repeat(starts, run)
        # Systematic with a random phase per lead: snapshot i is kept when the running sum
        # phase + within * i passes an integer between i and i + 1, which happens with probability
        # ``within`` for every i, one kept in every 1 / within.
        phase = _unit_draw(distinct, _seed_key("ripephase", seed))[codes]
        keep &= np.floor(phase + within * (rank + 1)) > np.floor(phase + within * rank)
    kept = positions[keep]
    leads_after = int(np.unique(codes[keep]).size)
    return kept, SnapshotSample(
        budget, len(positions), len(kept), n_leads, leads_after, fraction, lead_fraction, within
    )


def sample_by_lead(
    positions: np.ndarray, lead_ids: pd.Series, budget: int | None, seed: int
) -> tuple[np.ndarray, SnapshotSample]:
    """The ``positions`` (rows of ``lead_ids``) of the whole leads kept so that about ``budget``
    snapshots remain (all of them when they fit, or without a budget), in their original order."""
    order = np.zeros(len(lead_ids), dtype=np.int64)  # unused: nothing is thinned within a lead
    return sample_snapshots(positions, lead_ids, order, budget, seed, min_within_lead_fraction=1.0)

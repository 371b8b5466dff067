"""Snapshot sampling by lead: what keeps training on one machine within its memory.

Every lead gives a snapshot per week of its life, so 1M leads give ~17M snapshots and their feature
matrix alone outgrows a 24 GB machine. Above a budget, whole leads are kept at random with one
probability ``fraction`` (a deterministic hash of the lead id and the seed, so a rerun keeps the same
leads) and all their snapshots with them: never some of a lead's weeks, which would change what one
lead looks like. Because every lead has the same chance, the kept snapshots are a uniform cluster
sample; each stands for ``1 / fraction`` snapshots, the same weight for all, so rates, ROC-AUC and
calibration measured on them are unbiased estimates of the full data's without reweighting (a lead
drawn with unequal chances would need weights; this one never is). The sampling is recorded in the run
(``SnapshotSample.to_dict``) so its numbers can be read for what they are.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class SnapshotSample:
    """What sampling did to one set of snapshots (``fraction`` 1.0 and ``sampled`` False: nothing)."""

    budget: int | None
    snapshots_before: int
    snapshots_after: int
    leads_before: int
    leads_after: int
    fraction: float

    @property
    def sampled(self) -> bool:
        return self.snapshots_after < self.snapshots_before

    @property
    def weight(self) -> float:
        """How many snapshots of the full data each kept snapshot stands for."""
        return 1.0 / self.fraction

    def to_dict(self) -> dict[str, float | int | bool | None]:
        return {**asdict(self), "sampled": self.sampled, "weight": self.weight}


def sample_by_lead(
    positions: np.ndarray, lead_ids: pd.Series, budget: int | None, seed: int
) -> tuple[np.ndarray, SnapshotSample]:
    """The ``positions`` (rows of ``lead_ids``) of the leads kept so that about ``budget`` snapshots
    remain (all of them when they fit, or without a budget), in their original order."""
    leads = lead_ids.to_numpy()[positions]
    codes, distinct = pd.factorize(leads)
    n_leads = len(distinct)
    if budget is None or len(positions) <= budget or n_leads == 0:
        return positions, SnapshotSample(budget, len(positions), len(positions), n_leads, n_leads, 1.0)
    fraction = budget / len(positions)
    # A uniform draw per lead from a hash of its id and the seed: the same leads whatever the row order.
    hashed = pd.util.hash_array(
        np.asarray(distinct, dtype=object).astype(str), hash_key=f"leadripe{seed:08d}"
    )
    draw = hashed.astype(np.float64) / float(np.iinfo(np.uint64).max)
    kept_lead = draw < fraction
    kept = positions[kept_lead[codes]]
    return kept, SnapshotSample(budget, len(positions), len(kept), n_leads, int(kept_lead.sum()), fraction)

"""Where a training run's snapshots, split and feature matrices come from.

``fit_and_evaluate`` asks a ``SnapshotSource`` for two things: the labelled snapshots of the dataset
with the time split and the sampling by lead applied (``prepare``), and the feature matrices of the
training and test snapshots (``features``). ``LocalSnapshots`` does both on this machine; the Spark
source (``training.spark.source``) builds the snapshots and the features in Spark executors with the
same functions and hands the driver only the snapshots it keeps. Everything after the feature matrices
(model selection, decision, evaluation, audit) is the same code for both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from training.config import TrainConfig
from training.data.contract import LeadDataset, TimeBasis
from training.features.snapshots import LabelledSnapshots, SnapshotBatch, SnapshotPolicy, build_snapshots
from training.features.transformer import LeadFeatures
from training.model.sampling import SnapshotSample, sample_by_lead, sample_snapshots
from training.model.split import InsufficientDataError, SplitInfo, time_split

StageCallback = Callable[[str], None]


@dataclass
class PreparedSnapshots:
    """Labelled snapshots with the positions of the (sampled) training and test snapshots in them."""

    labelled: LabelledSnapshots
    train_idx: np.ndarray
    test_idx: np.ndarray
    split: SplitInfo
    #: how the training and test snapshots were sampled by lead ("train", "test")
    sampling: dict[str, SnapshotSample]
    #: snapshot counts of the whole data (``LabelledSnapshots.counts``)
    counts: dict[str, int]
    #: what a user should know about the labels, in words
    notes: list[str]


class SnapshotSource(Protocol):
    """Builds the snapshots and the feature matrices of a training run (see the module docstring)."""

    def prepare(self, dataset: LeadDataset, config: TrainConfig, stage: StageCallback) -> PreparedSnapshots:
        """Snapshots of ``dataset`` (excluded columns already dropped), split by time and sampled."""
        ...

    def features(
        self, features: LeadFeatures, train: SnapshotBatch, y_train: np.ndarray, test: SnapshotBatch
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Fit ``features`` on the training snapshots; return the training and test feature frames."""
        ...


def snapshot_policy(config: TrainConfig) -> SnapshotPolicy:
    """Where a run with ``config`` cuts leads in time and how it labels them."""
    return SnapshotPolicy(
        every_days=config.snapshot_every_days,
        horizon_days=config.horizon_days,
        max_per_lead=config.max_snapshots_per_lead,
        include_after_handover=config.include_after_handover,
        target=config.target.kind,
    )


def split_and_sample(
    time_key: pd.Series,
    label: np.ndarray,
    lead_ids: pd.Series,
    config: TrainConfig,
    row_order: bool,
    label_notes: Sequence[str] = (),
) -> tuple[np.ndarray, np.ndarray, SplitInfo, dict[str, SnapshotSample]]:
    """The time split with its horizon gap, then the sampling by lead of each side (positions into the
    snapshots whose ``time_key``, ``label`` and ``lead_ids`` these are). ``label_notes``: what the labels
    left out or relabelled, added to a too-few-outcomes error (often its cause)."""
    horizon = pd.Timedelta(days=config.horizon_days)
    try:
        train_idx, test_idx, split = time_split(
            time_key,
            None if row_order else horizon,
            config.test_fraction,
            y=label,
            groups=lead_ids.to_numpy(),
            min_positives=config.min_positives,
            min_negatives=config.min_negatives,
        )
    except InsufficientDataError as error:
        if not label_notes:
            raise
        # "18 not-won leads" reads as a data shortage when the lost leads were left out for lack of a date.
        raise InsufficientDataError(f"{error} Note: {'; '.join(label_notes)}.") from None
    # Above the budgets snapshots are sampled with one probability each (training.model.sampling): memory
    # stays bounded and what is learnt and measured stays unbiased; what was done goes into the run.
    # Training thins within leads first (more leads for the same snapshots); the test period keeps whole
    # leads, since the verdicts are measured on consecutive looks of a lead.
    train_idx, train_sample = sample_snapshots(
        train_idx,
        lead_ids,
        time_key,
        config.max_train_snapshots,
        config.seed,
        config.train_min_within_lead_fraction,
    )
    test_idx, test_sample = sample_by_lead(test_idx, lead_ids, config.max_test_snapshots, config.seed + 1)
    return train_idx, test_idx, split, {"train": train_sample, "test": test_sample}


class LocalSnapshots:
    """Snapshots and features built on this machine, from the whole dataset in memory."""

    def prepare(self, dataset: LeadDataset, config: TrainConfig, stage: StageCallback) -> PreparedSnapshots:
        """``build_snapshots`` on the whole dataset, then ``split_and_sample``."""
        labelled = build_snapshots(dataset, snapshot_policy(config))
        stage(f"splitting {len(labelled):,} snapshots by time")
        row_order = dataset.metadata.time_basis == TimeBasis.ROW_ORDER
        lead_ids = labelled.batch.snapshots["lead_id"]
        train_idx, test_idx, split, sampling = split_and_sample(
            labelled.time_key, labelled.label, lead_ids, config, row_order, labelled.notes
        )
        return PreparedSnapshots(
            labelled, train_idx, test_idx, split, sampling, dict(labelled.counts), list(labelled.notes)
        )

    def features(
        self, features: LeadFeatures, train: SnapshotBatch, y_train: np.ndarray, test: SnapshotBatch
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``fit_transform`` on the training snapshots, ``transform`` on the test snapshots."""
        return features.fit_transform(train, y_train), features.transform(test)

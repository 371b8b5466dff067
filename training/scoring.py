"""Records -> scores: the one implementation shared by the MLflow pyfunc model and batch scoring.

Records are parsed into ``training.data.live.LeadIn`` models, the API's request schema, so every way
into scoring reads a lead the same way.

A bundle's pipeline is ``[("features", LeadFeatures), ("model", ReadinessModel)]``. Scoring runs the
feature steps once and asks the final model for both the calibrated readiness and the raw score, so
that the two always describe the same feature rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from training.bundle import ModelBundle
from training.data.contract import LEAD_ID
from training.data.live_arrays import batch_from_records
from training.features.snapshot_arrays import SnapshotArrays
from training.features.snapshots import SnapshotBatch
from training.model.decision import contact_flags, implied_policy, readiness_and_chance, rule_ripe
from training.model.decision_learn import fit_grades

#: Output columns of ``score_batch`` / ``score_records``, in order.
SCORE_COLUMNS = (
    "lead_id",
    "as_of",
    "readiness",
    "score",
    "raw_score",
    "handover_chance",
    "contact_requested",
    "handover",
)
CUTOFF = "cutoff"


def readiness_threshold(bundle: ModelBundle) -> float:
    """The readiness at or above which a lead is handed over, from the bundle's model card."""
    return bundle.card.threshold_value()


def score_batch(bundle: ModelBundle, batch: SnapshotBatch) -> pd.DataFrame:
    """Score every snapshot of ``batch``: one row per snapshot, in batch order.

    Columns: ``lead_id``, ``as_of`` (the snapshot's cutoff), ``readiness`` (calibrated probability of
    a win within the horizon, after the policy's hand-raiser slice calibration, as the API gives it),
    ``score`` (readiness on 0-100, one decimal), ``raw_score`` (the model's uncalibrated margin),
    ``handover_chance`` (the chance of a win if handed over now),
    ``contact_requested`` (a hand-raising event in the window before the cutoff) and ``handover`` (the
    verdict is ripe: the chance is at or above the threshold, or the hand-raiser rule says so; as the API
    decides it, ``training.model.decision``).
    """
    card = bundle.card
    rule = card.serving.gone_cold if card.serving is not None else None
    policy = card.decision or implied_policy(readiness_threshold(bundle), card.horizon_days, rule)
    features = bundle.pipeline[:-1].transform(batch)
    model = bundle.pipeline[-1]
    raw_score = np.asarray(model.raw_score(features), dtype=float)
    # ReadinessModel.calibrate maps the margin to readiness without encoding the features again.
    calibrate = getattr(model, "calibrate", None)
    readiness = np.asarray(calibrate(raw_score) if calibrate else model.readiness(features), dtype=float)
    arrays = SnapshotArrays.from_batch(batch, batch.categorical_columns, batch.numeric_columns)
    contact = contact_flags(arrays, policy.hand_raisers)
    # Fit (the contributions' profile part) costs TreeSHAP: only when the rule reads it.
    rule_on = policy.hand_raisers.rule_enabled and card.explanation is not None
    fit = fit_grades(model, features, card.explanation.axes) if rule_on and card.explanation else None
    readiness, chance = readiness_and_chance(policy, readiness, contact)
    ripe = (chance >= policy.threshold) | rule_ripe(contact, fit, policy.hand_raisers)
    snapshots = batch.snapshots
    return pd.DataFrame(
        {
            "lead_id": snapshots[LEAD_ID].to_numpy(),
            "as_of": snapshots[CUTOFF].to_numpy() if CUTOFF in snapshots else pd.NaT,
            "readiness": readiness,
            "score": np.round(readiness * 100.0, 1),
            "raw_score": raw_score,
            "handover_chance": chance,
            "contact_requested": contact,
            "handover": ripe,
        },
        columns=list(SCORE_COLUMNS),
    )


def score_records(
    bundle: ModelBundle,
    records: Sequence[Mapping[str, Any]] | pd.DataFrame,
    *,
    default_as_of: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Score lead records (``LeadIn``-shaped, or with flat profile fields) with ``bundle``.

    A DataFrame is taken as one record per row (see ``training.data.live.parse_leads``).
    ``default_as_of`` (default: now, UTC) is the cutoff of records without ``as_of``. Returns the frame
    of ``score_batch``, one row per record, in input order. Raises ``ValueError`` naming the record when
    a value cannot be read.
    """
    categorical, numeric = profile_schema(bundle)
    batch = batch_from_records(
        records,
        categorical_columns=categorical,
        numeric_columns=numeric,
        default_as_of=default_as_of if default_as_of is not None else pd.Timestamp.now(tz="UTC"),
        naming=bundle.card.event_naming(),
    )
    return score_batch(bundle, batch)


def profile_schema(bundle: ModelBundle) -> tuple[list[str], list[str]]:
    """The categorical and numeric profile columns the bundle's features were fitted on."""
    features = bundle.pipeline[0]
    categorical = getattr(features, "categorical_columns_", None)
    numeric = getattr(features, "numeric_columns_", None)
    if categorical is None or numeric is None:
        raise ValueError(
            f"the feature step {type(features).__name__} of model {bundle.card.name!r} does not say which "
            "profile columns it uses (fitted attributes categorical_columns_ / numeric_columns_)"
        )
    return list(categorical), list(numeric)

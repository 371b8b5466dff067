"""The API's reasons for snapshots a notebook or report already holds (a ``SnapshotBatch``), laid flat.

Data scientists explain a few test snapshots in notebooks; the sentences they read must be the ones the
CRM gets. So this runs the served path itself (``LeadScorer.run_model`` and its ``Explainer``: reasons
built from the feature facts, reference values and the direction of each exact contribution), not a
second sentence generator.
"""

from __future__ import annotations

import pandas as pd

from serving.scorer import LeadScorer
from training.bundle import ModelBundle
from training.data.contract import LEAD_ID
from training.features.snapshot_arrays import SnapshotArrays
from training.features.snapshots import CUTOFF, SnapshotBatch

#: Columns of ``explain_snapshots``, in order.
REASON_COLUMNS = (
    LEAD_ID,
    "as_of",
    "score",
    "fit_interest",
    "signal",
    "feature",
    "value",
    "reference",
    "contribution",
    "direction",
    "sentence",
)


def explain_snapshots(bundle: ModelBundle, batch: SnapshotBatch, *, top: int = 3) -> pd.DataFrame:
    """The ``top`` reasons of each snapshot (largest exact contributions, either sign), as the API gives
    them: one row per snapshot and reason, in batch order and then by the size of the push.

    ``direction`` is "raises" or "lowers" (the sign of ``contribution``, log-odds of the raw score);
    ``sentence`` is the API's sentence for that reason; ``fit_interest`` the lead's fit (A-D) and
    interest (1-4) label.
    """
    if top < 1:
        raise ValueError(f"top must be at least 1, got {top}")
    scorer = LeadScorer(bundle, version=str(bundle.card.version or "local"), source="memory")
    arrays = SnapshotArrays.from_batch(batch, scorer.categorical_columns, scorer.numeric_columns)
    # No decision here: the earlier looks of the hysteresis are never read, so never computed.
    scored = scorer.run_model(arrays, defer_earlier_looks=True)
    explainer = scorer.explainer
    axes = explainer.axes(scored.contributions)
    explanations = explainer.explanations(
        scored.features, scored.contributions, scored.raw, scored.base_value, axes, top
    )
    snapshots = batch.snapshots
    rows = []
    for i, explanation in enumerate(explanations):
        reasons = sorted(
            [*explanation["positive"], *explanation["negative"]], key=lambda r: -abs(r["contribution"])
        )[:top]
        for reason in reasons:
            rows.append(
                {
                    LEAD_ID: snapshots[LEAD_ID].iloc[i],
                    "as_of": snapshots[CUTOFF].iloc[i],
                    "score": round(float(scored.readiness[i]) * 100.0, 1),
                    "fit_interest": axes.label(i),
                    "signal": reason["label"],
                    "feature": reason["feature"],
                    "value": reason["value"],
                    "reference": reason["reference"],
                    "contribution": reason["contribution"],
                    "direction": "raises" if reason["contribution"] > 0 else "lowers",
                    "sentence": reason["sentence"],
                }
            )
    return pd.DataFrame(rows, columns=list(REASON_COLUMNS))

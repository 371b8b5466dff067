"""The API's answer for many leads as columns: the scorer's own decisions, laid flat for Parquet.

Decisions come from ``serving.scorer.LeadScorer`` (``run_model``, ``decide``): batch scoring has no
verdict or grade logic of its own. Reason columns use the scorer's explainer (its facts, win-rate
evidence and sentences) rank by rank over a chunk, once per distinct fact (``serving.batch.reasons``,
tested equal to ``Explainer.explanations``). So the rows equal the API's answers for the same leads and
``as_of`` (a test compares them exactly).

Columns (in order): ``lead_id``, ``as_of`` (UTC), ``model_version``, ``score`` (0-100, one decimal),
``readiness``, ``handover_chance``, ``grade``, ``percentile``, ``threshold_score``, ``verdict``,
``verdict_source``, ``handover``, ``contact_requested``, ``days_inactive``, ``raw_score``,
``base_value`` (these two NaN without reasons: the contributions that give them are not computed),
``fit`` (A-D) and ``interest`` (1-4) (without reasons from the model's per-tree tables of summed
contributions, ``training.model.tree_groups``, the same grades as the API's); then, with
``reasons_per_side = k > 0``, for ``side`` in ``up`` (pushes readiness up) and ``down`` and ``i =
1..k``: ``reason_{side}_{i}_signal``, ``_feature``, ``_value`` (numeric feature value), ``_level``
(categorical value), ``_contribution`` and ``_sentence``, empty where the lead has fewer reasons on that
side. The API's ``advice``, ``to_ripen`` and ``warnings`` are per-lead prose and what-if scoring: ask
the API for a single lead.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from serving.batch.reasons import BatchReasons
from serving.explanation import AxesOfBatch
from serving.scorer import LeadScorer, Scored
from serving.sentences import Direction
from training.features.snapshot_arrays import SnapshotArrays
from training.model.explanation_stats import split_contributions

REASON_FIELDS = ("signal", "feature", "value", "level", "contribution", "sentence")
SIDES: tuple[Direction, ...] = ("up", "down")
#: Relative readiness difference within which a fast (no-contribution) answer is recomputed exactly.
_TIE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class AnswerOptions:
    """What goes into each row besides the decisions: reasons per side (0: none, the fast path)."""

    reasons_per_side: int = 0

    @property
    def explain(self) -> bool:
        """Whether the exact contributions (TreeSHAP per lead) are needed: for reasons only (fit and
        interest, which the hand-raiser rule reads, come from the per-tree tables without them)."""
        return self.reasons_per_side > 0


#: The answer columns before the reasons, with their SQL types (Spark's output schema).
BASE_COLUMNS = {
    "lead_id": "string",
    "as_of": "timestamp",
    "model_version": "string",
    "score": "double",
    "readiness": "double",
    "handover_chance": "double",
    "grade": "string",
    "percentile": "double",
    "threshold_score": "double",
    "verdict": "string",
    "verdict_source": "string",
    "handover": "boolean",
    "contact_requested": "boolean",
    "days_inactive": "double",
    "raw_score": "double",
    "base_value": "double",
}
_REASON_TYPES = {"signal": "string", "feature": "string", "value": "double", "level": "string"}
_REASON_TYPES |= {"contribution": "double", "sentence": "string"}


def answer_columns(reasons_per_side: int) -> dict[str, str]:
    """Every column of ``answer_frame`` in order, with its SQL type."""
    columns = dict(BASE_COLUMNS) | {"fit": "string", "interest": "bigint"}
    for side in SIDES:
        for rank in range(1, reasons_per_side + 1):
            columns |= {reason_column(side, rank, f): _REASON_TYPES[f] for f in REASON_FIELDS}
    return columns


def reason_column(side: str, rank: int, field: str) -> str:
    """The name of one reason column, e.g. ``reason_up_1_sentence``."""
    return f"reason_{side}_{rank}_{field}"


def answer_frame(
    scorer: LeadScorer,
    arrays: SnapshotArrays,
    lead_ids: np.ndarray,
    options: AnswerOptions = AnswerOptions(),
) -> pd.DataFrame:
    """One row per snapshot of ``arrays`` (in order), with the columns in the module docstring."""
    return answers_of(scorer, arrays, lead_ids, model_answers(scorer, arrays, options), options)


def model_answers(
    scorer: LeadScorer, arrays: SnapshotArrays, options: AnswerOptions = AnswerOptions()
) -> Scored:
    """The first half of ``answer_frame``: features, readiness and (when needed) the exact contributions.
    Mostly NumPy and LightGBM, which release the GIL: ``serving.batch.run`` runs it for the next chunk
    in a thread while ``answers_of`` (Python: decisions, reason sentences) works on the current one."""
    explain = options.explain
    # Without reasons, fit (which the hand-raiser rule reads) and interest come from the summed
    # contributions (``axes``), settled exactly near a quartile edge like readiness near a decision edge.
    scored = scorer.run_model(arrays, explain=explain, defer_earlier_looks=True, axes=not explain)
    if not explain:
        scored = _settle_near_ties(scorer, arrays, scored)
    return scored


def answers_of(
    scorer: LeadScorer,
    arrays: SnapshotArrays,
    lead_ids: np.ndarray,
    scored: Scored,
    options: AnswerOptions = AnswerOptions(),
) -> pd.DataFrame:
    """The second half of ``answer_frame``: decisions and reasons from ``model_answers``' result."""
    sums = scored.axis_sums
    axes = None if sums is None else scorer.explainer.axes_of_sums(sums[:, 0], sums[:, 1])
    decided = scorer.decide(arrays, scored, axes)
    n = len(arrays)
    readiness = decided.readiness
    frame = pd.DataFrame(
        {
            "lead_id": pd.array(lead_ids, dtype="str"),
            "as_of": pd.DatetimeIndex(arrays.cutoff_ns.view("datetime64[ns]")).tz_localize("UTC"),
            "model_version": pd.array(np.full(n, scorer.version, dtype=object), dtype="str"),
            # The API's rounding (serving.scorer._score): round(readiness * 100, 1).
            "score": np.round(readiness * 100.0, 1),
            "readiness": readiness,
            "handover_chance": decided.chance,
            "grade": pd.array(decided.grades.astype(str), dtype="str"),
            "percentile": decided.percentiles.astype(np.float64),
            "threshold_score": np.full(n, round(scorer.threshold * 100.0, 1)),
            "verdict": pd.array(decided.verdicts.astype(str), dtype="str"),
            "verdict_source": pd.array(decided.sources.astype(str), dtype="str"),
            "handover": decided.handover.astype(bool),
            "contact_requested": decided.contact_requested.astype(bool),
            "days_inactive": np.round(decided.days_inactive, 2),
            "raw_score": scored.raw,
            "base_value": scored.base_value,
        }
    )
    if options.reasons_per_side > 0:
        frame = pd.concat([frame, _reason_columns(scorer, scored, options.reasons_per_side)], axis=1)
    elif axes is not None:
        frame = pd.concat([frame, pd.DataFrame(_axis_columns(axes))], axis=1)
    return frame


def _settle_near_ties(scorer: LeadScorer, arrays: SnapshotArrays, scored: Scored) -> Scored:
    """Without contributions, readiness comes from the trees' plain prediction, which can differ from
    the API's (the sum of the exact contributions) in the last bits. Where that could change an answer (a
    readiness within a relative ``_TIE_TOLERANCE`` of the threshold, a gone-cold level, a grade or
    score-rounding edge or a percentile step), the row's readiness is recomputed the API's way, so that
    score, grade, percentile, verdict and handover equal the API's exactly; elsewhere readiness agrees
    to ~1e-15."""
    readiness = scored.readiness
    low = scorer.decide(arrays, replace(scored, readiness=readiness * (1 - _TIE_TOLERANCE)))
    high = scorer.decide(arrays, replace(scored, readiness=readiness * (1 + _TIE_TOLERANCE)))
    uncertain = (
        (low.handover != high.handover)
        | (low.verdicts != high.verdicts)
        | (low.grades != high.grades)
        | (np.round(low.chance * 100.0, 1) != np.round(high.chance * 100.0, 1))
        | (np.round(low.readiness * 100.0, 1) != np.round(high.readiness * 100.0, 1))
        | ~((low.percentiles == high.percentiles) | (np.isnan(low.percentiles) & np.isnan(high.percentiles)))
    )
    # The fit and interest sums come from per-tree tables, added up in another order than the API's
    # TreeSHAP: rows within a hair of a quartile edge take the API's sums too.
    sums = scored.axis_sums
    axes = scorer.explainer.stats.axes
    if sums is not None:
        uncertain |= axes.fit.near_edge(sums[:, 0], _TIE_TOLERANCE)
        uncertain |= axes.interest.near_edge(sums[:, 1], _TIE_TOLERANCE)
    rows = np.flatnonzero(uncertain)
    if not len(rows):
        return scored
    exact = scorer.model.explain(scored.features.take(rows))
    settled = readiness.copy()
    settled[rows] = exact.readiness
    if sums is None:
        return replace(scored, readiness=settled)
    settled_sums = sums.copy()
    settled_sums[rows] = np.column_stack(split_contributions(exact.contributions, scorer.explainer.fit_mask))
    return replace(scored, readiness=settled, axis_sums=settled_sums)


def _reason_columns(scorer: LeadScorer, scored: Scored, per_side: int) -> pd.DataFrame:
    """Fit, interest and the top reasons: the API's answers, laid flat (``serving.batch.reasons`` builds
    the same reasons per distinct fact rather than per lead)."""
    axes = scorer.explainer.axes(scored.contributions)
    ranked = batch_reasons(scorer).ranked_reasons(scored.features, scored.contributions, per_side)
    columns: dict[str, object] = _axis_columns(axes)
    for side in SIDES:
        for rank, reasons in enumerate(ranked[side], start=1):
            columns[reason_column(side, rank, "signal")] = pd.array(reasons.signal, dtype="str")
            columns[reason_column(side, rank, "feature")] = pd.array(reasons.feature, dtype="str")
            columns[reason_column(side, rank, "value")] = reasons.value
            columns[reason_column(side, rank, "level")] = pd.array(reasons.level, dtype="str")
            columns[reason_column(side, rank, "contribution")] = reasons.contribution
            columns[reason_column(side, rank, "sentence")] = pd.array(reasons.sentence, dtype="str")
    return pd.DataFrame(columns)


def _axis_columns(axes: AxesOfBatch) -> dict[str, object]:
    return {
        "fit": pd.array([None if f is None else str(f) for f in axes.fit], dtype="str"),
        "interest": pd.array([None if i is None else int(i) for i in axes.interest], dtype="Int64"),
    }


#: One ``BatchReasons`` (and its sentence cache) per scorer, kept as long as the scorer lives.
_BATCH_REASONS: weakref.WeakKeyDictionary[LeadScorer, BatchReasons] = weakref.WeakKeyDictionary()
_BATCH_REASONS_LOCK = threading.Lock()


def batch_reasons(scorer: LeadScorer) -> BatchReasons:
    """The scorer's ``BatchReasons``, made on first use."""
    with _BATCH_REASONS_LOCK:
        reasons = _BATCH_REASONS.get(scorer)
        if reasons is None or reasons.explainer is not scorer.explainer:
            reasons = BatchReasons(scorer.explainer)
            _BATCH_REASONS[scorer] = reasons
        return reasons

"""Answers for leads: score, grade, percentile, verdict, reasons, what would ripen them, warnings.

``LeadScorer`` wraps one loaded ``ModelBundle`` and is immutable once built, so request threads share
it freely and a reload simply swaps in a new one. Every lead of a request goes through the shared
feature definition and model in one vectorised call, on plain arrays from end to end
(``training.data.live_arrays`` -> ``LeadFeatures.transform_arrays`` -> ``ReadinessModel.explain``):
building pandas frames for a handful of leads cost more than scoring them. The "what would ripen it"
counterfactuals of all too-green leads are scored together in a second call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from serving.counterfactuals import RipeningPlan, plan_ripening
from serving.explanation import Explainer
from serving.schemas import LeadScore
from serving.sentences import facts_from_specs
from training.bundle import ArtifactError, ModelBundle
from training.data.live import LeadIn
from training.data.live_arrays import LeadInputError, arrays_from_leads, check_leads
from training.features.matrix import FeatureMatrix
from training.features.snapshot_arrays import SnapshotArrays
from training.features.specs import FeatureCatalog
from training.features.transformer import LeadFeatures
from training.model.readiness import ReadinessModel
from training.model.reasons import ripening_sentence
from training.model.serving_types import ServingStats
from training.report.signals import signal_label

__all__ = ["Decisions", "LeadInputError", "LeadScorer", "Scored", "TopReasons"]


@dataclass(frozen=True)
class Scored:
    """Model outputs for a batch of snapshots, aligned by row."""

    features: FeatureMatrix
    readiness: np.ndarray
    raw: np.ndarray
    contributions: np.ndarray  # (n, n_features), without the base value
    base_value: np.ndarray


@dataclass(frozen=True)
class Decisions:
    """The vectorised part of the answers for a batch of scored snapshots, aligned by row: what the API
    answers per lead and batch scoring (``serving.batch``) writes as columns."""

    readiness: np.ndarray
    handover: np.ndarray  # bool
    verdicts: np.ndarray  # "ripe" / "too_green" / "gone_cold"
    grades: np.ndarray  # "A".."D"
    percentiles: np.ndarray  # 0-100 in the training population
    days_inactive: np.ndarray  # NaN when unknown


@dataclass(frozen=True)
class TopReasons:
    """Per row, the features with the largest positive (``up``) and most negative (``down``)
    contributions, ``(n, k)`` feature indices into ``LeadScorer.feature_names``, best first. A slot
    counts as a reason only where its contribution has the side's sign."""

    up: np.ndarray
    down: np.ndarray
    contributions: np.ndarray  # (n, n_features)


class LeadScorer:
    """Scores and explains leads with one bundle. Build once per loaded model; thread-safe to use."""

    def __init__(self, bundle: ModelBundle, *, version: str, source: str) -> None:
        self.bundle = bundle
        self.version = version
        self.source = source
        card = bundle.card
        features, model = bundle.pipeline[0], bundle.pipeline[-1]
        if (
            len(bundle.pipeline) != 2
            or not isinstance(features, LeadFeatures)
            or not isinstance(model, ReadinessModel)
        ):
            raise TypeError(
                "the bundle's pipeline must be LeadFeatures followed by a ReadinessModel "
                "(training.model.readiness.build_pipeline)"
            )
        self.features: LeadFeatures = features
        self.model: ReadinessModel = model
        self.threshold = card.threshold_value()
        self.stats = card.serving_stats()
        self.feature_names: list[str] = [str(name) for name in model.feature_names_in_]
        self.specs = FeatureCatalog(features.feature_specs())
        _check_card_fits(self.stats, self.specs, model)
        self.known_event_types = frozenset(card.event_types)
        self.categorical_columns = tuple(map(str, features.categorical_columns_))
        self.numeric_columns = tuple(map(str, features.numeric_columns_))
        self._profile_set = frozenset((*self.categorical_columns, *self.numeric_columns))
        # Levels learned in training (without the "other"/"missing" placeholders unseen values map to).
        levels = features.category_levels_
        self.known_levels = {column: frozenset(map(str, levels[column])) for column in levels}
        self._categorical_features = frozenset(model.categories_)
        self.cold_rule = self.stats.gone_cold
        self.ripe_profile = self.stats.ripe_profile
        if card.explanation is None:
            raise ArtifactError(
                f"the model card of {card.name!r} (version {card.version}) has no explanation statistics "
                "(reference values, fit/interest edges): it was trained by an older leadripe; retrain it"
            )
        self.explainer = Explainer(
            facts_from_specs(self.specs, features.high_intent_event_types_),
            self.feature_names,
            card.explanation,
            self.stats.signals,
            {spec.signal: signal_label(spec.signal) for spec in self.specs},
            self._categorical_features,
        )

    # ------------------------------------------------------------------------------------ scoring
    def score_leads(
        self,
        leads: Sequence[LeadIn],
        *,
        default_as_of: datetime,
        reasons_per_side: int = 5,
        max_ripening_steps: int = 3,
    ) -> list[LeadScore]:
        """The full answer for each lead, in input order, as validated ``LeadScore`` models."""
        payloads = self.score_payloads(
            leads,
            default_as_of=default_as_of,
            reasons_per_side=reasons_per_side,
            max_ripening_steps=max_ripening_steps,
        )
        return [LeadScore.model_validate(payload) for payload in payloads]

    def score_payloads(
        self,
        leads: Sequence[LeadIn],
        *,
        default_as_of: datetime,
        reasons_per_side: int = 5,
        max_ripening_steps: int = 3,
    ) -> list[dict[str, Any]]:
        """``score_leads`` as plain dicts shaped like ``LeadScore`` (the API serialises them directly).

        Building ~20 pydantic objects per lead (reasons, steps, warnings) cost more than the model's
        prediction; plain dicts cost a fraction, and tests check that they validate as ``LeadScore``.
        """
        arrays = self.build_arrays(leads, default_as_of)
        scored = self.run_model(arrays)
        n = len(leads)
        decided = self.decide(scored)
        readiness, handover, verdicts = decided.readiness, decided.handover, decided.verdicts
        grades, percentiles, days_inactive = decided.grades, decided.percentiles, decided.days_inactive
        green = np.flatnonzero(verdicts == "too_green")
        plans = self._ripening_plans(arrays, scored, green, max_ripening_steps)
        warnings = self._warnings(leads, arrays)
        axes = self.explainer.axes(scored.contributions)
        reasons = self.explainer.explanations(
            scored.features, scored.contributions, scored.raw, scored.base_value, axes, reasons_per_side
        )
        cutoffs = [_utc(lead.as_of or default_as_of) for lead in leads]
        threshold_score = _score(self.threshold)
        answers = []
        for i in range(n):
            verdict = str(verdicts[i])
            inactive = None if np.isnan(days_inactive[i]) else float(days_inactive[i])
            plan = plans.get(i)
            answers.append(
                {
                    "lead_id": leads[i].lead_id,
                    "as_of": cutoffs[i],
                    "model_version": self.version,
                    "score": _score(readiness[i]),
                    "readiness": float(readiness[i]),
                    "grade": str(grades[i]),
                    "fit": axes.fit[i],
                    "interest": axes.interest[i],
                    "fit_interest": axes.label(i),
                    "fit_interest_summary": axes.summary(i),
                    "percentile": None if np.isnan(percentiles[i]) else float(percentiles[i]),
                    "threshold_score": threshold_score,
                    "verdict": verdict,
                    "handover": bool(handover[i]),
                    "advice": self._advice(verdict, readiness[i], inactive, plan),
                    "gone_cold_rule": self._cold_answer(inactive),
                    "reasons": reasons[i],
                    "to_ripen": plan,
                    "warnings": warnings[i],
                }
            )
        return answers

    def build_arrays(self, leads: Sequence[LeadIn], default_as_of: datetime) -> SnapshotArrays:
        """The leads as ``SnapshotArrays`` (one snapshot per lead, lead codes = positions, so duplicate
        ids cannot mix), after ``check_leads``."""
        self.check_leads(leads, default_as_of)
        return arrays_from_leads(leads, default_as_of, self.categorical_columns, self.numeric_columns)

    def run_model(self, arrays: SnapshotArrays, *, explain: bool = True) -> Scored:
        """Features, calibrated readiness, raw score and exact contributions for every snapshot.

        ``explain=False`` skips the contributions (TreeSHAP, most of the cost per lead) for callers that
        need the readiness only (batch scores without reasons): ``raw`` and ``base_value`` are then NaN
        and ``contributions`` has no columns. The readiness comes from the trees' plain prediction, which
        equals the sum of the contributions up to float rounding (~1e-15).
        """
        features = self.features.transform_arrays(arrays)
        if not explain:
            readiness = np.asarray(self.model.readiness(features), dtype=float)
            unknown = np.full(len(readiness), np.nan)
            return Scored(features, readiness, unknown, np.zeros((len(readiness), 0)), unknown)
        # Contributions in feature_names_in_ order (= self.feature_names).
        explanation = self.model.explain(features)
        return Scored(
            features=features,
            readiness=np.asarray(explanation.readiness, dtype=float),
            raw=np.asarray(explanation.raw, dtype=float),
            contributions=explanation.contributions,
            base_value=explanation.base_value,
        )

    def check_leads(self, leads: Sequence[LeadIn], default_as_of: datetime | None = None) -> None:
        """Values the model cannot use (non-numeric numeric fields, times out of range): raises
        ``LeadInputError`` naming the lead and field."""
        check_leads(leads, self.numeric_columns, default_as_of)

    # ------------------------------------------------------------------------------------ verdict
    def decide(self, scored: Scored) -> Decisions:
        """Readiness, handover, verdict, grade, percentile and days inactive for every row of ``scored``."""
        readiness = scored.readiness
        handover = readiness >= self.threshold
        days_inactive = self.cold_rule.days_inactive(scored.features)
        cold = ~handover & self.cold_rule.is_cold(days_inactive)
        verdicts = np.where(handover, "ripe", np.where(cold, "gone_cold", "too_green"))
        grades = self.stats.grades.grades(readiness)
        percentiles = self.stats.percentiles.of(readiness)
        return Decisions(readiness, handover, verdicts, grades, percentiles, days_inactive)

    def _cold_answer(self, days_inactive: float | None) -> dict[str, Any]:
        """A ``GoneColdRule`` as a dict."""
        rule = self.cold_rule
        return {
            "available": rule.available,
            "min_days_inactive": rule.min_days_inactive,
            "days_inactive": None if days_inactive is None else round(days_inactive, 2),
            "ripen_rate_beyond": rule.ripen_rate_beyond,
            "rule": rule.rule,
        }

    def _advice(
        self, verdict: str, readiness: float, days_inactive: float | None, plan: dict[str, Any] | None
    ) -> str:
        threshold = _score(self.threshold)
        if verdict == "ripe":
            return (
                f"Hand over to sales now: the score {_score(readiness):.0f} is at or above "
                f"the threshold {threshold:.0f}."
            )
        if verdict == "gone_cold":
            rate = self.cold_rule.ripen_rate_beyond
            history = (
                f" Historically only {rate:.0%} of leads this inactive ripened." if rate is not None else ""
            )
            return (
                f"Gone cold: no engagement for {days_inactive:.0f} days.{history} Waiting will not ripen it: "
                "reactivate it (e.g. a re-engagement campaign) before handing it over."
            )
        text = (
            "Too green: keep nurturing, do not hand over yet "
            f"(score {_score(readiness):.0f}, threshold {threshold:.0f})."
        )
        if plan is not None and plan["steps"]:
            text += f" Most promising: {plan['steps'][0]['sentence']}."
        return text

    # ------------------------------------------------------------------------------------ to ripen
    def _ripening_plans(
        self, arrays: SnapshotArrays, scored: Scored, rows: np.ndarray, max_steps: int
    ) -> dict[int, dict[str, Any]]:
        """A ``ToRipen`` (as a dict) per too-green row."""
        plan = plan_ripening(arrays, scored.features, rows, self.ripe_profile) if max_steps > 0 else None
        bands = self.stats.ripening.bands_of(scored.readiness[rows])
        steps_by_row: dict[int, list[dict[str, Any]]] = {int(r): [] for r in rows}
        all_by_row: dict[int, float] = {}
        if plan is not None and len(plan):
            # Only the scores are needed here, not their explanations (TreeSHAP is the costly part).
            cf_features = self.features.transform_arrays(plan.arrays)
            cf_readiness = np.asarray(self.model.readiness(cf_features), dtype=float)
            self._collect_steps(plan, cf_readiness, steps_by_row, all_by_row)
        threshold_score = _score(self.threshold)
        out = {}
        for row, band in zip(rows.tolist(), bands, strict=True):
            estimate = None if band is None else band.estimated_days
            steps = sorted(steps_by_row[row], key=lambda step: -step["score_if_added"])[:max_steps]
            for step in steps:  # sentences only for the steps shown
                step["sentence"] = ripening_sentence(
                    step["signal"],
                    step["add_events"],
                    step["typical_count"],
                    step["window_days"],
                    step["score_if_added"],
                )
            all_score = all_by_row.get(row)
            out[row] = {
                "steps": steps,
                "score_if_all_added": all_score,
                "ripe_if_all_added": None if all_score is None else all_score >= threshold_score,
                "estimated_days_to_ripeness": "unknown" if estimate is None else round(estimate, 1),
                "estimate_basis": self._estimate_basis(estimate),
                "share_of_similar_that_ripened": None if band is None else band.ripen_rate,
            }
        return out

    def _collect_steps(
        self,
        plan: RipeningPlan,
        cf_readiness: np.ndarray,
        steps_by_row: dict[int, list[dict[str, Any]]],
        all_by_row: dict[int, float],
    ) -> None:
        """``RipeningStep`` dicts (without their sentence yet) per row, and the all-signals scores."""
        threshold_score = _score(self.threshold)
        rows = plan.rows.tolist()
        profile_index = plan.profile_index.tolist()
        add_events = plan.add_events.tolist()
        current = plan.current_count.tolist()
        for k, readiness in enumerate(cf_readiness.tolist()):
            row, score = rows[k], _score(readiness)
            if profile_index[k] < 0:
                all_by_row[row] = score
                continue
            profile = self.ripe_profile[profile_index[k]]
            steps_by_row[row].append(
                {
                    "signal": profile.signal,
                    "window_days": profile.window_days,
                    "current_count": int(current[k]),
                    "typical_count": profile.typical_count,
                    "add_events": int(add_events[k]),
                    "score_if_added": score,
                    "ripe_if_added": score >= threshold_score,
                    "sentence": "",
                }
            )

    def _estimate_basis(self, estimate: float | None) -> str:
        ripening = self.stats.ripening
        if estimate is None:
            return (
                "Unknown: too few historical leads with a similar score ripened later (needs at least "
                f"{ripening.min_support} and {ripening.min_ripen_rate:.0%} of them) "
                "to estimate when this one will."
            )
        return (
            "Median days historical leads with a similar score took to cross the threshold, "
            "among those that did."
        )

    # ------------------------------------------------------------------------------------ warnings
    def _warnings(self, leads: Sequence[LeadIn], arrays: SnapshotArrays) -> list[list[dict[str, Any]]]:
        """``Warning`` dicts per lead."""
        n = len(leads)
        warnings: list[list[dict[str, Any]]] = [[] for _ in range(n)]
        if len(arrays.event_ns):
            owner = arrays.event_lead_codes  # the lead's position in the request (build_arrays)
            late = np.bincount(owner, weights=arrays.event_ns >= arrays.cutoff_ns[owner], minlength=n)
            codes, names = arrays.event_types
            unknown_name = np.array([str(t) not in self.known_event_types for t in names], dtype=bool)
            unknown_mask = unknown_name[codes] & (codes >= 0) if len(names) else np.zeros(len(codes), bool)
            unknown = np.bincount(owner, weights=unknown_mask, minlength=n)
            for i in np.flatnonzero(late):
                warnings[i].append(
                    {
                        "code": "events_after_as_of",
                        "message": f"{int(late[i])} event(s) at or after as_of were ignored (point in time).",
                        "count": int(late[i]),
                    }
                )
            for i in np.flatnonzero(unknown):
                found = sorted({str(names[c]) for c in codes[(owner == i) & unknown_mask]})
                warnings[i].append(
                    {
                        "code": "unknown_event_types",
                        "message": "Event types the model has never seen were ignored: "
                        f"{', '.join(found[:20])}.",
                        "count": int(unknown[i]),
                    }
                )
        profile_set = self._profile_set
        for position, lead in enumerate(leads):
            if not lead.profile:
                continue
            unseen = [
                f"{column}={value}"
                for column, value in lead.profile.items()
                if value is not None
                and column in self.known_levels
                and str(value) not in self.known_levels[column]
            ]
            if unseen:
                warnings[position].append(
                    {
                        "code": "unseen_profile_values",
                        "message": "Profile values never seen in training (treated as 'other'): "
                        f"{', '.join(unseen)}.",
                        "count": len(unseen),
                    }
                )
            extra = sorted(set(lead.profile) - profile_set)
            if extra:
                warnings[position].append(
                    {
                        "code": "unknown_profile_fields",
                        "message": f"Profile fields the model does not use were ignored: {', '.join(extra)}.",
                        "count": len(extra),
                    }
                )
        return warnings


def _check_card_fits(stats: ServingStats, specs: FeatureCatalog, model: ReadinessModel) -> None:
    """Refuse a card whose serving statistics name features this pipeline does not make: the gone-cold
    rule and the counterfactuals would otherwise be silently switched off or wrong."""
    rule = stats.gone_cold
    named = [rule.inactivity_feature, rule.fallback_feature, *(p.feature for p in stats.ripe_profile)]
    missing = sorted({name for name in named if name is not None and name not in specs})
    if missing:
        raise ArtifactError(f"the model card's serving statistics name features the model lacks: {missing}")
    categorical = [p.feature for p in stats.ripe_profile if p.feature in model.categories_]
    if categorical:
        raise ArtifactError(f"the model card's ripe profile names categorical features: {categorical}")


def _score(readiness: float) -> float:
    return round(float(readiness) * 100.0, 1)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

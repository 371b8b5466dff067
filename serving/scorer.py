"""Answers for leads: score, grade, percentile, verdict, reasons, what would ripen them, warnings.

``LeadScorer`` wraps one loaded ``ModelBundle`` and is immutable once built, so request threads share
it freely and a reload simply swaps in a new one. Every lead of a request goes through the shared
feature definition and model in one vectorised call, on plain arrays from end to end
(``training.data.live_arrays`` -> ``LeadFeatures.transform_arrays`` -> ``ReadinessModel.explain_matrix``):
building pandas frames for a handful of leads cost more than scoring them. The "what would ripen it"
counterfactuals of all too-green leads are scored together in a second call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from serving.counterfactuals import RipeningPlan, plan_ripening
from serving.explanation import Explainer
from serving.schemas import LeadScore
from serving.sentences import facts_from_specs
from training.bundle import ModelBundle, ModelCard
from training.data.live import LeadIn
from training.data.live_arrays import LeadInputError, arrays_from_leads, check_leads
from training.features.matrix import FeatureMatrix
from training.features.profile import cached_category_dtype
from training.features.snapshot_arrays import SnapshotArrays
from training.features.specs import FeatureCatalog
from training.features.transformer import LeadFeatures
from training.model.explanation_stats import EXPLANATION_SECTION, ExplanationStats
from training.model.reasons import ripening_sentence
from training.model.serving_stats import grade_of, inactivity_days, percentile_of, ripening_band_of
from training.report.signals import signal_label
from training.scoring import readiness_threshold

__all__ = ["Decisions", "LeadInputError", "LeadScorer", "Scored", "TopReasons", "card_threshold"]

BASE_VALUE = "base_value"


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
    percentiles: np.ndarray  # NaN when the model has no percentile table
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
        self.threshold = card_threshold(bundle)
        self.features = bundle.pipeline[0]
        self.model = bundle.pipeline[-1]
        if len(bundle.pipeline) != 2 or not isinstance(self.features, LeadFeatures):
            raise TypeError(
                "the bundle's pipeline must be LeadFeatures followed by the model "
                "(training.model.readiness.build_pipeline)"
            )
        self.feature_names: list[str] = [str(name) for name in self.model.feature_names_in_]
        self._column_order, self._category_codes = _model_layout(self.features, self.model)
        self.specs = FeatureCatalog(self.features.feature_specs())
        self.stats: dict[str, Any] = dict(card.serving or {})
        self.signal_stats: dict[str, Any] = self.stats.get("signals", {})
        self.known_event_types = frozenset(card.event_types)
        self.categorical_columns, self.numeric_columns = _profile_kinds(bundle)
        self._profile_set = frozenset((*self.categorical_columns, *self.numeric_columns))
        # Levels learned in training (without the "other"/"missing" placeholders unseen values map to).
        levels = getattr(bundle.pipeline[0], "category_levels_", {}) or {}
        self.known_levels = {column: frozenset(map(str, levels[column])) for column in levels}
        self._categorical_features = frozenset(getattr(self.model, "categories_", {}) or {})
        rule = dict(self.stats.get("gone_cold", {}))
        feature = rule.get("inactivity_feature")
        self.cold_rule = (
            rule if rule.get("available") and feature in self.feature_names else {"available": False, **rule}
        )
        self.explainer = Explainer(
            facts_from_specs(self.specs, self.features.high_intent_event_types_),
            self.feature_names,
            explanation_stats_of(card),
            self.signal_stats,
            {spec.signal: signal_label(spec.signal) for spec in self.specs},
            self._categorical_features,
        )
        numeric_features = set(self.features.get_feature_names_out()) - set(self.categorical_columns)
        self.ripe_profile = [
            p for p in self.stats.get("ripe_profile", []) if p.get("feature") in numeric_features
        ]

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
            readiness = np.asarray(self.model.readiness_matrix(self.model_matrix(features)), dtype=float)
            unknown = np.full(len(readiness), np.nan)
            return Scored(features, readiness, unknown, np.zeros((len(readiness), 0)), unknown)
        # Columns in feature_names_in_ order (= self.feature_names), base value last.
        readiness, raw, values = self.model.explain_matrix(self.model_matrix(features))
        return Scored(
            features=features,
            readiness=np.asarray(readiness, dtype=float),
            raw=np.asarray(raw, dtype=float),
            contributions=values[:, :-1],
            base_value=values[:, -1],
        )

    def model_matrix(self, features: FeatureMatrix) -> np.ndarray:
        """The float matrix the model reads (``ReadinessModel.explain_matrix``) from the feature arrays."""
        n_numeric = len(features.numeric_names)
        matrix = np.empty((len(features), n_numeric + len(features.categorical_names)))
        matrix[:, :n_numeric] = features.numeric_block.T
        for k, model_codes in enumerate(self._category_codes):
            matrix[:, n_numeric + k] = model_codes[features.category_codes[k]]
        return matrix if self._column_order is None else matrix[:, self._column_order]

    def check_leads(self, leads: Sequence[LeadIn], default_as_of: datetime | None = None) -> None:
        """Values the model cannot use (non-numeric numeric fields, times out of range): raises
        ``LeadInputError`` naming the lead and field."""
        check_leads(leads, self.numeric_columns, default_as_of)

    # ------------------------------------------------------------------------------------ verdict
    def decide(self, scored: Scored) -> Decisions:
        """Readiness, handover, verdict, grade, percentile and days inactive for every row of ``scored``."""
        readiness = scored.readiness
        handover = readiness >= self.threshold
        days_inactive = self._days_inactive(scored.features)
        cold = ~handover & self._is_cold(days_inactive)
        verdicts = np.where(handover, "ripe", np.where(cold, "gone_cold", "too_green"))
        grades = (
            grade_of(readiness, self.stats["grades"])
            if "grades" in self.stats
            else _threshold_grades(readiness, self.threshold)
        )
        percentiles = (
            percentile_of(readiness, self.stats["percentiles"])
            if "percentiles" in self.stats
            else np.full(len(readiness), np.nan)
        )
        return Decisions(readiness, handover, verdicts, grades, percentiles, days_inactive)

    def _days_inactive(self, features: FeatureMatrix) -> np.ndarray:
        rule = self.stats.get("gone_cold", {})
        feature = rule.get("inactivity_feature")
        if feature and feature in features:
            return inactivity_days(features, feature, rule.get("fallback_feature"))
        return np.full(len(features), np.nan)

    def _is_cold(self, days_inactive: np.ndarray) -> np.ndarray:
        if not self.cold_rule.get("available"):
            return np.zeros(len(days_inactive), dtype=bool)
        with np.errstate(invalid="ignore"):
            return days_inactive >= float(self.cold_rule["min_days_inactive"])

    def _cold_answer(self, days_inactive: float | None) -> dict[str, Any]:
        """A ``GoneColdRule`` as a dict."""
        rule = self.cold_rule
        return {
            "available": bool(rule.get("available")),
            "min_days_inactive": rule.get("min_days_inactive"),
            "days_inactive": None if days_inactive is None else round(days_inactive, 2),
            "ripen_rate_beyond": rule.get("ripen_rate_beyond"),
            "rule": rule.get(
                "rule", "No gone-cold rule is stored with this model: no lead is called gone cold."
            ),
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
            rate = self.cold_rule.get("ripen_rate_beyond")
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
        bands = ripening_band_of(scored.readiness[rows], self.stats.get("ripening", {}))
        steps_by_row: dict[int, list[dict[str, Any]]] = {int(r): [] for r in rows}
        all_by_row: dict[int, float] = {}
        if plan is not None and len(plan):
            # Only the scores are needed here, not their explanations (TreeSHAP is the costly part).
            cf_features = self.features.transform_arrays(plan.arrays)
            cf_readiness = np.asarray(
                self.model.readiness_matrix(self.model_matrix(cf_features)), dtype=float
            )
            self._collect_steps(plan, cf_readiness, steps_by_row, all_by_row)
        threshold_score = _score(self.threshold)
        out = {}
        for row, band in zip(rows.tolist(), bands, strict=True):
            estimate = band["median_days"] if band is not None and band.get("estimate_available") else None
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
                "share_of_similar_that_ripened": None if band is None else band.get("ripen_rate"),
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
                    "signal": profile["signal"],
                    "window_days": int(profile["window_days"]),
                    "current_count": int(current[k]),
                    "typical_count": int(profile["typical_count"]),
                    "add_events": int(add_events[k]),
                    "score_if_added": score,
                    "ripe_if_added": score >= threshold_score,
                    "sentence": "",
                }
            )

    def _estimate_basis(self, estimate: float | None) -> str:
        ripening = self.stats.get("ripening", {})
        if estimate is None:
            return (
                "Unknown: too few historical leads with a similar score ripened later (needs at least "
                f"{ripening.get('min_support', '?')} and {ripening.get('min_ripen_rate', 0):.0%} of them) "
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


def card_threshold(bundle: ModelBundle) -> float:
    """The handover threshold of the card: ``threshold["value"]`` (``training.scoring``'s contract), or
    ``threshold["threshold"]`` as ``ThresholdDecision.to_dict`` writes it."""
    stored = bundle.card.threshold or {}
    if stored.get("value") is None and stored.get("threshold") is not None:
        return float(stored["threshold"])
    return readiness_threshold(bundle)


def explanation_stats_of(card: ModelCard) -> ExplanationStats:
    """The card's explanation statistics; a ``ValueError`` saying what to do when it has none."""
    section = (card.serving or {}).get(EXPLANATION_SECTION)
    if section is None:
        raise ValueError(
            f"the model card of {card.name!r} (version {card.version}) has no explanation statistics "
            "(reference values, fit/interest edges): it was trained by an older leadripe; retrain it"
        )
    return ExplanationStats.model_validate(section)


def _profile_kinds(bundle: ModelBundle) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(categorical, numeric) profile columns the feature step reads."""
    features_step = bundle.pipeline[0]
    categorical = getattr(features_step, "categorical_columns_", None)
    numeric = getattr(features_step, "numeric_columns_", None)
    if categorical is not None and numeric is not None:
        return tuple(map(str, categorical)), tuple(map(str, numeric))
    model_categories = getattr(bundle.pipeline[-1], "categories_", {}) or {}
    columns = list(bundle.card.profile_columns)
    return (
        tuple(c for c in columns if c in model_categories),
        tuple(c for c in columns if c not in model_categories),
    )


def _model_layout(features: LeadFeatures, model: Any) -> tuple[np.ndarray | None, list[np.ndarray]]:
    """How ``FeatureMatrix`` columns become the model's: the column order (None when it is already the
    model's) and, per categorical feature, the model's code (float, NaN if unknown) of each feature code."""
    names = [str(name) for name in features.get_feature_names_out()]
    model_names = [str(name) for name in model.feature_names_in_]
    position = {name: i for i, name in enumerate(names)}
    lacking = [name for name in model_names if name not in position]
    if lacking:
        raise ValueError(f"the model uses features the feature step does not make: {lacking[:10]}")
    order = np.array([position[name] for name in model_names], dtype=np.intp)
    column_order = None if np.array_equal(order, np.arange(len(names))) else order
    category_codes = []
    for column in features.categorical_columns_:
        feature_categories = cached_category_dtype(tuple(features.category_levels_[column])).categories
        codes = pd.Index(model.categories_[column]).get_indexer(feature_categories)
        category_codes.append(np.where(codes >= 0, codes, np.nan).astype(np.float64))
    return column_order, category_codes


def _threshold_grades(readiness: np.ndarray, threshold: float) -> np.ndarray:
    edges = {"A": threshold, "B": 0.66 * threshold, "C": 0.33 * threshold}
    return grade_of(readiness, edges)


def _score(readiness: float) -> float:
    return round(float(readiness) * 100.0, 1)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

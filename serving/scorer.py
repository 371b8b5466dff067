"""Answers for leads: score, grade, percentile, verdict, reasons, what would ripen them, warnings.

The scorer orchestrates; each part of an answer is made elsewhere: the verdict by the pure functions of
``training.model.decision`` over the card's ``DecisionPolicy`` (via ``serving.verdicts``), reasons and
the fit/interest axes by ``serving.explanation``, "what would ripen it" by ``serving.to_ripen``, the
advice sentence by ``serving.advice`` and warnings by ``serving.warnings``.

``LeadScorer`` wraps one loaded ``ModelBundle`` and is immutable once built, so request threads share
it freely and a reload simply swaps in a new one. Every lead of a request goes through the shared
feature definition and model in one vectorised call, on plain arrays from end to end
(``training.data.live_arrays`` -> ``LeadFeatures.transform_arrays`` -> ``ReadinessModel.explain``):
building pandas frames for a handful of leads cost more than scoring them. The "what would ripen it"
counterfactuals are planned before the verdicts and go through that same feature call with the lead's
earlier looks (``serving.to_ripen.plan_ahead``); only the too-green leads' copies are scored.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from serving.advice import advice, cold_answer, score_of
from serving.explanation import AxesOfBatch, Explainer, never_engaged
from serving.schemas import LeadScore
from serving.sentences import facts_from_specs
from serving.to_ripen import plan_ahead, ripening_plans
from serving.verdicts import Decisions, EarlierLooks, cold_earlier, decide_rows, lookback_ns, transform_looks
from serving.warnings import lead_warnings, unlike_handed_over
from training.bundle import ArtifactError, ModelBundle
from training.data.live import LeadIn
from training.data.live_arrays import LeadInputError, arrays_from_leads, check_leads
from training.features.matrix import FeatureMatrix
from training.features.snapshot_arrays import SnapshotArrays
from training.features.specs import FeatureCatalog
from training.features.targets import TARGET_PHRASE
from training.features.transformer import LeadFeatures
from training.model.decision import TOO_GREEN, implied_policy
from training.model.readiness import ReadinessModel
from training.model.serving_types import ServingStats
from training.report.signals import signal_label

__all__ = ["Decisions", "LeadInputError", "LeadScorer", "Scored", "TopReasons"]


@dataclass(frozen=True)
class Scored:
    """Model outputs for a batch of snapshots, aligned by row; ``earlier``: the features of the same leads
    at each earlier look (the gone-cold hysteresis, scored by ``decide`` where the verdict depends on it),
    or None when the decision policy has none; ``counterfactuals``: the features of the counterfactual
    snapshots, when ``run_model`` got them."""

    features: FeatureMatrix
    readiness: np.ndarray
    raw: np.ndarray
    contributions: np.ndarray  # (n, n_features), without the base value
    base_value: np.ndarray
    earlier: EarlierLooks | None = None
    counterfactuals: FeatureMatrix | None = None  # of the snapshots ``run_model`` was given as such
    #: (n, 2): the summed fit and interest contributions, when ``run_model`` computed them without the
    #: contributions themselves (``axes=True``); None otherwise.
    axis_sums: np.ndarray | None = None


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
                "(training.model.fitted_pipeline.build_pipeline)"
            )
        self.features: LeadFeatures = features
        self.model: ReadinessModel = model
        self.stats = card.serving_stats()
        # What "ripe" and "gone cold" mean for this model; a card without a policy implies one.
        self.policy = card.decision or implied_policy(
            card.threshold_value(), card.horizon_days, self.stats.gone_cold
        )
        self.threshold = self.policy.threshold
        self._lookback = lookback_ns(self.policy)
        self.feature_names: list[str] = [str(name) for name in model.feature_names_in_]
        self.specs = FeatureCatalog(features.feature_specs())
        _check_card_fits(self.stats, self.specs, model)
        self.known_event_types = frozenset(card.event_types)
        # Types the import left out are ignored like unknown ones, but without a warning.
        self._unwarned_event_types = self.known_event_types | frozenset(card.skipped_event_types)
        # A CRM's own event type names (the import mapping's renames and detail patterns, and the model's
        # names in another case) are taken as the model's.
        self.naming = card.event_naming()
        # Events before a lead's creation: counted at it where the import did so (serving.early_events).
        self.early_events_at_creation = card.events_before_created == "creation"
        self.categorical_columns = tuple(map(str, features.categorical_columns_))
        self.numeric_columns = tuple(map(str, features.numeric_columns_))
        self._profile_set = frozenset((*self.categorical_columns, *self.numeric_columns))
        # Levels learned in training (without the "other"/"missing" placeholders unseen values map to).
        levels = features.category_levels_
        self.known_levels = {column: frozenset(map(str, levels[column])) for column in levels}
        # Models fitted before the ranges were kept have none: no range warnings for them.
        self.numeric_ranges: dict[str, tuple[float, float]] = getattr(features, "numeric_ranges_", {})
        self._categorical_features = frozenset(model.categories_)
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
            TARGET_PHRASE[card.target],
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
        # Counterfactuals of every lead, before knowing which are too green: they share the leads' feature
        # transform (see serving.counterfactuals).
        ahead = plan_ahead(self.features, arrays, self.stats.ripe_profile) if max_ripening_steps > 0 else None
        scored = self.run_model(arrays, counterfactuals=None if ahead is None else ahead.plan.arrays)
        axes = self.explainer.axes(scored.contributions)
        decided = self.decide(arrays, scored, axes)
        green = np.flatnonzero(decided.verdicts == TOO_GREEN)
        plans = ripening_plans(
            self.features,
            self.model,
            self.policy,
            self.stats,
            arrays,
            scored.features,
            decided.readiness,
            decided.chance,
            green,
            max_ripening_steps,
            ahead=None
            if ahead is None or scored.counterfactuals is None
            else (ahead, scored.counterfactuals),
        )
        warnings = lead_warnings(
            leads,
            arrays,
            self._unwarned_event_types,
            self.known_levels,
            self._profile_set,
            self.numeric_ranges,
        )
        unlike_handed_over(decided.outside_overlap, warnings)
        reasons = self.explainer.explanations(
            scored.features, scored.contributions, scored.raw, scored.base_value, axes, reasons_per_side
        )
        cutoffs = [_utc(lead.as_of or default_as_of) for lead in leads]
        never = never_engaged(scored.features)
        ages = arrays.lead_age_days()
        without_contact = self._chance_without_contact(scored.readiness, decided.contact_requested)
        threshold_score = score_of(self.threshold)
        # Cold a lookback earlier, where it was looked at (the verdict depended on it), else None.
        cold_before: list[bool | None] = [None] * len(leads)
        if decided.cold_before is not None and decided.looked_back is not None:
            cold_before = [
                bool(cold) if looked else None
                for cold, looked in zip(
                    decided.cold_before.tolist(), decided.looked_back.tolist(), strict=True
                )
            ]
        answers = []
        for i in range(len(leads)):
            verdict, source = str(decided.verdicts[i]), str(decided.sources[i])
            inactive = None if np.isnan(decided.days_inactive[i]) else float(decided.days_inactive[i])
            chance = float(decided.chance[i])
            plan = plans.get(i)
            answers.append(
                {
                    "lead_id": leads[i].lead_id,
                    "as_of": cutoffs[i],
                    "model_version": self.version,
                    "score": score_of(decided.readiness[i]),
                    "readiness": float(decided.readiness[i]),
                    "handover_chance": chance,
                    "handover_score": score_of(chance),
                    "grade": str(decided.grades[i]),
                    "fit": axes.fit[i],
                    "interest": axes.interest[i],
                    "fit_interest": axes.label(i),
                    "fit_interest_summary": axes.summary(i, bool(never[i])),
                    "percentile": None if np.isnan(decided.percentiles[i]) else float(decided.percentiles[i]),
                    "threshold_score": threshold_score,
                    "verdict": verdict,
                    "verdict_source": source,
                    "handover": bool(decided.handover[i]),
                    "contact_requested": bool(decided.contact_requested[i]),
                    "advice": advice(
                        self.policy,
                        verdict,
                        source,
                        chance,
                        inactive,
                        plan,
                        float(decided.readiness[i]),
                        None if np.isnan(ages[i]) else float(ages[i]),
                        None if np.isnan(without_contact[i]) else float(without_contact[i]),
                    ),
                    "gone_cold_rule": cold_answer(
                        self.policy.gone_cold,
                        inactive,
                        cold_before[i],
                    ),
                    "reasons": reasons[i],
                    "to_ripen": plan,
                    "warnings": warnings[i],
                }
            )
        return answers

    def _chance_without_contact(self, readiness: np.ndarray, contact: np.ndarray) -> np.ndarray:
        """Per row that asked for contact, the chance from the model's ``readiness`` alone (no hand-raiser
        calibration, no request term); NaN for the others."""
        out = np.full(len(readiness), np.nan)
        if contact.any():
            out[contact] = self.policy.estimate.chance(readiness[contact], np.zeros(int(contact.sum()), bool))
        return out

    def build_arrays(self, leads: Sequence[LeadIn], default_as_of: datetime) -> SnapshotArrays:
        """The leads as ``SnapshotArrays`` (one snapshot per lead, lead codes = positions, so duplicate
        ids cannot mix), after ``check_leads``."""
        self.check_leads(leads, default_as_of)
        return arrays_from_leads(
            leads, default_as_of, self.categorical_columns, self.numeric_columns, self.naming
        )

    def run_model(
        self,
        arrays: SnapshotArrays,
        *,
        explain: bool = True,
        counterfactuals: SnapshotArrays | None = None,
        defer_earlier_looks: bool = False,
        axes: bool = False,
    ) -> Scored:
        """Features, calibrated readiness, raw score and exact contributions for every snapshot (and the
        features only of ``counterfactuals``, computed in the same transform call).

        ``explain=False`` skips the contributions (TreeSHAP, most of the cost per lead) for callers that
        need the readiness only (batch scores without reasons): ``raw`` and ``base_value`` are then NaN
        and ``contributions`` has no columns. The readiness comes from the trees' plain prediction (with
        ``axes``, from the per-tree tables in the same pass), which equals the sum of the contributions up
        to float rounding (~1e-15).

        ``defer_earlier_looks``: the earlier looks of the gone-cold hysteresis are computed when ``decide``
        asks for them, for those rows only (batch scoring; ``EarlierLooks``); the answers are the same.
        ``axes`` (with ``explain=False``): also the summed fit and interest contributions
        (``Scored.axis_sums``), from the model's per-tree tables at about the cost of the prediction
        (``ReadinessModel.readiness_and_group_sums``).
        """
        looks = transform_looks(
            self.features, arrays, self._lookback, counterfactuals, defer_earlier=defer_earlier_looks
        )
        features = looks.now
        earlier = looks.earlier
        if not explain:
            sums = None
            if axes:
                readiness, sums = self.model.readiness_and_group_sums(features, self.explainer.fit_mask)
            else:
                readiness = self.model.readiness(features)
            readiness = np.asarray(readiness, dtype=float)
            unknown = np.full(len(readiness), np.nan)
            no_contributions = np.zeros((len(readiness), 0))
            return Scored(
                features, readiness, unknown, no_contributions, unknown, earlier, looks.extra, axis_sums=sums
            )
        # Contributions in feature_names_in_ order (= self.feature_names).
        explanation = self.model.explain(features)
        return Scored(
            features=features,
            readiness=np.asarray(explanation.readiness, dtype=float),
            raw=np.asarray(explanation.raw, dtype=float),
            contributions=explanation.contributions,
            base_value=explanation.base_value,
            earlier=earlier,
            counterfactuals=looks.extra,
        )

    def check_leads(self, leads: Sequence[LeadIn], default_as_of: datetime | None = None) -> None:
        """Values the model cannot use (non-numeric numeric fields, times out of range): raises
        ``LeadInputError`` naming the lead and field."""
        check_leads(leads, self.numeric_columns, default_as_of)

    def decide(self, arrays: SnapshotArrays, scored: Scored, axes: AxesOfBatch | None = None) -> Decisions:
        """Chance if handed over now, verdict and its source, grade, percentile and days inactive for
        every row of ``scored`` (``training.model.decision``). ``axes`` (fit) matters only when the
        hand-raiser rule is on; without them fit comes from the contributions or, when ``run_model``
        skipped those, from the summed fit contributions (``Scored.axis_sums``): the same grades."""
        fit = None
        if self.policy.hand_raisers.rule_enabled:
            if axes is not None:
                fit = axes.fit
            elif scored.contributions.shape[1]:
                fit = self.explainer.axes(scored.contributions).fit
            elif scored.axis_sums is not None:
                fit = self.explainer.axes_of_sums(scored.axis_sums[:, 0], scored.axis_sums[:, 1]).fit
        earlier = scored.earlier
        cold_before_of = (
            None
            if earlier is None
            else functools.partial(cold_earlier, self.policy, self.stats, self.model, arrays, earlier)
        )
        return decide_rows(
            self.policy, self.stats, arrays, scored.features, scored.readiness, fit, cold_before_of
        )


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


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

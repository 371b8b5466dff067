"""Why a lead scores what it scores: reasons built from facts, the fit and interest axes, A vs B.

``Explainer`` is built once per loaded model from the feature descriptions (``FeatureFacts``), the
explanation statistics stored at training time (``training.model.explanation_stats``: reference values,
axis edges) and the per-signal win rates (``ServingStats.signals``). Given a batch's features and
exact contributions (TreeSHAP, log-odds, adding up to the raw score) it answers:

- ``explanations``: per lead the largest positive and negative contributions as reasons. Each reason
  carries its facts (feature, business signal, the lead's value, the reference value, direction,
  contribution, and a win-rate comparison only when it agrees with the direction) and a sentence
  generated from them (``serving.sentences``).
- ``axes``: fit (A-D, from the summed profile contributions) and interest (1-4, from the summed
  engagement contributions), graded by the quartile edges of the reference population.
- ``compare``: which of two leads scores higher and which signals make the difference, from the
  difference of their exact contributions.

Answers are plain dicts shaped like the response models of ``serving.schemas`` (the API serialises
them directly; tests validate them), because building pydantic objects per reason costs more than the
model's prediction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from serving.feature_values import FeatureValues
from serving.reason_order import listable, signal_codes
from serving.sentences import (
    Direction,
    Evidence,
    FeatureFacts,
    agrees,
    article,
    reason_sentence,
    value_phrase,
)
from training.features.matrix import FeatureMatrix
from training.model.explanation_stats import ExplanationStats, fit_mask, split_contributions
from training.model.serving_types import (
    CategoricalSignalStats,
    EventSignalStats,
    NumericSignalStats,
    SignalStats,
)

_REASON_CACHE_SIZE = 50_000
#: A reason's fields before its contribution, its evidence (a dict) and its sentence.
_FixedPart = tuple[dict[str, Any], dict[str, Any] | None, str]
_GOOD_FIT = frozenset({"A", "B"})
_ENGAGED = frozenset({1, 2})


@dataclass(frozen=True)
class AxesOfBatch:
    """Fit and interest of each lead of a batch, aligned by row."""

    fit: np.ndarray  # letters A-D (object), or None where the axis is unavailable
    interest: np.ndarray  # 1-4, or None
    fit_contribution: np.ndarray
    interest_contribution: np.ndarray

    def summary(self, row: int, never_engaged: bool = False) -> str:
        """E.g. "B3: good fit, not engaged yet". A lead without any event is never called engaged: its
        interest grade says how its lack of events compares (it can rank above leads whose many events
        led nowhere), not that it engaged."""
        fit, interest = self.fit[row], self.interest[row]
        if fit is None or interest is None:
            known = "fit unknown (no profile fields)" if fit is None else "interest unknown (no events)"
            return known
        good, engaged = fit in _GOOD_FIT, interest in _ENGAGED and not never_engaged
        quiet = "no engagement yet" if never_engaged else "not engaged yet"
        words = (
            ("good fit and engaged" if engaged else f"good fit, {quiet}")
            if good
            else ("engaged, poor fit" if engaged else f"poor fit, {quiet}")
        )
        return f"{fit}{interest}: {words}"

    def label(self, row: int) -> str | None:
        fit, interest = self.fit[row], self.interest[row]
        return None if fit is None or interest is None else f"{fit}{interest}"


#: Days since the lead's last event of any type (``training.features.specs``): NaN if it never engaged.
_LAST_ENGAGEMENT = "days_since_last_engagement"


def never_engaged(features: FeatureMatrix) -> np.ndarray:
    """Per row, whether the lead had no event at all before its cutoff (all False without the feature)."""
    if _LAST_ENGAGEMENT not in features:
        return np.zeros(len(features), dtype=bool)
    return np.isnan(np.asarray(features[_LAST_ENGAGEMENT], dtype=float))


class Explainer:
    """Reasons, axes and comparisons for one model (immutable apart from its sentence cache)."""

    def __init__(
        self,
        facts: Mapping[str, FeatureFacts],
        feature_names: Sequence[str],
        stats: ExplanationStats,
        signal_stats: Mapping[str, SignalStats],
        signal_labels: Mapping[str, str],
        categorical: frozenset[str],
        outcome: str = "won",
    ) -> None:
        lacking = [name for name in feature_names if name not in facts]
        if lacking:
            raise ValueError(f"no feature description for model features {lacking[:10]}")
        self.feature_names = list(feature_names)
        self.facts = [facts[name] for name in self.feature_names]
        self.references = [stats.references.get(name) for name in self.feature_names]
        self.stats = stats
        self.signal_stats = dict(signal_stats)
        self.signal_labels = dict(signal_labels)
        self.categorical = categorical
        #: what reaching the model's target is called in evidence ("won", "turned into an opportunity")
        self.outcome = outcome
        self._fit_mask = fit_mask(self.feature_names, stats.axes.fit_features)
        self._signals = [f.signal for f in self.facts]
        self.signal_codes = signal_codes(self._signals)
        # The window count that decides "had one recently" for each event type's win rates.
        self._presence = {
            signal: entry.feature
            for signal, entry in self.signal_stats.items()
            if isinstance(entry, EventSignalStats) and entry.feature in set(self.feature_names)
        }
        self._reasons: dict[tuple[int, Any, str, bool, Any], _FixedPart] = {}

    def signal_label(self, signal: str) -> str:
        return self.signal_labels.get(signal, signal)

    # ---------------------------------------------------------------------------------------- axes
    @property
    def fit_mask(self) -> np.ndarray:
        """True for the features (in ``feature_names`` order) whose contributions make up fit."""
        return self._fit_mask

    def axes(self, contributions: np.ndarray) -> AxesOfBatch:
        """Fit and interest of each row of an ``(n, n_features)`` contribution matrix."""
        return self.axes_of_sums(*split_contributions(contributions, self._fit_mask))

    def axes_of_sums(self, fit_sum: np.ndarray, interest_sum: np.ndarray) -> AxesOfBatch:
        """Fit and interest from the summed profile and engagement contributions of each row."""
        axes = self.stats.axes
        n = len(fit_sum)
        fit = axes.fit_grades(fit_sum) if axes.fit.available else np.full(n, None)
        interest = axes.interest_grades(interest_sum) if axes.interest.available else np.full(n, None)
        return AxesOfBatch(fit.astype(object), interest.astype(object), fit_sum, interest_sum)

    # ------------------------------------------------------------------------------------- reasons
    def explanations(
        self,
        features: FeatureMatrix,
        contributions: np.ndarray,
        raw: np.ndarray,
        base_value: np.ndarray,
        axes: AxesOfBatch,
        per_side: int,
    ) -> list[dict[str, Any]]:
        """An ``Explanation`` (as a dict) per row; ``axes`` are ``self.axes(contributions)``."""
        n, n_features = contributions.shape
        k = min(per_side, n_features)
        # Largest positive and most negative contributions per row, vectorised over the whole batch, among
        # those on their signal's side (serving.reason_order).
        ranked = listable(contributions, self.signal_codes)
        up = np.argsort(-ranked, axis=1, kind="stable")[:, :k]
        down = np.argsort(ranked, axis=1, kind="stable")[:, :k]
        totals = contributions.sum(axis=1)
        used = {self.feature_names[j] for j in np.unique(np.concatenate([up.ravel(), down.ravel()]))}
        values = FeatureValues(features, [*used, *self._presence.values()], self.categorical)
        out = []
        for i in range(n):
            quoted: set[str] = set()  # signals whose win rates this lead's reasons already quote
            positive = [
                self.reason(i, int(j), values, float(contributions[i, j]), quoted)
                for j in up[i]
                if ranked[i, j] > 0
            ]
            negative = [
                self.reason(i, int(j), values, float(contributions[i, j]), quoted)
                for j in down[i]
                if ranked[i, j] < 0
            ]
            listed = sum(r["contribution"] for r in positive) + sum(r["contribution"] for r in negative)
            out.append(
                {
                    "raw_score": float(raw[i]),
                    "base_value": float(base_value[i]),
                    "fit_contribution": float(axes.fit_contribution[i]),
                    "interest_contribution": float(axes.interest_contribution[i]),
                    "positive": positive,
                    "negative": negative,
                    "other_contributions": float(totals[i] - listed),
                }
            )
        return out

    def reason(
        self, row: int, j: int, values: FeatureValues, contribution: float, quoted: set[str]
    ) -> dict[str, Any]:
        """A ``Reason`` as a dict; quotes the signal's win rates unless ``quoted`` already has it."""
        facts = self.facts[j]
        value = values.get(row, facts.feature)
        direction: Direction = "up" if contribution > 0 else "down"
        may_quote = facts.signal not in quoted
        presence_feature = self._presence.get(facts.signal) if may_quote else None
        presence = None if presence_feature is None else values.get(row, presence_feature)
        # Everything but the contribution depends on these alone, and repeats a lot across leads
        # (counts, levels): built once per key, not per request.
        key = (j, value, direction, may_quote, presence)
        fixed = self._reasons.get(key)
        if fixed is None:
            if len(self._reasons) > _REASON_CACHE_SIZE:
                self._reasons.clear()
            fixed = self._fixed_part(facts, j, value, direction, may_quote, presence)
            self._reasons[key] = fixed
        fields, evidence, sentence = fixed
        if evidence is not None:
            quoted.add(facts.signal)
        return {
            **fields,
            "contribution": contribution,
            "evidence": None if evidence is None else dict(evidence),
            "sentence": sentence,
        }

    def _fixed_part(
        self, facts: FeatureFacts, j: int, value: Any, direction: Direction, may_quote: bool, presence: Any
    ) -> _FixedPart:
        """A reason's fields before its contribution, its evidence (win rates quoted when they agree with
        the direction) and its sentence."""
        evidence = self.evidence(facts, value, presence) if may_quote else None
        if evidence is not None and not agrees(evidence, direction):
            evidence = None
        reference = self.references[j]
        fields = {
            "feature": facts.feature,
            "signal": facts.signal,
            "label": self.signal_label(facts.signal),
            "kind": facts.kind,
            "value": value,
            "reference": reference,
            "direction": direction,
        }
        sentence = reason_sentence(facts, value, reference, direction, evidence, self.outcome)
        return fields, None if evidence is None else dict(evidence.__dict__), sentence

    def evidence_inputs(self, facts: FeatureFacts) -> tuple[bool, str | None]:
        """What ``evidence`` reads for this feature's reasons besides the facts: whether the lead's value
        (profile signals' levels and bands), and which feature gives the presence count (event signals;
        None: none). Batch reasons look the evidence up once per distinct input
        (``serving.batch.reasons``)."""
        stats = self.signal_stats.get(facts.signal)
        if isinstance(stats, EventSignalStats):
            return False, self._presence.get(facts.signal)
        return isinstance(stats, CategoricalSignalStats | NumericSignalStats), None

    def evidence(self, facts: FeatureFacts, value: Any, presence: Any) -> Evidence | None:
        """The signal's historical win rates for leads like this one, or None when unknown. ``presence``:
        the lead's count of the signal's events in its stats window (event signals only)."""
        stats = self.signal_stats.get(facts.signal)
        if isinstance(stats, EventSignalStats):
            if not facts.kind.startswith("event_"):
                return None
            return _event_evidence(facts, stats, presence)
        if isinstance(stats, CategoricalSignalStats):
            if facts.kind != "profile_categorical" or not isinstance(value, str):
                return None
            level = stats.level(value)
            if level is None:
                return None
            return Evidence(
                f"leads with {facts.subject} {value}", level.win_rate, "average", stats.overall_win_rate
            )
        if isinstance(stats, NumericSignalStats):
            if facts.kind != "profile_numeric" or not isinstance(value, int | float):
                return None
            band = stats.bin_of(float(value))
            if band is None:
                return None
            group = f"leads with {facts.subject} {_number(band.lower)} to {_number(band.upper)}"
            return Evidence(group, band.win_rate, "average", stats.overall_win_rate)
        return None

    # ------------------------------------------------------------------------------------- compare
    def compare(
        self,
        features: FeatureMatrix,
        contributions: np.ndarray,
        raw: np.ndarray,
        names: tuple[str, str],
        top: int,
    ) -> dict[str, Any]:
        """Why row 0 scores above or below row 1: the signals whose contributions differ most.

        ``names`` label the two leads in sentences ("lead A", "lead B"). The differences of all
        signals add up exactly to the difference of the raw scores.
        """
        difference = contributions[0] - contributions[1]
        signals = list(dict.fromkeys(self._signals))
        index = {signal: k for k, signal in enumerate(signals)}
        by_signal = np.zeros(len(signals))
        np.add.at(by_signal, [index[s] for s in self._signals], difference)
        total = float(raw[0] - raw[1])
        higher = 0 if total > 0 else 1 if total < 0 else None
        sign = 1.0 if higher in (0, None) else -1.0
        order = np.argsort(-sign * by_signal, kind="stable")
        values = FeatureValues(features, self.feature_names, self.categorical)
        listed = []
        for k in order[:top]:
            if sign * by_signal[k] <= 0:
                break
            listed.append(self._difference(signals[k], float(by_signal[k]), difference, values, names, total))
        against = [
            self._difference(signals[k], float(by_signal[k]), difference, values, names, total)
            for k in order[::-1][:top]
            if sign * by_signal[k] < 0
        ]
        shown = sum(d["difference"] for d in listed) + sum(d["difference"] for d in against)
        return {
            "higher": None if higher is None else ("a", "b")[higher],
            "raw_difference": total,
            "signals_for": listed,
            "signals_against": against,
            "other_difference": float(total - shown),
        }

    def _difference(
        self,
        signal: str,
        amount: float,
        difference: np.ndarray,
        values: FeatureValues,
        names: tuple[str, str],
        total: float,
    ) -> dict[str, Any]:
        members = [j for j, s in enumerate(self._signals) if s == signal]
        # The signal's feature that differs most in the signal's direction states the values.
        j = max(members, key=lambda m: float(np.sign(amount) * difference[m]))
        facts = self.facts[j]
        a_value, b_value = values.get(0, facts.feature), values.get(1, facts.feature)
        favours = names[0] if amount > 0 else names[1]
        share = abs(amount / total) if total else None
        share_text = f" ({share:.0%} of the difference)" if share is not None and share < 10 else ""
        a_text, b_text = value_phrase(facts, a_value), value_phrase(facts, b_value)
        if a_text == b_text:
            # Same value as shown: the contribution differs through the leads' other signals (trees split
            # on combinations), which the sentence says rather than inventing a difference.
            shown = f"both {a_text}, but it weighs differently with their other signals"
        else:
            shown = f"{names[0]}: {a_text}; {names[1]}: {b_text}"
        sentence = f"{self.signal_label(signal)}: {shown}. This favours {favours}{share_text}."
        return {
            "signal": signal,
            "label": self.signal_label(signal),
            "feature": facts.feature,
            "a_value": a_value,
            "b_value": b_value,
            "difference": amount,
            "favours": "a" if amount > 0 else "b",
            "sentence": sentence,
        }


def _event_evidence(facts: FeatureFacts, stats: EventSignalStats, count: Any) -> Evidence | None:
    with_rate, without_rate = stats.win_rate_with, stats.win_rate_without
    if with_rate is None or without_rate is None or count is None:
        return None
    window = stats.window_days
    has = f"{article(facts.subject)} '{facts.subject}' in the last {window} days"
    if float(count) > 0:
        return Evidence(f"leads with {has}", with_rate, "those without", without_rate)
    return Evidence(f"leads without {has}", without_rate, "those with one", with_rate)


def _number(value: float) -> str:
    number = float(value)
    return f"{number:,.0f}" if number == round(number) or abs(number) >= 100 else f"{number:,.2g}"

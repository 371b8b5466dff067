"""The top reasons of many leads as columns, built once per distinct fact instead of once per lead.

``Explainer.explanations`` builds each lead's reasons one by one (a dict per reason, sentences cached by
the exact value): right for the API's few leads, but at batch sizes most numeric values are distinct (days
since an event, decayed counts), so nearly every reason built its sentence afresh: about 200 µs per lead
with 3 reasons per side, more than the exact contributions themselves. ``ranked_reasons`` gives the same
reasons field for field (``serving.batch.answers``' columns; tests compare them with ``explanations``),
working rank by rank over the whole batch:

- the reason at each side and rank is the same argsort ``explanations`` makes (a side's reasons are the
  prefix of its order whose contributions have that side's sign, among those on their signal's side:
  ``serving.reason_order``);
- each reason's value is read per feature, and only its distinct values are rounded and shown;
- a sentence is made once per (feature, shown value, direction, evidence): a sentence reads the value
  only through ``serving.sentences.shown_value``;
- the win-rate evidence is looked up once per distinct input it reads (``Explainer.evidence_inputs``);
- a signal's win rates are quoted at most once per lead, in ``explanations``' order (the up reasons by
  rank, then the down ones), so whether a reason may quote depends on the lead's earlier reasons only.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np

from serving.explanation import Explainer
from serving.reason_order import listable
from serving.sentences import Direction, Evidence, agrees, reason_sentence, shown_value
from training.features.matrix import FeatureMatrix

_SENTENCE_CACHE_SIZE = 200_000


@dataclass(frozen=True)
class RankedReasons:
    """Each lead's reason at one side and rank; None (NaN for numbers) where the lead has none there."""

    signal: np.ndarray  # object: str or None
    feature: np.ndarray  # object: str or None
    value: np.ndarray  # float64: the numeric value, NaN when unknown, categorical or no reason
    level: np.ndarray  # object: the category name of a categorical feature, else None
    contribution: np.ndarray  # float64
    sentence: np.ndarray  # object: str or None

    @classmethod
    def empty(cls, n: int) -> RankedReasons:
        return cls(
            signal=np.full(n, None, dtype=object),
            feature=np.full(n, None, dtype=object),
            value=np.full(n, np.nan),
            level=np.full(n, None, dtype=object),
            contribution=np.full(n, np.nan),
            sentence=np.full(n, None, dtype=object),
        )


class BatchReasons:
    """``ranked_reasons`` for one model, with a sentence cache shared by every chunk of a batch run."""

    def __init__(self, explainer: Explainer) -> None:
        self.explainer = explainer
        self._signal_codes = explainer.signal_codes
        self._sentences: dict[tuple[int, str, Direction, Evidence | None], str] = {}

    def ranked_reasons(
        self, features: FeatureMatrix, contributions: np.ndarray, per_side: int
    ) -> dict[Direction, list[RankedReasons]]:
        """For ``up`` (pushes readiness up) and ``down``: the reasons of rank 1..``per_side`` of every row
        of an ``(n, n_features)`` contribution matrix (see the module docstring)."""
        n, n_features = contributions.shape
        k = min(per_side, n_features)
        on_signal_side = listable(contributions, self.explainer.signal_codes)
        orders: dict[Direction, np.ndarray] = {
            "up": np.argsort(-on_signal_side, axis=1, kind="stable")[:, :k],
            "down": np.argsort(on_signal_side, axis=1, kind="stable")[:, :k],
        }
        # Per earlier reason of each lead: its signal (-1: none) and whether it quoted the win rates.
        quoted_before: list[tuple[np.ndarray, np.ndarray]] = []
        every_row = np.arange(n)
        out: dict[Direction, list[RankedReasons]] = {"up": [], "down": []}
        for side in ("up", "down"):
            for rank in range(per_side):
                if rank >= k:
                    out[side].append(RankedReasons.empty(n))
                    continue
                feature_index = orders[side][:, rank]
                contribution = contributions[every_row, feature_index]
                listed = on_signal_side[every_row, feature_index]
                has = listed > 0 if side == "up" else listed < 0
                ranked, signal_of, quoted = self._rank(
                    features, feature_index, contribution, has, side, quoted_before
                )
                quoted_before.append((signal_of, quoted))
                out[side].append(ranked)
        return out

    def _rank(
        self,
        features: FeatureMatrix,
        feature_index: np.ndarray,
        contribution: np.ndarray,
        has: np.ndarray,
        direction: Direction,
        quoted_before: list[tuple[np.ndarray, np.ndarray]],
    ) -> tuple[RankedReasons, np.ndarray, np.ndarray]:
        n = len(feature_index)
        ranked = RankedReasons.empty(n)
        ranked.contribution[has] = contribution[has]
        signal_of = np.full(n, -1, dtype=np.int64)
        quoted = np.zeros(n, dtype=bool)
        for j in np.unique(feature_index[has]):
            rows = np.flatnonzero(has & (feature_index == j))
            facts = self.explainer.facts[j]
            code = int(self._signal_codes[j])
            may_quote = np.ones(len(rows), dtype=bool)
            for earlier_signal, earlier_quoted in quoted_before:
                may_quote &= ~(earlier_quoted[rows] & (earlier_signal[rows] == code))
            values, value_of_row = _distinct_values(features, facts.feature, rows, self.explainer.categorical)
            evidence_of_row, evidences = self._evidence(
                features, j, rows, values, value_of_row, may_quote, direction
            )
            # One sentence per (shown value, evidence) among this feature's rows.
            shown = [shown_value(facts, v) for v in values]  # type: ignore[arg-type]
            shown_codes: dict[str, int] = {}
            shown_of_value = np.array([shown_codes.setdefault(text, len(shown_codes)) for text in shown])
            keys = shown_of_value[value_of_row] * (len(evidences) + 1) + (evidence_of_row + 1)
            _, first, group = np.unique(keys, return_index=True, return_inverse=True)
            group_sentences = np.array(
                [
                    self._sentence(
                        j,
                        values[value_of_row[row]],
                        shown[value_of_row[row]],
                        direction,
                        None if evidence_of_row[row] < 0 else evidences[evidence_of_row[row]],
                    )
                    for row in first
                ],
                dtype=object,
            )
            ranked.signal[rows] = facts.signal
            ranked.feature[rows] = facts.feature
            if facts.feature in self.explainer.categorical:
                ranked.level[rows] = np.asarray(values, dtype=object)[value_of_row]
            else:
                numbers = np.array([np.nan if v is None else float(v) for v in values])  # type: ignore[arg-type]
                ranked.value[rows] = numbers[value_of_row]
            ranked.sentence[rows] = group_sentences[group.ravel()]
            signal_of[rows] = code
            quoted[rows] = evidence_of_row >= 0
        return ranked, signal_of, quoted

    def _evidence(
        self,
        features: FeatureMatrix,
        j: int,
        rows: np.ndarray,
        values: list[Hashable],
        value_of_row: np.ndarray,
        may_quote: np.ndarray,
        direction: Direction,
    ) -> tuple[np.ndarray, list[Evidence]]:
        """Per row, the index of the evidence its sentence quotes into the returned list (-1: none), as
        ``Explainer.reason`` decides it: only when the lead may still quote the signal and the win rates
        agree with the direction."""
        explainer = self.explainer
        facts = explainer.facts[j]
        chosen = np.full(len(rows), -1, dtype=np.int64)
        quoting = np.flatnonzero(may_quote)
        if not len(quoting):
            return chosen, []
        reads_value, presence_feature = explainer.evidence_inputs(facts)
        presences: list[object] = [None]
        presence_of_row = np.zeros(len(rows), dtype=np.int64)
        if presence_feature is not None:
            presences, presence_of_row = _distinct_values(
                features, presence_feature, rows, explainer.categorical
            )
        # What the evidence reads, per row: the value's index (profile signals) or the presence's (events).
        inputs = value_of_row if reads_value else presence_of_row
        distinct, first, group = np.unique(inputs[quoting], return_index=True, return_inverse=True)
        found: list[Evidence] = []
        index_of_group = np.full(len(distinct), -1, dtype=np.int64)
        for g in range(len(distinct)):
            row = quoting[first[g]]
            evidence = explainer.evidence(facts, values[value_of_row[row]], presences[presence_of_row[row]])
            if evidence is not None and agrees(evidence, direction):
                index_of_group[g] = len(found)
                found.append(evidence)
        chosen[quoting] = index_of_group[group.ravel()]
        return chosen, found

    def _sentence(
        self, j: int, value: Hashable, shown: str, direction: Direction, evidence: Evidence | None
    ) -> str:
        """The sentence of feature ``j``'s reason for ``value`` (``shown`` as the sentence shows it)."""
        key = (j, shown, direction, evidence)
        sentence = self._sentences.get(key)
        if sentence is None:
            if len(self._sentences) > _SENTENCE_CACHE_SIZE:
                self._sentences.clear()
            facts, reference = self.explainer.facts[j], self.explainer.references[j]
            sentence = reason_sentence(
                facts,
                value,  # type: ignore[arg-type]
                reference,
                direction,
                evidence,
                self.explainer.outcome,
            )
            self._sentences[key] = sentence
        return sentence


def _distinct_values(
    features: FeatureMatrix, name: str, rows: np.ndarray, categorical: frozenset[str]
) -> tuple[list[Hashable], np.ndarray]:
    """The distinct values of one feature at ``rows`` as ``FeatureValues.get`` gives them (numbers rounded
    to 6 decimals, None when unknown; category names), and each row's index into them."""
    if name in categorical:
        names = features.category_names(name)[rows]
        distinct, inverse = np.unique(names.astype(str), return_inverse=True)
        return [str(v) for v in distinct], inverse.ravel()
    raw = features.numeric(name)[rows]
    distinct_raw, inverse = np.unique(raw, return_inverse=True)  # NaNs collapse into one
    return [None if np.isnan(v) else round(float(v), 6) for v in distinct_raw], inverse.ravel()

"""Request and response bodies of the scoring API, named by role.

A lead's own schema (``LeadIn``, ``EventIn``) lives in ``training.data.live``: the API, the MLflow pyfunc
and batch scoring share it. Here are the API's envelopes around it and its answers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from training.data.live import EXAMPLE_LEAD, TIME_RULES, DateTimeString, LeadIn, as_utc
from training.model.decision_policy import DecisionPolicy, GoneCold
from training.report.importance_summary import SignalSummary


class BatchIn(BaseModel):
    """Several leads scored in one vectorised call."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"leads": [EXAMPLE_LEAD], "as_of": None}]}
    )

    leads: list[LeadIn] = Field(min_length=1)
    as_of: DateTimeString | None = Field(
        default=None, description=f"Default as_of for leads that have none: {TIME_RULES}"
    )

    @field_validator("as_of")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        # The same rule as a single lead's as_of: no zone means UTC.
        return as_utc(value)


class Evidence(BaseModel):
    """A historical win-rate comparison that agrees with the reason's direction."""

    group: str = Field(
        description="Leads like this one, e.g. \"leads with a 'demo request' in the last 30 days\"."
    )
    win_rate: float = Field(ge=0, le=1)
    compared_group: str = Field(description='Whom they are compared with: "those without", "average".')
    compared_win_rate: float = Field(ge=0, le=1)


class Reason(BaseModel):
    """A signal pushing the readiness up (positive contribution) or down (negative), with its facts."""

    feature: str
    signal: str = Field(description="The business signal: an event type or a profile field.")
    label: str = Field(description="The signal's readable name.")
    kind: str = Field(description="What the feature measures: event_count, event_recency, lead_age, ...")
    value: float | str | None = Field(description="The feature's value for this lead (None: never/unknown).")
    reference: float | str | None = Field(
        description="What a typical lead shows: the median, or the most common level (None: never/none)."
    )
    direction: Literal["up", "down"]
    contribution: float = Field(description="Exact additive contribution to the raw score (log-odds).")
    evidence: Evidence | None = Field(
        default=None, description="Historical win rates, only when they agree with the direction."
    )
    sentence: str = Field(description="Generated from the fields above.")


class Explanation(BaseModel):
    """``base_value + sum(all feature contributions) == raw_score``; the listed reasons are the largest."""

    raw_score: float
    base_value: float
    fit_contribution: float = Field(description="Sum of the profile features' contributions (fit).")
    interest_contribution: float = Field(
        description="Sum of the other features' contributions (engagement and timing: interest)."
    )
    positive: list[Reason]
    negative: list[Reason]
    other_contributions: float = Field(description="Sum of the contributions not listed as reasons.")


class RipeningStep(BaseModel):
    """A signal ripe leads typically show and this lead lacks, with the chance of a win it would bring."""

    signal: str
    window_days: int
    current_count: int
    typical_count: int
    add_events: int
    score_if_added: float = Field(description="handover_score with these events added (above the lead's).")
    ripe_if_added: bool
    sentence: str


class ToRipen(BaseModel):
    steps: list[RipeningStep]
    score_if_all_added: float | None
    ripe_if_all_added: bool | None
    estimated_days_to_ripeness: float | Literal["unknown"]
    estimate_basis: str
    steps_basis: str | None = Field(default=None, description="Why no step is listed, where none is.")
    share_of_similar_that_ripened: float | None = Field(
        default=None,
        description="Share of historical leads with a similar score that later crossed the threshold.",
    )


class GoneColdRule(BaseModel):
    """The gone-cold rule derived from the training data, and where this lead stands against it."""

    available: bool
    min_days_inactive: float | None = Field(description="Inactivity (days) from which a lead is gone cold.")
    readiness_level: float | None = Field(
        default=None, description="Readiness under which a lead that is not ripe is gone cold."
    )
    days_inactive: float | None
    ripen_rate_beyond: float | None
    cold_a_lookback_earlier: bool | None = Field(
        default=None,
        description="Whether the lead was gone cold at as_of minus the lookback (7 days by default), its "
        "state carried over the model's earlier looks (weekly, four by default), all recomputed from this "
        "request's own events: such a lead stays gone cold until it really re-engages. Null where the "
        "verdict does not depend on it (ripe, a recent contact request, cold now, or readiness above the "
        "band) and for models without hysteresis.",
    )
    rule: str


class Warning(BaseModel):
    code: Literal[
        "unknown_event_types",
        "events_after_as_of",
        "events_before_created_at",
        "unseen_profile_values",
        "unknown_profile_fields",
        "missing_profile_fields",
        "numbers_outside_training",
        "unlike_handed_over_leads",
    ]
    message: str
    count: int


class LeadScore(BaseModel):
    """The answer for one lead."""

    lead_id: str
    as_of: datetime
    model_version: str
    score: float = Field(
        ge=0,
        le=100,
        description="Calibrated probability of a win within the horizon, x100 (for a lead that asked for "
        "contact, after the model's hand-raiser slice calibration).",
    )
    readiness: float = Field(ge=0, le=1, description="The score as a probability (0-1).")
    handover_chance: float = Field(
        ge=0,
        le=1,
        description="Estimated chance of a win within the horizon if the lead is handed over now: what the "
        "verdict rests on (learnt from the leads' states at their historical handovers).",
    )
    handover_score: float = Field(ge=0, le=100, description="handover_chance x100.")
    grade: Literal["A", "B", "C", "D"] = Field(
        description="A: at or above the threshold; B, C: upper and second quarter below it; D: the rest "
        "(on handover_chance)."
    )
    fit: Literal["A", "B", "C", "D"] | None = Field(
        description="Who they are: quartile of the summed profile contributions among the training run's "
        "leads (A: top quarter); None when the model has no profile fields.",
        examples=["B"],
    )
    interest: Literal[1, 2, 3, 4] | None = Field(
        description="How engaged they are now: quartile of the summed engagement contributions "
        "(1: top quarter); None when the model has no event features.",
        examples=[2],
    )
    fit_interest: str | None = Field(description="Both axes together.", examples=["B2"])
    fit_interest_summary: str = Field(
        description="The axes in words: good fit and engaged, good fit but not engaged yet, engaged but a "
        "poor fit, or neither.",
        examples=["B3: good fit, not engaged yet"],
    )
    percentile: float = Field(description="Share of the training population scoring at or below this lead.")
    threshold_score: float = Field(description="The handover threshold on the 0-100 scale of handover_score.")
    verdict: Literal["ripe", "too_green", "gone_cold"]
    verdict_source: Literal["model", "rule"] = Field(
        description="'model': from handover_chance and the gone-cold rule; 'rule': the hand-raiser rule "
        "(a lead that asked for contact and whose fit clears the floor), when enabled."
    )
    handover: bool
    contact_requested: bool = Field(
        description="A hand-raising event (demo request, contact-sales form, trial signup, ...; the list is "
        "the model's) within the hand-raising window (7 days by default) before as_of."
    )
    advice: str
    gone_cold_rule: GoneColdRule
    reasons: Explanation
    to_ripen: ToRipen | None = None
    warnings: list[Warning] = Field(default_factory=list)


class BatchOut(BaseModel):
    model_version: str
    count: int
    results: list[LeadScore]


class ThresholdInfo(BaseModel):
    value: float | None
    policy: Any = None
    explanation: str | None = None


class GoneColdInfo(GoneCold):
    """The gone-cold rule that decides the verdicts (the decision policy's, the same as
    ``decision.gone_cold``), and the features its days of inactivity are counted from."""

    inactivity_feature: str | None = Field(
        description="The feature counting days since the lead last engaged; None: inactivity is unknown "
        "and only the readiness level applies."
    )
    fallback_feature: str | None = Field(
        description="Stands in where a lead never engaged (its age in days)."
    )


class ModelInfo(BaseModel):
    name: str
    version: str
    source: str
    loaded_at: datetime
    trained_at: str
    dataset: str
    #: what the readiness is the chance of, within ``horizon_days``: "won", "opportunity" or "accepted"
    target: str
    horizon_days: int
    training_window: dict[str, Any]
    threshold: ThresholdInfo
    metrics: dict[str, dict[str, float | None]]
    features: list[str]
    event_types: list[str]
    profile_columns: list[str]
    gone_cold_rule: GoneColdInfo = Field(
        description="The rule that calls a lead gone_cold: the decision policy's (for a model trained "
        "before decision policies, the inactivity rule its serving statistics implied)."
    )
    decision: DecisionPolicy = Field(
        description="What 'ripe' and 'gone cold' mean for this model: the target, how the chance of a win "
        "if handed over now is estimated, the threshold on it, hand-raising events and their rule, and "
        "the gone-cold level, inactivity cutoff and hysteresis."
    )


class Importances(BaseModel):
    """What the report shows about business signals: readable names, the average push with its 95%
    interval, the ROC-AUC drop when shuffled, and historical win rates per level."""

    model_version: str
    measure: str
    n_rows: int
    overall_win_rate: float
    signals: list[SignalSummary]


class CompareIn(BaseModel):
    """Two leads to compare; ``as_of`` applies to either lead that has none (default: now)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "a": EXAMPLE_LEAD,
                    "b": {**EXAMPLE_LEAD, "lead_id": "L-000124", "events": EXAMPLE_LEAD["events"][:1]},
                    "as_of": None,
                }
            ]
        },
    )

    a: LeadIn
    b: LeadIn
    as_of: DateTimeString | None = Field(
        default=None, description=f"Default as_of for leads that have none: {TIME_RULES}"
    )

    @field_validator("as_of")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return as_utc(value)


class ComparedLead(BaseModel):
    lead_id: str
    score: float = Field(ge=0, le=100)
    fit: Literal["A", "B", "C", "D"] | None = Field(examples=["A"])
    interest: Literal[1, 2, 3, 4] | None = Field(examples=[1])
    fit_interest: str | None = Field(examples=["A1"])
    raw_score: float


class SignalDifference(BaseModel):
    """One business signal's share of the difference between the two leads."""

    signal: str
    label: str
    feature: str = Field(description="The signal's feature that differs most; its values are quoted.")
    a_value: float | str | None
    b_value: float | str | None
    difference: float = Field(description="Contributions of lead A minus those of lead B (log-odds).")
    favours: Literal["a", "b"]
    sentence: str


class Comparison(BaseModel):
    """``raw_difference`` = sum of every signal's difference = listed + ``other_difference``, exactly."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model_version": "3",
                    "a": {
                        "lead_id": "L-000123",
                        "score": 41.2,
                        "fit": "B",
                        "interest": 1,
                        "fit_interest": "B1",
                        "raw_score": -0.36,
                    },
                    "b": {
                        "lead_id": "L-000124",
                        "score": 6.3,
                        "fit": "B",
                        "interest": 4,
                        "fit_interest": "B4",
                        "raw_score": -2.7,
                    },
                    "higher": "a",
                    "raw_difference": 2.34,
                    "signals_for": [
                        {
                            "signal": "pricing_page_view",
                            "label": "Pricing page view",
                            "feature": "pricing_page_view_count_30d",
                            "a_value": 1.0,
                            "b_value": 0.0,
                            "difference": 1.1,
                            "favours": "a",
                            "sentence": "Pricing page view: lead A 1 'pricing page view' event in the last "
                            "30 days; lead B no 'pricing page view' in the last 30 days. This favours "
                            "lead A, 47% of the difference.",
                        }
                    ],
                    "signals_against": [],
                    "other_difference": 1.24,
                    "summary": "Lead A scores higher than lead B (41.2 vs 6.3), mostly because of: "
                    "Pricing page view.",
                }
            ]
        }
    )

    model_version: str
    a: ComparedLead
    b: ComparedLead
    higher: Literal["a", "b"] | None = Field(description="None when both score the same.")
    raw_difference: float = Field(description="Raw score of lead A minus lead B (log-odds).")
    signals_for: list[SignalDifference] = Field(
        description="Signals favouring the higher lead, largest first."
    )
    signals_against: list[SignalDifference] = Field(
        description="Signals favouring the lower lead despite its lower score, largest first."
    )
    other_difference: float = Field(description="Sum of the differences of the signals not listed.")
    summary: str


class Health(BaseModel):
    status: str
    model_version: str | None = None


class WorkerOut(BaseModel):
    """One worker process of the server after a reload."""

    pid: int
    model_version: str | None
    switched: bool
    error: str | None = None


class ReloadOut(BaseModel):
    previous_version: str | None
    model_version: str
    source: str
    workers: list[WorkerOut] = Field(
        default_factory=list, description="Every worker of the server and whether it switched."
    )

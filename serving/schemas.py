"""Request and response bodies of the scoring API, named by role.

A lead's own schema (``LeadIn``, ``EventIn``) lives in ``training.data.live``: the API, the MLflow pyfunc
and batch scoring share it. Here are the API's envelopes around it and its answers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from training.data.live import EXAMPLE_LEAD, TIME_RULES, DateTimeString, LeadIn, as_utc


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


class Reason(BaseModel):
    """A signal pushing the readiness up (positive contribution) or down (negative)."""

    feature: str
    signal: str = Field(description="The business signal: an event type or a profile field.")
    value: float | str | None = Field(description="The feature's value for this lead.")
    contribution: float = Field(description="Exact additive contribution to the raw score (log-odds).")
    sentence: str


class Explanation(BaseModel):
    """``base_value + sum(all feature contributions) == raw_score``; the listed reasons are the largest."""

    raw_score: float
    base_value: float
    positive: list[Reason]
    negative: list[Reason]
    other_contributions: float = Field(description="Sum of the contributions not listed as reasons.")


class RipeningStep(BaseModel):
    """A signal ripe leads typically show and this lead lacks, with the score it would have with it."""

    signal: str
    window_days: int
    current_count: int
    typical_count: int
    add_events: int
    score_if_added: float = Field(description="Score recomputed by the model with these events added.")
    ripe_if_added: bool
    sentence: str


class ToRipen(BaseModel):
    steps: list[RipeningStep]
    score_if_all_added: float | None
    ripe_if_all_added: bool | None
    estimated_days_to_ripeness: float | Literal["unknown"]
    estimate_basis: str
    share_of_similar_that_ripened: float | None = Field(
        default=None,
        description="Share of historical leads with a similar score that later crossed the threshold.",
    )


class GoneColdRule(BaseModel):
    """The inactivity rule derived from the training data, and where this lead stands against it."""

    available: bool
    min_days_inactive: float | None
    days_inactive: float | None
    ripen_rate_beyond: float | None
    rule: str


class Warning(BaseModel):
    code: Literal[
        "unknown_event_types",
        "events_after_as_of",
        "events_before_created_at",
        "unseen_profile_values",
        "unknown_profile_fields",
    ]
    message: str
    count: int


class LeadScore(BaseModel):
    """The answer for one lead."""

    lead_id: str
    as_of: datetime
    model_version: str
    score: float = Field(
        ge=0, le=100, description="Calibrated probability of a win within the horizon, x100."
    )
    readiness: float = Field(ge=0, le=1)
    grade: Literal["A", "B", "C", "D"]
    percentile: float = Field(description="Share of the training population scoring at or below this lead.")
    threshold_score: float = Field(description="The handover threshold on the 0-100 scale.")
    verdict: Literal["ripe", "too_green", "gone_cold"]
    handover: bool
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


class ModelInfo(BaseModel):
    name: str
    version: str
    source: str
    loaded_at: datetime
    trained_at: str
    dataset: str
    horizon_days: int
    training_window: dict[str, Any]
    threshold: ThresholdInfo
    metrics: dict[str, dict[str, float]]
    features: list[str]
    event_types: list[str]
    profile_columns: list[str]
    gone_cold_rule: dict[str, Any]


class FeatureImportance(BaseModel):
    feature: str
    importance: float


class SignalImportance(BaseModel):
    signal: str
    importance: float = Field(description="Share of the model's total split gain (all signals sum to 1).")
    features: list[FeatureImportance]


class Importances(BaseModel):
    model_version: str
    measure: str
    signals: list[SignalImportance]


class Health(BaseModel):
    status: str
    model_version: str | None = None


class ReloadOut(BaseModel):
    previous_version: str | None
    model_version: str
    source: str

"""Request and response bodies of the scoring API, named by role."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

ProfileValue = str | float | int | bool | None

_EXAMPLE_LEAD: dict[str, Any] = {
    "lead_id": "L-000123",
    "created_at": "2024-03-01T09:00:00Z",
    "as_of": "2024-04-15T12:00:00Z",
    "profile": {"source": "webinar", "industry": "software", "company_size": 120},
    "events": [
        {"occurred_at": "2024-03-02T10:00:00Z", "event_type": "email_open"},
        {"occurred_at": "2024-03-20T15:30:00Z", "event_type": "webinar_attended"},
        {"occurred_at": "2024-04-12T08:10:00Z", "event_type": "pricing_page_view"},
    ],
}


def _as_utc(value: datetime | None) -> datetime | None:
    """Timestamps without a zone are taken as UTC (as in the data contract)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class EventIn(BaseModel):
    """One engagement of the lead. Extra fields are accepted (CRMs send them) and ignored by the model."""

    model_config = ConfigDict(extra="allow")

    # No Python validator here (unlike the lead's own times): one runs per event, tens of thousands per
    # batch. A time without a zone stays naive; the scorer takes it as UTC when it builds the batch.
    occurred_at: datetime = Field(description="When it happened (ISO 8601; no zone means UTC).")
    event_type: str = Field(
        min_length=1, max_length=100, description="Open vocabulary, e.g. webinar_attended."
    )


class LeadIn(BaseModel):
    """One live lead: everything needed to score it is in the request (the service is stateless)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE_LEAD]})

    lead_id: str = Field(min_length=1, max_length=200, description="Echoed back; never logged.")
    created_at: datetime | None = Field(default=None, description="When the lead was created (optional).")
    as_of: datetime | None = Field(
        default=None, description="Score the lead as seen at this time (default: now)."
    )
    profile: dict[str, ProfileValue] = Field(
        default_factory=dict, description="Fit attributes by field name."
    )
    events: list[EventIn] = Field(default_factory=list, max_length=100_000)

    @field_validator("created_at", "as_of")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return _as_utc(value)

    @field_validator("as_of")
    @classmethod
    def _as_of_not_before_creation(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        # A field validator (not a model validator) so that the 422 names the field: body.as_of.
        created = info.data.get("created_at")
        if value is not None and created is not None and value < created:
            raise ValueError(
                f"as_of ({value.isoformat()}) is before the lead's created_at ({created.isoformat()})"
            )
        return value


class BatchIn(BaseModel):
    """Several leads scored in one vectorised call."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"leads": [_EXAMPLE_LEAD], "as_of": None}]}
    )

    leads: list[LeadIn] = Field(min_length=1)
    as_of: AwareDatetime | None = Field(default=None, description="Default as_of for leads that have none.")


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
        "unknown_event_types", "events_after_as_of", "unseen_profile_values", "unknown_profile_fields"
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

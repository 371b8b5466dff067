"""Request and response bodies of the scoring API, named by role."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

#: The times the pipeline can hold (int64 nanoseconds); ``serving.request_arrays`` checks them.
SUPPORTED_TIME_RANGE = "1677-09-21T00:12:44Z to 2262-04-11T23:47:16Z"
_TIME_RULES = (
    f"ISO 8601 date-time string (no zone means UTC) from {SUPPORTED_TIME_RANGE}; numbers (epochs) are "
    "refused, since seconds and milliseconds cannot be told apart."
)


def _not_a_number(value: Any) -> Any:
    """Refuse numeric epochs where a date-time is expected: ``253402300800`` would silently be taken as
    milliseconds (1978) or seconds (9999) depending on its size."""
    if isinstance(value, int | float):
        raise PydanticCustomError(
            "datetime_type", "Input should be an ISO 8601 date-time string, not a number"
        )
    return value


_SURROGATE = re.compile("[\ud800-\udfff]")


def has_surrogate(text: str) -> bool:
    """True when ``text`` holds a lone UTF-16 surrogate (valid in a Python str, not in UTF-8 or JSON)."""
    return not text.isascii() and _SURROGATE.search(text) is not None


#: A date-time that must arrive as a string (or a datetime from Python callers).
DateTimeString = Annotated[datetime, BeforeValidator(_not_a_number)]
#: Finite numbers only: JSON has no NaN or Infinity, yet Python's parser accepts them (and 1e400 is inf).
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
ProfileValue = str | FiniteFloat | int | bool | None

_EXAMPLE_LEAD: dict[str, Any] = {
    "lead_id": "L-000123",
    "created_at": "2024-03-01T09:00:00Z",
    "as_of": "2024-04-15T12:00:00Z",
    # Values the default (simulated) model knows, so the example scores without warnings.
    "profile": {
        "source": "webinar",
        "industry": "software",
        "company_size": "51-200",
        "role": "manager",
        "country": "US",
        "employees": 120,
    },
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
    occurred_at: DateTimeString = Field(
        description=f"When it happened: {_TIME_RULES} Events before the lead's created_at are ignored "
        "(with a warning naming them)."
    )
    event_type: str = Field(
        min_length=1, max_length=100, description="Open vocabulary, e.g. webinar_attended."
    )


class LeadIn(BaseModel):
    """One live lead: everything needed to score it is in the request (the service is stateless)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE_LEAD]})

    lead_id: str = Field(min_length=1, max_length=200, description="Echoed back; never logged.")
    created_at: DateTimeString | None = Field(
        default=None, description=f"When the lead was created (optional): {_TIME_RULES}"
    )
    as_of: DateTimeString | None = Field(
        default=None,
        description=f"Score the lead as seen at this time (default: now): {_TIME_RULES} "
        "Must not be before created_at.",
    )
    profile: dict[str, ProfileValue] = Field(
        default_factory=dict,
        description="Fit attributes by field name: strings, finite numbers, booleans or null "
        "(NaN and Infinity are refused).",
    )
    events: list[EventIn] = Field(default_factory=list, max_length=100_000)

    @field_validator("created_at", "as_of")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return _as_utc(value)

    @field_validator("profile")
    @classmethod
    def _encodable_profile(cls, profile: dict[str, ProfileValue]) -> dict[str, ProfileValue]:
        # A lone UTF-16 surrogate ("\ud800") is valid in Python's JSON parser but not in UTF-8: refuse
        # it here, naming the field but never the value.
        for key, value in profile.items():
            if has_surrogate(key):
                raise PydanticCustomError("string_unicode", "a profile field name is not valid Unicode")
            if isinstance(value, str) and has_surrogate(value):
                message = "the value of profile field '{field}' is not valid Unicode"
                raise PydanticCustomError("string_unicode", message, {"field": key})
        return profile

    @field_validator("as_of")
    @classmethod
    def _as_of_not_before_creation(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        # A field validator (not a model validator) so that the 422 names the field: body.as_of.
        created = info.data.get("created_at")
        if value is not None and created is not None and value < created:
            raise ValueError("as_of is before the lead's created_at")
        return value


class BatchIn(BaseModel):
    """Several leads scored in one vectorised call."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"leads": [_EXAMPLE_LEAD], "as_of": None}]}
    )

    leads: list[LeadIn] = Field(min_length=1)
    as_of: DateTimeString | None = Field(
        default=None, description=f"Default as_of for leads that have none: {_TIME_RULES}"
    )

    @field_validator("as_of")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        # The same rule as a single lead's as_of: no zone means UTC.
        return _as_utc(value)


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

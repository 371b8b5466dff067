"""Live leads as they arrive for scoring: the one input schema of the API, the MLflow pyfunc and batch
scoring.

``LeadIn`` / ``EventIn`` are the request models of the API (FastAPI validates request bodies with them).
``parse_leads`` turns JSON-like or tabular records (a DataFrame, a CSV payload to ``mlflow models
serve``) into the same models through ``TypeAdapter(list[LeadIn])``, so every way into scoring checks a
lead the same way. ``training.data.live_arrays`` turns the parsed leads into the arrays the features
read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

#: The times the pipeline can hold (int64 nanoseconds); ``training.data.live_arrays`` checks them.
SUPPORTED_TIME_RANGE = "1677-09-21T00:12:44Z to 2262-04-11T23:47:16Z"
TIME_RULES = (
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

#: The example lead of the API docs (OpenAPI).
EXAMPLE_LEAD: dict[str, Any] = {
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


def as_utc(value: datetime | None) -> datetime | None:
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
        description=f"When it happened: {TIME_RULES} Events before the lead's created_at are ignored "
        "(with a warning naming them)."
    )
    event_type: str = Field(
        min_length=1, max_length=100, description="Open vocabulary, e.g. webinar_attended."
    )
    detail: str | None = Field(
        default=None,
        max_length=2000,
        description="What the event was about, where the CRM logs a generic type (a page's URL, a form's "
        "name): the model's detail patterns, if its import had any, name the type from it.",
    )


class LeadIn(BaseModel):
    """One live lead: everything needed to score it is in the request (the service is stateless)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE_LEAD]})

    lead_id: str = Field(min_length=1, max_length=200, description="Echoed back; never logged.")
    created_at: DateTimeString | None = Field(
        default=None, description=f"When the lead was created (optional): {TIME_RULES}"
    )
    as_of: DateTimeString | None = Field(
        default=None,
        description=f"Score the lead as seen at this time (default: now): {TIME_RULES} "
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
        return as_utc(value)

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


#: The one parser of live leads outside the API's request bodies.
LEADS: TypeAdapter[list[LeadIn]] = TypeAdapter(list[LeadIn])
#: Keys of a record that are the lead's own; any other key of a flat record is a profile field.
LEAD_KEYS = frozenset(LeadIn.model_fields)
EVENTS = "events"
PROFILE = "profile"
_TIME_ERRORS = frozenset({"datetime_parsing", "datetime_from_date_parsing", "datetime_type"})


class LeadInputError(ValueError):
    """A lead's value cannot be used; ``loc`` is the field path inside the lead (e.g. ("profile", "size"))."""

    def __init__(self, index: int, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.index = index
        self.loc = loc


def parse_leads(records: Sequence[Mapping[str, Any]] | pd.DataFrame) -> list[LeadIn]:
    """Lead records as validated ``LeadIn`` models, by ``TypeAdapter(list[LeadIn])``.

    Records come in the API's shape (profile fields under ``profile``) or flat, as table rows are
    (profile fields next to ``lead_id``); a DataFrame is one record per row, its missing cells None and
    its ``events`` cells lists or JSON text (what a CSV payload carries). Numeric lead ids (a CSV read
    with defaults) are taken as text. Raises ``ValueError`` naming the record and the field.
    """
    if isinstance(records, pd.DataFrame):
        frame = decode_events_column(records)
        # Missing cells become None rather than NaN, as they would be in parsed JSON.
        frame = frame.astype(object).where(frame.notna(), None)
        rows: Sequence[Mapping[str, Any]] = frame.to_dict(orient="records")  # type: ignore[assignment]
    else:
        rows = records
    shaped = [_lead_shape(row, i) for i, row in enumerate(rows)]
    try:
        return LEADS.validate_python(shaped)
    except ValidationError as error:
        raise ValueError(describe_record_error(error.errors(include_url=False)[0], shaped)) from None


def describe_record_error(detail: ErrorDetails, records: Sequence[Mapping[str, Any]]) -> str:
    """One validation error of ``LEADS`` in words: which record, which field, what is wrong."""
    index, *path = detail["loc"]
    assert isinstance(index, int)
    where = f"record {index}"
    lead_id = records[index].get("lead_id") if index < len(records) else None
    named = f"{where} ({lead_id!r})" if isinstance(lead_id, str) else where
    kind, value = detail["type"], detail.get("input")
    if path == ["lead_id"] and kind == "missing":
        return f"{where}: missing 'lead_id'"
    if len(path) == 1 and kind in _TIME_ERRORS:
        return f"{where}: '{path[0]}' is not an ISO timestamp: {value!r}"
    if path == [EVENTS] and kind == "list_type":
        return f"{where}: 'events' must be a list of events, got {type(value).__name__}"
    if len(path) == 3 and path[0] == EVENTS and kind == "missing":
        return f"{named}: an event lacks '{path[2]}' (event {path[1]})"
    if len(path) == 3 and path[0] == EVENTS and kind in _TIME_ERRORS:
        return f"{where}: event '{path[2]}' is not an ISO timestamp: {value!r} (event {path[1]})"
    if len(path) >= 2 and path[0] == PROFILE:
        # A union's errors come one per member type (profile.size.str, .float, ...): say it once.
        return f"{named}: field 'profile.{path[1]}' must be text, a number, true/false or null"
    field = ".".join(map(str, path))
    message = detail["msg"].removeprefix("Value error, ")
    return f"{named}: field '{field}': {message[:1].lower()}{message[1:]}"


def describe_lead_error(error: LeadInputError, leads: Sequence[LeadIn]) -> str:
    """A ``LeadInputError`` (a value the model cannot use) named like ``describe_record_error`` does."""
    where = f"record {error.index} ({leads[error.index].lead_id!r})"
    if len(error.loc) == 2 and error.loc[0] == PROFILE:
        return f"record {error.index}: field '{error.loc[1]}' is not a number ({error})"
    return f"{where}: field '{'.'.join(map(str, error.loc))}': {error}"


def _lead_shape(record: Mapping[str, Any], index: int) -> dict[str, Any]:
    """A record in ``LeadIn``'s shape: flat profile fields (and a ``profile`` given as JSON text) moved
    under ``profile``, numpy scalars as Python values, numeric ids as text."""
    if not isinstance(record, Mapping):
        raise ValueError(f"record {index}: must be an object of lead fields, got {type(record).__name__}")
    shaped: dict[str, Any] = {}
    profile: dict[str, Any] = {}
    for key, value in record.items():
        if key in LEAD_KEYS:
            shaped[str(key)] = value
        else:
            profile[str(key)] = _plain(value)
    nested = shaped.get(PROFILE)
    if isinstance(nested, str):
        try:
            nested = json.loads(nested)
        except json.JSONDecodeError as error:
            raise ValueError(f"record {index}: profile is not valid JSON ({error.msg})") from None
    if isinstance(nested, Mapping):
        # Nested fields win over flat ones of the same name, as the API's shape is the reference.
        profile.update({str(key): _plain(value) for key, value in nested.items()})
    elif nested is not None:
        raise ValueError(f"record {index}: profile must be an object of field values")
    shaped[PROFILE] = profile
    lead_id = _plain(shaped.get("lead_id"))
    if isinstance(lead_id, int | float) and not isinstance(lead_id, bool):
        shaped["lead_id"] = str(lead_id)
    if shaped.get(EVENTS) is None:
        shaped[EVENTS] = []
    return shaped


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def decode_events_column(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose ``events`` cells are all lists: JSON strings decoded, missing -> ``[]``.

    Raises ``ValueError`` naming the row and lead of an events cell that is not a list or valid JSON.
    """
    if EVENTS not in frame.columns:
        return frame
    decoded = frame.copy()
    lead_ids = frame["lead_id"].tolist() if "lead_id" in frame.columns else [None] * len(frame)
    cells = frame[EVENTS].tolist()
    # Parsing nested JSON is per cell by nature; this runs once per request, not per feature.
    decoded[EVENTS] = [_decode_events_cell(cells[row], row, lead_ids[row]) for row in range(len(cells))]
    return decoded


def _decode_events_cell(cell: Any, row: int, lead_id: Any) -> list[Any]:
    where = f"row {row} (lead_id {lead_id!r}), column 'events'"
    if cell is None or (isinstance(cell, float) and np.isnan(cell)):
        return []
    if isinstance(cell, str):
        if not cell.strip():
            return []
        try:
            cell = json.loads(cell)
        except json.JSONDecodeError as error:
            raise ValueError(f"{where}: events is not valid JSON ({error.msg} at char {error.pos})") from None
    if isinstance(cell, np.ndarray):
        cell = cell.tolist()
    if not isinstance(cell, list):
        raise ValueError(
            f"{where}: events must be a list of {{occurred_at, event_type}} objects, "
            f"got {type(cell).__name__}"
        )
    return cell

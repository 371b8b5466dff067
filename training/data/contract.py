"""The data contract: the three tables leadripe works on, and the dataset that bundles them.

Every table that enters the pipeline (from the simulator, from a CRM export through a mapping, or
from a file a user hands us) is validated into exactly these shapes (see ``training.data.validation``):

All timestamps are ``datetime64[ns, UTC]``; input without a zone is read as UTC.

leads     one row per lead, sorted by ``created_at`` (or ``row_order``): ``lead_id`` (str, unique),
          ``created_at`` (may be all missing when the export has no timestamps, see ``TimeBasis``),
          then profile ("fit") attributes: categoricals as pandas ``category``, numerics as
          ``float64``. Aggregated activity columns (counts such as "pages viewed") are numeric
          profile columns that the dataset's metadata lists under ``activity_columns``.
events    optional; one row per engagement, in input order: ``lead_id``, ``occurred_at``,
          ``event_type`` (``category``, open vocabulary), any extra fields.
outcomes  one row per lead, in the leads' order: ``lead_id``, ``status`` (``category`` of ``won`` /
          ``lost`` / ``open``), ``handed_over_at`` and ``closed_at`` (optional), and, only when the
          input has them, ``opportunity_at`` (an opportunity was created) and ``accepted_at`` (sales
          accepted the lead): the dates the training targets other than ``won`` are learnt from.
profile history  optional: field changes as CRMs export them (Salesforce/HubSpot field history), one
          row per change: ``lead_id``, ``field`` (a profile column), ``old_value``, ``new_value`` (text;
          missing = empty) and ``changed_at``. Snapshots read a field that has history as of their
          cutoff (``training.features.profile_asof``): the ``new_value`` of its last change before the
          cutoff, or the ``old_value`` of its first change when all changes come later; leads without
          history for a field keep the leads table's value. Checked by ``training.data.profile_history``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path

import pandas as pd

LEAD_ID = "lead_id"
CREATED_AT = "created_at"
OCCURRED_AT = "occurred_at"
EVENT_TYPE = "event_type"
STATUS = "status"
HANDED_OVER_AT = "handed_over_at"
CLOSED_AT = "closed_at"
#: Position of a lead in an export without timestamps; the time axis of ``TimeBasis.ROW_ORDER``.
ROW_ORDER = "row_order"
#: Columns of a profile history table (one row per field change).
HISTORY_FIELD = "field"
OLD_VALUE = "old_value"
NEW_VALUE = "new_value"
CHANGED_AT = "changed_at"
HISTORY_REQUIRED = (LEAD_ID, HISTORY_FIELD, OLD_VALUE, NEW_VALUE, CHANGED_AT)
#: The optional profile history's table name (``profile_history.parquet`` / ``.csv`` in a dataset folder).
PROFILE_HISTORY = "profile_history"
LEAD_REQUIRED = (LEAD_ID,)
EVENT_REQUIRED = (LEAD_ID, OCCURRED_AT, EVENT_TYPE)
OUTCOME_REQUIRED = (LEAD_ID, STATUS)
OUTCOME_TIMESTAMPS = (HANDED_OVER_AT, CLOSED_AT)
#: Optional outcome dates of the milestones a model may be trained to predict instead of a win
#: (``training.features.targets``). Kept apart from ``OUTCOME_TIMESTAMPS``: they are in the outcomes
#: table only when the input has them, so that "no such column" stays distinguishable from "empty".
OPPORTUNITY_AT = "opportunity_at"
ACCEPTED_AT = "accepted_at"
TARGET_DATES = (OPPORTUNITY_AT, ACCEPTED_AT)

# File names inside a dataset directory, in the order they are looked for.
TABLE_NAMES = ("leads", "events", "outcomes")
TABLE_SUFFIXES = (".parquet", ".csv")
METADATA_FILE = "dataset.json"
REJECTS_FILE = "rejects.csv"
GROUND_TRUTH_FILE = "ground_truth.parquet"


class Outcome(StrEnum):
    """What became of a lead."""

    WON = "won"
    LOST = "lost"
    OPEN = "open"


class TimeBasis(StrEnum):
    """What orders leads in time.

    ``timestamps``: ``created_at`` and event/outcome timestamps are real; snapshots, horizons and the
    time-based split use them. ``row_order``: the export has no usable timestamps but its rows are in
    time order (``ROW_ORDER`` holds the position); the split uses row order and horizons cannot be
    checked, so each lead gives one snapshot labelled by its final outcome.
    """

    TIMESTAMPS = "timestamps"
    ROW_ORDER = "row_order"


class KnownAt(StrEnum):
    """When a lead column's value is known.

    ``creation``: when the lead is created (or by the cutoff), so it may be a feature. ``after_contact``:
    written by sales after the first contact (a status, a quality grade, "last activity"): never a
    feature. ``unknown``: used, but the leakage audit names it so that someone finds out.
    """

    CREATION = "creation"
    AFTER_CONTACT = "after_contact"
    UNKNOWN = "unknown"


@dataclass
class DatasetMetadata:
    """What the tables alone cannot say; stored as ``dataset.json`` beside them."""

    name: str
    time_basis: TimeBasis = TimeBasis.TIMESTAMPS
    #: The end of observation: nothing after it is known. Censoring is judged against it.
    observed_until: pd.Timestamp | None = None
    categorical_columns: list[str] = field(default_factory=list)
    numeric_columns: list[str] = field(default_factory=list)
    #: Numeric columns that aggregate engagement (counts, durations) rather than describe fit.
    activity_columns: list[str] = field(default_factory=list)
    source: str = ""
    #: column -> when it is known; columns not listed are known at creation (see ``KnownAt``)
    known_at: dict[str, KnownAt] = field(default_factory=dict)
    #: lead columns kept in the tables but never used as features (the mapping's ``exclude_columns``)
    excluded_columns: list[str] = field(default_factory=list)
    #: the export's event type names -> the imported ones (the mapping's ``event_type_values``), so that
    #: the scoring API takes a CRM's own names ("Solicitud de demo") as the model's ("demo_request")
    event_type_aliases: dict[str, str] = field(default_factory=dict)
    #: event types the import left out (the mapping's ``skip_types``, as written and as renamed): the
    #: scoring API ignores them too, without calling them unknown
    skipped_event_types: list[str] = field(default_factory=list)
    #: ``detail_types`` patterns -> event type, in order (``training.data.event_types``): the API types a
    #: request's events that carry a ``detail`` the same way
    event_detail_types: dict[str, str] = field(default_factory=dict)
    #: how the import settled events before their lead's creation (the mapping's ``before_created``): with
    #: "creation" the API counts them at the creation too, instead of dropping them
    events_before_created: str = "reject"

    def to_json(self) -> str:
        raw = asdict(self)
        raw["time_basis"] = str(self.time_basis)
        raw["known_at"] = {column: str(when) for column, when in self.known_at.items()}
        raw["observed_until"] = self.observed_until.isoformat() if self.observed_until is not None else None
        return json.dumps(raw, indent=2)

    @classmethod
    def from_json(cls, text: str) -> DatasetMetadata:
        raw = json.loads(text)
        raw["time_basis"] = TimeBasis(raw.get("time_basis", TimeBasis.TIMESTAMPS))
        until = raw.get("observed_until")
        raw["observed_until"] = pd.Timestamp(until) if until else None
        known = raw.get("known_at") or {}
        if not isinstance(known, dict):
            raise ValueError(f"{METADATA_FILE}: known_at must map column names to when they are known")
        try:
            raw["known_at"] = {str(column): KnownAt(when) for column, when in known.items()}
        except ValueError:
            allowed = ", ".join(repr(str(k)) for k in KnownAt)
            raise ValueError(
                f"{METADATA_FILE}: known_at values must be one of {allowed}, got {known}"
            ) from None
        return cls(**raw)

    def columns_known(self, when: KnownAt) -> list[str]:
        """Profile columns declared known at ``when`` (``creation`` includes undeclared columns)."""
        declared = {column: self.known_at.get(column, KnownAt.CREATION) for column in self.profile_columns}
        return [column for column, known in declared.items() if known == when]

    @property
    def profile_columns(self) -> list[str]:
        return [*self.categorical_columns, *self.numeric_columns]


@dataclass
class LeadDataset:
    """Validated leads, events and outcomes, plus their metadata."""

    leads: pd.DataFrame
    events: pd.DataFrame
    outcomes: pd.DataFrame
    metadata: DatasetMetadata
    #: optional field-change history of the leads' profile columns (see the module docstring)
    profile_history: pd.DataFrame | None = None

    @property
    def has_events(self) -> bool:
        return len(self.events) > 0

    def save(self, directory: Path) -> None:
        """Write the tables as Parquet and the metadata as JSON, atomically per file."""
        directory.mkdir(parents=True, exist_ok=True)
        for name, frame in (("leads", self.leads), ("events", self.events), ("outcomes", self.outcomes)):
            _atomic_parquet(frame, directory / f"{name}.parquet")
        history_path = directory / f"{PROFILE_HISTORY}.parquet"
        if self.profile_history is not None:
            _atomic_parquet(self.profile_history, history_path)
        else:
            history_path.unlink(missing_ok=True)  # a history left from an earlier save is not this dataset's
        tmp = directory / f".{METADATA_FILE}.tmp"
        tmp.write_text(self.metadata.to_json())
        tmp.replace(directory / METADATA_FILE)


def _atomic_parquet(frame: pd.DataFrame, path: Path) -> None:
    # Write next to the target and rename, so that a crash never leaves a half-written table.
    tmp = path.with_name(f".{path.name}.tmp")
    frame.to_parquet(tmp, index=False)
    tmp.replace(path)


def empty_events() -> pd.DataFrame:
    """An events table with no rows but the contract's columns and dtypes."""
    return pd.DataFrame(
        {
            LEAD_ID: pd.Series(dtype="str"),
            OCCURRED_AT: pd.Series(dtype="datetime64[ns, UTC]"),
            EVENT_TYPE: pd.Series(dtype="category"),
        }
    )

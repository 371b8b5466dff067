"""The mapping config: a declarative TOML description of how a CRM export maps onto the data contract.

``load_mapping`` reads and checks the file; ``training.data.mapping`` applies it. The format is documented,
with an annotated example, in ``data/mappings/README.md``. Every column name in a config is the
column's name in the export, as the user sees it; ``rename`` only decides the name it gets in the
imported tables. Unknown keys are refused so that a typo never silently changes what is imported.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import pandas as pd

from training.data.contract import (
    CLOSED_AT,
    CREATED_AT,
    EVENT_TYPE,
    HANDED_OVER_AT,
    LEAD_ID,
    OCCURRED_AT,
    ROW_ORDER,
    STATUS,
    Outcome,
)

#: Names that the contract reserves; a renamed profile column may not take one of them.
RESERVED_NAMES = frozenset(
    {LEAD_ID, CREATED_AT, OCCURRED_AT, EVENT_TYPE, STATUS, HANDED_OVER_AT, CLOSED_AT, ROW_ORDER}
)
#: The only way to generate lead ids for exports without one.
GENERATE_FROM_ROW_NUMBER = "row_number"
#: ``observed_until = "max"``: the latest timestamp seen in any mapped file.
OBSERVED_UNTIL_MAX: Final = "max"


class MappingConfigError(ValueError):
    """A mapping config is unreadable, incomplete or inconsistent (with the export it describes)."""


@dataclass(frozen=True)
class SourceFile:
    """Where one table of the export comes from and how to read it."""

    file: str
    delimiter: str | None = None
    encoding: str = "utf-8"
    table: str | None = None


@dataclass(frozen=True)
class ColumnRules:
    """Value cleaning shared by every file section: missing markers and per-column value maps.

    ``missing`` lists values meaning "missing" in any mapped column of the file; ``values`` maps, per
    source column, raw values to replacements ("" = missing). Maps are applied before ``missing``.
    """

    missing: tuple[str, ...] = ()
    values: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class LeadsMapping:
    """The ``[leads]`` section: one row per lead."""

    source: SourceFile
    #: Source column holding the lead id; ``None`` when ids are generated (see ``lead_id_prefix``).
    lead_id: str | None
    #: Generated ids are ``prefix + row number`` (1-based data row of the file).
    generate_lead_id: bool = False
    lead_id_prefix: str = ""
    #: Source column of ``created_at``; ``None`` means the export has no timestamps (row order).
    created_at: str | None = None
    date_format: str | None = None
    categorical: tuple[str, ...] = ()
    numeric: tuple[str, ...] = ()
    activity: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()
    #: What to do with columns the config does not mention: refuse (default) or drop with a warning.
    other_columns: Literal["error", "drop"] = "error"
    rename: dict[str, str] = field(default_factory=dict)
    rules: ColumnRules = field(default_factory=ColumnRules)


@dataclass(frozen=True)
class OutcomeMapping:
    """The ``[outcome]`` section: what became of each lead.

    Either columns of the leads file (``source`` is ``None``) or a second file joined on
    ``lead_id``. The status is a constant (``status``: every lead in that file has it, e.g. a file
    of won deals) or a column with a value map (``status_column`` + ``status_values``). With a
    joined file, leads that do not appear in it get ``absent``.
    """

    source: SourceFile | None = None
    lead_id: str | None = None
    status: Outcome | None = None
    status_column: str | None = None
    status_values: dict[str, str] = field(default_factory=dict)
    closed_at: str | None = None
    handed_over_at: str | None = None
    date_format: str | None = None
    absent: Outcome | None = None
    rules: ColumnRules = field(default_factory=ColumnRules)


@dataclass(frozen=True)
class EventsMapping:
    """The optional ``[events]`` section: an engagement log, one row per event."""

    source: SourceFile
    lead_id: str
    occurred_at: str
    date_format: str | None = None
    event_type: str | None = None
    event_type_column: str | None = None
    event_type_values: dict[str, str] = field(default_factory=dict)
    extra: tuple[str, ...] = ()
    rename: dict[str, str] = field(default_factory=dict)
    rules: ColumnRules = field(default_factory=ColumnRules)


@dataclass(frozen=True)
class MappingConfig:
    """A parsed, checked mapping config."""

    path: Path
    name: str
    description: str
    #: Directory the ``file`` settings are relative to (already resolved against the config's folder).
    root: Path
    leads: LeadsMapping
    outcome: OutcomeMapping
    events: EventsMapping | None = None
    #: An explicit UTC timestamp, or ``"max"``: the latest timestamp in the imported tables.
    observed_until: pd.Timestamp | Literal["max"] = OBSERVED_UNTIL_MAX

    @property
    def has_timestamps(self) -> bool:
        return self.leads.created_at is not None


def load_mapping(path: Path) -> MappingConfig:
    """Read a mapping config (TOML) and check it; errors name the file and the offending key."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MappingConfigError(f"mapping config {path} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise MappingConfigError(f"{path}: not valid TOML: {error}") from None
    top = _Section(path, "", raw)
    name = top.string("name", required=True)
    description = top.string("description") or ""
    root = top.string("root") or "."
    observed_until = _observed_until(top)
    leads = _leads(top.section("leads", required=True))
    outcome = _outcome(top.section("outcome", required=True))
    events_section = top.section("events")
    events = _events(events_section) if events_section is not None else None
    top.finish()
    assert name is not None and leads is not None
    config = MappingConfig(
        path=path,
        name=name,
        description=description,
        root=(path.parent / root).resolve(),
        leads=leads,
        outcome=outcome,
        events=events,
        observed_until=observed_until,
    )
    _check_consistency(config)
    return config


class _Section:
    """One TOML table being read: typed getters that remember which keys were used."""

    def __init__(self, path: Path, prefix: str, raw: dict[str, Any]) -> None:
        self.path = path
        self.prefix = prefix
        self.raw = raw
        self.used: set[str] = set()

    def where(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def error(self, key: str, problem: str) -> MappingConfigError:
        return MappingConfigError(f"{self.path}: key '{self.where(key)}': {problem}")

    def get(self, key: str, required: bool = False) -> Any:
        self.used.add(key)
        if key not in self.raw:
            if required:
                raise self.error(key, "is required but missing")
            return None
        return self.raw[key]

    def string(self, key: str, required: bool = False) -> str | None:
        value = self.get(key, required)
        if value is not None and not isinstance(value, str):
            raise self.error(key, f"must be a string, not {value!r}")
        if value == "" and required:
            raise self.error(key, "must not be empty")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.error(key, "must be a list of strings")
        duplicates = sorted({item for item in value if value.count(item) > 1})
        if duplicates:
            raise self.error(key, f"lists {duplicates} more than once")
        return tuple(value)

    def string_map(self, key: str) -> dict[str, str]:
        value = self.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error(key, 'must be a table of "value" = "replacement" pairs')
        for item, replacement in value.items():
            if not isinstance(replacement, str):
                raise self.error(
                    f"{key}.{item}", f'must be a string (use "" for missing), not {replacement!r}'
                )
        return dict(value)

    def section(self, key: str, required: bool = False) -> _Section | None:
        value = self.get(key, required)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.error(key, "must be a table")
        return _Section(self.path, self.where(key), value)

    def finish(self) -> None:
        unknown = sorted(set(self.raw) - self.used)
        if unknown:
            raise self.error(unknown[0], f"is not a known setting (allowed here: {sorted(self.used)})")


def _observed_until(top: _Section) -> pd.Timestamp | Literal["max"]:
    value = top.get("observed_until")
    if value is None or value == OBSERVED_UNTIL_MAX:
        return OBSERVED_UNTIL_MAX
    # TOML dates and datetimes arrive as datetime objects; strings must parse as timestamps.
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise top.error("observed_until", f'must be "max" or a date/timestamp, not {value!r}') from None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _source(section: _Section) -> SourceFile:
    file = section.string("file", required=True)
    delimiter = section.string("delimiter")
    if delimiter is not None and len(delimiter) != 1:
        raise section.error("delimiter", f"must be a single character, not {delimiter!r}")
    assert file is not None
    return SourceFile(
        file=file,
        delimiter=delimiter,
        encoding=section.string("encoding") or "utf-8",
        table=section.string("table"),
    )


def _rules(section: _Section) -> ColumnRules:
    values_section = section.section("values")
    values: dict[str, dict[str, str]] = {}
    if values_section is not None:
        for column in values_section.raw:
            values[column] = values_section.string_map(column)
    return ColumnRules(missing=section.strings("missing"), values=values)


def _leads(section: _Section | None) -> LeadsMapping:
    assert section is not None
    source = _source(section)
    lead_id = section.get("lead_id")
    generate, prefix = False, ""
    if lead_id is None:
        raise section.error(
            "lead_id",
            'is required: the id column\'s name, or { generate = "row_number" } for exports without ids',
        )
    if isinstance(lead_id, dict):
        generator = _Section(section.path, section.where("lead_id"), lead_id)
        how = generator.string("generate", required=True)
        if how != GENERATE_FROM_ROW_NUMBER:
            raise generator.error("generate", f'must be "{GENERATE_FROM_ROW_NUMBER}", not {how!r}')
        prefix = generator.string("prefix") or ""
        generator.finish()
        generate, lead_id = True, None
    elif not isinstance(lead_id, str) or not lead_id:
        raise section.error("lead_id", 'must be a column name or { generate = "row_number" }')
    other = section.string("other_columns") or "error"
    if other not in ("error", "drop"):
        raise section.error("other_columns", f'must be "error" or "drop", not {other!r}')
    leads = LeadsMapping(
        source=source,
        lead_id=lead_id,
        generate_lead_id=generate,
        lead_id_prefix=prefix,
        created_at=section.string("created_at"),
        date_format=section.string("date_format"),
        categorical=section.strings("categorical"),
        numeric=section.strings("numeric"),
        activity=section.strings("activity"),
        drop=section.strings("drop"),
        other_columns="drop" if other == "drop" else "error",
        rename=section.string_map("rename"),
        rules=_rules(section),
    )
    section.finish()
    return leads


def _outcome_value(section: _Section, key: str, value: str, allowed: tuple[str, ...]) -> Outcome:
    if value not in allowed:
        raise section.error(key, f"must be one of {list(allowed)}, not {value!r}")
    return Outcome(value)


def _outcome(section: _Section | None) -> OutcomeMapping:
    assert section is not None
    has_file = "file" in section.raw
    source = _source(section) if has_file else None
    for key in ("delimiter", "encoding", "table"):
        if key in section.raw and not has_file:
            raise section.error(key, "only applies together with 'file' (a separate outcome file)")
    lead_id = section.string("lead_id", required=has_file)
    if lead_id is not None and not has_file:
        raise section.error("lead_id", "only applies with 'file': without it the leads file's id is used")
    status = section.string("status")
    status_column = section.string("status_column")
    if (status is None) == (status_column is None):
        raise section.error("status", "set exactly one of 'status' (a constant) or 'status_column'")
    all_statuses = tuple(str(outcome) for outcome in Outcome)
    status_values = section.string_map("status_values")
    if status_values and status_column is None:
        raise section.error("status_values", "only applies together with 'status_column'")
    for raw_value, mapped in status_values.items():
        if mapped != "":
            _outcome_value(section, f"status_values.{raw_value}", mapped, all_statuses)
    absent = section.string("absent")
    if absent is not None and not has_file:
        raise section.error("absent", "only applies with 'file': every lead of the leads file has a status")
    outcome = OutcomeMapping(
        source=source,
        lead_id=lead_id,
        status=_outcome_value(section, "status", status, all_statuses) if status is not None else None,
        status_column=status_column,
        status_values=status_values,
        closed_at=section.string("closed_at"),
        handed_over_at=section.string("handed_over_at"),
        date_format=section.string("date_format"),
        # Default "open": a lead missing from a file of won deals was not necessarily lost; snapshot
        # censoring handles the horizon instead of inventing negatives.
        absent=_outcome_value(section, "absent", absent or "open", ("open", "lost")) if has_file else None,
        rules=_rules(section),
    )
    section.finish()
    return outcome


def _events(section: _Section) -> EventsMapping:
    source = _source(section)
    event_type = section.string("event_type")
    event_type_column = section.string("event_type_column")
    if (event_type is None) == (event_type_column is None):
        raise section.error(
            "event_type", "set exactly one of 'event_type' (a constant) or 'event_type_column'"
        )
    event_type_values = section.string_map("event_type_values")
    if event_type_values and event_type_column is None:
        raise section.error("event_type_values", "only applies together with 'event_type_column'")
    lead_id = section.string("lead_id", required=True)
    occurred_at = section.string("occurred_at", required=True)
    assert lead_id is not None and occurred_at is not None
    events = EventsMapping(
        source=source,
        lead_id=lead_id,
        occurred_at=occurred_at,
        date_format=section.string("date_format"),
        event_type=event_type,
        event_type_column=event_type_column,
        event_type_values=event_type_values,
        extra=section.strings("extra"),
        rename=section.string_map("rename"),
        rules=_rules(section),
    )
    section.finish()
    return events


def _check_consistency(config: MappingConfig) -> None:
    """Checks that span keys: a column used twice, a rename onto a reserved name, and so on."""
    leads = config.leads

    def fail(key: str, problem: str) -> MappingConfigError:
        return MappingConfigError(f"{config.path}: key '{key}': {problem}")

    roles: dict[str, str] = {}
    for key, columns in (
        ("leads.categorical", leads.categorical),
        ("leads.numeric", leads.numeric),
        ("leads.drop", leads.drop),
    ):
        for column in columns:
            if column in roles:
                raise fail(key, f"column {column!r} is already listed under '{roles[column]}'")
            roles[column] = key
    for column in leads.activity:
        # Activity columns are numeric by definition; listing them under numeric too is allowed.
        if column in roles and roles[column] != "leads.numeric":
            raise fail("leads.activity", f"column {column!r} is already listed under '{roles[column]}'")
    singles: dict[str, str | None] = {"leads.lead_id": leads.lead_id, "leads.created_at": leads.created_at}
    for single_key, single in singles.items():
        if single is not None and single in roles:
            raise fail(single_key, f"column {single!r} is also listed under '{roles[single]}'")
    profile = {*leads.categorical, *leads.numeric, *leads.activity}
    for source_name, target in leads.rename.items():
        if source_name not in profile:
            raise fail(f"leads.rename.{source_name}", "renames only categorical/numeric/activity columns")
        if target in RESERVED_NAMES:
            raise fail(f"leads.rename.{source_name}", f"{target!r} is a name the data contract reserves")
    targets = [leads.rename.get(column, column) for column in dict.fromkeys(profile)]
    clashes = sorted({name for name in targets if targets.count(name) > 1})
    if clashes:
        raise fail("leads.rename", f"two profile columns would both be called {clashes}")
    reserved = sorted(set(targets) & RESERVED_NAMES)
    if reserved:
        raise fail("leads", f"profile columns {reserved} have names the data contract reserves; rename them")
    if leads.date_format is not None and leads.created_at is None:
        raise fail("leads.date_format", "there is no created_at column to parse")
    outcome = config.outcome
    if outcome.date_format is not None and outcome.closed_at is None and outcome.handed_over_at is None:
        raise fail("outcome.date_format", "there is no closed_at or handed_over_at column to parse")
    if config.events is not None:
        for source_name, target in config.events.rename.items():
            if source_name not in config.events.extra:
                raise fail(f"events.rename.{source_name}", "renames only 'extra' columns")
            if target in RESERVED_NAMES:
                raise fail(f"events.rename.{source_name}", f"{target!r} is a name the data contract reserves")
    if config.events is not None and not config.has_timestamps:
        raise fail("events", "an events log needs lead timestamps: set leads.created_at")

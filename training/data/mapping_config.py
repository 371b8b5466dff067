"""The mapping config: a declarative TOML description of how a CRM export maps onto the data contract.

``load_mapping`` reads and checks it; ``training.data.mapping`` applies it; ``data/mappings/README.md``
documents it. Column names are the export's (``rename`` names the imported columns). Sections are
pydantic models (``extra="forbid"``): a typo never silently changes the import; cross-key checks raise
``KeyProblem``. Errors name the file and the key's dotted path."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final, Literal

import pandas as pd
from pydantic import (
    AfterValidator,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    model_validator,
)

from training.config_errors import KeyProblem, config_problems
from training.data.contract import (
    OUTCOME_TIMESTAMPS,
    TARGET_DATES,
    KnownAt,
    Outcome,
)
from training.data.date_formats import DateFormatKeys
from training.data.events_config import EventsMapping
from training.data.history_config import ProfileHistoryMapping
from training.data.join_config import JoinMapping
from training.data.mapping_sections import (
    RESERVED_NAMES,
    ColumnList,
    ColumnName,
    ConfigSection,
    FileSection,
    MappingConfigError,
    SourceFile,
    ValueMap,
)
from training.data.number_format import NumberFormatKeys
from training.data.reject_cap import DEFAULT_MAX_REJECT_SHARE, RejectCapKey
from training.data.row_order import TimeAxisKeys
from training.data.time_zones import checked_time_zone

#: The only way to generate lead ids for exports without one.
GENERATE_FROM_ROW_NUMBER = "row_number"
#: ``observed_until = "max"``: the latest timestamp seen in any mapped file.
OBSERVED_UNTIL_MAX: Final = "max"
_STATUSES = tuple(str(outcome) for outcome in Outcome)


class LeadIdGenerator(ConfigSection):
    """``lead_id = { generate = "row_number", prefix = "s" }``: ids for exports without one."""

    generate: Literal["row_number"]
    prefix: str = ""


def _lead_id_kind(value: Any) -> str:
    return "generator" if isinstance(value, dict | LeadIdGenerator) else "column"


class LeadsMapping(FileSection, TimeAxisKeys, DateFormatKeys, NumberFormatKeys):
    """The ``[leads]`` section: one row per lead."""

    file: ColumnName
    lead_id_setting: Annotated[
        Annotated[ColumnName, Tag("column")] | Annotated[LeadIdGenerator, Tag("generator")],
        Discriminator(_lead_id_kind),
    ] = Field(alias="lead_id")
    #: Source column of ``created_at``; ``None`` means the export has no timestamps (row order).
    created_at: str | None = None
    categorical: ColumnList = ()
    numeric: ColumnList = ()
    activity: ColumnList = ()
    drop: ColumnList = ()
    #: What to do with columns the config does not mention: refuse (default) or drop with a warning.
    other_columns: Literal["error", "drop"] = "error"
    rename: ValueMap = Field(default_factory=dict)
    #: profile column -> when known (default creation; after_contact: imported, never a feature)
    known_at: dict[str, KnownAt] = Field(default_factory=dict)
    exclude_columns: ColumnList = ()  # profile columns imported but never used as features

    @property
    def source(self) -> SourceFile:
        return self.required_source

    @property
    def lead_id(self) -> str | None:
        """Source column holding the lead id; ``None`` when ids are generated (see ``lead_id_prefix``)."""
        return self.lead_id_setting if isinstance(self.lead_id_setting, str) else None

    @property
    def generate_lead_id(self) -> bool:
        return isinstance(self.lead_id_setting, LeadIdGenerator)

    @property
    def lead_id_prefix(self) -> str:
        """Generated ids are ``prefix + row number`` (1-based data row of the file)."""
        return self.lead_id_setting.prefix if isinstance(self.lead_id_setting, LeadIdGenerator) else ""

    def date_columns(self) -> tuple[str, ...]:
        return tuple(column for column in (self.created_at, self.created_at_fallback) if column)


class OutcomeMapping(FileSection, DateFormatKeys):
    """The ``[outcome]`` section: what became of each lead.

    Either columns of the leads file (``file`` unset) or a second file joined on ``lead_id``. The
    status is a constant (``status``: every lead in that file has it, e.g. a file of won deals) or a
    column with a value map (``status_column`` + ``status_values``). With a joined file, leads that do
    not appear in it get ``absent``.
    """

    lead_id: ColumnName | None = None
    status: Outcome | None = None
    status_column: str | None = None
    status_values: ValueMap = Field(default_factory=dict)
    closed_at: str | None = None
    #: where ``closed_at`` is empty, the close date from this column: CRMs that export the won and the
    #: lost date apart (Pipedrive's "Won time" / "Lost time")
    closed_at_fallback: str | None = None
    #: A close date on an open lead: "reject", or "ignore" (Salesforce's expected close; blanked, counted)
    close_date_of_open: Literal["reject", "ignore"] = "reject"
    handed_over_at: str | None = None
    #: funnel milestones, for the training targets other than "won" (``training.features.targets``):
    #: when sales accepted the lead (e.g. a "SAL Date") and when an opportunity was created
    accepted_at: str | None = None
    opportunity_at: str | None = None
    # Default "open" with a file: a lead missing from a file of won deals was not necessarily lost;
    # snapshot censoring handles the horizon instead of inventing negatives.
    absent_setting: Literal["open", "lost"] | None = Field(default=None, alias="absent")
    #: Rows of the outcome file naming a lead the leads file lacks: "reject" or "skip" (as in [events])
    unknown_leads: Literal["reject", "skip"] = "reject"

    @property
    def source(self) -> SourceFile | None:
        """The separate outcome file, or ``None`` when the outcome is columns of the leads file."""
        return self._source()

    @property
    def absent(self) -> Outcome | None:
        """The status of leads missing from a joined outcome file (``None`` without one)."""
        return Outcome(self.absent_setting or "open") if self.file is not None else None

    @model_validator(mode="after")
    def _consistent(self) -> OutcomeMapping:
        has_file = self.file is not None
        for key in ("delimiter", "encoding", "table"):
            if key in self.model_fields_set and not has_file:
                raise KeyProblem(key, "only applies together with 'file' (a separate outcome file)")
        if has_file and self.lead_id is None:
            raise KeyProblem("lead_id", "is required but missing")
        if self.lead_id is not None and not has_file:
            raise KeyProblem("lead_id", "only applies with 'file': without it the leads file's id is used")
        if (self.status is None) == (self.status_column is None):
            raise KeyProblem("status", "set exactly one of 'status' (a constant) or 'status_column'")
        if self.status_values and self.status_column is None:
            raise KeyProblem("status_values", "only applies together with 'status_column'")
        for raw_value, mapped in self.status_values.items():
            if mapped not in ("", *_STATUSES):
                raise KeyProblem(
                    f"status_values.{raw_value}", f"must be one of {list(_STATUSES)}, not {mapped!r}"
                )
        if self.absent_setting is not None and not has_file:
            raise KeyProblem("absent", "only applies with 'file': every lead of the leads file has a status")
        if self.close_date_of_open != "reject" and self.closed_at is None:
            raise KeyProblem("close_date_of_open", "only applies together with closed_at")
        if self.closed_at_fallback is not None and self.closed_at is None:
            raise KeyProblem("closed_at_fallback", "only applies together with closed_at")
        if self.unknown_leads != "reject" and not has_file:
            raise KeyProblem(
                "unknown_leads", "only applies with 'file': the leads file's own rows are its leads"
            )
        return self

    def date_columns(self) -> tuple[str, ...]:
        fallback = (self.closed_at_fallback,) if self.closed_at_fallback else ()
        return (*self.outcome_dates().values(), *fallback)

    def outcome_dates(self) -> dict[str, str]:
        """Contract column -> export column of the outcome dates this mapping names (each key of the
        section is named after its contract column)."""
        named = {name: getattr(self, name) for name in (*OUTCOME_TIMESTAMPS, *TARGET_DATES)}
        return {name: column for name, column in named.items() if column}


def _observed_until(value: Any) -> pd.Timestamp | Literal["max"]:
    if value == OBSERVED_UNTIL_MAX:
        return OBSERVED_UNTIL_MAX
    # TOML dates and datetimes arrive as datetime objects; strings must parse as timestamps.
    if not isinstance(value, str | dt.date):
        raise ValueError('must be "max" or a date/timestamp')
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ValueError('must be "max" or a date/timestamp') from None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


class _MappingFile(ConfigSection, RejectCapKey):
    """The whole TOML file, before its ``root`` is resolved against the file's folder."""

    name: ColumnName
    description: str = ""
    root: str = "."
    #: An explicit UTC timestamp, or ``"max"``: the latest timestamp in the imported tables.
    observed_until: Annotated[Any, AfterValidator(_observed_until)] = OBSERVED_UNTIL_MAX
    #: The zone the export writes times without a UTC offset in (``training.data.time_zones``); None: UTC.
    timezone: Annotated[str, AfterValidator(checked_time_zone)] | None = None
    leads: LeadsMapping
    outcome: OutcomeMapping
    events: EventsMapping | None = None
    joins: tuple[JoinMapping, ...] = ()
    profile_history: ProfileHistoryMapping | None = None

    @model_validator(mode="after")
    def _consistent(self) -> _MappingFile:
        _check_columns(self.leads)
        _check_joined_names(self.leads, self.joins)
        if self.events is not None and self.leads.created_at is None:
            raise KeyProblem("events", "an events log needs lead timestamps: set leads.created_at")
        if self.profile_history is not None and self.leads.created_at is None:
            raise KeyProblem(
                "profile_history", "a profile history needs lead timestamps: set leads.created_at"
            )
        return self


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
    #: Lookup tables joined onto the leads (``[[joins]]``), in the config's order.
    joins: tuple[JoinMapping, ...] = ()
    #: A field-history export giving profile values as of each cutoff (``[profile_history]``).
    profile_history: ProfileHistoryMapping | None = None
    max_reject_share: float = DEFAULT_MAX_REJECT_SHARE  # a lenient import fails above this rejected share
    #: The zone of the export's times without a UTC offset (None: they are UTC).
    timezone: str | None = None

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
    try:
        parsed = _MappingFile.model_validate(raw)
    except ValidationError as error:
        # The first problem, like a compiler's first error: later ones are often its consequences.
        problem = config_problems(error, _MappingFile)[0]
        hint = f" (allowed here: {sorted(problem.allowed)})" if problem.allowed else ""
        if problem.key == "leads.lead_id" and problem.kind == "missing":
            hint = ': the id column\'s name, or { generate = "row_number" } for exports without ids'
        raise MappingConfigError(f"{path}: key '{problem.key}': {problem.problem}{hint}") from None
    return MappingConfig(
        path=path,
        name=parsed.name,
        description=parsed.description,
        root=(path.parent / parsed.root).resolve(),
        leads=parsed.leads,
        outcome=parsed.outcome,
        events=parsed.events,
        observed_until=parsed.observed_until,
        joins=parsed.joins,
        profile_history=parsed.profile_history,
        max_reject_share=parsed.max_reject_share,
        timezone=parsed.timezone,
    )


def _check_columns(leads: LeadsMapping) -> None:
    """Checks that span the leads keys: a column listed twice, a rename onto a reserved name, ..."""
    roles: dict[str, str] = {}
    for key, columns in (
        ("categorical", leads.categorical),
        ("numeric", leads.numeric),
        ("drop", leads.drop),
    ):
        for column in columns:
            if column in roles:
                raise KeyProblem(
                    f"leads.{key}", f"column {column!r} is already listed under '{roles[column]}'"
                )
            roles[column] = f"leads.{key}"
    for column in leads.activity:
        # Activity columns are numeric by definition; listing them under numeric too is allowed.
        if column in roles and roles[column] != "leads.numeric":
            raise KeyProblem("leads.activity", f"column {column!r} is already listed under '{roles[column]}'")
    for single_key, single in (("lead_id", leads.lead_id), ("created_at", leads.created_at)):
        if single is not None and single in roles:
            raise KeyProblem(
                f"leads.{single_key}", f"column {single!r} is also listed under '{roles[single]}'"
            )
    profile = {*leads.categorical, *leads.numeric, *leads.activity}
    for column in [*leads.known_at, *leads.exclude_columns]:
        if column not in profile:
            key = "leads.known_at" if column in leads.known_at else "leads.exclude_columns"
            raise KeyProblem(key, f"{column!r} is not a categorical, numeric or activity column")
    for source_name, target in leads.rename.items():
        if source_name not in profile:
            raise KeyProblem(
                f"leads.rename.{source_name}", "renames only categorical/numeric/activity columns"
            )
        if target in RESERVED_NAMES:
            raise KeyProblem(
                f"leads.rename.{source_name}", f"{target!r} is a name the data contract reserves"
            )
    targets = [leads.rename.get(column, column) for column in dict.fromkeys(profile)]
    clashes = sorted({name for name in targets if targets.count(name) > 1})
    if clashes:
        raise KeyProblem("leads.rename", f"two profile columns would both be called {clashes}")
    reserved = sorted(set(targets) & RESERVED_NAMES)
    if reserved:
        raise KeyProblem(
            "leads", f"profile columns {reserved} have names the data contract reserves; rename them"
        )


def _check_joined_names(leads: LeadsMapping, joins: tuple[JoinMapping, ...]) -> None:
    """Each joined column's output name is new: no clash with the leads' profile columns or another join's."""
    taken = {
        leads.rename.get(column, column) for column in (*leads.categorical, *leads.numeric, *leads.activity)
    }
    for index, join in enumerate(joins):
        for column in join.columns:
            name = join.output_name(column)
            if name in taken:
                raise KeyProblem(
                    f"joins.{index}",
                    f"column {column!r} of {join.file} would be called {name!r}, like another profile "
                    "column; set prefix or rename",
                )
            taken.add(name)

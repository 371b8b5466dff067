"""The ``[events]`` section of a mapping config: an engagement log, one row per event.

Beside the columns (lead, time, type), it says which types to leave out (``skip_types``: a marketing
system's bookkeeping, or stage changes that record the outcome) and how a detail column refines a
generic type (``detail_column`` with ``[events.detail_types]``: Marketo's "Visit Webpage" of
``/pricing``, a "Fill Out Form" of "Demo Request"); ``training.data.event_types`` applies both.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from training.config_errors import KeyProblem
from training.data.date_formats import DateFormatKeys
from training.data.event_types import DetailRule, detail_rules
from training.data.mapping_sections import (
    RESERVED_NAMES,
    ColumnList,
    ColumnName,
    FileSection,
    SourceFile,
    ValueMap,
)


class EventsMapping(FileSection, DateFormatKeys):
    """The optional ``[events]`` section: an engagement log, one row per event."""

    file: ColumnName
    lead_id: ColumnName
    occurred_at: ColumnName
    event_type: str | None = None
    event_type_column: str | None = None
    event_type_values: ValueMap = Field(default_factory=dict)
    #: Event types left out of the import, as exported or as renamed (``event_type_values``); counted in
    #: a warning. The model card keeps them, so the API ignores them without calling them unknown.
    skip_types: ColumnList = ()
    #: A column whose text refines the type by ``detail_types`` (a page's URL, a form's or email's name).
    detail_column: str | None = None
    #: ``"pattern" = "event type"`` or ``"type pattern | detail pattern" = "event type"``: shell-style
    #: patterns (``*``, ``?``), case-insensitive; the first that matches a row names its type.
    detail_types: ValueMap = Field(default_factory=dict)
    extra: ColumnList = ()
    rename: ValueMap = Field(default_factory=dict)
    #: Events of a lead the leads file does not have: "reject" (quarantined, counted against the reject
    #: cap) or "skip" (left out and counted in a warning: the activity export covers more contacts).
    unknown_leads: Literal["reject", "skip"] = "reject"
    #: Events before their lead's creation: "reject", "creation" (moved to it) or "skip"
    #: (``training.data.early_events``).
    before_created: Literal["reject", "creation", "skip"] = "reject"

    @property
    def source(self) -> SourceFile:
        return self.required_source

    def date_columns(self) -> tuple[str, ...]:
        return (self.occurred_at,)

    def type_rules(self) -> list[DetailRule]:
        """``detail_types`` as rules, in the order written."""
        return detail_rules(self.detail_types)

    @model_validator(mode="after")
    def _consistent(self) -> EventsMapping:
        if (self.event_type is None) == (self.event_type_column is None):
            raise KeyProblem(
                "event_type", "set exactly one of 'event_type' (a constant) or 'event_type_column'"
            )
        if self.event_type_values and self.event_type_column is None:
            raise KeyProblem("event_type_values", "only applies together with 'event_type_column'")
        if self.skip_types and self.event_type_column is None:
            raise KeyProblem("skip_types", "only applies together with 'event_type_column'")
        if bool(self.detail_types) != (self.detail_column is not None):
            raise KeyProblem(
                "detail_types" if self.detail_types else "detail_column",
                "set 'detail_column' and [events.detail_types] together: the column's text refines "
                "the type by the patterns",
            )
        for pattern, event_type in self.detail_types.items():
            if not pattern.strip() or not event_type.strip():
                raise KeyProblem(f"detail_types.{pattern}", "needs a pattern and an event type name")
        for source_name, target in self.rename.items():
            if source_name not in self.extra:
                raise KeyProblem(f"rename.{source_name}", "renames only 'extra' columns")
            if target in RESERVED_NAMES:
                raise KeyProblem(f"rename.{source_name}", f"{target!r} is a name the data contract reserves")
        return self

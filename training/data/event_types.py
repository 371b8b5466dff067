"""Event types refined by a detail and types left out: one meaning at import and in the API.

Marketing systems log generic types ("Visit Webpage", "Fill Out Form", "Click Email") and put what
was visited or filled in a second column (Marketo's primary attribute, a task's subject). A pricing
page and a blog post, a demo request and a newsletter sign-up are then one type, and the strongest
signals of readiness are lost. ``[events.detail_types]`` names the refined types by patterns; the
model card carries them, so the API refines a request's events (their optional ``detail``) the same
way. Types in ``skip_types`` (bookkeeping such as "Change Score", or stage changes that record the
outcome) are left out at import; the API ignores them without calling them unknown.

Patterns are shell-style (``*``, ``?``, ``[...]``: ``fnmatch``), matched case-insensitively. A key
``"type pattern | detail pattern"`` also checks the type as exported; a plain key checks the detail.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

import pandas as pd

#: Separates a type pattern from a detail pattern in a ``detail_types`` key.
TYPE_AND_DETAIL = " | "


@dataclass(frozen=True)
class DetailRule:
    """One ``detail_types`` entry: rows whose type (if given) and detail match get ``event_type``."""

    type_pattern: str | None
    detail_pattern: str
    event_type: str

    def matches(self, event_type: str, detail: str) -> bool:
        if self.type_pattern is not None and not fnmatchcase(event_type.casefold(), self.type_pattern):
            return False
        return fnmatchcase(detail.casefold(), self.detail_pattern)


def detail_rules(detail_types: Mapping[str, str]) -> list[DetailRule]:
    """The rules of ``detail_types`` (pattern key -> event type), in the order written."""
    rules = []
    for key, event_type in detail_types.items():
        type_part, separator, detail_part = key.partition(TYPE_AND_DETAIL)
        if not separator:
            type_part, detail_part = "", key
        rules.append(
            DetailRule(
                type_part.strip().casefold() or None, detail_part.strip().casefold(), event_type.strip()
            )
        )
    return rules


def refined_type(event_type: str, detail: str | None, rules: Sequence[DetailRule]) -> str | None:
    """The type the first matching rule names for an event, or None (no detail, or no rule matches)."""
    if not detail or not rules:
        return None
    return next((rule.event_type for rule in rules if rule.matches(event_type, detail)), None)


def refined_types(event_types: pd.Series, details: pd.Series, rules: Sequence[DetailRule]) -> pd.Series:
    """Per row, the type a rule names (missing where none does), judged once per distinct pair: an
    export has millions of rows but a few thousand pages and forms."""
    result = pd.Series(pd.NA, index=event_types.index, dtype="object")
    if not rules:
        return result
    present = event_types.notna() & details.notna()
    pairs = pd.DataFrame({"type": event_types[present].astype(str), "detail": details[present].astype(str)})
    codes, uniques = pd.factorize(pd.MultiIndex.from_frame(pairs))
    named = [refined_type(event_type, detail, rules) for event_type, detail in uniques]
    by_code = pd.Series(named, dtype="object")
    result[present] = by_code.iloc[codes].to_numpy()
    return result


def skipped_names(skip_types: Sequence[str], renames: Mapping[str, str]) -> list[str]:
    """``skip_types`` as written and as renamed (``event_type_values``): a row or a request may carry
    either name."""
    return list(dict.fromkeys([*skip_types, *(renames[name] for name in skip_types if name in renames)]))


def skipped(event_types: pd.Series, skip_types: Sequence[str], renames: Mapping[str, str]) -> pd.Series:
    """Per row, whether its type (after renaming) is one of ``skip_types`` (``skipped_names``)."""
    return event_types.isin(skipped_names(skip_types, renames))


def folded(name: str) -> str:
    """An event type name as compared when no exact name matches: case, ``_`` and spacing ignored."""
    return " ".join(name.casefold().replace("_", " ").split())


class EventNaming:
    """How the API names a request's events as the model's types (per distinct name, not per event).

    In order: a ``detail_types`` rule matching the event's type and ``detail``; the import's rename of
    the CRM's name (``event_type_values``); the name itself when the model knows it; else the model's
    name that differs only in case, ``_`` or spacing ("demo requested" for "Demo Requested"), so that a
    name is never unknown to the features while the hand-raiser check reads it as a request.
    """

    __slots__ = ("aliases", "by_folded", "known", "rules")

    def __init__(
        self,
        aliases: Mapping[str, str] | None = None,
        detail_types: Mapping[str, str] | None = None,
        known: Sequence[str] = (),
    ) -> None:
        self.aliases = dict(aliases or {})
        self.rules = tuple(detail_rules(detail_types or {}))
        self.known = frozenset(known)
        by_folded: dict[str, str] = {}
        for name in (*sorted(self.known), *self.aliases):
            by_folded.setdefault(folded(name), self.aliases.get(name, name))
        self.by_folded = by_folded

    def name(self, event_type: str, detail: str | None = None) -> str:
        refined = refined_type(event_type, detail, self.rules)
        if refined is not None:
            return refined
        if event_type in self.aliases:
            return self.aliases[event_type]
        if event_type in self.known:
            return event_type
        return self.by_folded.get(folded(event_type), event_type)

    def names(self, event_types: Sequence[str], details: Sequence[str | None] | None = None) -> list[str]:
        """``name`` of every event, judged once per distinct name (and detail, where rules use it)."""
        if not self.rules or details is None:
            by_name = {event_type: self.name(event_type) for event_type in dict.fromkeys(event_types)}
            return [by_name[event_type] for event_type in event_types]
        pairs = list(zip(event_types, details, strict=True))
        by_pair = {pair: self.name(*pair) for pair in dict.fromkeys(pairs)}
        return [by_pair[pair] for pair in pairs]

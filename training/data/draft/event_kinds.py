"""Which event types of an activity export a drafted mapping leaves out, and which it types by a detail.

Marketing systems log their own bookkeeping beside what the lead did (Marketo's "Change Score", "Add to
List", "Sync Lead to SFDC", "Email Delivered") and the lead's progress through sales ("Change Revenue
Stage", "Convert Lead"). Left in, the first reads as engagement and the second as the outcome itself:
both are drafted into ``skip_types``. And where the type is generic ("Visit Webpage", "Fill Out Form"),
a detail column (the page, the form) says what was done: the requests for contact and the pricing pages
among its values are drafted as ``[events.detail_types]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from training.data.draft.column_profile import ColumnProfile
from training.data.draft.hand_raising import hand_raising_values
from training.data.draft.roles import id_like, personal, words
from training.data.event_types import TYPE_AND_DETAIL

#: Done by the system to or about the lead, not by the lead.
_BOOKKEEPING = re.compile(
    r"^change (score|data value|owner|segment|lead partition|program status|nurture|field)|"
    r"\b(add(ed)?|remove(d)?) (to|from) (a )?(list|smart list|campaign|program|sequence|workflow)|"
    r"\bsync|\bmerge|^delete|\bdelivered\b|^(email )?sent\b|\bemail sent\b|^send (email|alert)|"
    r"score (changed|updated)|(field|record|property) (change|changed|updated)|owner (changed|assigned)|"
    r"list membership|"
    r"^(create|created) (task|record)",
    re.I,
)
#: Records the lead's progress through sales: it follows the outcome rather than predicting it.
_STAGE_CHANGE = re.compile(
    r"change (revenue stage|status|lifecycle|lead status|stage)|status (change|progression)|"
    r"stage (change|changed)|lifecycle stage|convert(ed)? lead|lead convert|"
    r"(opportunity|deal) (created|won|lost|closed|updated)|became (a |an )?(customer|mql|sql|opportunity)",
    re.I,
)
#: A column whose text says what a generic event was about.
_DETAIL_NAME = re.compile(
    r"primary attribute|detail|subject|\burl\b|\bpage\b|web ?page|form|asset|\btitle\b|campaign|"
    r"\bname\b|betreff|asunto|objet",
    re.I,
)
#: A page about prices, in the languages the draft reads.
_PRICING_PAGE = re.compile(r"pricing|prices|preise|tarif|precios|precos|prezzi|prijzen", re.I)
#: A path segment that is a price page ("/pricing", "/pricing/", "/preise?plan=pro").
_PRICING_PATH = re.compile(
    r"/((?:pricing|prices|preise|tarifs?|precios|precos|prezzi|prijzen))(?:[/?#]|$)", re.I
)
#: Details that are an article about something rather than the page itself.
_ARTICLE = re.compile(r"blog|article|news|post|guide|ebook|webinar|case.?stud", re.I)
#: A type that is a page being visited (its detail a URL or page name).
_PAGE_TYPE = re.compile(r"visit|view|page|web", re.I)


@dataclass
class EventKinds:
    """The drafted ``skip_types`` (type -> why) and detail typing of an events file."""

    skip: dict[str, str]
    detail_column: str | None = None
    #: ``detail_types`` key -> event type, in the order to write them
    detail_types: dict[str, str] | None = None


def event_kinds(
    frame: pd.DataFrame,
    profiles: list[ColumnProfile],
    type_column: str,
    taken: set[str],
    hand_raising: dict[str, str],
) -> EventKinds:
    """``skip_types`` and detail typing for the events ``frame`` whose types are in ``type_column``;
    ``taken``: the columns already used (lead id, time); ``hand_raising``: value -> hand-raising name."""
    types = frame[type_column].dropna().astype("str").str.strip()
    skip = {}
    for value in types.value_counts().index[:200]:
        if _STAGE_CHANGE.search(words(value)):
            skip[value] = "records the lead's progress through sales: it follows the outcome"
        elif _BOOKKEEPING.search(words(value)):
            skip[value] = "the system's bookkeeping, not something the lead did"
    kinds = EventKinds(skip)
    detail = _detail_column(profiles, {type_column, *taken})
    if detail is None:
        return kinds
    rules = _detail_rules(frame[[type_column, detail]].dropna(), hand_raising)
    if rules:
        kinds.detail_column, kinds.detail_types = detail, rules
    return kinds


def _detail_column(profiles: list[ColumnProfile], taken: set[str]) -> str | None:
    candidates = [
        p
        for p in profiles
        if p.name not in taken
        and not p.is_date
        and not p.is_number
        and p.distinct >= 2
        and not id_like(p.name)
        and not personal(p.name)
        and _DETAIL_NAME.search(words(p.name))
    ]
    return candidates[0].name if candidates else None


def _detail_rules(pairs: pd.DataFrame, hand_raising: dict[str, str]) -> dict[str, str]:
    """Rules for the requests for contact among the details (by the draft's hand-raising names) and the
    pricing pages among the details of page-visit types; each pattern qualified by its type."""
    counted = pairs.astype("str").value_counts().head(500)
    # The most common (type, detail) pairs first.
    common: list[tuple[str, str]] = [(str(key[0]), str(key[1])) for key in counted.index]
    rules: dict[str, str] = {}
    requests = hand_raising_values(sorted({value for _, value in common}))
    for event_type, value in common:
        if value in requests and event_type not in hand_raising:
            rules[f"{event_type}{TYPE_AND_DETAIL}{_literal(value)}"] = requests[value]
    # Pages about prices, by the path part that names them ("/pricing", "/en/preise/"): a blog post
    # whose title mentions pricing ("/blog/pricing-strategies") is no visit to the prices.
    pricing_parts = sorted(
        {
            (event_type, found.group(1).lower())
            for event_type, value in common
            if _PAGE_TYPE.search(event_type)
            and not _PRICING_PAGE.search(event_type)  # a type that says so already needs no rule
            and not _ARTICLE.search(value)
            and (found := _PRICING_PATH.search(value))
        }
    )
    for event_type, part in pricing_parts:
        rules[f"{event_type}{TYPE_AND_DETAIL}*/{part}"] = "pricing_page_view"
        rules[f"{event_type}{TYPE_AND_DETAIL}*/{part}[/?#]*"] = "pricing_page_view"
    return dict(list(rules.items())[:20])


def _literal(value: str) -> str:
    """``value`` as a pattern matching only itself (``*``, ``?`` and ``[`` escaped as ``[*]``...)."""
    return re.sub(r"([*?\[])", r"[\1]", value)

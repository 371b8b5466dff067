"""What each column of an export becomes in a drafted mapping, and why: the lead id, the creation date,
the outcome and its dates, a profile attribute (categorical or numeric), an activity count, or dropped.

Decided from the column's values (``ColumnProfile``) and, where values cannot tell, its name in the
words CRMs use. The draft is conservative where a guess could make the model dishonest: a column whose
name says it is written by sales or after the outcome (an owner, a rating, a deal amount, a lost reason)
is imported but never a feature (``known_at = "after_contact"``) or dropped, personal data and
identifiers are dropped, and what the values cannot decide (the day/month order of ``03/04/2024``, the
row order of an export without dates) is left for the user, named in a to-do, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from training.data.draft.column_profile import ColumnProfile
from training.data.draft.stage_values import outcome_value
from training.data.draft.words import words

Role = Literal[
    "lead_id",
    "created_at",
    "status",
    "closed_at",
    "closed_at_fallback",
    "handed_over_at",
    "accepted_at",
    "opportunity_at",
    "categorical",
    "numeric",
    "activity",
    "drop",
]

#: Categories with more levels than this (and mostly unique values) are identifiers or free text.
MAX_LEVELS = 200
#: Whole numbers with at most this many distinct values may be codes (a region, a browser).
MAX_CODES = 20
#: An outcome column has at most this many distinct values (stages).
MAX_STAGES = 30

# Matched against a column's name in words ("LeadRating", "lead_rating" -> "lead rating"; ``words``).
_ID_NAME = re.compile(r"\b(id|key|uuid|guid|number|no|nr)\b", re.I)
# English first; then the German, Spanish/Portuguese, Italian and Dutch words CRMs localise to.
_CREATED = re.compile(
    r"creat|added|sign.?up|regist|first.?seen|entered|inquir|submitted|received|since|"
    r"erstellt|angelegt|eingegangen|creado|criado|creato|aangemaakt",
    re.I,
)
# A close date, most telling names first: HubSpot's "Recent Conversion Date" is the latest form
# submission, not a close, so "conversion" is a last resort and never a first/latest one.
_CLOSED_BY_PREFERENCE = (
    re.compile(
        r"clos|clotur|\bwon\b|\blost\b|became a customer|customer (since|date)|gewonnen|verloren|"
        r"abgeschlossen|geschlossen|gagn|perdu|ganad|ganho|perdid|cierre|vint[oa]\b|pers[oa]\b",
        re.I,
    ),
    re.compile(r"decision|outcome|end.?date|deal.?date", re.I),
    re.compile(r"^(?!.*\b(recent|last|latest|first)\b).*(convert|conversion)", re.I),
)
# A won date and a lost date apart (Pipedrive's "Won time" / "Lost time"): one is closed_at, the other
# its fallback, so that lost leads are placed in time too.
_WON_DATE = re.compile(r"\bwon\b|customer|gewonnen|gagn|ganad|ganho", re.I)
_LOST_DATE = re.compile(r"\blost\b|verloren|perdu|perdid", re.I)
# HubSpot's API names run the words together: hs_lifecyclestage_marketingqualifiedlead_date.
_HANDED = re.compile(r"\bmql\b|marketing ?qualified|hand.?(ed|over)|routed|assigned.?(at|date|on)", re.I)
_ACCEPTED = re.compile(r"\bsal\b|\bsql\b|sales ?(accepted|qualified)|accepted", re.I)
_OPPORTUNITY = re.compile(r"opportunit|\bopp\b", re.I)
#: A record's last change ("Last Modified Date", HubSpot's lastmodifieddate, "Updated At").
_LAST_MODIFIED = re.compile(r"last ?modified|modified (on|at|date)|updated (at|on)|last ?updated", re.I)
#: The roles that date an outcome, in the order a drafted ``[outcome]`` section writes them.
OUTCOME_DATE_ROLES: tuple[Role, ...] = (
    "closed_at",
    "closed_at_fallback",
    "handed_over_at",
    "accepted_at",
    "opportunity_at",
)
#: Milestone roles and the names that date them, in the order they are picked.
MILESTONES: tuple[tuple[Role, re.Pattern[str]], ...] = (
    ("handed_over_at", _HANDED),
    ("accepted_at", _ACCEPTED),
    ("opportunity_at", _OPPORTUNITY),
)
#: A lead's conversion (Salesforce's Converted Date, Zoho's Converted Date Time): its hand-over to sales.
CONVERTED = re.compile(r"^(?!.*\b(recent|last|latest|first)\b).*\bconver", re.I)
_STATUS_NAME = re.compile(
    r"status|stage|outcome|result|convert|\bwon\b|lifecycle|^y$|target|label|closed|"
    r"\b(estado|etapa|statut|etape|stato|fase|phase)\b(?!.*\b(provinc|region|pais|paese|country|compra|buying))",
    re.I,
)
#: A name that is the status word and nothing more ("Estado") beats one that mentions it ("Razón para
#: el estado").
_STATUS_ALONE = re.compile(r"status|stage|estado|etapa|statut|etape|stato|fase|phase", re.I)
# Numbers about the company ("Number of Employees", "Annual Revenue"): profile, not engagement.
_FIRMOGRAPHIC = re.compile(r"employee|headcount|staff|revenue|turnover|company.?size|seats|locations", re.I)
_ACTIVITY = re.compile(
    r"visit|view|open|click|download|e.?mails?\b|calls?\b|meeting|webinar|session|page|event|touch|engag|"
    r"activit|attempt|\bforms?\b|submission|count|times|duration|sent|repl|chat|\bdemos?\b|trial|"
    r"number of|^num\b",
    re.I,
)
_AFTER_OUTCOME = re.compile(
    # An amount is the deal's unless the lead asked for it or owns it ("AMOUNT_REQ", "budget amount").
    r"\bamount\b(?! req)(?<!budget amount)|\bdeal|opportunit|\bwon\b|\blost\b|closed|probability|"
    r"forecast|reason|converted|contract|last.?(modified|activity|contact|touch)|updated|days.?to|"
    r"verlust|verloren|gewonnen|abschluss|auftragswert|perdu|perdid|gagn|ganad|motivo|\brazon (de|para)\b|"
    r"\bvalor (estimado|del acuerdo)|\bimporte\b|\bmonto\b|montant|raison (de|du)\b|\bgrund\b",
    re.I,
)
_BY_SALES = re.compile(
    r"\b(rating|owner|disposition|qualif\w*|grade|temperature|sales|rep|assign\w*|priority|\w*score|"
    # German, Spanish, French, Italian: owner, rating or score, priority
    r"besitzer|eigentumer|verantwortlich\w*|bewertung|prioritat|propietario|responsable|puntuacion|"
    r"calificacion|valoracion|prioridad|proprietaire|note|priorite|proprietario|punteggio|valutazione)\b",
    re.I,
)
#: A contact's consent flag ("Email Opt Out", "Unsubscribed"): its state at export time, which may follow
#: the outcome (a lost lead unsubscribes).
_OPTED_OUT = re.compile(r"opt.?out|unsubscri|do not (call|e.?mail|contact)|abgemeldet|\bbaja\b", re.I)
#: An organisation's name: with many levels it names accounts, as an id does, and no model can learn it.
_ORGANISATION = re.compile(
    r"^(company|company name|account|account name|organi[sz]ation|firma|firmenname|empresa|entreprise|"
    r"societe|azienda|bedrijf)$",
    re.I,
)
#: Above this many levels, an organisation's name is an identifier.
MAX_ORGANISATIONS = 50
_PERSONAL = re.compile(
    r"e.?mail\b|e.?mail.?address|phone|mobile|fax|first.?name|last.?name|full.?name|^name$|contact.?name|"
    r"street|address|zip|postal|linkedin|twitter|ip.?address|website|\burl\b|description|\bnotes?$|comment",
    re.I,
)


@dataclass(frozen=True)
class ColumnRole:
    """One column's place in the drafted mapping, with the reason shown beside it."""

    column: str
    role: Role
    why: str
    #: "after_contact": imported and audited, never a feature (written by sales)
    known_at: str | None = None


@dataclass
class LeadsDraft:
    """The leads file's roles and the keys decided from its values."""

    roles: list[ColumnRole]
    status_values: dict[str, str] = field(default_factory=dict)
    date_formats: dict[str, str] = field(default_factory=dict)
    todos: list[str] = field(default_factory=list)
    #: share of the open leads that have a close date (an expected close: ``close_date_of_open``)
    open_with_close_date: float = 0.0

    def column(self, role: Role) -> str | None:
        return next((r.column for r in self.roles if r.role == role), None)

    def columns(self, role: Role) -> list[str]:
        return [r.column for r in self.roles if r.role == role]


def personal(name: str) -> bool:
    """Whether a column's name says it holds personal data or free text (an email, a name, notes)."""
    return bool(_PERSONAL.search(words(name)))


def id_like(name: str) -> bool:
    """Whether a column's name says it holds an identifier ("Lead ID", "WhoId", "Record Number")."""
    return bool(_ID_NAME.search(words(name)))


def decide_leads(profiles: list[ColumnProfile], outcome_in_file: bool = True) -> LeadsDraft:
    """The role of every column of the leads file; ``outcome_in_file`` False: the outcome comes from a
    file of its own, so no column of this one is the status or an outcome date."""
    chosen: dict[str, ColumnRole] = {}
    draft = LeadsDraft(roles=[])
    lead_id = _lead_id(profiles)
    if lead_id is not None:
        chosen[lead_id.name] = ColumnRole(lead_id.name, "lead_id", "a value in every row, no two alike")
    status = _status(profiles, set(chosen), draft.todos) if outcome_in_file else None
    if status is not None:
        values = {value: outcome_value(value) for value, _ in status.top}
        # "Won" / "WON" need no line: the import reads won / lost / open in any case.
        draft.status_values = {
            value: outcome for value, outcome in values.items() if value.lower() != outcome
        }
        if status.present < status.rows:  # blank stages: leads nobody has moved yet, still open
            draft.status_values[""] = "open"
        won = sum(count for value, count in status.top if values[value] == "won") / max(status.present, 1)
        chosen[status.name] = ColumnRole(
            status.name,
            "status",
            f"{status.distinct} stages; {won:.1%} of the rows read as won (check the map)",
        )
        if "won" not in values.values():
            qualified = [
                p.name for p in profiles if p.is_date and re.search(r"qualif|calific", words(p.name))
            ]
            dated = f" and name its date in closed_at (perhaps {qualified[0]!r})" if qualified else ""
            draft.todos.append(
                f"no value of {status.name!r} reads as won: map the won stage(s) in status_values{dated}"
            )
        elif "lost" not in values.values():
            modified = [p.name for p in profiles if p.is_date and _LAST_MODIFIED.search(words(p.name))]
            fallback = (
                f"; without a lost date, closed_at_fallback = {modified[0]!r} dates them when they were "
                "last changed (later than the real close, but placed in time)"
                if modified
                else ""
            )
            draft.todos.append(
                f"no value of {status.name!r} reads as lost, so every lead not won stays open: map lost "
                "stages (disqualified, other) in status_values if the export has them, with a date for "
                f"them in closed_at (a lost lead without one is left out of training){fallback}"
            )
    elif outcome_in_file and not any("which column is the outcome" in todo for todo in draft.todos):
        draft.todos.append("no column looks like the outcome: set [outcome] status_column and status_values")
    _dates(profiles, chosen, draft, has_status=status is not None)
    for profile in profiles:
        if profile.name not in chosen:
            chosen[profile.name] = _attribute(profile)
        if profile.unreadable_numbers is not None and chosen[profile.name].role == "drop":
            draft.todos.append(f"{profile.name!r} is dropped: {profile.unreadable_numbers}")
    draft.roles = [chosen[profile.name] for profile in profiles]
    return draft


def _lead_id(profiles: list[ColumnProfile]) -> ColumnProfile | None:
    unique = [
        p
        for p in profiles
        if p.is_unique and not p.is_date and p.at_share < 0.5 and not _PERSONAL.search(words(p.name))
    ]
    named = [p for p in unique if _ID_NAME.search(words(p.name))]
    candidates = named or unique
    return candidates[0] if candidates else None


def _status(profiles: list[ColumnProfile], taken: set[str], todos: list[str]) -> ColumnProfile | None:
    """The outcome column: few values that read as won / lost, best named so. Two equally good
    candidates without the name to tell them apart (two yes/no columns) are the user's choice."""
    scored: list[tuple[float, ColumnProfile]] = []
    for profile in profiles:
        if profile.name in taken or not 2 <= profile.distinct <= MAX_STAGES or profile.is_date:
            continue
        if profile.present < 0.5 * profile.rows:
            continue
        rows = sum(count for _, count in profile.top) or 1
        decided = sum(count for value, count in profile.top if outcome_value(value) != "open") / rows
        has_won = any(outcome_value(value) == "won" for value, _ in profile.top)
        named = 2.0 * bool(_STATUS_NAME.search(words(profile.name))) + 0.5 * bool(
            _STATUS_ALONE.fullmatch(words(profile.name))
        )
        score = named + decided + 0.5 * has_won
        if profile.is_number and not _STATUS_NAME.search(words(profile.name)):
            continue  # counts and scores with few values are no outcome unless named so
        if score >= 1.5:
            scored.append((score, profile))
    scored.sort(key=lambda pair: -pair[0])
    if len(scored) > 1 and scored[0][0] == scored[1][0]:
        tied = [p.name for score, p in scored if score == scored[0][0]]
        todos.append(
            f"which column is the outcome? {', '.join(map(repr, tied))} all look like one: set "
            "status_column, take it out of categorical, and map its values in [outcome.status_values]"
        )
        return None
    return scored[0][1] if scored else None


def _dates(
    profiles: list[ColumnProfile], chosen: dict[str, ColumnRole], draft: LeadsDraft, has_status: bool
) -> None:
    dates = [p for p in profiles if p.is_date and p.name not in chosen]
    for profile in dates:
        if profile.date_ambiguous:
            draft.todos.append(
                f"every date of {profile.name!r} fits both day/month orders: set its date format "
                '(date_formats) to "day_first" or "month_first"'
            )
        elif profile.date_order is not None:
            draft.date_formats[profile.name] = profile.date_order
    # "Customer since" is a win's date, whatever "since" says elsewhere ("Lead since").
    not_a_win = [p for p in dates if not _CLOSED_BY_PREFERENCE[0].search(words(p.name))]
    created = _pick(not_a_win, _CREATED) or _earliest(dates)
    if created is not None:
        chosen[created.name] = ColumnRole(
            created.name, "created_at", "a date; the lead's creation by its name or as the earliest"
        )
    else:
        draft.todos.append(
            'no date column: set row_order = "oldest_first" or "newest_first" (check the file)'
        )
    closed = None
    if has_status:
        for role, pattern in MILESTONES:
            picked = _pick([p for p in dates if p.name not in chosen], pattern)
            if picked is not None:
                chosen[picked.name] = ColumnRole(picked.name, role, f"a date named like {role}")
        closed, fallback = close_dates([p for p in dates if p.name not in chosen])
        if closed is not None:
            chosen[closed] = ColumnRole(closed, "closed_at", "a date named like closed_at")
        if fallback is not None:
            why = f"the close date where {closed!r} is empty"
            chosen[fallback] = ColumnRole(fallback, "closed_at_fallback", why)
    for profile in dates:
        if profile.name not in chosen:
            chosen[profile.name] = ColumnRole(profile.name, "drop", _unused_date(profile.name, closed))


def close_dates(dates: list[ColumnProfile]) -> tuple[str | None, str | None]:
    """The close date among ``dates`` (most telling name first: see ``_CLOSED_BY_PREFERENCE``) and its
    fallback: where the export dates wins and losses apart, the won date is ``closed_at`` (a deal lost,
    reopened and won closes when it was won) and the lost date its fallback."""
    picked = next(filter(None, (_pick(dates, pattern) for pattern in _CLOSED_BY_PREFERENCE)), None)
    if picked is None:
        return None, None
    for one, other in ((_WON_DATE, _LOST_DATE), (_LOST_DATE, _WON_DATE)):
        if one.search(words(picked.name)):
            second = _pick([p for p in dates if p.name != picked.name], other)
            if second is None:
                break
            return (picked.name, second.name) if one is _WON_DATE else (second.name, picked.name)
    return picked.name, None


def _unused_date(name: str, closed: str | None) -> str:
    """Why a date column is dropped: dates are not features, and this one is no milestone the draft uses."""
    if CONVERTED.search(words(name)):
        return (
            "a conversion date (Salesforce's hand-over to an opportunity); not a feature: map it as "
            "[outcome] handed_over_at (a separate outcome file takes it from this file)"
        )
    if closed is not None and any(pattern.search(words(name)) for pattern in _CLOSED_BY_PREFERENCE):
        return f"a date named like a close, but closed_at is {closed!r}; dates are not features"
    if _AFTER_OUTCOME.search(words(name)) or re.search(r"\b(recent|last|latest)\b", words(name)):
        return "a date written at or after the outcome (a latest or last-modified date); not a feature"
    return "a date but no milestone; dates are not features"


def _pick(profiles: list[ColumnProfile], pattern: re.Pattern[str]) -> ColumnProfile | None:
    return next((p for p in profiles if pattern.search(words(p.name))), None)


def _earliest(profiles: list[ColumnProfile]) -> ColumnProfile | None:
    dated = [
        (p.median_date, p)
        for p in profiles
        if p.median_date is not None and not _AFTER_OUTCOME.search(words(p.name))
    ]
    return min(dated, key=lambda pair: pair[0])[1] if dated else None


def _attribute(profile: ColumnProfile) -> ColumnRole:
    name = profile.name
    if profile.present == 0:
        return ColumnRole(name, "drop", "empty in every row")
    if profile.distinct == 1:
        return ColumnRole(name, "drop", f"one value in every row ({profile.examples[0]!r})")
    if _OPTED_OUT.search(words(name)) and profile.distinct <= 3:
        why = "a consent flag as of the export (an opt-out can follow the outcome): audited, never a feature"
        return ColumnRole(name, "categorical", why, "after_contact")
    if profile.at_share > 0.5 or (_PERSONAL.search(words(name)) and not profile.is_number):
        return ColumnRole(name, "drop", "personal data or free text, no signal a model should learn")
    if _ORGANISATION.search(words(name)) and not profile.is_number and profile.distinct > MAX_ORGANISATIONS:
        why = f"{profile.distinct:,} organisations' names: an identifier of accounts, no signal to learn"
        return ColumnRole(name, "drop", why)
    if profile.unreadable_numbers is not None:
        return ColumnRole(name, "drop", f"numbers no mapping reads: {profile.unreadable_numbers}")
    if _AFTER_OUTCOME.search(words(name)):
        return ColumnRole(name, "drop", "named like something written at or after the outcome (leakage)")
    # What sales set as they work a lead, and a second status or stage beside the outcome ("Lead
    # Status": attempted to contact, unqualified), changes with the lead's fate: audited, never a feature.
    by_sales = _BY_SALES.search(words(name)) or _STATUS_NAME.search(words(name))
    after_contact = "after_contact" if by_sales else None
    why_sales = "; set by sales or the CRM as it works the lead: audited, never a feature" if by_sales else ""
    if profile.is_number:
        if profile.is_unique and (_ID_NAME.search(words(name)) or profile.whole_numbers_in_sequence):
            return ColumnRole(name, "drop", "a different whole number in every row: an identifier")
        if _ACTIVITY.search(words(name)) and not _FIRMOGRAPHIC.search(words(name)):
            return ColumnRole(name, "activity", "numbers named like engagement" + why_sales, after_contact)
        codes = ""
        if profile.whole_numbers and profile.distinct <= MAX_CODES:
            codes = f" ({profile.distinct} whole values: if they are codes, list it under categorical)"
        return ColumnRole(name, "numeric", "numbers" + codes + why_sales, after_contact)
    if profile.distinct > MAX_LEVELS and profile.unique_share > 0.5:
        return ColumnRole(
            name, "drop", f"{profile.distinct:,} values, mostly unique: an identifier or free text"
        )
    return ColumnRole(name, "categorical", f"{profile.distinct:,} levels" + why_sales, after_contact)

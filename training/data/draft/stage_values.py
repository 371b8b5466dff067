"""A stage's guessed place in a drafted mapping: won, lost or still open, from its words in the languages
CRMs localise to. The user checks every line of ``[outcome.status_values]``."""

from __future__ import annotations

import re

from training.data.draft.words import words

# Matched against a stage in words ("Closed - Not Won" -> "closed not won").
_WON_VALUE = re.compile(
    r"\bwon\b|convert|\bcustomers?\b|\bsigned\b|purchas|success|closed deal|^yes$|^y$|^true$|^1$|\bpaid\b|"
    r"\bsubscribed\b|\bclients?\b|gewonnen|\bkunde\b|gagn|ganad|\bgano\b|ganho|\bvint[oa]\b|\bclientes?\b|"
    r"^ja$|^oui$|^s[ií]$|evangelist|advocate",
    re.I,
)
_LOST_VALUE = re.compile(
    r"\blost\b|disqualif|unqualif|reject|\bdead\b|junk|spam|churn|no deal|declin|^no$|^n$|^false$|^0$|fail|"
    r"cancel|verloren|abgelehnt|abgesagt|storniert|perdu|perdid|\bpers[oa]\b|rechaz|annul|^nein$|^non$|"
    r"descalific|squalific|disqualifi|nicht qualifiziert|\bno calificad|non qualifi|"
    r"kein (bedarf|interesse)|no interest|not interested|sin interes|pas interess",
    re.I,
)
#: A customer that is only potential or former is no win ("Potenzieller Kunde", "Cliente potencial").
_NOT_YET_OR_NO_LONGER = re.compile(r"potenz|potenc|potential|prospect|ehemalig|former|\bex\b|antig", re.I)
#: A won word negated ("Not Won", "Non-customer", "Nicht gewonnen") is no win, nor its un- form ("Unpaid").
_NEGATED = re.compile(r"\b(not|non|never|no|nicht|kein\w*|pas|niet)\b", re.I)
_UNDONE = re.compile(r"\bun(convert|paid|subscri|sign)", re.I)


def outcome_value(value: str) -> str:
    """A stage's guessed place: "won", "lost" or "open". Lost words and negated won words are tried
    first: "Closed - Not Converted", "Not Won", "Non-customer" and "Unpaid" are no wins."""
    text = words(value) or value.strip().lower()
    if (
        _LOST_VALUE.search(text)
        or _UNDONE.search(text)
        or (_WON_VALUE.search(text) and _NEGATED.search(text))
    ):
        return "lost"
    if _WON_VALUE.search(text) and not _NOT_YET_OR_NO_LONGER.search(text):
        return "won"
    return "open"

"""Value texts that read as sales actions or outcomes: the words sales teams write into CRM fields
after the first contact ("called, no answer", "proposal sent", "closed won", "not interested").

A small vocabulary of word stems in the languages CRM exports most often come in (English, German,
French, Spanish, Portuguese, Italian, Dutch). Texts are lowercased, stripped of accents and split into
words, so ``Closed-Won``, ``closed_won`` and ``CLOSED WON`` all match. A word matches a stem ending in
``*`` when it starts with it (``negotiat*`` matches negotiation, negotiating) and any other stem only
as a whole word (``won`` does not match wonderful). Deliberately left out: words that honest
creation-time fields use as well (``paid`` as in paid search, ``demo`` and ``contact`` as in a demo
request or contact form a lead fills in, ``success``/``failure`` of an earlier campaign).

Matches only ever warn: a value text is a hint, not evidence.
"""

from __future__ import annotations

import re
import unicodedata

# fmt: off
#: Outcomes of a sale, as sales records them.
OUTCOME_STEMS = (
    # English
    "won", "lost", "closed", "converted", "signed", "contracted", "purchased", "churned", "cancel*",
    "rejected", "declined", "disqualif*", "unqualif*", "approved", "accepted", "refused", "invoiced",
    "customer",
    # German
    "gewonnen", "verloren", "abgeschlossen", "abgesagt", "storniert", "kunde", "vertrag",
    # French
    "gagne", "perdu", "signe", "annule", "refuse",
    # Spanish / Portuguese / Italian
    "ganado", "ganho", "perdido", "cerrado", "fechado", "cancelado", "rechazado", "vinto", "perso",
    "chiuso", "cliente",
    # Dutch
    "gesloten", "klant", "afgewezen", "geannuleerd",
)

#: Actions of a salesperson on a lead.
ACTION_STEMS = (
    # English
    "called", "phoned", "voicemail", "contacted", "attempted", "followup", "follow", "meeting",
    "scheduled", "appointment", "proposal", "quote", "quotation", "negotiat*", "negociat*", "interested",
    "unreachable", "reached", "ringing", "revert", "callback",
    # German
    "angerufen", "anruf", "termin", "besprechung", "angebot", "verhandlung", "erreicht",
    "rueckruf", "ruckruf",
    # French
    "appele", "rappel", "rendez*", "reunion", "devis", "relanc*", "interesse*",
    # Spanish / Portuguese / Italian
    "llamad*", "cita", "propuesta", "cotizacion", "interesado", "seguimiento", "ligacao", "reuniao",
    "proposta", "orcamento", "interessado", "chiamat*", "riunione", "appuntamento", "preventivo",
    "interessato",
    # Dutch
    "gebeld", "nabellen", "bellen", "afspraak", "offerte*", "geinteresseerd",
)
# fmt: on

_WORD = re.compile(r"[a-z]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def words(text: str) -> list[str]:
    """Lowercase ASCII words of a value text (accents stripped, camelCase and snake_case split)."""
    split = _CAMEL.sub(" ", str(text))
    ascii_text = unicodedata.normalize("NFKD", split).encode("ascii", "ignore").decode().lower()
    return _WORD.findall(ascii_text)


_STEMS = OUTCOME_STEMS + ACTION_STEMS
_WHOLE = frozenset(stem for stem in _STEMS if not stem.endswith("*"))
_PREFIXES = tuple(stem[:-1] for stem in _STEMS if stem.endswith("*"))


def sales_words(text: str) -> list[str]:
    """The words of ``text`` that read as a sales action or outcome (empty: none)."""
    return [word for word in words(text) if word in _WHOLE or word.startswith(_PREFIXES)]

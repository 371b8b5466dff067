"""Event type values (or details) that read as the prospect raising a hand: a request for a demo, a
quote, a price, a meeting or contact, a trial sign-up, in the languages the draft reads, onto the names
the decision policy's hand-raising events go by."""

from __future__ import annotations

import re

# A request word in the languages the draft reads: what makes a contact, demo or quote the prospect's own.
_ASKED = r"(request|inquir|enquir|anfrag|angefragt|angefordert|demande|solicit|richiest|aanvraag)"
#: Event type values that read as the prospect raising a hand, onto the names the decision policy knows
#: (``training.model.decision_policy.DEFAULT_HAND_RAISING_EVENTS``). Only a request or a sign-up is one: a
#: meeting or call that sales logged, a page the prospect viewed, a record updated are not.
_HAND_RAISING = (
    ("demo_request", re.compile(rf"\bdemo\b.*{_ASKED}|{_ASKED}.*\bdemo\b", re.I)),
    (
        "trial_signup",
        re.compile(
            r"\btrial\b.*\b(sign|start|regist|anmeld)|\b(sign|start|regist).*\btrial\b|testversion", re.I
        ),
    ),
    (
        "quote_request",
        re.compile(rf"\b(quote|angebot|offerte|devis|cotizaci\w*)\b.*{_ASKED}|angebotsanfrage", re.I),
    ),
    ("pricing_request", re.compile(rf"\b(pricing|price|preis|tarif)\b.*{_ASKED}|preisanfrage", re.I)),
    (
        "meeting_request",
        re.compile(rf"\b(meeting|termin|rendez-vous|reuni[oó]n|cita)\b.*{_ASKED}|terminanfrage", re.I),
    ),
    (
        "contact_request",
        re.compile(
            rf"\bcontact (us|sales|request|form)\b|\bcontact\b.*{_ASKED}|kontaktanfrage|kontaktformular|"
            r"formulario de contacto|formulaire de contact|modulo (di )?contatt|contactformulier|"
            r"call.?back request|request (a )?call.?back|r.ckrufbitte|"
            r"r.ckruf (erbeten|gew.nscht|angefordert)",
            re.I,
        ),
    ),
)
#: Words that make a value something done to or about a request, not the request: "Demo request
#: cancelled", "Contact information updated", "Trial expired", "Page view: Contact Us".
_NOT_A_REQUEST = re.compile(
    r"cancel|storn|abgesagt|delet|l.sch|expir|abgelaufen|remind|erinner|updat|aktualisier|chang|ge.ndert|"
    r"status|schedul|geplant|erfolgt|done|complet|held|sent|gesendet|view|page|seite|besuch|visit|\bby\b",
    re.I,
)


def hand_raising_values(values: list[str]) -> dict[str, str]:
    """Event type values that read as a hand-raise, each onto the decision policy's name for it."""
    found = {}
    for value in values:
        if _NOT_A_REQUEST.search(value):
            continue
        name = next((name for name, pattern in _HAND_RAISING if pattern.search(value)), None)
        if name is not None and value.strip().lower() != name:
            found[value] = name
    return found

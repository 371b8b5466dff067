"""Column names and values as plain lower-case words, the form the draft's name patterns match."""

from __future__ import annotations

import re
import unicodedata


def words(name: str) -> str:
    """A column name as lower-case words: "LeadRating", "lead_rating" and "Lead Rating" -> "lead rating";
    accents dropped ("Date de clôture" -> "date de cloture", "Sí" -> "si"), "ß" as "ss"."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", name.replace("ß", "ss"))
    plain = "".join(c for c in unicodedata.normalize("NFKD", spaced) if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^0-9A-Za-z]+", " ", plain).lower().split())

"""Why lead A scores above lead B: both leads in one model call, then the difference of their exact
contributions by business signal (``Explainer.compare``), in sentences."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from serving.scorer import LeadScorer
from training.data.live import LeadIn

#: How the two leads are called in sentences (never by their ids).
NAMES = ("lead A", "lead B")


def compare_leads(
    scorer: LeadScorer, a: LeadIn, b: LeadIn, *, default_as_of: datetime, top: int = 5
) -> dict[str, Any]:
    """A ``Comparison`` (as a dict): which lead scores higher and the signals that make the difference."""
    arrays = scorer.build_arrays([a, b], default_as_of)
    scored = scorer.run_model(arrays)
    explainer = scorer.explainer
    axes = explainer.axes(scored.contributions)
    difference = explainer.compare(scored.features, scored.contributions, scored.raw, NAMES, top)
    leads = []
    for i, lead in enumerate((a, b)):
        leads.append(
            {
                "lead_id": lead.lead_id,
                "score": round(float(scored.readiness[i]) * 100.0, 1),
                "fit": axes.fit[i],
                "interest": axes.interest[i],
                "fit_interest": axes.label(i),
                "raw_score": float(scored.raw[i]),
            }
        )
    return {
        "model_version": scorer.version,
        "a": leads[0],
        "b": leads[1],
        **difference,
        "summary": _summary(leads, difference),
    }


def _summary(leads: list[dict[str, Any]], difference: dict[str, Any]) -> str:
    higher = difference["higher"]
    if higher is None:
        return f"{_capital(NAMES[0])} and {NAMES[1]} score the same ({leads[0]['score']:.1f})."
    first, second = (0, 1) if higher == "a" else (1, 0)
    text = (
        f"{_capital(NAMES[first])} scores higher than {NAMES[second]} "
        f"({leads[first]['score']:.1f} vs {leads[second]['score']:.1f})"
    )
    reasons = [signal["label"] for signal in difference["signals_for"][:3]]
    if reasons:
        text += ", mostly because of: " + ", ".join(reasons)
    return text + "."


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]

"""Warnings in an answer: what the scorer ignored or could not judge about a lead.

Each is a ``serving.schemas.Warning`` as a dict (the scorer answers in plain dicts; see
``LeadScorer.score_payloads``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from training.data.live import LeadIn
from training.data.live_arrays import blank
from training.features.snapshot_arrays import SnapshotArrays


def lead_warnings(
    leads: Sequence[LeadIn],
    arrays: SnapshotArrays,
    known_event_types: frozenset[str],
    known_levels: Mapping[str, frozenset[str]],
    profile_fields: frozenset[str],
    numeric_ranges: Mapping[str, tuple[float, float]] | None = None,
) -> list[list[dict[str, Any]]]:
    """``Warning`` dicts per lead: events at or after ``as_of`` (ignored), event types the model never
    saw, profile values never seen in training, numbers outside the training range, profile fields the
    model does not use, and fields it uses that the request left out."""
    n = len(leads)
    warnings: list[list[dict[str, Any]]] = [[] for _ in range(n)]
    if len(arrays.event_ns):
        owner = arrays.event_lead_codes  # the lead's position in the request (build_arrays)
        late = np.bincount(owner, weights=arrays.event_ns >= arrays.cutoff_ns[owner], minlength=n)
        codes, names = arrays.event_types
        unknown_name = np.array([str(t) not in known_event_types for t in names], dtype=bool)
        unknown_mask = unknown_name[codes] & (codes >= 0) if len(names) else np.zeros(len(codes), bool)
        unknown = np.bincount(owner, weights=unknown_mask, minlength=n)
        for i in np.flatnonzero(late):
            warnings[i].append(
                {
                    "code": "events_after_as_of",
                    "message": f"{int(late[i])} event(s) at or after as_of were ignored (point in time).",
                    "count": int(late[i]),
                }
            )
        for i in np.flatnonzero(unknown):
            found = sorted({str(names[c]) for c in codes[(owner == i) & unknown_mask]})
            warnings[i].append(
                {
                    "code": "unknown_event_types",
                    "message": f"Event types the model has never seen were ignored: {', '.join(found[:20])}.",
                    "count": int(unknown[i]),
                }
            )
    outside = _outside_training(arrays, numeric_ranges or {})
    for position, lead in enumerate(leads):
        absent = sorted(profile_fields - set(lead.profile or ()))
        if absent:
            warnings[position].append(
                {
                    "code": "missing_profile_fields",
                    "message": "Profile fields the model uses were not given (scored as unknown): "
                    f"{', '.join(absent)}.",
                    "count": len(absent),
                }
            )
        if not lead.profile:
            continue
        beyond = outside.get(position)
        if beyond:
            warnings[position].append(
                {
                    "code": "numbers_outside_training",
                    "message": "Numbers outside everything seen in training (the model has no evidence "
                    f"there; their effect is capped): {', '.join(beyond)}.",
                    "count": len(beyond),
                }
            )
        unseen = [
            f"{column}={value}"
            for column, value in lead.profile.items()
            if not blank(value) and column in known_levels and str(value) not in known_levels[column]
        ]
        if unseen:
            warnings[position].append(
                {
                    "code": "unseen_profile_values",
                    "message": "Profile values never seen in training (treated as 'other'): "
                    f"{', '.join(unseen)}.",
                    "count": len(unseen),
                }
            )
        extra = sorted(set(lead.profile) - profile_fields)
        if extra:
            warnings[position].append(
                {
                    "code": "unknown_profile_fields",
                    "message": f"Profile fields the model does not use were ignored: {', '.join(extra)}.",
                    "count": len(extra),
                }
            )
    return warnings


def _outside_training(
    arrays: SnapshotArrays, ranges: Mapping[str, tuple[float, float]]
) -> dict[int, list[str]]:
    """Lead position -> ``column=value (training low to high)`` for each numeric profile value outside
    its training range, read from the values the scorer parsed (missing ones compare false)."""
    beyond: dict[int, list[str]] = {}
    for column, (low, high) in ranges.items():
        values = arrays.numeric.get(column)
        if values is None:
            continue
        # Plain floats: a single-lead answer pays for a few comparisons, not for numpy calls.
        for i, value in enumerate(values.tolist()):
            if value < low or value > high:
                beyond.setdefault(i, []).append(f"{column}={value:.6g} (training {low:.6g} to {high:.6g})")
    return beyond


def unlike_handed_over(outside: np.ndarray, warnings: list[list[dict[str, Any]]]) -> None:
    """Add the overlap warning to the leads unlike any lead ever handed over (their chance if handed over
    now is an extrapolation of the historical handovers)."""
    for i in np.flatnonzero(outside):
        warnings[i].append(
            {
                "code": "unlike_handed_over_leads",
                "message": "Hardly any lead this green was ever handed over in the training data: the "
                "chance of a win if handed over now is extrapolated, not observed.",
                "count": 1,
            }
        )

"""Which event types count as high intent (hand-raising and buying signals): learnt from the training
labels by lift where the data allows, else recognised by name."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from training.features.events import EventTimeline

#: Names that read as buying intent; the fallback when no type shows a lift in the training labels.
HIGH_INTENT_NAME_PATTERN = re.compile(
    r"pricing|price|demo|trial|contact|quote|meeting|proposal|call|purchase|buy|sales|request", re.IGNORECASE
)


def high_intent_by_lift(
    timeline: EventTimeline,
    y: np.ndarray,
    event_types: Sequence[str],
    *,
    min_count: int,
    min_lift: float,
    max_types: int,
) -> tuple[str, ...]:
    """The event types (at most ``max_types``, sorted by name) whose snapshots with at least one event
    of the type win at ``min_lift`` times the base rate or more, among types seen in at least
    ``min_count`` snapshots. Slots beyond ``event_types`` (the pooled rare types) are no candidates."""
    base_rate = float(np.mean(y[timeline.valid])) if timeline.valid.any() else 0.0
    if base_rate <= 0.0:
        return ()
    lifts: list[tuple[float, str]] = []
    for chunk in timeline.chunks:
        for slot, has_events in zip(range(chunk.start, chunk.stop), timeline.count(chunk) > 0, strict=True):
            if slot >= len(event_types):
                continue
            if has_events.sum() >= min_count:
                lift = float(y[has_events].mean()) / base_rate
                if lift >= min_lift:
                    lifts.append((lift, event_types[slot]))
    lifts.sort(key=lambda item: (-item[0], item[1]))
    return tuple(sorted(t for _, t in lifts[:max_types]))

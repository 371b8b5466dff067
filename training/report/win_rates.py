"""Historical win rates per business signal, one row per comparison, with a sentence each.

The numbers are those of ``training.model.signal_stats.signal_stats`` (the same numbers the API's
reasons quote): with vs without a recent event, per level, per quartile, against the overall rate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from training.features.specs import (
    ENGAGEMENT_SIGNAL,
    HIGH_INTENT_SIGNAL,
    OTHER_EVENT,
    FeatureCatalog,
    FeatureKind,
    FeatureScope,
    FeatureSpec,
    as_catalog,
)
from training.model.reasons import humanize
from training.model.serving_types import (
    CategoricalSignalStats,
    EventSignalStats,
    SignalStats,
)
from training.model.signal_stats import (
    PREFERRED_WINDOW_DAYS,
    event_type_count_columns,
    signal_stats,
    value_features,
)
from training.report.signals import signal_label

_PRESENCE_NOUNS = {
    HIGH_INTENT_SIGNAL: "high-intent action",
    ENGAGEMENT_SIGNAL: "event",
    OTHER_EVENT: "rarer event",
}


def signal_win_rates(features: pd.DataFrame, y: Any, specs: Iterable[FeatureSpec]) -> pd.DataFrame:
    """Historical win rates per signal, flattened to one row per comparison (see the module docstring).

    Columns: ``signal``, ``label``, ``kind`` (``event_type`` with/without, ``categorical`` per level,
    ``numeric`` per quartile), ``level`` (e.g. "with a 'demo request' in the last 30 days", "referral",
    "56 to 133"), ``short_level`` (``with`` / ``without`` for event types, else the level), ``n``,
    ``win_rate``, ``overall_win_rate``, ``lift`` (win rate / overall) and ``sentence``.
    """
    labels = np.asarray(y, dtype=np.float64)
    if len(labels) != len(features):
        raise ValueError(f"y has {len(labels)} values but features has {len(features)} rows")
    features = features.reset_index(drop=True)
    catalog = FeatureCatalog(spec for spec in as_catalog(specs) if spec.name in features.columns)
    windows = event_type_count_columns(catalog)
    # Derived groups are summarised by one representative feature each: whether the lead had any
    # event in the recent window, whether it has shown high intent; lead age gets quartiles.
    engagement = catalog.window_counts([FeatureScope.ALL_EVENTS], PREFERRED_WINDOW_DAYS)
    windows.update({signal: (spec.name, spec.window_days) for signal, spec in engagement.items()})
    flag = catalog.find(FeatureKind.MILESTONE_FLAG, FeatureScope.HIGH_INTENT)
    if flag is not None:
        windows[flag.signal] = (flag.name, None)
    stats = signal_stats(features, labels, value_features(catalog), windows)
    rows: list[dict[str, Any]] = []
    for signal, entry in stats.items():
        rows.extend(_rows_of(signal, entry, len(labels)))
    columns = ["signal", "label", "kind", "level", "short_level", "n", "win_rate", "overall_win_rate", "lift"]
    columns.append("sentence")
    return pd.DataFrame(rows, columns=columns)


def _rows_of(signal: str, entry: SignalStats, n_total: int) -> list[dict[str, Any]]:
    label, kind, overall = signal_label(signal), entry.kind, entry.overall_win_rate
    base = {"signal": signal, "label": label, "kind": kind, "overall_win_rate": overall}
    rows: list[dict[str, Any]] = []
    if isinstance(entry, EventSignalStats):
        window = entry.window_days
        recently = f"in the last {window} days" if window else "so far"
        name = humanize(signal)
        noun = _PRESENCE_NOUNS.get(signal, f"{'an' if name[:1] in 'aeiou' else 'a'} '{name}'")
        n_with = entry.n_with
        for level, rate, n in (
            (f"with {noun} {recently}", entry.win_rate_with, n_with),
            (f"without {noun} {recently}", entry.win_rate_without, n_total - n_with),
        ):
            rows.append(
                {**base, "level": level, "short_level": level.split(" ")[0], "n": n, "win_rate": rate}
            )
        return _finish(rows, overall)
    if isinstance(entry, CategoricalSignalStats):
        for level, values in entry.levels.items():
            rows.append(
                {**base, "level": level, "short_level": level, "n": values.n, "win_rate": values.win_rate}
            )
        return _finish(rows, overall)
    for band in entry.bins:
        level = f"{_short_number(band.lower)} to {_short_number(band.upper)}"
        rows.append({**base, "level": level, "short_level": level, "n": band.n, "win_rate": band.win_rate})
    return _finish(rows, overall)


def _finish(rows: list[dict[str, Any]], overall: float) -> list[dict[str, Any]]:
    for row in rows:
        rate = row["win_rate"]
        row["lift"] = rate / overall if rate is not None and overall else math.nan
        if rate is None:
            row["win_rate"] = math.nan
            row["sentence"] = f"{row['label']}, {row['level']}: no such leads"
            continue
        subject = (
            f"Leads {row['level']}" if row["kind"] == "event_type" else f"{row['label']} = {row['level']}"
        )
        row["sentence"] = f"{subject}: {rate:.0%} won vs {overall:.0%} overall"
    return rows


def _short_number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 or value == round(value) else f"{value:.2g}"

"""Profile values as of each snapshot's cutoff, from the dataset's profile history (point in time).

The leads table holds each field's **latest** value: a lead's industry corrected after the sale, a
company size filled in by sales after the first call. With a profile history (``lead_id``, ``field``,
``old_value``, ``new_value``, ``changed_at``; see ``training.data.contract``), a snapshot at cutoff
``t`` sees, for every field with history for its lead, the ``new_value`` of the last change strictly
before ``t`` (as events: only what happened before the cutoff), or the ``old_value`` of the lead's
first change of that field when every change comes at or after ``t``. A lead without history for the
field keeps the leads table's value. Row-order snapshots (no cutoff time) keep the leads table's value.

Vectorised: one sort of the field's changes by (lead, time) and one ``searchsorted`` of all snapshots,
no loop per lead or snapshot. The API scores what the CRM sends (current values), so none of this runs
in serving.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from training.data.contract import CHANGED_AT, HISTORY_FIELD, LEAD_ID, NEW_VALUE, OLD_VALUE
from training.features.timestamps import NAT_NS, timestamps_ns


def has_values(history: pd.DataFrame | None) -> bool:
    """Whether ``history`` can give values as of a cutoff (it has rows, old and new values)."""
    return history is not None and len(history) > 0 and {OLD_VALUE, NEW_VALUE} <= set(history.columns)


def history_fields(history: pd.DataFrame | None, columns: Sequence[str]) -> list[str]:
    """The ``columns`` that ``history`` has changes (with values) for."""
    if not has_values(history):
        return []
    assert history is not None
    present = set(history[HISTORY_FIELD].astype(str).unique())
    return [column for column in columns if column in present]


def values_as_of(
    history: pd.DataFrame,
    column: str,
    lead_ids: pd.Series,
    lead_idx: np.ndarray,
    cutoff_ns: np.ndarray,
    current: pd.api.extensions.ExtensionArray | np.ndarray,
    *,
    numeric: bool,
) -> tuple[pd.api.extensions.ExtensionArray | np.ndarray, int]:
    """``column``'s value per snapshot (lead ``lead_ids[lead_idx[i]]`` at ``cutoff_ns[i]``) and how many
    snapshots got a value from the history rather than the leads table (``current``, per snapshot).

    Numeric columns come back as float64, categorical ones as a ``Categorical`` whose categories add
    the history's values to the current ones.
    """
    changes = history[history[HISTORY_FIELD].astype(str) == column]
    change_lead = pd.Index(lead_ids.astype(str)).get_indexer(pd.Index(changes[LEAD_ID].astype(str)))
    change_ns = timestamps_ns(changes[CHANGED_AT])
    usable = (change_lead >= 0) & (change_ns != NAT_NS)
    if not usable.any():
        return current, 0
    order = np.lexsort((change_ns[usable], change_lead[usable]))  # by lead, then time (stable)
    lead_sorted = change_lead[usable][order]
    ns_sorted = change_ns[usable][order]
    old = _values(changes[OLD_VALUE], numeric)[usable][order]
    new = _values(changes[NEW_VALUE], numeric)[usable][order]
    # (lead, time) as one sortable int64: times replaced by their rank among the distinct change times.
    times = np.unique(ns_sorted)
    stride = np.int64(len(times) + 1)
    keys = lead_sorted.astype(np.int64) * stride + np.searchsorted(times, ns_sorted)
    # Changes strictly before the cutoff: rank < (number of distinct change times before the cutoff).
    before = np.searchsorted(times, cutoff_ns, side="left")
    last = np.searchsorted(keys, lead_idx.astype(np.int64) * stride + before, side="left") - 1
    first = np.searchsorted(lead_sorted, lead_idx, side="left")
    timed = cutoff_ns != NAT_NS
    has_history = timed & (first < len(lead_sorted))
    has_history[has_history] &= lead_sorted[first[has_history]] == lead_idx[has_history]
    changed = has_history & (last >= 0)
    changed[changed] &= lead_sorted[last[changed]] == lead_idx[changed]
    from_history = np.where(changed, new[np.maximum(last, 0)], old[np.minimum(first, len(old) - 1)])
    used = int(has_history.sum())
    if numeric:
        values = np.asarray(current, dtype=np.float64).copy()
        values[has_history] = from_history[has_history].astype(np.float64)
        return values, used
    current_values = pd.Categorical(current)
    replaced = pd.Series(np.asarray(current_values, dtype=object))
    replaced[has_history] = from_history[has_history]
    present = pd.Series(from_history[has_history]).dropna().astype(str).unique()
    categories = current_values.categories.union(pd.Index(present, dtype=object))
    return pd.Categorical(replaced, categories=categories), used


def _values(values: pd.Series, numeric: bool) -> np.ndarray:
    """History values as float64 (numeric fields; validated to parse) or text objects, missing as NaN."""
    if numeric:
        return pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    text = values.astype(object).where(values.notna(), np.nan)
    return np.asarray(text, dtype=object)

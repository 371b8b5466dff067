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

from training.data.contract import CHANGED_AT, HISTORY_FIELD, LEAD_ID, NEW_VALUE, OLD_VALUE, LeadDataset
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


def profile_at(
    dataset: LeadDataset, lead_idx: np.ndarray, cutoff_ns: np.ndarray, columns: Sequence[str]
) -> dict[str, pd.api.extensions.ExtensionArray | np.ndarray]:
    """The ``columns`` that have history, per snapshot (lead at position ``lead_idx[i]`` of the leads
    table, at ``cutoff_ns[i]``), as of the cutoff; columns without history are not in the result."""
    history = dataset.profile_history
    leads = dataset.leads
    values: dict[str, pd.api.extensions.ExtensionArray | np.ndarray] = {}
    for column in history_fields(history, columns):
        assert history is not None
        numeric = pd.api.types.is_numeric_dtype(leads[column].dtype)
        current = leads[column].array.take(lead_idx)
        values[column], _ = values_as_of(
            history, column, leads[LEAD_ID], lead_idx, cutoff_ns, current, numeric=numeric
        )
    return values


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
    changes = history[history[HISTORY_FIELD].to_numpy(dtype=object) == column]
    change_lead = pd.Index(lead_ids.astype(str)).get_indexer(pd.Index(changes[LEAD_ID].astype(str)))
    change_ns = timestamps_ns(changes[CHANGED_AT])
    usable = (change_lead >= 0) & (change_ns != NAT_NS)
    if not usable.any():
        return current, 0
    order = np.lexsort((change_ns[usable], change_lead[usable]))  # by lead, then time (stable)
    lead_sorted = change_lead[usable][order].astype(np.int64)
    ns_sorted = change_ns[usable][order]
    # Only snapshots of leads with history (and a cutoff time) need a look-up.
    lead_has_history = np.zeros(int(max(lead_sorted.max(), lead_idx.max(initial=0))) + 1, dtype=bool)
    lead_has_history[lead_sorted] = True
    chosen = np.flatnonzero(lead_has_history[lead_idx] & (cutoff_ns != NAT_NS))
    leads_chosen = lead_idx[chosen].astype(np.int64)
    # (lead, time) as one sortable int64: times replaced by their rank among the distinct change times.
    times = np.unique(ns_sorted)
    stride = np.int64(len(times) + 1)
    keys = lead_sorted * stride + np.searchsorted(times, ns_sorted)
    # Changes strictly before the cutoff: rank < (number of distinct change times before the cutoff).
    before = np.searchsorted(times, cutoff_ns[chosen], side="left")
    last = np.searchsorted(keys, leads_chosen * stride + before, side="left") - 1
    first = np.searchsorted(lead_sorted, leads_chosen, side="left")
    changed = last >= 0
    changed[changed] &= lead_sorted[last[changed]] == leads_chosen[changed]
    # The change row each chosen snapshot reads: its last one before the cutoff (new value), else its
    # first one (old value).
    row = np.where(changed, last, first)
    old_rows = changes[OLD_VALUE].to_numpy(dtype=object)[usable][order]
    new_rows = changes[NEW_VALUE].to_numpy(dtype=object)[usable][order]
    if numeric:
        values = np.asarray(current, dtype=np.float64).copy()
        old, new = _numbers(old_rows), _numbers(new_rows)
        values[chosen] = np.where(changed, new[row], old[row])
        return values, len(chosen)
    # Categorical: work on codes; the categories gain the history's values.
    current_values = pd.Categorical(current)
    texts = pd.Index(pd.unique(np.concatenate([old_rows, new_rows]))).dropna().astype(str)
    categories = current_values.categories.union(texts.difference(current_values.categories))
    recode = np.append(categories.get_indexer(current_values.categories), -1)
    codes = recode[current_values.codes]
    old_codes = _codes(old_rows, categories)
    new_codes = _codes(new_rows, categories)
    codes[chosen] = np.where(changed, new_codes[row], old_codes[row])
    return pd.Categorical.from_codes(codes, categories=categories), len(chosen)


def _numbers(values: np.ndarray) -> np.ndarray:
    """History values of a numeric field (validated to parse) as float64, missing as NaN."""
    return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _codes(values: np.ndarray, categories: pd.Index) -> np.ndarray:
    """Codes of history values in ``categories``; missing values get -1."""
    text = pd.Series(values, dtype=object)
    codes = categories.get_indexer(pd.Index(text.where(text.isna(), text.astype(str))))
    return np.where(text.isna().to_numpy(), -1, codes)

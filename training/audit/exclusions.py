"""Which lead columns a run may use as features: everything but the excluded and ``after_contact`` ones.

Sources, all recorded in the run's audit report with the reason: ``exclude_columns`` of the training
config (``"leads.column"`` or ``"column"``), the mapping's ``exclude_columns`` (in the dataset
metadata) and columns whose ``known_at`` is ``after_contact``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from training.data.contract import KnownAt, LeadDataset


class ExclusionError(ValueError):
    """``exclude_columns`` names a column the dataset does not have (a typo would silently keep a leak)."""


def resolve_exclusions(dataset: LeadDataset, exclude_columns: Sequence[str]) -> dict[str, str]:
    """``leads.column`` -> why it is not a feature."""
    meta = dataset.metadata
    profile = set(meta.profile_columns)
    why: dict[str, str] = {}
    for column in meta.columns_known(KnownAt.AFTER_CONTACT):
        why[f"leads.{column}"] = 'known_at = "after_contact" (written by sales after the first contact)'
    for column in meta.excluded_columns:
        if column in profile:
            why.setdefault(f"leads.{column}", "listed in the mapping's exclude_columns")
    for item in exclude_columns:
        column = item.removeprefix("leads.")
        if column not in profile:
            raise ExclusionError(
                f"exclude_columns lists {item!r}, which is not a profile column of dataset "
                f"{meta.name!r} (columns: {', '.join(sorted(profile)) or 'none'})"
            )
        why.setdefault(f"leads.{column}", "listed in the training config's exclude_columns")
    return why


def without_columns(dataset: LeadDataset, keys: Sequence[str]) -> LeadDataset:
    """The dataset without the given ``leads.column`` columns (tables and metadata); others untouched."""
    columns = [key.removeprefix("leads.") for key in keys if key.startswith("leads.")]
    if not columns:
        return dataset
    meta = dataset.metadata
    kept = replace(
        meta,
        categorical_columns=[c for c in meta.categorical_columns if c not in columns],
        numeric_columns=[c for c in meta.numeric_columns if c not in columns],
        activity_columns=[c for c in meta.activity_columns if c not in columns],
    )
    return replace(dataset, leads=dataset.leads.drop(columns=columns, errors="ignore"), metadata=kept)

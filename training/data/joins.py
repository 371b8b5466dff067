"""Join lookup tables (``[[joins]]`` in the mapping config) onto the leads by key.

Each lookup file is read, cleaned like any mapped file (value maps, missing markers), checked to hold
one row per key (duplicated keys refuse the import, naming a few of them with their rows), and its
taken columns are added to the leads as profile columns. Leads whose key matches no lookup row get
missing values there; they are counted (``JoinSummary``), and when they are more than the join's
``max_unmatched_share`` of the leads that have a key the import fails, naming the file, the keys, the
count and the share. Keys are compared as stripped text (``12.0`` from a typed file equals ``"12"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from training.data.join_config import JoinMapping
from training.data.mapping_columns import (
    clean_columns,
    read_source,
    require_all,
    require_columns,
    section_numbers,
)
from training.data.mapping_config import MappingConfig
from training.data.mapping_sections import MappingConfigError
from training.data.parsing import as_text

#: Duplicated or unmatched keys quoted in a message.
_EXAMPLES = 3


@dataclass(frozen=True)
class JoinSummary:
    """How one lookup table joined onto the leads."""

    file: str
    on: str
    key: str
    leads: int
    matched: int
    unmatched: int
    #: leads whose own key is empty (they cannot match; not counted as unmatched)
    without_key: int

    @property
    def unmatched_share(self) -> float:
        with_key = self.leads - self.without_key
        return self.unmatched / with_key if with_key else 0.0

    def describe(self) -> str:
        """One line for the import summary."""
        return (
            f"{self.matched:,} of {self.leads:,} leads matched; {self.unmatched:,} unmatched "
            f"({self.unmatched_share:.1%} of those with a key), {self.without_key:,} without a key"
        )


@dataclass(frozen=True)
class JoinedColumns:
    """What one join adds: the columns (indexed like the leads), where each came from, the raw file."""

    columns: pd.DataFrame
    #: output column -> how problems should name it (the lookup's column and file)
    original: dict[str, str]
    raw: pd.DataFrame
    summary: JoinSummary


def join_lookup(
    config: MappingConfig,
    index: int,
    lead_keys_raw: pd.DataFrame,
    root: Path,
    encoding: str | None,
    warnings: list[str],
) -> JoinedColumns:
    """Join ``config.joins[index]`` onto the leads file's rows (see the module docstring); ``lead_keys_raw``
    holds the leads file's key columns, cleaned by its value maps and missing markers."""
    join = config.joins[index]
    section = f"joins.{index}"
    leads_file = config.leads.source.file
    source = join.required_source
    raw = read_source(config, section, source, root, encoding)
    require_columns(config, section, join.file, raw, {"key": join.lookup_key})
    for key, listed in (("categorical", join.categorical), ("numeric", join.numeric)):
        require_all(config, section, join.file, raw, key, listed)
    cleaned = clean_columns(
        config, section, join.file, raw, [join.lookup_key, *join.columns], join.rules, warnings
    )
    section_numbers(config, section, join, join.file, cleaned, join.numeric)
    keys = _key_text(cleaned[join.lookup_key])
    _refuse_duplicates(config, section, join, keys)
    blank = int(keys.isna().sum())
    if blank:
        warnings.append(f"{blank:,} rows of {join.file} have no {join.lookup_key!r}: no lead can match them")
    lead_keys = _key_text(lead_keys_raw[join.on])
    present = keys.notna().to_numpy()
    if not present.any():
        raise MappingConfigError(
            f"{config.path}: key '{section}.key': column {join.lookup_key!r} of {join.file} is empty in "
            "every row, so no lead can be joined to it"
        )
    position = pd.Index(keys[present]).get_indexer(lead_keys)
    matched = position >= 0
    without_key = lead_keys.isna().to_numpy()
    unmatched = ~matched & ~without_key
    summary = JoinSummary(
        file=join.file,
        on=join.on,
        key=join.lookup_key,
        leads=len(lead_keys),
        matched=int(matched.sum()),
        unmatched=int(unmatched.sum()),
        without_key=int(without_key.sum()),
    )
    if summary.leads and summary.without_key == summary.leads:
        raise MappingConfigError(
            f"{config.path}: key '{section}.on': column {join.on!r} of {leads_file} is empty in every row, "
            f"so no lead can be joined to {join.file}"
        )
    if summary.unmatched_share > join.max_unmatched_share:
        examples = ", ".join(repr(str(key)) for key in pd.unique(lead_keys[unmatched])[:_EXAMPLES])
        raise MappingConfigError(
            f"{config.path}: key '{section}': {summary.unmatched:,} of "
            f"{summary.leads - summary.without_key:,} leads of {leads_file} "
            f"({summary.unmatched_share:.1%}) have a {join.on!r} that matches no {join.lookup_key!r} "
            f"of {join.file} (e.g. {examples}); more than max_unmatched_share = "
            f"{join.max_unmatched_share:.1%}. Check the key columns and the lookup file, or raise "
            "max_unmatched_share."
        )
    taken = cleaned.loc[present, list(join.columns)]
    columns = pd.DataFrame(
        {
            join.output_name(column): pd.Series(
                np.where(matched, taken[column].to_numpy(dtype=object)[np.maximum(position, 0)], None),
                index=lead_keys.index,
                dtype=object,
            )
            for column in join.columns
        },
        index=lead_keys.index,
    )
    original = {join.output_name(column): f"{column} (from {join.file})" for column in join.columns}
    return JoinedColumns(columns, original, raw, summary)


def _key_text(values: pd.Series) -> pd.Series:
    """Keys as stripped text, blank = missing, and ``12.0`` read as ``12`` (an id column that a
    spreadsheet or a typed file turned into floats must still match its text form)."""
    text = as_text(values)
    return text.str.replace(r"^(-?\d+)\.0+$", r"\1", regex=True)


def _refuse_duplicates(config: MappingConfig, section: str, join: JoinMapping, keys: pd.Series) -> None:
    """A lookup table must have one row per key: otherwise which row a lead gets would be arbitrary."""
    duplicated = keys[keys.notna() & keys.duplicated(keep=False)]
    if duplicated.empty:
        return
    rows = duplicated.groupby(duplicated, sort=False).apply(lambda group: list(group.index))
    examples = "; ".join(
        f"{key!r} at rows {', '.join(map(str, found[:_EXAMPLES]))}"
        for key, found in list(rows.items())[:_EXAMPLES]
    )
    raise MappingConfigError(
        f"{config.path}: key '{section}.key': {join.file} has {len(rows):,} {join.lookup_key!r} values "
        f"on more than one row ({examples}); a lookup table needs one row per key (deduplicate the "
        "file, or join on a column that is unique)"
    )

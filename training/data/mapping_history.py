"""Shape a field-history export (``[profile_history]`` in the mapping config) into the contract's profile
history table (still text; ``training.data.profile_history`` checks it against the validated leads).

History exports list every tracked field, most of them not profile columns (status, owner, ...):
those rows are left out and counted in a warning. The leads section's value maps and missing markers
apply to the old and new values of the field they are about, so that a history value reads like the
leads table's; fields are named by the leads file's columns (``fields`` maps other spellings onto
them) and come out under their output (renamed) names.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from training.data.contract import CHANGED_AT, HISTORY_FIELD, LEAD_ID, NEW_VALUE, OLD_VALUE
from training.data.mapping_columns import as_text, clean_columns, read_source, require_columns, section_dates
from training.data.mapping_config import MappingConfig
from training.data.number_format import to_plain_numbers

#: Fields named in the warning about history rows that are not profile columns.
_LISTED_FIELDS = 5


def history_table(
    config: MappingConfig, root: Path, encoding: str | None, warnings: list[str]
) -> tuple[pd.DataFrame, dict[str, str], pd.DataFrame]:
    """The history table (index: the file's data rows), the export's name of each of its columns, and
    the file as read."""
    section = config.profile_history
    assert section is not None
    name = "profile_history"
    file = section.file
    source = section.required_source
    raw = read_source(config, name, source, root, encoding)
    columns = {
        LEAD_ID: section.lead_id,
        HISTORY_FIELD: section.field,
        OLD_VALUE: section.old_value,
        NEW_VALUE: section.new_value,
        CHANGED_AT: section.changed_at,
    }
    require_columns(
        config,
        name,
        file,
        raw,
        {
            key: column
            for key, column in zip(
                ("lead_id", "field", "old_value", "new_value", "changed_at"), columns.values(), strict=True
            )
        },
    )
    cleaned = clean_columns(
        config, name, file, raw, list(dict.fromkeys(columns.values())), section.rules, warnings
    )
    fields = as_text(cleaned[section.field]).str.strip()
    never_seen = sorted(set(section.fields) - set(fields.dropna()))
    if never_seen:
        warnings.append(
            f"profile_history.fields: {never_seen} never occur in column {section.field!r} of {file}"
        )
    leads = config.leads
    source_column = fields.map(lambda field: section.fields.get(field, field), na_action="ignore")
    profile = set(leads.categorical) | set(leads.numeric) | set(leads.activity)
    kept = source_column.isin(profile)
    if not kept.all():
        others = fields[~kept].fillna("(empty)").value_counts()
        listed = ", ".join(f"{field} ({count:,})" for field, count in others.head(_LISTED_FIELDS).items())
        warnings.append(
            f"{int((~kept).sum()):,} rows of {file} change fields that are not profile columns and were "
            f"left out: {listed}{', ...' if len(others) > _LISTED_FIELDS else ''}"
        )
    numeric = source_column.isin(set(leads.numeric) | set(leads.activity)).to_numpy()
    values = {}
    for column in (section.old_value, section.new_value):
        text = _as_leads_values(cleaned[column], source_column, config)
        keys = f"{name}.decimal / thousands / units"
        where = f"{config.path}: key '{keys}' (column {column!r} of {file}, numeric fields)"
        text[numeric] = to_plain_numbers(text[numeric], section.number_format, where)
        values[column] = text
    table = pd.DataFrame(
        {
            LEAD_ID: cleaned[section.lead_id],
            HISTORY_FIELD: source_column.map(
                lambda column: leads.rename.get(column, column), na_action="ignore"
            ),
            OLD_VALUE: values[section.old_value],
            NEW_VALUE: values[section.new_value],
            CHANGED_AT: section_dates(
                config, name, section, file, section.changed_at, cleaned[section.changed_at], warnings
            ),
        },
        index=raw.index,
    )
    return table.loc[kept.to_numpy()], {key: str(column) for key, column in columns.items()}, raw


def _as_leads_values(values: pd.Series, source_column: pd.Series, config: MappingConfig) -> pd.Series:
    """History values cleaned by the leads section's rules for their field (value map, then missing)."""
    text = as_text(values).copy()
    for column, value_map in config.leads.values.items():
        about = (source_column == column).to_numpy()
        if about.any():
            text[about] = text[about].replace(value_map)
    if config.leads.missing:
        text = text.mask(text.isin(list(config.leads.missing)), "")
    return text

"""Helpers every mapping section shares: read a source file, check the columns the config names,
clean values (value maps, missing markers), compare ids, rewrite declared dates as ISO 8601.

Frames keep their index as the 1-based data row of their file, so later problems can name it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from training.data.date_formats import DateFormatKeys
from training.data.date_order import to_iso_dates
from training.data.io import read_table
from training.data.mapping_config import MappingConfig
from training.data.mapping_sections import ColumnRules, MappingConfigError, SourceFile
from training.data.number_format import NumberFormatKeys, to_plain_numbers
from training.data.time_zones import local_times_to_utc


def id_text(values: pd.Series) -> pd.Series:
    """Lead ids as validation compares them: stripped text, blank = missing."""
    text = values.astype("str").str.strip()
    return text.where(values.notna() & (text != ""))


def read_source(
    config: MappingConfig, section: str, source: SourceFile, root: Path, encoding: str | None = None
) -> pd.DataFrame:
    path = root / source.file
    if not path.exists():
        raise MappingConfigError(
            f"{config.path}: key '{section}.file': {path} does not exist "
            f"(files are relative to 'root' in the config, or to --data-root)"
        )
    return read_table(
        path,
        delimiter=source.delimiter,
        encoding=encoding or source.encoding,
        table=source.table,
        sheet=source.sheet,
        skip_footer=source.skip_footer,
        header_row=source.header_row,
    )


def require_columns(
    config: MappingConfig, section: str, file: str, frame: pd.DataFrame, columns: dict[str, str | None]
) -> None:
    """Refuse a config that names a column the file does not have, naming the key that does."""
    for key, column in columns.items():
        if column is not None and column not in frame.columns:
            raise MappingConfigError(
                f"{config.path}: key '{section}.{key}': column {column!r} is not in {file} "
                f"(its columns: {', '.join(map(str, frame.columns))})"
            )


def require_all(
    config: MappingConfig, section: str, file: str, frame: pd.DataFrame, key: str, columns: tuple[str, ...]
) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        require_columns(config, section, file, frame, {key: missing[0]})


def clean_columns(
    config: MappingConfig,
    section: str,
    file: str,
    frame: pd.DataFrame,
    columns: list[str],
    rules: ColumnRules,
    warnings: list[str],
) -> pd.DataFrame:
    """Apply the value maps, then the missing markers ("" = missing), to the mapped columns."""
    unknown = [column for column in rules.values if column not in frame.columns]
    if unknown:
        require_columns(config, section, file, frame, {f"values.{unknown[0]}": unknown[0]})
    unmapped = [column for column in rules.values if column not in columns]
    if unmapped:
        raise MappingConfigError(
            f"{config.path}: key '{section}.values.{unmapped[0]}': column {unmapped[0]!r} is not imported "
            "(it is dropped or not mentioned), so a value map for it has no effect"
        )
    # A column named by two keys (one date for two milestones) is cleaned once: frame[[c, c]] would give
    # two columns of one name, which then reads as a frame, not a column.
    cleaned = frame[list(dict.fromkeys(columns))].copy()
    for column in rules.values if not rules.missing else columns:
        cleaned[column] = as_text(cleaned[column])
    for column, value_map in rules.values.items():
        never_seen = sorted(set(value_map) - set(cleaned[column].unique()))
        if never_seen:
            warnings.append(
                f"{section}.values.{column}: {never_seen} never occur in column {column!r} of {file}"
            )
        cleaned[column] = cleaned[column].replace(value_map)
    if rules.missing:
        cleaned = cleaned.mask(cleaned.isin(list(rules.missing)), "")
    return cleaned


def as_text(values: pd.Series) -> pd.Series:
    """Values as the text a CSV would hold (typed Parquet columns too), so that value maps and missing
    markers compare like for like; missing stays missing."""
    if pd.api.types.is_string_dtype(values.dtype):
        return values
    return values.astype("str").where(values.notna())


def section_dates(
    config: MappingConfig,
    section_name: str,
    section: DateFormatKeys,
    file: str,
    column: str,
    values: pd.Series,
    warnings: list[str],
) -> pd.Series:
    """``column``'s dates (of ``file``) as ISO 8601 in the format its section declares for it."""
    where = f"{config.path}: key '{section_name}.{section.format_key(column)}' (column {column!r} of {file})"
    dates = to_iso_dates(values, section.format_of(column), where, warnings, zone=config.timezone)
    return dates if config.timezone is None else local_times_to_utc(dates, config.timezone)


def section_numbers(
    config: MappingConfig,
    section_name: str,
    section: NumberFormatKeys,
    file: str,
    cleaned: pd.DataFrame,
    columns: tuple[str, ...] | list[str],
) -> None:
    """Rewrite ``columns`` of ``cleaned`` (read from ``file``) as plain numbers, in the convention the
    section declares (``decimal`` / ``thousands``), in place."""
    keys = "decimal / thousands / units"
    for column in columns:
        where = f"{config.path}: key '{section_name}.{keys}' (column {column!r} of {file})"
        cleaned[column] = to_plain_numbers(cleaned[column], section.number_format, where)

"""``leadripe import``: turn a CRM export into a validated dataset through a declarative mapping config.

The config (TOML, see ``data/mappings/README.md``) says which file holds what; this module reads the
files (``training.data.mapping_frames``), validates them against the contract (``training.data.validation``),
and writes the dataset and its rejects atomically. Nothing here knows any particular dataset.
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from training.data.contract import (
    CLOSED_AT,
    CREATED_AT,
    HANDED_OVER_AT,
    METADATA_FILE,
    OCCURRED_AT,
    PROFILE_HISTORY,
    REJECTS_FILE,
    STATUS,
    TARGET_DATES,
    DatasetMetadata,
    LeadDataset,
    Outcome,
    TimeBasis,
)
from training.data.event_types import skipped_names
from training.data.joins import JoinSummary
from training.data.mapping_config import OBSERVED_UNTIL_MAX, MappingConfig, MappingConfigError, load_mapping
from training.data.mapping_frames import RawTables, build_raw_tables
from training.data.problem_groups import group_problems
from training.data.profile_history import attach_profile_history
from training.data.reject_cap import check_reject_share
from training.data.sales_cycle import late_win_warning, undated_close_warning
from training.data.validation import (
    DataValidationError,
    Mode,
    Problem,
    ValidationReport,
    validate_tables,
    write_rejects,
)

__all__ = ["ImportSummary", "MappingConfig", "MappingConfigError", "import_export", "load_mapping"]

#: Kinds of problem (column and message) the import's warning about quarantined rows lists.
_LISTED_REJECT_KINDS = 3


@dataclass
class ImportSummary:
    """What an import did, as ``leadripe import`` prints it."""

    name: str
    #: Data rows read per source file.
    rows: dict[str, int]
    leads: int
    events: int
    outcome_counts: dict[str, int]
    #: won / (won + lost + open): the share of imported leads that were won.
    outcome_rate: float
    rejects: int
    time_basis: str
    out_dir: Path
    warnings: list[str] = field(default_factory=list)
    #: The end of observation written into the dataset's metadata (None: the export has no timestamps).
    observed_until: pd.Timestamp | None = None
    #: How each lookup table of ``[[joins]]`` matched the leads.
    joins: list[JoinSummary] = field(default_factory=list)
    #: Profile changes imported from the field history (``None``: no history mapped).
    profile_changes: int | None = None

    def to_table(self) -> list[tuple[str, str]]:
        """(label, value) pairs for a two-column table."""
        rows = [(f"rows in {Path(file).name}", f"{count:,}") for file, count in self.rows.items()]
        rows += [("leads", f"{self.leads:,}"), ("events", f"{self.events:,}")]
        rows += [(f"outcome {status}", f"{count:,}") for status, count in self.outcome_counts.items()]
        rows += [
            ("win rate", f"{self.outcome_rate:.1%}"),
            ("rows rejected", f"{self.rejects:,}"),
            *((f"joined {Path(join.file).name} on {join.on}", join.describe()) for join in self.joins),
            *(
                (("profile changes", f"{self.profile_changes:,}"),)
                if self.profile_changes is not None
                else ()
            ),
            ("time basis", self.time_basis),
            ("observed until", str(self.observed_until) if self.observed_until is not None else "-"),
            ("written to", str(self.out_dir)),
        ]
        return rows


def import_export(
    mapping_path: Path,
    out_dir: Path,
    *,
    mode: str = "lenient",
    data_root: Path | None = None,
    now: pd.Timestamp | None = None,
    encoding: str | None = None,
    max_reject_share: float | None = None,
) -> ImportSummary:
    """Import the export a mapping config describes into ``out_dir`` and summarise what happened.

    Reads the raw files (relative to the config's ``root``, or to ``data_root`` when given), applies
    the mapping, validates the tables (``strict``: any bad row refuses the whole import with
    ``DataValidationError``; ``lenient``: bad rows are quarantined into the rejects file), and writes
    the dataset and rejects to a temporary directory that then replaces ``out_dir`` in one rename, so
    that an import is never half-written. Problems name the export's file, row and column.

    ``encoding`` overrides every file's encoding in the config. In lenient mode, when more than
    ``max_reject_share`` (else the config's, default 2%) of any file's rows would be quarantined, the
    import fails with ``TooManyRejectsError`` and writes nothing.
    """
    if mode not in ("strict", "lenient"):
        raise ValueError(f"mode must be 'strict' or 'lenient', not {mode!r}")
    checked_mode: Mode = "strict" if mode == "strict" else "lenient"
    config = load_mapping(Path(mapping_path))
    raw = build_raw_tables(config, data_root, encoding=encoding)
    try:
        dataset, report = validate_tables(
            raw.leads,
            raw.events,
            raw.outcomes,
            _metadata(config),
            mode=checked_mode,
            files=raw.files,
            now=now,
        )
        if raw.profile_history is not None:
            dataset, report = attach_profile_history(
                dataset, report, raw.profile_history, file=raw.files[PROFILE_HISTORY], strict=mode == "strict"
            )
    except DataValidationError as error:
        raise DataValidationError(_translated_problems(error.problems, raw)) from None
    report = _translated_report(report, raw)
    cap = config.max_reject_share if max_reject_share is None else max_reject_share
    check_reject_share(raw.rows_validated, report, cap)
    if config.observed_until == OBSERVED_UNTIL_MAX:
        # Validation ran without an end of observation (only "not in the future"); now it is known.
        dataset.metadata.observed_until = _latest_timestamp(dataset)
    out_dir = Path(out_dir)
    _write_atomically(dataset, report, out_dir)
    counts = dataset.outcomes[STATUS].astype(str).value_counts()
    outcome_counts = {str(status): int(counts.get(str(status), 0)) for status in Outcome}
    total = sum(outcome_counts.values())
    return ImportSummary(
        name=config.name,
        rows=raw.rows_read,
        leads=len(dataset.leads),
        events=len(dataset.events),
        outcome_counts=outcome_counts,
        outcome_rate=outcome_counts[Outcome.WON] / total if total else 0.0,
        rejects=len(report.rejects),
        time_basis=str(dataset.metadata.time_basis),
        out_dir=out_dir,
        warnings=[
            *raw.warnings,
            *_rejects_warnings(report, out_dir),
            *filter(None, [late_win_warning(dataset), undated_close_warning(dataset)]),
        ],
        observed_until=dataset.metadata.observed_until,
        joins=raw.joins,
        profile_changes=len(dataset.profile_history) if dataset.profile_history is not None else None,
    )


def _metadata(config: MappingConfig) -> DatasetMetadata:
    leads = config.leads

    def renamed(columns: tuple[str, ...]) -> list[str]:
        return [leads.rename.get(column, column) for column in columns]

    joined_categorical = [join.output_name(c) for join in config.joins for c in join.categorical]
    joined_numeric = [join.output_name(c) for join in config.joins for c in join.numeric]
    known_at = {leads.rename.get(column, column): when for column, when in leads.known_at.items()}
    known_at.update({join.output_name(c): when for join in config.joins for c, when in join.known_at.items()})

    source = f"{config.description} (mapping: {config.path.name})" if config.description else config.path.name
    return DatasetMetadata(
        name=config.name,
        time_basis=TimeBasis.TIMESTAMPS if config.has_timestamps else TimeBasis.ROW_ORDER,
        observed_until=None if config.observed_until == "max" else config.observed_until,
        categorical_columns=[*renamed(leads.categorical), *joined_categorical],
        # Activity columns are numeric profile columns by the contract's definition.
        numeric_columns=[*dict.fromkeys(renamed((*leads.numeric, *leads.activity))), *joined_numeric],
        activity_columns=renamed(leads.activity),
        source=source,
        known_at=known_at,
        excluded_columns=renamed(leads.exclude_columns),
        event_type_aliases={
            raw: named
            for raw, named in (config.events.event_type_values if config.events is not None else {}).items()
            if raw.strip() and named.strip() and raw != named
        },
        skipped_event_types=[]
        if config.events is None
        else skipped_names(config.events.skip_types, config.events.event_type_values),
        event_detail_types=dict(config.events.detail_types) if config.events is not None else {},
        events_before_created=config.events.before_created if config.events is not None else "reject",
    )


def _translated_problems(problems: list[Problem], raw: RawTables) -> list[Problem]:
    """Problems named by the export's own columns; none for rows the mapping added (row <= 0)."""
    return [
        replace(problem, column=_original_column(raw, problem.file, problem.column))
        for problem in problems
        if problem.row is None or problem.row > 0
    ]


def _original_column(raw: RawTables, file: str, column: str | None) -> str | None:
    if column is None:
        return None
    return raw.original_columns.get(file, {}).get(column, column)


def _translated_report(report: ValidationReport, raw: RawTables) -> ValidationReport:
    """The report in the export's terms: its columns, its rows as the file has them, its row counts.

    Outcome rows the mapping added for leads absent from a joined file are no file's rows: when such
    a lead is rejected, its own rejection (in the leads file) is what the user needs to see.
    """
    rejects = report.rejects
    rejects = rejects[rejects["row"] > 0].reset_index(drop=True)
    if not rejects.empty:
        rejects["column"] = [
            ", ".join(_original_column(raw, file, name) or name for name in columns.split(", ") if name)
            for file, columns in zip(rejects["file"], rejects["column"].fillna(""), strict=True)
        ]
        rejects["record"] = [
            json.dumps(_plain(raw.raw_frames[file].loc[row]), ensure_ascii=False)
            for file, row in zip(rejects["file"], rejects["row"], strict=True)
        ]
    problems = report.problems
    problems = problems[problems["row"] > 0].reset_index(drop=True)
    problems["column"] = [
        _original_column(raw, file, column if isinstance(column, str) else None)
        for file, column in zip(problems["file"], problems["column"], strict=True)
    ]
    rows_read = dict(report.rows_read)
    rows_kept = dict(report.rows_kept)
    if raw.outcomes is not None:
        added = int((raw.outcomes.index <= 0).sum())
        all_rejects = report.rejects
        added_rejected = int((all_rejects["file"].eq(raw.files["outcomes"]) & all_rejects["row"].le(0)).sum())
        rows_read["outcomes"] -= added
        rows_kept["outcomes"] -= added - added_rejected
    return ValidationReport(rows_read=rows_read, rows_kept=rows_kept, rejects=rejects, problems=problems)


def _plain(record: pd.Series) -> dict[str, object]:
    """A raw row as JSON-ready values (missing -> null)."""
    return {
        str(key): None if pd.api.types.is_scalar(value) and pd.isna(value) else str(value)
        for key, value in record.items()
    }


def _latest_timestamp(dataset: LeadDataset) -> pd.Timestamp | None:
    """``observed_until = "max"``: the latest timestamp in any table, or None when there is none."""
    candidates = [
        frame[column].max()
        for frame, columns in (
            (dataset.leads, [CREATED_AT]),
            (dataset.events, [OCCURRED_AT]),
            (dataset.outcomes, [HANDED_OVER_AT, CLOSED_AT, *TARGET_DATES]),
        )
        for column in columns
        if column in frame.columns and frame[column].notna().any()
    ]
    return max(candidates) if candidates else None


def _write_atomically(dataset: LeadDataset, report: ValidationReport, out_dir: Path) -> None:
    """Write into a temporary directory beside ``out_dir``, then swap it into place.

    A previous import in ``out_dir`` is replaced; any other non-empty directory is refused rather
    than deleted.
    """
    if out_dir.exists() and any(out_dir.iterdir()) and not (out_dir / METADATA_FILE).exists():
        raise ValueError(f"{out_dir} is not empty and not an imported dataset; refusing to replace it")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    # mkdir (not mkdtemp, whose 0700 would outlive the rename) under a name nobody else uses.
    staging = out_dir.parent / f".{out_dir.name}.import-{uuid.uuid4().hex[:12]}"
    staging.mkdir()
    previous = out_dir.parent / f"{staging.name}.previous"
    try:
        dataset.save(staging)
        write_rejects(report, staging)
        if out_dir.exists():
            out_dir.rename(previous)
        staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if previous.exists() and not out_dir.exists():
            previous.rename(out_dir)
        raise
    shutil.rmtree(previous, ignore_errors=True)


def _rejects_warnings(report: ValidationReport, out_dir: Path) -> list[str]:
    if report.rejects.empty:
        return []
    per_file = report.rejects["file"].map(lambda file: Path(file).name).value_counts(sort=False)
    counts = ", ".join(f"{file}: {count:,}" for file, count in per_file.items())
    groups = group_problems(report.problems, limit=_LISTED_REJECT_KINDS)
    kinds = "".join(f"\n  {group}" for group in groups)
    return [f"{len(report.rejects):,} rows quarantined into {out_dir / REJECTS_FILE} ({counts}){kinds}"]

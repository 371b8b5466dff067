"""The optional profile history table: checked against the validated leads and attached to the dataset.

One row per field change (``training.data.contract``: ``lead_id``, ``field``, ``old_value``,
``new_value``, ``changed_at``), as Salesforce's or HubSpot's field history exports them. Checked here:
the columns are there; every row has a lead id of the leads table, a field and a parseable
``changed_at``; the values of a numeric profile field parse as numbers. Rows of fields that are not
profile columns are kept (the leakage audit may read them) but never change a feature. Like the other
tables: strict refuses the load naming file, row and column; lenient quarantines the bad rows (a
change of a quarantined lead goes with it) into the report's rejects.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from training.data.contract import (
    CHANGED_AT,
    HISTORY_FIELD,
    HISTORY_REQUIRED,
    LEAD_ID,
    NEW_VALUE,
    OLD_VALUE,
    PROFILE_HISTORY,
    LeadDataset,
)
from training.data.date_order import timestamp_problem
from training.data.findings import Describe, Findings, Source, same_for_all, values_at
from training.data.number_format import number_problem
from training.data.parsing import as_text, parse_numbers, parse_timestamps, show
from training.data.problem_groups import problems_frame
from training.data.problems import DataValidationError, Problem, ValidationReport


def attach_profile_history(
    dataset: LeadDataset,
    report: ValidationReport,
    raw: pd.DataFrame,
    *,
    file: str = PROFILE_HISTORY,
    strict: bool = True,
) -> tuple[LeadDataset, ValidationReport]:
    """Check ``raw`` (index: the file's 1-based data rows) and set it as ``dataset.profile_history``.

    Raises ``DataValidationError`` for missing columns, and with ``strict`` for any bad row; otherwise
    the bad rows go into the returned report's rejects (``file``, ``row``, ``column``, ``reason``).
    """
    missing = [column for column in HISTORY_REQUIRED if column not in raw.columns]
    if missing:
        raise DataValidationError(
            [
                Problem(file, None, column, "required column of a profile history is missing")
                for column in missing
            ]
        )
    source = Source(PROFILE_HISTORY, file, raw)
    table, findings = _checked(source, dataset)
    if findings.any() and strict:
        found = findings.frame(PROFILE_HISTORY).sort_values("position", kind="stable")
        raise DataValidationError(
            [
                Problem(file, int(source.rows[position]), column, message)
                for position, column, message in zip(
                    found["position"], found["column"], found["message"], strict=True
                )
            ]
        )
    bad = findings.bad_mask(PROFILE_HISTORY, len(source))
    dataset.profile_history = table.loc[~bad].reset_index(drop=True)
    rejects = _rejects(source, findings)
    found = findings.frame(PROFILE_HISTORY).sort_values("position", kind="stable")
    problems = problems_frame(
        [file] * len(found), source.rows[found["position"].to_numpy()], found["column"], found["message"]
    )
    return dataset, ValidationReport(
        rows_read={**report.rows_read, PROFILE_HISTORY: len(source)},
        rows_kept={**report.rows_kept, PROFILE_HISTORY: int((~bad).sum())},
        rejects=pd.concat([report.rejects, rejects], ignore_index=True) if len(rejects) else report.rejects,
        problems=pd.concat([report.problems, problems], ignore_index=True)
        if len(problems)
        else report.problems,
    )


def _checked(source: Source, dataset: LeadDataset) -> tuple[pd.DataFrame, Findings]:
    raw = source.raw
    findings = Findings()
    key = PROFILE_HISTORY
    lead_ids = as_text(raw[LEAD_ID])
    findings.add(key, lead_ids.isna(), LEAD_ID, same_for_all(f"missing {LEAD_ID}"))
    known = lead_ids.isin(set(dataset.leads[LEAD_ID].astype(str)))
    findings.add(
        key,
        lead_ids.notna() & ~known,
        LEAD_ID,
        lambda pos: [
            f"lead {show(v)} is not in the leads table (or was quarantined)" for v in values_at(lead_ids, pos)
        ],
    )
    fields = as_text(raw[HISTORY_FIELD])
    findings.add(key, fields.isna(), HISTORY_FIELD, same_for_all(f"missing {HISTORY_FIELD}"))
    changed, unparsed = parse_timestamps(raw[CHANGED_AT])
    findings.add(
        key,
        unparsed,
        CHANGED_AT,
        lambda pos: [timestamp_problem(v) for v in values_at(raw[CHANGED_AT], pos)],
    )
    findings.add(
        key, changed.isna().to_numpy() & ~unparsed, CHANGED_AT, same_for_all(f"missing {CHANGED_AT}")
    )
    values = {column: as_text(raw[column]) for column in (OLD_VALUE, NEW_VALUE)}
    numeric = fields.isin(set(dataset.metadata.numeric_columns)).to_numpy()
    for column, text in values.items():
        _, not_a_number = parse_numbers(text.where(numeric))
        findings.add(key, not_a_number, column, _not_a_number(text))
    table = pd.DataFrame(
        {
            LEAD_ID: lead_ids.astype(object),
            HISTORY_FIELD: fields.astype(object),
            OLD_VALUE: values[OLD_VALUE].astype(object),
            NEW_VALUE: values[NEW_VALUE].astype(object),
            CHANGED_AT: changed.dt.as_unit("ns"),
        }
    )
    return table, findings


def _not_a_number(text: pd.Series) -> Describe:
    return lambda positions: [
        f"{number_problem(value)} (the field is numeric)" for value in values_at(text, positions)
    ]


def _rejects(source: Source, findings: Findings) -> pd.DataFrame:
    found = findings.frame(PROFILE_HISTORY)
    if found.empty:
        return found.iloc[:0]
    by_row = found.groupby("position", sort=True).agg(
        column=("column", lambda columns: ", ".join(dict.fromkeys(c for c in columns if isinstance(c, str)))),
        reason=("message", "; ".join),
    )
    positions = by_row.index.to_numpy(dtype=np.int64)
    records = source.raw.iloc[positions].astype(object)
    plain = records.where(records.notna(), None)
    return pd.DataFrame(
        {
            "file": source.file,
            "row": source.rows[positions],
            "column": by_row["column"].to_numpy(),
            "reason": by_row["reason"].to_numpy(),
            "record": [json.dumps(record, default=str) for record in plain.to_dict(orient="records")],
        }
    )

"""Where batch scores go: Parquet (every answer column) or a flat CSV for a CRM import, optionally only
the leads whose verdict or grade changed since a previous run.

Files are written next to the target and renamed at the end, so an interrupted run never leaves a
half-written score file where a nightly CRM import would pick it up.

``crm-csv`` columns, one row per lead and ``as_of`` (documented in the README):
``lead_id``, ``as_of`` (ISO 8601, UTC), ``score`` (0-100), ``handover_score`` (the chance of a win if
handed over now, 0-100: the number the verdict compares with the threshold), ``grade`` (A-D), ``verdict``
(ripe / too_green / gone_cold), ``handover`` (true/false), ``fit`` and ``interest`` (when the model's
answers carry them), ``reasons_up`` and ``reasons_down`` (the top reason sentences, joined by " | "),
``model_version``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from serving.batch.answers import reason_column

OutputFormat = Literal["parquet", "crm-csv"]
#: Optional answer columns that the CRM file carries when the scorer provides them.
CRM_OPTIONAL = ("fit", "interest")
REASON_SEPARATOR = " | "


class PreviousScoresError(ValueError):
    """The ``--changed-since`` file cannot be used; the message names the file and what is wrong."""


def crm_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The flat CRM columns (see the module docstring) of an answer frame."""
    out = pd.DataFrame(
        {
            "lead_id": frame["lead_id"],
            "as_of": frame["as_of"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "score": frame["score"],
            # The API's handover_score: the verdict rests on it, not on the score.
            "handover_score": np.round(frame["handover_chance"].to_numpy(dtype=float) * 100.0, 1),
            "grade": frame["grade"],
            "verdict": frame["verdict"],
            "handover": frame["handover"].map({True: "true", False: "false"}),
        }
    )
    for column in CRM_OPTIONAL:
        if column in frame.columns:
            out[column] = frame[column]
    for side in ("up", "down"):
        out[f"reasons_{side}"] = _joined_sentences(frame, side)
    out["model_version"] = frame["model_version"]
    return out


def _joined_sentences(frame: pd.DataFrame, side: str) -> pd.Series:
    columns = []
    rank = 1
    while reason_column(side, rank, "sentence") in frame.columns:
        columns.append(reason_column(side, rank, "sentence"))
        rank += 1
    if not columns:
        return pd.Series("", index=frame.index, dtype="str")
    sentences = frame[columns].astype(object)
    return pd.Series(
        [REASON_SEPARATOR.join(s for s in row if isinstance(s, str)) for row in sentences.itertuples(False)],
        index=frame.index,
        dtype="str",
    )


@dataclass(frozen=True)
class PreviousScores:
    """The latest verdict and grade per lead of a previous batch run (Parquet or CRM CSV)."""

    verdict: pd.Series  # indexed by lead_id
    grade: pd.Series

    @classmethod
    def read(cls, path: Path) -> PreviousScores:
        """Read a previous score file; for a backfill with several ``as_of`` the latest row per lead."""
        if not path.is_file():
            raise PreviousScoresError(f"{path}: previous scores file not found")
        try:
            frame = pd.read_csv(path, dtype=str) if path.suffix.lower() == ".csv" else pd.read_parquet(path)
        except (pa.ArrowException, OSError, ValueError) as error:
            raise PreviousScoresError(f"{path}: cannot read previous scores: {error}") from None
        missing = [c for c in ("lead_id", "as_of", "verdict", "grade") if c not in frame.columns]
        if missing:
            raise PreviousScoresError(f"{path}: previous scores lack the column(s) {', '.join(missing)}")
        frame = frame.assign(
            lead_id=frame["lead_id"].astype(str), as_of=pd.to_datetime(frame["as_of"], utc=True)
        )
        latest = frame.sort_values("as_of", kind="stable").drop_duplicates("lead_id", keep="last")
        latest = latest.set_index("lead_id")
        return cls(verdict=latest["verdict"].astype(str), grade=latest["grade"].astype(str))

    def changed(self, frame: pd.DataFrame) -> pd.Series:
        """True for rows whose verdict or grade differs from the previous run's, or whose lead is new."""
        ids = frame["lead_id"].astype(str)
        before_verdict = ids.map(self.verdict)
        before_grade = ids.map(self.grade)
        return (
            before_verdict.isna()
            | (before_verdict != frame["verdict"].astype(str))
            | (before_grade != frame["grade"].astype(str))
        ).fillna(True)


class ScoreWriter:
    """Writes answer frames chunk by chunk to ``path`` in ``output_format``; renames into place on a
    clean exit only. Counts the rows written."""

    def __init__(
        self, path: Path, output_format: OutputFormat, previous: PreviousScores | None = None
    ) -> None:
        self.path = path
        self.output_format = output_format
        self.previous = previous
        self.rows_written = 0
        self.rows_unchanged = 0
        self._tmp = path.with_name(f".{path.name}.partial")
        self._parquet: pq.ParquetWriter | None = None
        self._csv_started = False

    def __enter__(self) -> ScoreWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return self

    def write(self, frame: pd.DataFrame) -> None:
        """Append one chunk of answers (filtered by ``previous`` when given)."""
        if self.previous is not None:
            keep = self.previous.changed(frame).to_numpy()
            self.rows_unchanged += int((~keep).sum())
            frame = frame[keep].reset_index(drop=True)
        if self.output_format == "crm-csv":
            crm_rows(frame).to_csv(
                self._tmp, mode="a" if self._csv_started else "w", header=not self._csv_started, index=False
            )
            self._csv_started = True
        else:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self._tmp, table.schema)
            self._parquet.write_table(table.cast(self._parquet.schema))
        self.rows_written += len(frame)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._parquet is not None:
            self._parquet.close()
        if kind is not None:
            self._tmp.unlink(missing_ok=True)
            return
        if not self._tmp.exists():  # nothing was scored: still a valid, empty file
            self._write_empty()
        self._tmp.replace(self.path)

    def _write_empty(self) -> None:
        if self.output_format == "crm-csv":
            self._tmp.write_text(
                "lead_id,as_of,score,handover_score,grade,verdict,handover,reasons_up,reasons_down,"
                "model_version\n"
            )
        else:
            pq.write_table(pa.table({"lead_id": pa.array([], pa.string())}), self._tmp)

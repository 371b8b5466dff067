"""Validation's bookkeeping: the raw tables being checked, the row-level problems found so far (kept as
small frames, so that only failing rows cost anything), plausibility bounds and an id index. Internal to
``training.data``."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from training.data.contract import DatasetMetadata
from training.data.parsing import as_utc


class Source:
    """One raw input table: the key its problems are filed under, its display file name, its rows.

    ``raw`` is re-indexed by position so that every derived column lines up; ``rows`` keeps the
    source file's row numbers for messages.
    """

    def __init__(self, key: str, file: str, raw: pd.DataFrame) -> None:
        self.key = key
        self.file = file
        index = raw.index
        if pd.api.types.is_integer_dtype(index.dtype):
            self.rows = np.asarray(index, dtype=np.int64)
        else:  # no row numbers given: count data rows from 1 like a file would
            self.rows = np.arange(1, len(raw) + 1, dtype=np.int64)
        self.raw = raw.reset_index(drop=True)

    def __len__(self) -> int:
        return len(self.raw)


Describe = Callable[[np.ndarray], Iterable[str]]


class Findings:
    """Row-level problems, kept as small frames per table so that only failing rows cost anything."""

    def __init__(self) -> None:
        self._parts: dict[str, list[pd.DataFrame]] = {}

    def add(
        self,
        table: str,
        mask: np.ndarray | pd.Series,
        column: str | None,
        describe: Describe,
        *,
        direct: bool = True,
    ) -> None:
        """File a problem for every row where ``mask`` holds; ``describe`` words them (given positions)."""
        positions = np.flatnonzero(as_bool(mask))
        if positions.size == 0:
            return
        messages = list(describe(positions))
        part = pd.DataFrame(
            {"position": positions, "column": column, "message": messages, "direct": direct}
        ).astype({"column": object, "message": object})
        self._parts.setdefault(table, []).append(part)

    def frame(self, table: str) -> pd.DataFrame:
        parts = self._parts.get(table)
        if not parts:
            return pd.DataFrame(
                {
                    "position": pd.Series(dtype="int64"),
                    "column": pd.Series(dtype=object),
                    "message": pd.Series(dtype=object),
                    "direct": pd.Series(dtype=bool),
                }
            )
        return pd.concat(parts, ignore_index=True)

    def any(self) -> bool:
        return bool(self._parts)

    def bad_mask(self, table: str, size: int) -> np.ndarray:
        mask = np.zeros(size, dtype=bool)
        mask[self.frame(table)["position"].to_numpy(dtype=np.int64)] = True
        return mask

    def reasons(self, table: str) -> pd.Series:
        """Position -> all messages of that row, "; "-joined."""
        return self.frame(table).groupby("position", sort=True)["message"].agg("; ".join)


def as_bool(mask: np.ndarray | pd.Series) -> np.ndarray:
    if isinstance(mask, pd.Series):
        return mask.to_numpy(dtype=bool, na_value=False)
    return np.asarray(mask, dtype=bool)


def values_at(values: pd.Series | np.ndarray, positions: np.ndarray) -> list[object]:
    """The values at some positions, as Python objects (only ever called for failing rows)."""
    if isinstance(values, pd.Series):
        return values.iloc[positions].tolist()
    return values[positions].tolist()


def same_for_all(message: str) -> Describe:
    return lambda positions: [message] * len(positions)


@dataclass(frozen=True)
class Bounds:
    """The plausible range of a timestamp: not before 1900, not after now or the end of observation."""

    latest: pd.Timestamp
    latest_reason: str

    @classmethod
    def make(cls, now: pd.Timestamp, observed_until: pd.Timestamp | None) -> Bounds:
        if observed_until is not None and as_utc(observed_until) < now:
            until = as_utc(observed_until)
            return cls(until, f"is after the end of observation (observed_until {until})")
        return cls(now, f"is in the future (now is {now.floor('s')})")


def arrow_strings(values: pd.Series) -> pa.Array:
    """One contiguous Arrow array (large offsets: no 2 GB limit) of a text column; NaN becomes null."""
    array = pa.array(values, type=pa.large_string(), from_pandas=True)
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


@dataclass
class IdIndex:
    """One hash pass over a column of ids: which rows repeat an id, and where each id first occurs."""

    #: The distinct ids, in order of first occurrence.
    distinct: pa.Array
    #: Row position of each distinct id's first occurrence.
    first_positions: np.ndarray
    #: Rows whose (present) id occurs more than once, every occurrence included.
    duplicated: np.ndarray

    @classmethod
    def build(cls, ids: pd.Series) -> IdIndex:
        encoded = pc.dictionary_encode(arrow_strings(ids))
        codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        present = codes >= 0
        counts = np.bincount(codes[present], minlength=len(encoded.dictionary))
        duplicated = present & (counts[np.maximum(codes, 0)] > 1)
        # Codes are handed out in order of first appearance: a row is a first occurrence exactly
        # when its code exceeds every code before it.
        earlier_max = np.maximum.accumulate(np.concatenate(([-1], codes[:-1])))
        return cls(encoded.dictionary, np.flatnonzero(codes > earlier_max), duplicated)

    @functools.cached_property
    def _first_positions_are_rows(self) -> bool:
        """Whether the i-th distinct id first occurs in row i (ids unique, none missing: the usual case)."""
        return bool(np.array_equal(self.first_positions, np.arange(len(self.first_positions))))

    def find(self, ids: pd.Series) -> np.ndarray:
        """Position of the first row holding each of ``ids`` (-1 when none does)."""
        # Arrow's hash lookup: several times faster than pandas' on tens of millions of event ids.
        found = pc.index_in(arrow_strings(ids), value_set=self.distinct)
        index = found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        if len(self.first_positions) == 0 or self._first_positions_are_rows:
            return index  # no gather: ~1 s saved on 35M event ids against 1M distinct leads
        return np.where(index >= 0, self.first_positions[np.maximum(index, 0)], -1)


@dataclass
class LeadColumns:
    """The leads table's checked columns (full length, positional index)."""

    ids: pd.Series
    created_at: pd.Series
    row_order: pd.Series | None
    profile: dict[str, pd.Series]
    metadata: DatasetMetadata
    lookup: IdIndex


@dataclass
class OutcomeColumns:
    lead_position: np.ndarray
    status: pd.Series
    handed_over_at: pd.Series
    closed_at: pd.Series
    #: the optional target dates (``contract.TARGET_DATES``) the input has, by column
    target_dates: dict[str, pd.Series] = field(default_factory=dict)


@dataclass
class EventColumns:
    lead_position: np.ndarray
    ids: pd.Series
    occurred_at: pd.Series
    event_type: pd.Series

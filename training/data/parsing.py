"""Value parsing for validation: raw column values (text from a file, or typed from Parquet) into the
contract's types, each with a mask of the values that did not parse. Internal to ``training.data``."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from training.data.contract import Outcome

#: Timestamps before this are sentinels or typos (0001-01-01, 1900-01-01 exports), not CRM history.
EARLIEST_PLAUSIBLE = pd.Timestamp("1900-01-02", tz="UTC")
#: The Unix epoch: a zero written as a date (a null in many systems). Read in a US zone it shows as
#: "12/31/1969 07:00 PM", so it is judged as the instant, after the zone is applied.
UNIX_EPOCH = pd.Timestamp("1970-01-01", tz="UTC")


def implausible(values: pd.Series) -> np.ndarray:
    """Per value of UTC timestamps: a sentinel or typo rather than CRM history (before 1900, or exactly
    the Unix epoch); missing values are not."""
    return ((values < EARLIEST_PLAUSIBLE) | (values == UNIX_EPOCH)).to_numpy(dtype=bool, na_value=False)


TIMESTAMP_DTYPE = "datetime64[ns, UTC]"
STATUSES = tuple(str(outcome) for outcome in Outcome)
#: Outcome status in validated data: a category with every possible value (as the simulator writes it).
STATUS_DTYPE = pd.CategoricalDtype(list(STATUSES))


def as_utc(value: pd.Timestamp) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def show(value: object, limit: int = 60) -> str:
    text = str(value)
    return f"'{text if len(text) <= limit else text[: limit - 3] + '...'}'"


#: Values spreadsheets and CRMs write for "no value" (compared in lower case).
MISSING_LOOKING = frozenset(
    {
        "n/a",
        "na",
        "#n/a",
        "n.a.",
        "null",
        "none",
        "nil",
        "nan",
        "-",
        "--",
        "?",
        "(blank)",
        "(none)",
        "-none-",  # Zoho CRM's empty picklist value
        "(empty)",
        "not available",
        # "keine Angabe", "nicht vorhanden", "sin dato" (not "n.v.": also a Dutch legal form, N.V.)
        "k.a.",
        "n/d",
        "n.d.",
        "k. a.",
        "n/v",
        "s/d",
        "not set",
        "unknown",
        "#value!",
        "#div/0!",
        "#ref!",
        "#num!",
    }
)


def missing_marker_hint(value: object) -> str:
    """A hint for a value that could not be read, when it looks like a way of writing "no value"."""
    if str(value).strip().lower() in MISSING_LOOKING:
        return " (a missing value? a mapping's missing key reads it as one)"
    return ""


def as_text(series: pd.Series) -> pd.Series:
    """Values as stripped strings; missing, empty and blank values become NaN."""
    if pd.api.types.is_float_dtype(series.dtype):
        # Ids read from typed files may be floats (because of a missing value): 12.0 means "12".
        integral = (series.notna() & (series % 1 == 0)).to_numpy()
        as_text = series.astype("str")
        as_text[integral] = series[integral].astype("int64").astype("str")
        series = as_text
    text = series.astype("str").str.strip()
    return text.where(text != "")


def parse_timestamps(series: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Parse into UTC timestamps (naive means UTC); returns the values and a mask of unparseable ones."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert("UTC"), np.zeros(len(series), dtype=bool)
    if pd.api.types.is_datetime64_dtype(series.dtype):
        return series.dt.tz_localize("UTC"), np.zeros(len(series), dtype=bool)
    text = as_text(series)
    fast = _parse_clean_iso(text)
    if fast is not None:
        return fast, np.zeros(len(series), dtype=bool)
    parsed = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
    failed = (parsed.isna() & text.notna()).to_numpy()
    if failed.any():
        # Not ISO 8601: let pandas infer the format of the rest, then fall back to value by value.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for retry_format in (None, "mixed"):
                retry = pd.to_datetime(text[failed], format=retry_format, utc=True, errors="coerce")
                parsed, retry = _same_unit(parsed, retry)
                parsed[failed] = retry
                failed = (parsed.isna() & text.notna()).to_numpy()
                if not failed.any():
                    break
    return parsed, failed


def _same_unit(first: pd.Series, second: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Both in the finer of their units; microseconds if nanoseconds cannot hold a (far-off) value."""
    unit = "ns" if "ns" in (first.dt.unit, second.dt.unit) else "us"
    try:
        return first.dt.as_unit(unit), second.dt.as_unit(unit)
    except pd.errors.OutOfBoundsDatetime:
        return first.dt.as_unit("us"), second.dt.as_unit("us")


def _parse_clean_iso(text: pd.Series) -> pd.Series | None:
    """Arrow's ISO 8601 parser, several times faster than pandas', for the common case of a column of
    valid timestamps that are all naive or all with an offset; None when it cannot take them all."""
    values = pa.array(text, type=pa.string(), from_pandas=True)
    # Nanoseconds keep every digit a file can hold; years outside 1677-2262 fail here and are left to
    # pandas (and then flagged as implausible).
    for target in (pa.timestamp("ns"), pa.timestamp("ns", tz="UTC")):
        try:
            parsed = pc.cast(values, target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        # set_axis, not Series(..., index=...): the latter aligns on labels, which shifted the values of a
        # series not indexed 0..n-1 (an events table indexed by file row).
        stamps = parsed.to_pandas().set_axis(text.index).dt.as_unit("ns")
        return stamps.dt.tz_localize("UTC") if target.tz is None else stamps.dt.tz_convert("UTC")
    return None


def parse_numbers(series: pd.Series, *, finite: bool = True) -> tuple[pd.Series, np.ndarray]:
    """Parse into float64; returns the values and a mask of present but non-numeric ones (with
    ``finite``, infinities count as non-numeric too: ``inf`` and ``1e400`` break training later)."""
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        numbers = series.astype("float64")
        bad = np.zeros(len(series), dtype=bool)
    else:
        text = as_text(series)
        numbers = pd.to_numeric(text, errors="coerce").astype("float64")
        bad = (numbers.isna() & text.notna()).to_numpy()
    if finite:
        bad = bad | np.isinf(numbers.to_numpy())
    return numbers, bad


def to_category(series: pd.Series) -> pd.Series:
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series  # keep the categories a typed file (or an earlier validation) gave it
    return as_text(series).astype("category")


def looks_numeric(series: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(series.dtype):
        return False
    if pd.api.types.is_numeric_dtype(series.dtype):
        return True
    if isinstance(series.dtype, pd.CategoricalDtype) or pd.api.types.is_datetime64_any_dtype(series.dtype):
        return False
    # Infinities still make a column numeric here: validation then refuses those values by row.
    numbers, bad = parse_numbers(series, finite=False)
    return bool(numbers.notna().any()) and not bad.any()


def take(values: pd.Series, positions: np.ndarray) -> pd.Series:
    """``values`` at ``positions`` (-1 gives missing), as a fresh positional series."""
    if len(values) == 0:
        return pd.Series(pd.NaT, index=range(len(positions)), dtype=values.dtype)
    taken = values.iloc[np.maximum(positions, 0)].reset_index(drop=True)
    return taken.where(positions >= 0)

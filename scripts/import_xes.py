"""Convert an XES event log into two flat CSV files that a mapping config then imports.

    python scripts/import_xes.py data/mappings/event_logs/bpi_challenge_2012.xes.toml \
        --out data/bpi_challenge_2012_log
    leadripe import --mapping data/mappings/event_logs/bpi_challenge_2012.toml --out data/bpi_challenge_2012

An XES log (process mining's export format: one trace per case, one event per step) has no outcome
column: the outcome is itself an event (``A_APPROVED``, ``A_DECLINED``). The converter's config (TOML,
beside the mapping it feeds) names the activities that decide a case won or lost; everything else is
generic. It writes

- ``cases.csv``: one row per trace, its own attributes as columns (dates in UTC), plus ``outcome``
  (``won``/``lost``/``open``) and ``outcome_at`` (the earliest outcome activity's time);
- ``events.csv``: one row per kept event, with ``case`` (the trace's id), ``event_type``, the
  event's attributes, and ``time:timestamp`` in UTC.

Outcome activities are never written as events (they are the label, not a signal), and by default
neither is anything at or after the outcome (``after_outcome = "drop"``): a process log carries on
after the decision (work items being closed) and a model must not learn from it. Both are counted in
the summary. ``"keep"`` for either exists to let the leakage audit show what it would catch.

A trace with both won and lost activities is refused, naming it: the config must say what it means.
The XML is streamed, but the two tables are built in memory before they are written (BPI 2012, 232k
kept events: 10 s of CPU, 400 MB peak); a log many times larger would want chunked writing.
Errors (a malformed file, a trace without id or timestamps) name the file and the line or trace, and
exit with status 2; nothing is written then.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

sys.path.insert(0, str(Path(__file__).resolve().parent))

from xes_log import ID_KEY, LIFECYCLE_KEY, TIME_KEY, XesError, XesTrace, read_xes

CASES_FILE, EVENTS_FILE = "cases.csv", "events.csv"
CASE_COLUMN, EVENT_TYPE_COLUMN = "case", "event_type"
OUTCOME_COLUMN, OUTCOME_AT_COLUMN = "outcome", "outcome_at"
Activities = Annotated[tuple[Annotated[str, Field(min_length=1)], ...], Field(min_length=1)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OutcomeRules(_Section):
    """``[outcome]``: the activities (``concept:name``) that decide a case. The case's outcome time is
    the earliest of them: activities that come together with the decision (an offer accepted a few
    milliseconds before the approval) belong here too, or they would be a signal that is the label."""

    won: Activities
    lost: Activities

    @model_validator(mode="after")
    def _disjoint(self) -> OutcomeRules:
        both = sorted(set(self.won) & set(self.lost))
        if both:
            raise ValueError(f"activities {both} are listed as both won and lost")
        return self


class EventRules(_Section):
    """``[events]``: which events become rows of ``events.csv``."""

    #: Outcome activities as events: "drop" (default). "keep" only to see what the leakage audit says.
    outcome_events: Literal["drop", "keep"] = "drop"
    #: Events at or after the case's outcome time: "drop" (default) or "keep" (the audit warns on them).
    after_outcome: Literal["drop", "keep"] = "drop"
    #: More activities never written as events (e.g. steps that only happen once a case is decided).
    exclude: tuple[str, ...] = ()


class XesImportConfig(_Section):
    """The whole converter config file."""

    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    #: The XES file, relative to ``root``; ``root`` is relative to the config file's folder.
    file: Annotated[str, Field(min_length=1)]
    root: str = "."
    #: How ``lifecycle:transition`` enters the event type: "auto" appends it (``name (start)``) for
    #: activities that occur with more than one transition, "ignore" uses the activity name alone.
    lifecycle: Literal["auto", "ignore"] = "auto"
    outcome: OutcomeRules
    events: EventRules = EventRules()


@dataclass
class XesSummary:
    """What a conversion read, wrote and left out."""

    traces: int = 0
    events_read: int = 0
    events_written: int = 0
    outcomes: collections.Counter[str] = field(default_factory=collections.Counter)
    #: Outcome activities (or ``exclude``d ones) not written as events, by activity.
    excluded: collections.Counter[str] = field(default_factory=collections.Counter)
    #: Other events at or after their case's outcome, not written, by activity.
    after_outcome: collections.Counter[str] = field(default_factory=collections.Counter)

    def lines(self) -> list[str]:
        counts = ", ".join(f"{self.outcomes[s]:,} {s}" for s in ("won", "lost", "open"))
        return [
            f"{self.traces:,} cases ({counts}); {self.events_read:,} events read, "
            f"{self.events_written:,} written",
            f"outcome or excluded activities not written: {sum(self.excluded.values()):,} "
            f"({_top(self.excluded)})",
            f"events at or after the outcome not written: {sum(self.after_outcome.values()):,} "
            f"({_top(self.after_outcome)})",
        ]


def _top(counter: collections.Counter[str], n: int = 6) -> str:
    return ", ".join(f"{name} {count:,}" for name, count in counter.most_common(n)) or "none"


def load_config(path: Path) -> XesImportConfig:
    """Read and check a converter config; errors name the file and the key."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise XesError(f"converter config {path} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise XesError(f"{path}: not valid TOML: {error}") from None
    try:
        return XesImportConfig.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise XesError(f"{path}: key '{key}': {first['msg']}") from None


def _decide(trace: XesTrace, rules: OutcomeRules, where: str) -> tuple[str, str]:
    """The trace's outcome and its time (the earliest outcome activity; "" while open)."""
    won, lost = set(rules.won), set(rules.lost)
    deciding = [e for e in trace.events if e.get(ID_KEY) in won or e.get(ID_KEY) in lost]
    if not deciding:
        return "open", ""
    kinds = {"won" if e.get(ID_KEY) in won else "lost" for e in deciding}
    if len(kinds) > 1:
        names = sorted({str(e.get(ID_KEY)) for e in deciding})
        raise XesError(f"{where}: has both won and lost outcome activities {names}; say in the config which")
    # ISO 8601 in UTC with a fixed width sorts as text.
    return kinds.pop(), min(e[TIME_KEY] for e in deciding)


def convert(config: XesImportConfig, xes_path: Path) -> tuple[pd.DataFrame, pd.DataFrame, XesSummary]:
    """The cases and events tables of the XES file at ``xes_path`` under ``config``'s rules."""
    summary = XesSummary()
    never = set(config.events.exclude)
    if config.events.outcome_events == "drop":
        never |= {*config.outcome.won, *config.outcome.lost}
    cases: list[dict[str, str]] = []
    events: list[dict[str, str]] = []
    seen_ids: dict[str, int] = {}
    for trace in read_xes(xes_path):
        where = f"{xes_path}: trace {trace.number} (case {trace.case_id!r})"
        if trace.case_id in seen_ids:
            raise XesError(f"{where}: the case id is also trace {seen_ids[trace.case_id]}'s")
        seen_ids[trace.case_id] = trace.number
        outcome, outcome_at = _decide(trace, config.outcome, where)
        summary.traces += 1
        summary.outcomes[outcome] += 1
        cases.append({**trace.attributes, OUTCOME_COLUMN: outcome, OUTCOME_AT_COLUMN: outcome_at})
        for number, event in enumerate(trace.events, start=1):
            summary.events_read += 1
            activity = event.get(ID_KEY, "")
            if not activity.strip():
                raise XesError(f"{where}, event {number}: no {ID_KEY!r} attribute (the activity)")
            if activity in never:
                summary.excluded[activity] += 1
            elif config.events.after_outcome == "drop" and outcome_at and event[TIME_KEY] >= outcome_at:
                summary.after_outcome[activity] += 1
            else:
                events.append({CASE_COLUMN: trace.case_id, **event})
    summary.events_written = len(events)
    return pd.DataFrame(cases), _with_event_types(pd.DataFrame(events), config.lifecycle), summary


def _with_event_types(events: pd.DataFrame, lifecycle: str) -> pd.DataFrame:
    """Add ``event_type``: the activity, with its lifecycle transition where that tells steps apart."""
    if events.empty:
        return pd.DataFrame(columns=[CASE_COLUMN, EVENT_TYPE_COLUMN, TIME_KEY])
    activity = events[ID_KEY].astype(str)
    types = activity
    if lifecycle == "auto" and LIFECYCLE_KEY in events:
        transition = events[LIFECYCLE_KEY].fillna("").astype(str)
        several = transition.groupby(activity).nunique() > 1
        suffixed = activity.map(several).fillna(False).to_numpy(dtype=bool) & (transition != "").to_numpy()
        types = activity.where(~suffixed, activity + " (" + transition.str.lower() + ")")
    front = [CASE_COLUMN, EVENT_TYPE_COLUMN, TIME_KEY]
    events = events.assign(**{EVENT_TYPE_COLUMN: types})
    return events[front + [c for c in events.columns if c not in front]]


def write_tables(cases: pd.DataFrame, events: pd.DataFrame, out: Path) -> None:
    """Write both files into a temporary folder beside ``out``, then move it into place: never half a
    conversion. A previous conversion in ``out`` is replaced; any other non-empty folder is refused."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or set(p.name for p in out.iterdir()) - {CASES_FILE, EVENTS_FILE}):
        raise XesError(f"{out}: exists and is not a previous conversion (only {CASES_FILE}, {EVENTS_FILE})")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        cases.to_csv(staging / CASES_FILE, index=False)
        events.to_csv(staging / EVENTS_FILE, index=False)
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def convert_file(config_path: Path, out: Path, data_root: Path | None = None) -> XesSummary:
    """Read the converter config, convert its XES file and write ``cases.csv`` and ``events.csv`` to
    ``out``; ``data_root`` replaces the config's ``root``."""
    config = load_config(config_path)
    root = data_root if data_root is not None else Path(config_path).parent / config.root
    cases, events, summary = convert(config, root / config.file)
    write_tables(cases, events, out)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path, help="converter config (TOML), e.g. data/mappings/X.xes.toml")
    parser.add_argument("--out", type=Path, required=True, help="folder for cases.csv and events.csv")
    parser.add_argument("--data-root", type=Path, help="folder the config's 'file' is relative to")
    args = parser.parse_args(argv)
    try:
        summary = convert_file(args.config, args.out, args.data_root)
    except XesError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for line in summary.lines():
        print(line)
    print(f"wrote {args.out / CASES_FILE} and {args.out / EVENTS_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

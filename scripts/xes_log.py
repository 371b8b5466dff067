"""Streaming reader for XES event logs (the IEEE process-mining format: ``<log>`` of ``<trace>`` of
``<event>``, each with typed attributes such as ``<string key=.. value=..>`` or ``<date ...>``).

Used by ``scripts/import_xes.py``; kept out of the packages because XES is one export format among
many and needs no dependency: ``xml.etree.ElementTree.iterparse`` over the (optionally gzipped) file,
each trace cleared as soon as it has been read, so memory holds one trace at a time, not the log.

Only a trace's and an event's own attributes are read (nested attributes, the log's globals,
classifiers and extensions are skipped). Dates are returned as ISO 8601 in UTC, since XES writes each
with its own offset (a log crossing a daylight-saving change has two). Every problem raises
``XesError`` naming the file and, for XML that does not parse, the line and column; for a trace
that parses but lacks what an import needs, the trace's number in the file and its id.
"""

from __future__ import annotations

import datetime as dt
import gzip
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, cast

#: XES attribute elements whose ``value`` is read (``list`` and ``container`` hold nested ones).
_ATTRIBUTE_TAGS = frozenset({"string", "date", "int", "float", "boolean", "id"})
ID_KEY = "concept:name"
TIME_KEY = "time:timestamp"
LIFECYCLE_KEY = "lifecycle:transition"


class XesError(ValueError):
    """An XES file that cannot be read: the message names the file and the line or the trace."""


@dataclass(frozen=True)
class XesTrace:
    """One trace (a case): its number in the file (1 = first), its own attributes and its events,
    each event's attributes as text (dates as UTC ISO 8601)."""

    number: int
    attributes: dict[str, str]
    events: list[dict[str, str]] = field(default_factory=list)

    @property
    def case_id(self) -> str:
        return self.attributes.get(ID_KEY, "")


def _local(tag: str) -> str:
    """``{http://www.xes-standard.org/}trace`` -> ``trace`` (logs are written with and without it)."""
    return tag.rsplit("}", 1)[-1]


def utc_iso(value: str) -> str:
    """An XES date (``2011-10-01T00:38:44.546+02:00``) as ISO 8601 in UTC; no offset means UTC."""
    stamp = dt.datetime.fromisoformat(value.strip())
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _attributes(element: ET.Element, where: str) -> dict[str, str]:
    """The element's own attributes (its direct children), by key."""
    values: dict[str, str] = {}
    for child in element:
        kind = _local(child.tag)
        if kind not in _ATTRIBUTE_TAGS:
            continue
        key, value = child.get("key"), child.get("value")
        if key is None or value is None:
            raise XesError(f"{where}: a <{kind}> attribute without 'key' or 'value'")
        if kind == "date":
            try:
                value = utc_iso(value)
            except ValueError:
                raise XesError(f"{where}: attribute {key!r}: {value!r} is not an ISO 8601 date") from None
        values[key] = value
    return values


def _open(path: Path) -> IO[bytes]:
    with path.open("rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    return cast(IO[bytes], gzip.open(path, "rb")) if gzipped else path.open("rb")


def read_xes(path: Path) -> Iterator[XesTrace]:
    """Each trace of the XES file at ``path`` (plain or gzipped), in file order, read as a stream.

    Raises ``XesError`` for a file that is missing, not XML, not XES, cut off, or whose traces lack
    an id or whose events lack a timestamp."""
    path = Path(path)
    if not path.is_file():
        raise XesError(f"{path}: no such file")
    number = 0
    depth = 0  # depth inside the current trace: 1 = the trace, 2 = its events and attributes
    events: list[dict[str, str]] = []
    trace: ET.Element | None = None
    seen_log = False
    try:
        with _open(path) as stream:
            for action, element in ET.iterparse(stream, events=("start", "end")):
                name = _local(element.tag)
                if action == "start":
                    if not seen_log:
                        if name != "log":
                            raise XesError(f"{path}: not an XES log (the root element is <{name}>)")
                        seen_log = True
                    if name == "trace" and depth == 0:
                        number += 1
                        events, trace = [], element
                    if depth or name == "trace":
                        depth += 1
                    continue
                if depth == 0:
                    # The log's own attributes, globals and classifiers: not needed, freed as read.
                    if name != "log":
                        element.clear()
                    continue
                depth -= 1
                if name == "event" and depth == 1:
                    where = f"{path}: trace {number}{_case_label(trace)}, event {len(events) + 1}"
                    events.append(_event(element, where))
                    element.clear()
                elif name == "trace" and depth == 0:
                    yield _trace(element, path, number, events)
                    element.clear()
    except ET.ParseError as error:
        line, column = error.position
        inside = (
            f" (inside trace {number}{_case_label(trace)})"
            if depth
            else f" (after trace {number})"
            if number
            else ""
        )
        raise XesError(
            f"{path}: line {line}, column {column}: not well-formed XML{inside}: {error.msg}"
        ) from None
    except (OSError, EOFError, zlib.error) as error:
        raise XesError(f"{path}: cannot be read after trace {number}: {error}") from None
    if not seen_log:
        raise XesError(f"{path}: empty file, not an XES log")


def _case_label(trace: ET.Element | None) -> str:
    """`` (case 'id')`` when the trace's id attribute has been read already (it usually comes first)."""
    for child in trace if trace is not None else ():
        if _local(child.tag) == "string" and child.get("key") == ID_KEY:
            return f" (case {child.get('value')!r})"
    return ""


def _event(element: ET.Element, where: str) -> dict[str, str]:
    values = _attributes(element, where)
    if TIME_KEY not in values:
        raise XesError(f"{where}: no {TIME_KEY!r} attribute (every event needs its time)")
    return values


def _trace(element: ET.Element, path: Path, number: int, events: list[dict[str, str]]) -> XesTrace:
    attributes = _attributes(element, f"{path}: trace {number}")
    if not attributes.get(ID_KEY, "").strip():
        raise XesError(f"{path}: trace {number}: no {ID_KEY!r} attribute (the case id)")
    return XesTrace(number=number, attributes=attributes, events=events)

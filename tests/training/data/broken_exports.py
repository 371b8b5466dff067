"""A corpus of broken CRM exports, generated: each kind is a valid small dataset with one thing broken.

``BROKEN_EXPORTS`` maps a kind to how it is made and what the refusal must name. Strict kinds must be
refused (exit 2) with a message holding every expected fragment (file, row, column); ``lenient`` kinds
must also be quarantined exactly in lenient mode (rows read = kept + rejected).
Run as a script to write the corpus into a folder: ``python tests/training/data/broken_exports.py DIR``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

N_LEADS = 30
TYPES = ("email_open", "site_visit", "webinar_attended")


def leads_rows() -> list[list[str]]:
    rows = [["lead_id", "created_at", "source", "employees", "status", "closed_at", "handed_over_at"]]
    for i in range(N_LEADS):
        status = ("won", "lost", "open")[i % 3]
        closed = f"2024-06-{1 + i % 28:02d}" if status != "open" else ""
        handed = f"2024-05-{1 + i % 28:02d}" if status != "open" else ""
        rows.append(
            [
                f"L{i}",
                f"2024-01-{1 + i % 28:02d}",
                ("ads", "webinar")[i % 2],
                str(10 + i),
                status,
                closed,
                handed,
            ]
        )
    return rows


def events_rows() -> list[list[str]]:
    rows = [["lead_id", "occurred_at", "event_type"]]
    for i in range(N_LEADS * 2):
        rows.append([f"L{i % N_LEADS}", f"2024-02-{1 + i % 28:02d}T10:00:00Z", TYPES[i % 3]])
    return rows


def csv_text(rows: list[list[str]]) -> str:
    return "".join(",".join(row) + "\n" for row in rows)


@dataclass(frozen=True)
class Broken:
    """One kind of broken export: ``make(directory)`` writes it; the refusal names every fragment."""

    make: Callable[[Path], None]
    fragments: tuple[str, ...]
    #: Row-level problems are quarantined in lenient mode; file-level ones are refused in both modes.
    lenient: bool = False


def _write(
    directory: Path, leads: list[list[str]] | str | None, events: list[list[str]] | str | None
) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, table in (("leads.csv", leads), ("events.csv", events)):
        if table is not None:
            (directory / name).write_text(
                table if isinstance(table, str) else csv_text(table), encoding="utf-8"
            )


def _leads_cell(row: int, column: str, value: str) -> Callable[[Path], None]:
    def make(directory: Path) -> None:
        rows = leads_rows()
        rows[row][rows[0].index(column)] = value
        _write(directory, rows, events_rows())

    return make


def _events_cell(row: int, column: str, value: str) -> Callable[[Path], None]:
    def make(directory: Path) -> None:
        rows = events_rows()
        rows[row][rows[0].index(column)] = value
        _write(directory, leads_rows(), rows)

    return make


def _leads_text(edit: Callable[[str], str]) -> Callable[[Path], None]:
    return lambda directory: _write(directory, edit(csv_text(leads_rows())), events_rows())


def _events_text(edit: Callable[[str], str]) -> Callable[[Path], None]:
    return lambda directory: _write(directory, leads_rows(), edit(csv_text(events_rows())))


def _bytes(name: str, content: bytes, events: bool = True) -> Callable[[Path], None]:
    def make(directory: Path) -> None:
        own_leads = name.startswith("leads.")
        _write(directory, None if own_leads else leads_rows(), events_rows() if events else None)
        (directory / name).write_bytes(content)

    return make


def _drop_column(table: str, column: str) -> Callable[[Path], None]:
    def make(directory: Path) -> None:
        rows = leads_rows() if table == "leads" else events_rows()
        index = rows[0].index(column)
        rows = [row[:index] + row[index + 1 :] for row in rows]
        _write(
            directory,
            rows if table == "leads" else leads_rows(),
            rows if table == "events" else events_rows(),
        )

    return make


def _special_events(kind: str) -> Callable[[Path], None]:
    def make(directory: Path) -> None:
        _write(directory, leads_rows(), None)
        target = directory / "events.csv"
        if kind == "directory":
            target.mkdir()
        elif kind == "symlink":
            target.symlink_to(directory / "missing-events.csv")
        else:
            os.mkfifo(target)

    return make


def _both_formats(directory: Path) -> None:
    import pandas as pd

    _write(directory, leads_rows(), events_rows())
    rows = leads_rows()
    pd.DataFrame(rows[1:], columns=rows[0]).to_parquet(directory / "leads.parquet")


def _line(text: str, index: int, new: str) -> str:
    lines = text.splitlines(keepends=True)
    lines[index] = new
    return "".join(lines)


def _replace_line(index: int, edit: Callable[[str], str]) -> Callable[[str], str]:
    return lambda text: _line(text, index, edit(text.splitlines(keepends=True)[index]))


def _events_cut_short(directory: Path) -> None:
    """Events stop in early January (as if the export hit a row limit) while leads keep arriving until
    April: every later lead looks as if it never engaged."""
    leads = leads_rows()
    for row in leads[7:]:
        row[1] = f"2024-04-{1 + int(row[0][1:]) % 28:02d}"
    events = [["lead_id", "occurred_at", "event_type"]]
    events += [[f"L{i}", "2024-01-10T10:00:00Z", TYPES[i % 3]] for i in range(6)]
    _write(directory, leads, events)


def _no_outcomes(directory: Path) -> None:
    rows = [row[:4] for row in leads_rows()]
    _write(directory, rows, events_rows())


BROKEN_EXPORTS: dict[str, Broken] = {
    # --- files that cannot be read as tables
    "no leads table": Broken(lambda d: _write(d, None, events_rows()), ("no leads table",)),
    "leads file empty": Broken(_bytes("leads.csv", b""), ("leads.csv", "empty")),
    "leads header only": Broken(_bytes("leads.csv", b"lead_id,created_at\n"), ("leads.csv", "no data rows")),
    "first line empty": Broken(
        _bytes("leads.csv", b"\nL1,2024-01-01\n"), ("leads.csv", "first line is empty")
    ),
    "duplicate header": Broken(
        _bytes("leads.csv", b"lead_id,lead_id\nL1,L2\n"), ("leads.csv", "more than once")
    ),
    "unnamed header column": Broken(_bytes("leads.csv", b"lead_id,,x\nL1,2,3\n"), ("leads.csv", "column 2")),
    "row with too few fields": Broken(
        _leads_text(_replace_line(5, lambda _: "L4,2024-01-05\n")), ("leads.csv", "row 5")
    ),
    "row with too many fields": Broken(
        _events_text(_replace_line(7, lambda line: line.rstrip("\n") + ",extra,more\n")),
        ("events.csv", "row 7"),
    ),
    "mixed delimiters": Broken(
        _leads_text(_replace_line(3, lambda line: line.replace(",", ";"))), ("leads.csv", "row 3")
    ),
    "unbalanced quote": Broken(
        _events_text(
            _replace_line(
                9,
                lambda line: (
                    line.replace(",email", ',"email').replace(",site", ',"site').replace(",web", ',"web')
                ),
            )
        ),
        ("events.csv", "row 9", "never closed"),
    ),
    "value over 128 KiB": Broken(
        _events_text(_replace_line(4, lambda line: line.rstrip("\n") + "x" * 140_000 + "\n")),
        ("events.csv", "row 4", "column event_type", "128 KiB"),
    ),
    "file cut mid-line": Broken(
        _events_text(lambda text: text + "L3,2024-02-27T10:00:00Z,webin"),
        ("events.csv", "row 61", "column event_type", "truncated"),
    ),
    "latin-1 bytes": Broken(
        _bytes("leads.csv", csv_text(leads_rows()).replace("webinar", "séminaire").encode("latin-1")),
        ("leads.csv", "row 2", "encoding"),
    ),
    "utf-16 file": Broken(
        _bytes("leads.csv", csv_text(leads_rows()).encode("utf-16")), ("leads.csv", "utf-16")
    ),
    "events is a directory": Broken(_special_events("directory"), ("events.csv", "directory")),
    "events is a dangling link": Broken(_special_events("symlink"), ("events.csv", "does not exist")),
    "events is a fifo": Broken(_special_events("fifo"), ("events.csv", "not a regular file")),
    "leads as csv and parquet": Broken(_both_formats, ("leads.parquet", "leads.csv", "more than one file")),
    "corrupt parquet": Broken(
        _bytes("leads.parquet", b"PAR1 this is not parquet"), ("leads.parquet", "Parquet")
    ),
    "invalid dataset.json": Broken(
        lambda d: (_write(d, leads_rows(), events_rows()), (d / "dataset.json").write_text("{not json")),
        ("dataset.json", "invalid dataset metadata"),
    ),
    # --- missing columns (whole-table problems: refused in both modes)
    "leads without lead_id": Broken(_drop_column("leads", "lead_id"), ("leads.csv", "lead_id")),
    "leads without created_at": Broken(_drop_column("leads", "created_at"), ("leads.csv", "created_at")),
    "events without occurred_at": Broken(
        _drop_column("events", "occurred_at"), ("events.csv", "occurred_at")
    ),
    "events without event_type": Broken(_drop_column("events", "event_type"), ("events.csv", "event_type")),
    "events without lead_id": Broken(_drop_column("events", "lead_id"), ("events.csv", "lead_id")),
    "no outcomes anywhere": Broken(_no_outcomes, ("status",)),
    # --- bad values in rows (quarantined in lenient mode)
    "duplicate lead id": Broken(
        _leads_cell(3, "lead_id", "L0"), ("leads.csv", "row 3", "column lead_id"), lenient=True
    ),
    "empty lead id": Broken(
        _leads_cell(4, "lead_id", ""), ("leads.csv", "row 4", "column lead_id"), lenient=True
    ),
    "created_at unparseable": Broken(
        _leads_cell(5, "created_at", "yesterday"), ("leads.csv", "row 5", "column created_at"), lenient=True
    ),
    "created_at impossible date": Broken(
        _leads_cell(6, "created_at", "2024-02-31"), ("leads.csv", "row 6", "column created_at"), lenient=True
    ),
    "created_at in the future": Broken(
        _leads_cell(7, "created_at", "2999-01-01"), ("leads.csv", "row 7", "column created_at"), lenient=True
    ),
    "created_at sentinel year 1": Broken(
        _leads_cell(8, "created_at", "0001-01-01"), ("leads.csv", "row 8", "column created_at"), lenient=True
    ),
    "unknown status": Broken(
        _leads_cell(9, "status", "maybe"), ("leads.csv", "row 9", "column status"), lenient=True
    ),
    "closed before created": Broken(
        _leads_cell(1, "closed_at", "2023-01-01"), ("leads.csv", "row 1", "column closed_at"), lenient=True
    ),
    "handed over unparseable": Broken(
        _leads_cell(2, "handed_over_at", "soon"),
        ("leads.csv", "row 2", "column handed_over_at"),
        lenient=True,
    ),
    "employees infinite": Broken(
        _leads_cell(11, "employees", "inf"),
        ("leads.csv", "row 11", "column employees", "finite"),
        lenient=True,
    ),
    "employees overflow 1e400": Broken(
        _leads_cell(12, "employees", "1e400"),
        ("leads.csv", "row 12", "column employees", "finite"),
        lenient=True,
    ),
    "event for unknown lead": Broken(
        _events_cell(3, "lead_id", "NOBODY"), ("events.csv", "row 3", "column lead_id"), lenient=True
    ),
    "occurred_at unparseable": Broken(
        _events_cell(4, "occurred_at", "last tuesday"),
        ("events.csv", "row 4", "column occurred_at"),
        lenient=True,
    ),
    "event before lead created": Broken(
        _events_cell(5, "occurred_at", "2023-06-01T00:00:00Z"),
        ("events.csv", "row 5", "column occurred_at"),
        lenient=True,
    ),
    "event in the future": Broken(
        _events_cell(6, "occurred_at", "2999-01-01T00:00:00Z"),
        ("events.csv", "row 6", "column occurred_at"),
        lenient=True,
    ),
    "events cut short": Broken(_events_cut_short, ("events.csv", "leads.csv", "cut short", "2024-01-10")),
    "empty event type": Broken(
        _events_cell(7, "event_type", ""), ("events.csv", "row 7", "column event_type"), lenient=True
    ),
}


def write_corpus(root: Path) -> list[Path]:
    """Write every kind into ``root/<kind>``; returns the folders."""
    folders = []
    for kind, broken in BROKEN_EXPORTS.items():
        folder = root / kind.replace(" ", "_")
        broken.make(folder)
        folders.append(folder)
    return folders


if __name__ == "__main__":
    written = write_corpus(Path(sys.argv[1]))
    print(json.dumps([str(path) for path in written], indent=1))

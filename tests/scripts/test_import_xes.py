"""The XES converter (scripts/import_xes.py) on tiny logs written here: outcomes from the deciding
activities, outcome-revealing and later events left out, lifecycle in the event type, UTC times, clear
errors on broken files; and the BPI 2012 mapping importing its output into the data contract."""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))

import import_xes  # noqa: E402
from xes_log import XesError, read_xes  # noqa: E402

from training.audit.timestamps import event_and_lead_timestamps  # noqa: E402
from training.data.io import load_dataset  # noqa: E402
from training.data.mapping import import_export, load_mapping  # noqa: E402

CONFIG = REPO / "data" / "mappings" / "event_logs" / "bpi_challenge_2012.xes.toml"
MAPPING = REPO / "data" / "mappings" / "event_logs" / "bpi_challenge_2012.toml"

HEAD = """<?xml version="1.0" encoding="UTF-8" ?>
<log xes.version="1.0" xmlns="http://www.xes-standard.org/">
  <global scope="trace"><string key="concept:name" value="UNKNOWN"/></global>
  <float key="meta:nested" value="1.0"><float key="inner" value="2.0"/></float>
"""


def _event(name: str, time: str, transition: str = "COMPLETE") -> str:
    return (
        f'<event><string key="org:resource" value="112"/><string key="lifecycle:transition" '
        f'value="{transition}"/><string key="concept:name" value="{name}"/>'
        f'<date key="time:timestamp" value="{time}"/></event>'
    )


def _trace(case: str, registered: str, amount: str, *events: str) -> str:
    return (
        f'<trace><date key="REG_DATE" value="{registered}"/><string key="concept:name" value="{case}"/>'
        f'<string key="AMOUNT_REQ" value="{amount}"/>\n' + "\n".join(events) + "\n</trace>\n"
    )


WON = _trace(
    "1",
    "2011-10-01T10:00:00.000+02:00",
    "20000",
    _event("A_SUBMITTED", "2011-10-01T10:00:00.000+02:00"),
    _event("W_Completeren aanvraag", "2011-10-01T10:05:00.000+02:00", "SCHEDULE"),
    _event("W_Completeren aanvraag", "2011-10-02T09:00:00.000+02:00", "START"),
    _event("O_SENT", "2011-10-03T09:00:00.000+02:00"),
    # The approval arrives as several events in any order: the earliest decides the outcome time.
    _event("O_ACCEPTED", "2011-11-05T09:00:00.000+01:00"),
    _event("A_APPROVED", "2011-11-05T09:00:00.500+01:00"),
    _event("W_Completeren aanvraag", "2011-11-05T09:30:00.000+01:00", "COMPLETE"),
)
LOST = _trace(
    "2",
    "2011-10-10T08:00:00.000+02:00",
    "5000",
    _event("A_SUBMITTED", "2011-10-10T08:00:00.000+02:00"),
    _event("W_Completeren aanvraag", "2011-10-10T08:10:00.000+02:00", "SCHEDULE"),
    _event("A_DECLINED", "2011-10-12T08:00:00.000+02:00"),
    _event("W_Afhandelen leads", "2011-10-12T08:05:00.000+02:00"),
)
OPEN = _trace(
    "3",
    "2011-11-20T08:00:00.000+01:00",
    "7000",
    _event("A_SUBMITTED", "2011-11-20T08:00:00.000+01:00"),
    _event("O_SENT", "2011-11-21T08:00:00.000+01:00"),
)


def _write(path: Path, *traces: str, tail: str = "</log>\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as stream:
        stream.write(HEAD + "".join(traces) + tail)
    return path


def _config(**events: str) -> import_xes.XesImportConfig:
    base = import_xes.load_config(CONFIG)
    return (
        base.model_copy(update={"events": import_xes.EventRules.model_validate(events)}) if events else base
    )


def test_outcomes_events_and_exclusions(tmp_path: Path) -> None:
    log = _write(tmp_path / "log.xes.gz", WON, LOST, OPEN)
    cases, events, summary = import_xes.convert(_config(), log)

    by_case = cases.set_index("concept:name")
    assert by_case["outcome"].to_dict() == {"1": "won", "2": "lost", "3": "open"}
    # The earliest deciding activity (O_ACCEPTED), in UTC: +01:00 after the daylight-saving change.
    assert by_case.loc["1", "outcome_at"] == "2011-11-05T08:00:00.000Z"
    assert by_case.loc["2", "outcome_at"] == "2011-10-12T06:00:00.000Z"
    assert by_case.loc["3", "outcome_at"] == ""
    assert by_case.loc["1", "REG_DATE"] == "2011-10-01T08:00:00.000Z"
    assert "meta:nested" not in cases and "inner" not in cases  # the log's own attributes are not a case's

    # No outcome activity is an event, and nothing at or after a case's outcome is either.
    outcome_names = {"A_APPROVED", "O_ACCEPTED", "A_DECLINED", "A_CANCELLED", "O_DECLINED"}
    assert not set(events["concept:name"]) & outcome_names
    outcome_at = events["case"].map(by_case["outcome_at"])
    decided = outcome_at != ""
    assert (events.loc[decided, "time:timestamp"] < outcome_at[decided]).all()
    assert events.groupby("case").size().to_dict() == {"1": 4, "2": 2, "3": 2}
    # Several transitions of one activity: the transition is part of the type; single-transition ones not.
    assert set(events["event_type"]) == {
        "A_SUBMITTED",
        "O_SENT",
        "W_Completeren aanvraag (schedule)",
        "W_Completeren aanvraag (start)",
    }
    assert summary.traces == 3 and summary.events_read == 13 and summary.events_written == 8
    assert summary.excluded == {"O_ACCEPTED": 1, "A_APPROVED": 1, "A_DECLINED": 1}
    assert summary.after_outcome == {"W_Completeren aanvraag": 1, "W_Afhandelen leads": 1}


def test_bpi_configs_find_the_shared_log_and_the_conversion(shared_datasets: Path) -> None:
    # The two-step commands in data/mappings/README.md work as written from the repository root.
    config = import_xes.load_config(CONFIG)
    assert (CONFIG.parent / config.root).resolve() == shared_datasets.resolve()
    assert (shared_datasets / config.file).is_file()
    assert load_mapping(MAPPING).root == (REPO / "data" / "bpi_challenge_2012_log").resolve()


def test_bpi_mapping_imports_the_conversion(tmp_path: Path) -> None:
    xes = _write(tmp_path / "source" / "bpi_challenge_2012" / "BPI_Challenge_2012.xes.gz", WON, LOST, OPEN)
    converted = tmp_path / "converted"
    assert import_xes.main([str(CONFIG), "--out", str(converted), "--data-root", str(xes.parents[1])]) == 0

    summary = import_export(MAPPING, tmp_path / "dataset", mode="strict", data_root=converted)
    assert summary.rejects == 0 and summary.warnings == []
    dataset, _ = load_dataset(tmp_path / "dataset")
    assert sorted(dataset.leads["lead_id"]) == ["1", "2", "3"]
    assert list(dataset.metadata.numeric_columns) == ["amount_requested"]
    outcomes = dataset.outcomes.set_index("lead_id")
    assert outcomes["status"].astype(str).to_dict() == {"1": "won", "2": "lost", "3": "open"}
    assert outcomes.loc["1", "closed_at"] == pd.Timestamp("2011-11-05T08:00:00Z")
    assert len(dataset.events) == 8 and not dataset.events["event_type"].str.startswith("A_APPROVED").any()
    # What is left has nothing after the close for the leakage audit to warn about.
    assert event_and_lead_timestamps(dataset.leads, dataset.events, dataset.outcomes) == []


def test_kept_late_events_are_caught_by_the_audit(tmp_path: Path) -> None:
    log = _write(tmp_path / "log.xes.gz", WON, LOST, OPEN)
    cases, events, _ = import_xes.convert(_config(after_outcome="keep", outcome_events="keep"), log)
    assert {"A_APPROVED", "W_Afhandelen leads"} <= set(events["concept:name"])
    converted = tmp_path / "converted"
    import_xes.write_tables(cases, events, converted)
    import_export(MAPPING, tmp_path / "dataset", mode="strict", data_root=converted)
    dataset, _ = load_dataset(tmp_path / "dataset")

    findings = event_and_lead_timestamps(dataset.leads, dataset.events, dataset.outcomes)
    assert len(findings) == 1 and "occur after their lead's close" in findings[0].evidence


def test_malformed_xml_names_file_line_and_trace(tmp_path: Path) -> None:
    broken = _write(tmp_path / "broken.xes.gz", WON, LOST.replace("</event>", "", 2), tail="")
    with pytest.raises(XesError) as caught:
        list(read_xes(broken))
    message = str(caught.value)
    assert str(broken) in message and "line " in message and "inside trace 2 (case '2')" in message


def test_cut_off_file_and_missing_fields_are_named(tmp_path: Path) -> None:
    cut = tmp_path / "cut.xes.gz"
    cut.write_bytes(gzip.compress((HEAD + WON).encode())[:-20])
    with pytest.raises(XesError, match=r"cut\.xes\.gz"):
        list(read_xes(cut))

    no_time = _write(tmp_path / "no_time.xes.gz", WON, OPEN.replace('<date key="time:timestamp"', "<x"))
    with pytest.raises(XesError, match=r"no_time\.xes\.gz: trace 2 \(case '3'\), event 1: no 'time:t"):
        list(read_xes(no_time))

    unnamed = _write(
        tmp_path / "unnamed.xes.gz", OPEN.replace('key="concept:name" value="O_SENT"', 'key="x" value="1"')
    )
    with pytest.raises(XesError, match=r"unnamed\.xes\.gz: trace 1 \(case '3'\), event 2: no 'concept:name'"):
        import_xes.convert(_config(), unnamed)

    not_xes = tmp_path / "leads.xml"
    not_xes.write_text("<leads><lead/></leads>")
    with pytest.raises(XesError, match=r"leads\.xml: not an XES log"):
        list(read_xes(not_xes))


def test_contradicting_outcome_and_cli_errors_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    both = WON.replace("A_APPROVED", "A_DECLINED")
    source = tmp_path / "source" / "bpi_challenge_2012"
    source.mkdir(parents=True)
    _write(source / "BPI_Challenge_2012.xes.gz", LOST, both)
    out = tmp_path / "converted"
    code = import_xes.main([str(CONFIG), "--out", str(out), "--data-root", str(source.parent)])
    assert code == 2 and not out.exists()
    error = capsys.readouterr().err
    assert "trace 2 (case '1')" in error and "both won and lost" in error

    bad_config = tmp_path / "bad.toml"
    bad_config.write_text(CONFIG.read_text().replace("lifecycle =", "lifecycel ="))
    assert import_xes.main([str(bad_config), "--out", str(out)]) == 2
    assert "key 'lifecycel'" in capsys.readouterr().err and not out.exists()

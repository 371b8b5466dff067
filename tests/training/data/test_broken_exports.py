"""Every kind of broken export in the corpus (broken_exports.py) is refused by ``leadripe train`` with
exit 2 and a message naming file, row and column, without a traceback or any artifact; row-level kinds
are quarantined exactly in lenient mode."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from broken_exports import BROKEN_EXPORTS
from typer.testing import CliRunner

from training.cli import app
from training.data.io import load_dataset

NOW = pd.Timestamp("2025-01-01", tz="UTC")


def test_the_corpus_has_at_least_40_kinds() -> None:
    assert len(BROKEN_EXPORTS) >= 40


@pytest.mark.parametrize("kind", sorted(BROKEN_EXPORTS))
def test_broken_export_is_refused_cleanly(kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = BROKEN_EXPORTS[kind]
    data = tmp_path / "export"
    broken.make(data)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # where MLflow's store and runs would appear
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("LEADRIPE_DEBUG", raising=False)
    result = CliRunner().invoke(app, ["train", "--data", str(data)])
    # Rich wraps long lines (at spaces, or inside a long path): try both ways of undoing it.
    output = " ".join(result.output.split()) + "\n" + result.output.replace("\n", "")
    assert result.exit_code == 2, output
    assert "Traceback" not in output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    for fragment in broken.fragments:
        assert fragment in output, f"{fragment!r} not in: {output}"
    assert list(work.iterdir()) == []  # no store, no run, no half-written model


@pytest.mark.parametrize("kind", sorted(k for k, b in BROKEN_EXPORTS.items() if b.lenient))
def test_row_level_kinds_are_quarantined_in_lenient_mode(kind: str, tmp_path: Path) -> None:
    BROKEN_EXPORTS[kind].make(tmp_path)
    _, report = load_dataset(tmp_path, mode="lenient", now=NOW)
    assert len(report.rejects) >= 1
    rejected = report.rejects.groupby("file").size()
    for table, read in report.rows_read.items():
        name = next((n for n in rejected.index if n.startswith(table)), None)
        assert read == report.rows_kept[table] + (0 if name is None else int(rejected[name])), table

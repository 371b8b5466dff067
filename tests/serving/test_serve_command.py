"""``leadripe serve`` refuses to start when its model is not there, and says where it looked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from serving.cli import app
from training.bundle import ModelBundle
from training.registry.tracking import configure_tracking

runner = CliRunner()


def flat(output: str) -> str:
    """The output without rich's line wrapping."""
    return " ".join(output.split())


@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """uvicorn.run recorded instead of started."""
    import uvicorn

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))
    for name in ("MLFLOW_TRACKING_URI", "LEADRIPE_MODEL_DIR", "LEADRIPE_MODEL_URI"):
        monkeypatch.delenv(name, raising=False)
    return calls


def test_serve_outside_the_store_folder_refuses_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_server: list[dict[str, Any]]
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 2, result.output
    assert f"no MLflow store at {tmp_path / 'mlflow.db'}" in flat(result.output)
    assert "Traceback" not in result.output and not no_server
    assert not (tmp_path / "mlflow.db").exists()


def test_serve_refuses_a_store_without_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_server: list[dict[str, Any]]
) -> None:
    monkeypatch.chdir(tmp_path)
    store = f"sqlite:///{tmp_path / 'other.db'}"
    configure_tracking(store)  # an existing store with no registered model
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 2, result.output
    assert "models:/lead-maturity@champion is not in the MLflow store" in flat(result.output)
    # The console wraps long paths at the terminal width, possibly mid-name: compare without whitespace.
    assert str(tmp_path / "other.db") in "".join(result.output.split())
    assert not no_server


def test_serve_refuses_a_model_dir_without_a_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_server: list[dict[str, Any]]
) -> None:
    monkeypatch.setenv("LEADRIPE_MODEL_DIR", str(tmp_path / "nothing"))
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 2 and "no model bundle there" in flat(result.output) and not no_server


def test_serve_port_out_of_range_is_a_clear_error(no_server: list[dict[str, Any]]) -> None:
    result = runner.invoke(app, ["serve", "--port", "80000"])
    assert result.exit_code == 2
    assert "--port" in result.output and "65535" in result.output and "Traceback" not in result.output


def test_serve_starts_with_a_model_there(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    no_server: list[dict[str, Any]],
    small_bundle: ModelBundle,
) -> None:
    small_bundle.save(tmp_path / "model")
    monkeypatch.setenv("LEADRIPE_MODEL_DIR", str(tmp_path / "model"))
    result = runner.invoke(app, ["serve", "--port", "8123", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert no_server[0]["port"] == 8123 and no_server[0]["workers"] == 1


def _store_with_an_unpromoted_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A real MLflow store where lead-maturity has version 1 with the challenger alias, no champion (a
    first run the guards did not promote)."""
    from mlflow.tracking import MlflowClient

    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    configure_tracking(store)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    client = MlflowClient(tracking_uri=store, registry_uri=store)
    client.create_registered_model("lead-maturity")
    client.create_model_version("lead-maturity", source=str(tmp_path / "artifacts"))
    client.set_registered_model_alias("lead-maturity", "challenger", "1")
    return store


@pytest.mark.parametrize("command", [["serve"], ["score", "--data", "data", "--out", "scores.csv"]])
def test_without_a_champion_the_message_names_the_versions_and_how_to_promote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_server: list[dict[str, Any]], command: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    _store_with_an_unpromoted_version(tmp_path, monkeypatch)
    result = runner.invoke(app, command)
    assert result.exit_code == 2, result.output
    message = flat(result.output)
    assert "Traceback" not in result.output and not no_server
    assert "lead-maturity has versions 1 (challenger)" in message
    assert "leadripe promote VERSION" in message and "models:/lead-maturity/1" in message
    assert not (tmp_path / "scores.csv").exists()

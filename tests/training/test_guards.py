"""Guards end to end on simulated data: leaks injected under neutral names are blocked and named in the
CLI output, exclusion and acceptance behave as documented, shuffled labels never produce a champion,
and too few won leads are refused with the counts."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from serving.cli import app
from training.config import TrainConfig
from training.model.split import InsufficientDataError
from training.pipeline import fit_and_evaluate
from training.registry import AUDIT_BLOCKED_TAG, PROMOTION_REASON_TAG, current_champion
from training.simulation.simulator import simulate

FAST_TOML = """
n_bootstrap = 50
max_snapshots_per_lead = 12
model = { n_estimators = 150 }
"""


@pytest.fixture(scope="module")
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    uri = f"sqlite:///{tmp_path_factory.mktemp('mlflow-guards')}/mlflow.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        yield uri


@pytest.fixture(scope="module")
def leaky_dir(simulated_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The simulated data plus three neutral columns: ``field_a`` leaks the final outcome (a number
    that is high for won leads), ``field_g`` is declared ``after_contact``, and ``field_h`` is an honest
    creation-time column with a near-pure level."""
    directory = tmp_path_factory.mktemp("leaky")
    for path in simulated_dir.iterdir():
        shutil.copy(path, directory / path.name)
    leads = pd.read_parquet(directory / "leads.parquet")
    outcomes = pd.read_parquet(directory / "outcomes.parquet")
    won = leads["lead_id"].map(outcomes.set_index("lead_id")["status"].astype(str)).eq("won").to_numpy()
    rng = np.random.default_rng(0)
    leads["field_a"] = np.where(won, rng.normal(4.0, 1.0, won.size), rng.normal(0.0, 1.0, won.size))
    leads["field_g"] = pd.Categorical(np.where(won, "v1", rng.choice(["v1", "v2", "v3"], won.size)))
    leads["field_h"] = pd.Categorical(
        np.where(won & (rng.random(won.size) < 0.15), "p", rng.choice(["q", "r", "s"], won.size))
    )
    leads.to_parquet(directory / "leads.parquet", index=False)
    metadata = json.loads((directory / "dataset.json").read_text())
    metadata["categorical_columns"] += ["field_g", "field_h"]
    metadata["numeric_columns"] += ["field_a"]
    metadata["known_at"] = {"field_g": "after_contact"}
    (directory / "dataset.json").write_text(json.dumps(metadata))
    return directory


def _train(data: Path, tmp_path: Path, model_name: str, extra: str = "") -> tuple[str, int]:
    config = tmp_path / f"{model_name}.toml"
    config.write_text(FAST_TOML + extra)
    result = CliRunner().invoke(
        app, ["train", "--data", str(data), "--config", str(config), "--model-name", model_name]
    )
    assert result.exit_code == 0, result.output
    versions = MlflowClient().search_model_versions(f"name = '{model_name}'")
    return " ".join(result.output.split()), max(int(v.version) for v in versions)


def test_a_leaked_column_is_blocked_named_and_never_promoted(
    leaky_dir: Path, tracking_uri: str, tmp_path: Path
) -> None:
    output, version = _train(leaky_dir, tmp_path, "guards-leak")
    # Registered, but not promoted, and the terminal says so naming the column and the evidence.
    assert current_champion("guards-leak") is None
    assert "BLOCKED" in output and "leads.field_a" in output
    assert "auc_above_ceiling" in output and "0.95" in output and "importance" in output
    tags = MlflowClient().get_model_version("guards-leak", str(version)).tags
    assert "leads.field_a" in tags[AUDIT_BLOCKED_TAG]
    # The after_contact column was never a feature; the honest near-pure column is not blocked.
    assert "leads.field_g" in output and "after_contact" in output
    assert "leads.field_h" not in tags[AUDIT_BLOCKED_TAG]
    # Promoting it by hand is refused too.
    refused = CliRunner().invoke(app, ["promote", str(version), "--model-name", "guards-leak"])
    assert refused.exit_code == 2 and "leads.field_a" in refused.output


def profile_export(directory: Path, n: int = 2400, leak: bool = True) -> Path:
    """A CRM-style export without dates (rows in time order): five honest profile columns of modest
    signal, and (``leak``) ``field_k``, a number that follows the outcome closely but not perfectly."""
    rng = np.random.default_rng(8)
    columns = {f"field_{i}": rng.normal(size=n) for i in range(5)}
    logit = -1.2 + 0.8 * sum(columns.values()) / np.sqrt(5)
    won = rng.random(n) < 1 / (1 + np.exp(-logit))
    if leak:
        columns["field_k"] = won * 2.0 + rng.normal(size=n)
    directory.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"lead_id": [f"R{i}" for i in range(n)], **columns}).to_csv(
        directory / "leads.csv", index=False
    )
    pd.DataFrame({"lead_id": [f"R{i}" for i in range(n)], "status": np.where(won, "won", "lost")}).to_csv(
        directory / "outcomes.csv", index=False
    )
    metadata = {"name": "export", "time_basis": "row_order", "numeric_columns": sorted(columns)}
    (directory / "dataset.json").write_text(json.dumps(metadata))
    return directory


def test_one_column_doing_the_models_work_is_blocked(tracking_uri: str, tmp_path: Path) -> None:
    output, _ = _train(profile_export(tmp_path / "export"), tmp_path, "guards-dominant")
    assert current_champion("guards-dominant") is None
    assert "BLOCKED" in output and "leads.field_k" in output and "dominant_column" in output
    assert "auc_above_ceiling" not in output  # the model is good, not implausibly good
    # The same export without the leak: the honest columns share the work, nothing blocks.
    output, _ = _train(profile_export(tmp_path / "honest", leak=False), tmp_path, "guards-honest")
    assert "BLOCKED" not in output and "dominant_column" not in output
    assert "leakage audit pass" in output, output


def test_accepting_or_excluding_the_column_resolves_the_block(
    leaky_dir: Path, tracking_uri: str, tmp_path: Path
) -> None:
    name = "guards-resolved"
    output, accepted = _train(leaky_dir, tmp_path, name, '[audit]\naccept = ["leads.field_a"]\n')
    assert "BLOCKED" not in output and "accepted" in output and "leads.field_a" in output
    tags = MlflowClient().get_model_version(name, str(accepted)).tags
    assert tags["audit_accepted"] == "leads.field_a" and tags[AUDIT_BLOCKED_TAG] == ""
    if current_champion(name) != accepted:  # accepted findings do not stop a promotion by hand
        assert CliRunner().invoke(app, ["promote", str(accepted), "--model-name", name]).exit_code == 0

    output, excluded = _train(leaky_dir, tmp_path, name, 'exclude_columns = ["leads.field_a"]\n')
    assert "BLOCKED" not in output and "training config's exclude_columns" in output
    assert "leakage audit pass" in output
    assert MlflowClient().get_model_version(name, str(excluded)).tags[AUDIT_BLOCKED_TAG] == ""
    # The champion reads field_a, which the new run no longer has: it cannot veto the challenger.
    assert f"champion v{accepted} cannot be scored" in output


def test_shuffled_labels_never_produce_a_champion(
    simulated_dir: Path, tracking_uri: str, tmp_path: Path
) -> None:
    name = "guards-shuffled"
    _, honest = _train(simulated_dir, tmp_path, name)
    if current_champion(name) != honest:  # the point here is the shuffled run, not this one's margins
        assert CliRunner().invoke(app, ["promote", str(honest), "--model-name", name]).exit_code == 0
    shuffled = tmp_path / "shuffled"
    shutil.copytree(simulated_dir, shuffled)
    outcomes = pd.read_parquet(shuffled / "outcomes.parquet")
    # Won and lost shuffled among the closed leads (their dates stay): the labels no longer follow
    # anything the leads did.
    closed = np.flatnonzero(outcomes["status"].isin(["won", "lost"]).to_numpy())
    status = outcomes["status"].astype(str).to_numpy()
    status[closed] = np.random.default_rng(3).permutation(status[closed])
    outcomes["status"] = pd.Categorical(status, categories=outcomes["status"].cat.categories)
    outcomes.to_parquet(shuffled / "outcomes.parquet", index=False)
    (shuffled / "ground_truth.parquet").unlink()

    output, version = _train(shuffled, tmp_path, name)
    assert current_champion(name) == honest
    assert "better than chance FAIL" in output
    assert "champion not collapsed FAIL" in output
    # A person may override the collapse check by hand; the reason is recorded.
    promoted = CliRunner().invoke(app, ["promote", str(version), "--model-name", name, "--reason", "testing"])
    assert promoted.exit_code == 0, promoted.output
    assert MlflowClient().get_model_version(name, str(version)).tags[PROMOTION_REASON_TAG] == "testing"


def test_450_leads_with_few_wins_are_refused_with_counts() -> None:
    dataset = simulate(450, seed=4).dataset
    won = int((dataset.outcomes["status"] == "won").sum())
    assert won < 80  # fewer won leads than the two sides need together
    with pytest.raises(InsufficientDataError) as refused:
        fit_and_evaluate(dataset, TrainConfig(n_bootstrap=10))
    message = str(refused.value)
    assert "won leads" in message and "more won leads" in message and "min_positives=40" in message

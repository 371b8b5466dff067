"""The training config is validated as a whole before any data is read: unknown keys anywhere, values
out of range, sections that are not tables. Messages name the key's path; the CLI exits 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from serving.cli import app
from training.config import ConfigError, TrainConfig, load_train_config


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "train.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[threshold]\nkindd = 'capacity'\n",
            r"unknown key 'threshold\.kindd' \(known keys in \[threshold\]: kind",
        ),
        ("[model]\nn_estimatorz = 5\n", r"unknown key 'model\.n_estimatorz'.*n_estimators"),
        ("[features]\nwindows = [7]\n", r"unknown key 'features\.windows'.*windows_days"),
        ("horizon_days = 0\n", r"key 'horizon_days': input should be greater than or equal to 1, not 0"),
        ("test_fraction = 1.5\n", r"key 'test_fraction'.*less than 1"),
        ("[threshold]\nkind = 'gut_feeling'\n", r"key 'threshold\.kind'.*expected_value"),
        ("[threshold]\ntarget_acceptance_rate = 0\n", r"key 'threshold\.target_acceptance_rate'"),
        ("[model]\nlearning_rate = -0.1\n", r"key 'model\.learning_rate'"),
        ("[features]\nwindows_days = []\n", r"key 'features\.windows_days'"),
        ("threshold = 3\n", r"key 'threshold': must be a table"),
        ("seed = 'zero'\n", r"key 'seed'"),
    ],
)
def test_bad_config_is_refused_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        load_train_config(_config(tmp_path, text))
    assert str(caught.value).startswith(f"{tmp_path / 'train.toml'}: ")


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_train_config(_config(tmp_path, "horizon_days = -1\n[threshold]\nkindd = 1\n"))
    assert "'horizon_days'" in str(caught.value) and "'threshold.kindd'" in str(caught.value)


def test_sections_pass_only_the_keys_given(tmp_path: Path) -> None:
    config = load_train_config(
        _config(
            tmp_path,
            "[threshold]\nkind = 'capacity'\ncapacity_per_week = 5\n"
            "[model]\nn_estimators = 50\n[features]\nwindows_days = [7, 30]\n",
        )
    )
    assert config.threshold.policy_kwargs() == {"kind": "capacity", "capacity_per_week": 5}
    assert config.model.estimator_kwargs() == {"n_estimators": 50}
    assert config.features.estimator_kwargs() == {"windows_days": (7, 30)}
    # None is a value when given (no early stopping), not "unset".
    assert TrainConfig(model={"early_stopping_rounds": None}).model.estimator_kwargs() == {  # type: ignore[arg-type]
        "early_stopping_rounds": None
    }


def test_overrides_are_validated_and_the_card_record_round_trips() -> None:
    config = TrainConfig(n_bootstrap=50, model={"n_estimators": 7})  # type: ignore[arg-type]
    overridden = config.with_overrides(horizon_days=30, model_name=None)
    assert (overridden.horizon_days, overridden.n_bootstrap) == (30, 50)
    assert overridden.model_name == "lead-maturity"
    assert overridden.model.estimator_kwargs() == {"n_estimators": 7}
    with pytest.raises(ConfigError, match="'horizon_days'"):
        config.with_overrides(horizon_days=0)
    record = overridden.to_record()
    assert record["model"] == {"n_estimators": 7} and record["features"] == {}
    assert TrainConfig.from_record({**record, "from_a_newer_version": 1}) == overridden


def test_cli_refuses_a_nested_typo_before_reading_any_data(tmp_path: Path) -> None:
    config = _config(tmp_path, "[threshold]\nkindd = 'capacity'\n")
    # The data directory does not exist: the config error must come first.
    result = CliRunner().invoke(app, ["train", "--data", str(tmp_path / "missing"), "--config", str(config)])
    assert result.exit_code == 2
    output = " ".join(result.output.split())  # rich wraps long lines
    assert "unknown key 'threshold.kindd'" in output
    assert "Traceback" not in output


def test_audit_and_promotion_sections_are_typed(tmp_path: Path) -> None:
    path = tmp_path / "train.toml"
    path.write_text(
        'exclude_columns = ["leads.grade"]\n[audit]\naccept = ["leads.score"]\nmax_test_auc = 0.9\n'
    )
    config = load_train_config(path)
    assert config.audit.accept == ("leads.score",) and config.audit.max_test_auc == 0.9
    assert config.exclude_columns == ("leads.grade",)
    assert TrainConfig.from_record(config.to_record()) == config
    path.write_text("[audit]\nacept = ['leads.score']\n")
    with pytest.raises(ConfigError, match=r"audit\.acept"):
        load_train_config(path)
    path.write_text("[audit]\naccept = ['score']\n")
    with pytest.raises(ConfigError, match="must name a table and a column"):
        load_train_config(path)
    path.write_text("[promotion]\nchance_margin = 0.7\n")
    with pytest.raises(ConfigError, match=r"promotion\.chance_margin"):
        load_train_config(path)

"""The ``[decision]`` section of the training config."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.config import ConfigError, load_train_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "train.toml"
    path.write_text(text)
    return path


def test_decision_settings_are_read_and_typos_refused(tmp_path: Path) -> None:
    config = load_train_config(
        write(tmp_path, '[decision]\nhand_raiser_rule = true\nhand_raising_events = ["Anfrage"]\n')
    )
    assert config.decision.hand_raiser_rule
    assert config.decision.hand_raisers().event_types == ["Anfrage"]
    with pytest.raises(ConfigError, match=r"decision\.hand_raiser_rul"):
        load_train_config(write(tmp_path, "[decision]\nhand_raiser_rul = true\n"))
    with pytest.raises(ConfigError, match=r"decision\.hand_raiser_min_fit"):
        load_train_config(write(tmp_path, '[decision]\nhand_raiser_min_fit = "E"\n'))
    with pytest.raises(ConfigError, match=r"decision\.gone_cold_max_rate"):
        load_train_config(write(tmp_path, "[decision]\ngone_cold_max_rate = 2\n"))

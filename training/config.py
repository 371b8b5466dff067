"""Training configuration: defaults that work, overridable from a TOML file and the command line.

Example ``train.toml``::

    horizon_days = 90
    snapshot_every_days = 7
    test_fraction = 0.25
    min_positives = 40
    min_negatives = 40

    [threshold]
    kind = "expected_value"          # or "acceptance_rate", "capacity"
    value_of_won_deal = 10000
    cost_of_premature_handover = 1000

    [model]
    n_estimators = 400
    learning_rate = 0.05
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """A training config that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class TrainConfig:
    horizon_days: int = 90
    snapshot_every_days: int = 7
    #: fraction of snapshots (the latest ones) held out as the test period
    test_fraction: float = 0.25
    #: refuse to train when the training or test window has fewer positives or negatives than this
    min_positives: int = 40
    min_negatives: int = 40
    #: snapshots per lead at most (None: all); caps the cost of very long-lived leads
    max_snapshots_per_lead: int | None = None
    #: also learn from snapshots after a lead was handed over (off: readiness is about leads not yet
    #: handed over, the population the API scores; see ``training.features.snapshots``)
    include_after_handover: bool = False
    n_bootstrap: int = 200
    seed: int = 0
    #: half-life of the rule-based points baseline, in days
    points_half_life_days: float = 30.0
    #: minimum ratio of the champion's ROC-AUC (on the new test window) a challenger must reach
    min_champion_ratio: float = 0.95
    model_name: str = "lead-maturity"
    experiment_name: str = "leadripe"
    threshold: dict[str, Any] = field(default_factory=lambda: {"kind": "expected_value"})
    model: dict[str, Any] = field(default_factory=dict)
    features: dict[str, Any] = field(default_factory=dict)

    def with_overrides(self, **overrides: Any) -> TrainConfig:
        """A copy with the given non-None values replaced (command-line options win over the file)."""
        return replace(self, **{key: value for key, value in overrides.items() if value is not None})


def load_train_config(path: Path | None) -> TrainConfig:
    """Read a TOML training config; unknown keys are refused so that typos do not pass silently."""
    if path is None:
        return TrainConfig()
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    known = {f.name: f for f in fields(TrainConfig)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(
            f"{path}: unknown key(s) {', '.join(unknown)}; known keys: {', '.join(sorted(known))}"
        )
    for key in ("threshold", "model", "features"):
        if key in raw and not isinstance(raw[key], dict):
            raise ConfigError(f"{path}: [{key}] must be a table")
    config = TrainConfig(**raw)
    _check_ranges(config, path)
    return config


def _check_ranges(config: TrainConfig, path: Path) -> None:
    problems = []
    if config.horizon_days <= 0:
        problems.append("horizon_days must be positive")
    if config.snapshot_every_days <= 0:
        problems.append("snapshot_every_days must be positive")
    if not 0 < config.test_fraction < 1:
        problems.append("test_fraction must be between 0 and 1")
    if config.min_positives < 1 or config.min_negatives < 1:
        problems.append("min_positives and min_negatives must be at least 1")
    if problems:
        raise ConfigError(f"{path}: " + "; ".join(problems))

"""Training configuration: defaults that work, overridable from a TOML file and the command line.

Example ``train.toml``::

    horizon_days = 90
    snapshot_every_days = 7
    test_fraction = 0.25
    min_positives = 40                # won leads, on each side of the split
    min_negatives = 40                # not-won leads, on each side of the split
    exclude_columns = ["leads.lead_quality"]

    [audit]
    accept = ["leads.partner_score"]  # blocking findings judged harmless, recorded with the run
    max_test_auc = 0.95

    [promotion]
    chance_margin = 0.02
    min_champion_ratio = 0.95

    [target]                         # what the model predicts (training.features.targets)
    kind = "opportunity"             # "won" (default), "opportunity" or "accepted"
    horizon_days = 60                # default per kind: won 90, opportunity 60, accepted 30

    [threshold]
    kind = "expected_value"          # or "acceptance_rate", "capacity"
    value_of_won_deal = 10000
    cost_of_premature_handover = 1000

    [decision]
    hand_raising_events = ["demo_request", "contact_sales", "trial_signup"]
    hand_raiser_rule = false          # true: a lead that asked for contact is ripe if its fit allows
    hand_raiser_calibration = true    # false: no slice calibration of the hand-raisers' readiness

    [model]
    n_estimators = 400
    learning_rate = 0.05

Every section is a pydantic model with ``extra="forbid"`` and bounds on its numbers, so a typo or an
out-of-range value anywhere (``[threshold] kindd = ...``) is refused when the file is read, naming the
key's path, before any data is loaded or any model trained.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from training.config_errors import KeyProblem, config_problems
from training.features.targets import DEFAULT_HORIZON_DAYS, TargetKind
from training.guard_settings import AuditSettings, PromotionSettings
from training.model.decision_policy import DecisionSettings


class ConfigError(ValueError):
    """A training config that cannot be used; the message names the file and the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ThresholdConfig(_Section):
    """``[threshold]``: how the hand-over threshold is chosen (see ``training.model.threshold``).

    Unset values take ``ThresholdPolicy``'s defaults; the bounds are the policy's own.
    """

    kind: Literal["expected_value", "acceptance_rate", "capacity"] = "expected_value"
    value_of_won_deal: float | None = Field(default=None, gt=0)
    cost_of_premature_handover: float | None = Field(default=None, gt=0)
    target_acceptance_rate: float | None = Field(default=None, gt=0, le=1)
    capacity_per_week: int | None = Field(default=None, ge=1)

    def policy_kwargs(self) -> dict[str, Any]:
        """The values to build a ``ThresholdPolicy`` from (unset ones keep the policy's defaults)."""
        return self.model_dump(exclude_none=True)


class TargetConfig(_Section):
    """``[target]``: what "ripe" is learnt from: a win (``won``), an opportunity created
    (``opportunity``) or the lead accepted by sales (``accepted``), each within its horizon after a
    cutoff. ``horizon_days`` unset: the kind's default (``DEFAULT_HORIZON_DAYS``) unless the top-level
    ``horizon_days`` (or ``--horizon``) is given."""

    kind: TargetKind = "won"
    horizon_days: int | None = Field(default=None, ge=1)


class ModelConfig(_Section):
    """``[model]``: ``ReadinessModel`` parameters; only the keys given are passed on.

    Only keys that were set reach the model (``None`` is meaningful for ``early_stopping_rounds``:
    no early stopping), so the model's own defaults stay the single source of defaults.
    """

    n_estimators: int | None = Field(default=None, ge=1)
    learning_rate: float | None = Field(default=None, gt=0, le=1)
    num_leaves: int | None = Field(default=None, ge=2)
    min_child_samples: int | None = Field(default=None, ge=1)
    #: -1: no depth limit
    max_depth: int | None = Field(default=None, ge=-1)
    subsample: float | None = Field(default=None, gt=0, le=1)
    subsample_freq: int | None = Field(default=None, ge=0)
    colsample_bytree: float | None = Field(default=None, gt=0, le=1)
    reg_lambda: float | None = Field(default=None, ge=0)
    min_data_per_group: int | None = Field(default=None, ge=1)
    cat_smooth: float | None = Field(default=None, ge=0)
    calibration_fraction: float | None = Field(default=None, gt=0, lt=1)
    early_stopping_rounds: int | None = Field(default=None, ge=1)
    random_state: int | None = None
    #: LightGBM threads; -1: all cores
    n_jobs: int | None = Field(default=None, ge=-1)
    #: grow the trees again on every training row after early stopping (``training.model.tree_refit``)
    refit: bool | None = None

    def estimator_kwargs(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class FeaturesConfig(_Section):
    """``[features]``: ``LeadFeatures`` parameters; only the keys given are passed on."""

    windows_days: tuple[int, ...] | None = Field(default=None, min_length=1)
    trend_days: tuple[int, int] | None = None
    min_event_type_count: int | None = Field(default=None, ge=1)
    min_category_frequency: int | None = Field(default=None, ge=1)
    high_intent_event_types: tuple[str, ...] | None = None
    high_intent_min_lift: float | None = Field(default=None, gt=0)
    max_high_intent_types: int | None = Field(default=None, ge=0)
    decay_half_lives_days: tuple[float, ...] | None = None
    float_dtype: Literal["float64", "float32"] | None = None

    def estimator_kwargs(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class SelectionConfig(_Section):
    """``[selection]``: the candidate models and the rolling time folds that choose between them
    (``training.model.selection``)."""

    #: candidates, from the simplest: a more complex one must beat the choice so far by one paired SE
    candidates: tuple[Literal["linear", "trees", "blend"], ...] = Field(
        default=("linear", "trees", "blend"), min_length=1
    )
    #: rolling validation blocks at the end of the training period
    folds: int = Field(default=3, ge=1, le=10)
    #: share of the training snapshots in each validation block (folds x fold_fraction < 1)
    fold_fraction: float = Field(default=0.15, gt=0, lt=0.5)
    #: the trees' weight in the log-odds blend, tried on the folds
    blend_weights: tuple[float, ...] = Field(default=(0.25, 0.5, 0.75), min_length=1)
    #: the trees' share of columns per tree (LightGBM's colsample_bytree), tried on the same folds before
    #: the candidates: the first is the default, a later one must beat the choice so far by one paired SE
    #: and rank the folds above chance; ``[model] colsample_bytree`` fixes it instead
    tree_column_samples: tuple[float, ...] = Field(default=(0.8, 0.3), min_length=1)
    #: bootstrap replicates (resampling leads) per fold for the paired standard error
    n_bootstrap: int = Field(default=100, ge=10)
    #: a validation block counts only with at least this many won and not-won snapshots
    min_class_per_fold: int = Field(default=10, ge=1)

    @model_validator(mode="after")
    def _check(self) -> SelectionConfig:
        if self.folds * self.fold_fraction >= 1:
            raise ValueError("folds x fold_fraction must be below 1 (some training rows must remain)")
        if any(not 0.0 <= weight <= 1.0 for weight in self.blend_weights):
            raise ValueError("blend_weights must lie in [0, 1]")
        if any(not 0.0 < sample <= 1.0 for sample in self.tree_column_samples):
            raise ValueError("tree_column_samples must lie in (0, 1]")
        # Compared by their printed names (``trees (column sample 0.3)``): 0.3 and 0.3000001 are one.
        if len({f"{sample:g}" for sample in self.tree_column_samples}) < len(self.tree_column_samples):
            raise ValueError("tree_column_samples must not repeat a value (to 6 significant digits)")
        return self


class TrainConfig(_Section):
    """Everything a training run can be told; immutable, validated on construction."""

    #: the horizon of the target: days after a cutoff in which its event counts. Set here, in
    #: ``[target]``, or not at all (then the target kind's default); ``_resolve_horizon`` makes this
    #: field the one value every stage reads.
    horizon_days: int = Field(default=90, ge=1)
    #: ``[target]``: what the model predicts (see ``TargetConfig``)
    target: TargetConfig = TargetConfig()
    snapshot_every_days: int = Field(default=7, ge=1)
    #: fraction of snapshots (the latest ones) held out as the test period
    test_fraction: float = Field(default=0.25, gt=0, lt=1)
    #: refuse to train when the training or test window has fewer won (positives) or not-won
    #: (negatives) *leads* than this; the error says how many more are needed
    min_positives: int = Field(default=40, ge=1)
    min_negatives: int = Field(default=40, ge=1)
    #: snapshots per lead at most (None: all); caps the cost of very long-lived leads
    max_snapshots_per_lead: int | None = Field(default=None, ge=1)
    #: also learn from snapshots after a lead was handed over (off: readiness is about leads not yet
    #: handed over, the population the API scores; see ``training.features.snapshots``)
    include_after_handover: bool = False
    #: training / test snapshots at most: above, snapshots are sampled so that memory stays bounded on
    #: one machine (None: no limit; see ``training.model.sampling``): the training snapshots thinned
    #: within each lead first, the test snapshots by whole leads. 100k simulated leads make ~0.84M
    #: training snapshots, 1M leads ~8.4M; a 1M-lead run at these budgets peaked at 17.8 GiB (BENCHMARKS.md).
    max_train_snapshots: int | None = Field(default=2_000_000, ge=1000)
    max_test_snapshots: int | None = Field(default=1_000_000, ge=1000)
    #: above ``max_train_snapshots``, a lead's training snapshots are thinned down to this share at
    #: most (0.25: every 4th weekly look) before whole leads are sampled; 1.0 samples whole leads only
    train_min_within_lead_fraction: float = Field(default=0.25, gt=0, le=1)
    n_bootstrap: int = Field(default=200, ge=1)
    seed: int = 0
    #: half-life of the rule-based points baseline, in days
    points_half_life_days: float = Field(default=30.0, gt=0)
    #: lead columns never used as features, as ``"leads.column"`` or ``"column"`` (the mapping's
    #: ``exclude_columns`` adds to these)
    exclude_columns: tuple[str, ...] = ()
    #: ``[audit]``: thresholds of the leakage audit, and the columns whose blocking findings are accepted
    audit: AuditSettings = AuditSettings()
    #: ``[promotion]``: the promotion guards (``training.registry.promotion``)
    promotion: PromotionSettings = PromotionSettings()
    model_name: str = Field(default="lead-maturity", min_length=1)
    experiment_name: str = Field(default="leadripe", min_length=1)
    threshold: ThresholdConfig = ThresholdConfig()
    model: ModelConfig = ModelConfig()
    features: FeaturesConfig = FeaturesConfig()
    selection: SelectionConfig = SelectionConfig()
    #: ``[decision]``: hand-raising events and their rule, gone-cold settings
    #: (``training.model.decision_policy.DecisionSettings``)
    decision: DecisionSettings = DecisionSettings()

    @model_validator(mode="after")
    def _resolve_horizon(self) -> TrainConfig:
        # One horizon per run, said in one place: [target] horizon_days, else the top-level key, else
        # the kind's default. Two different values are refused rather than one silently winning.
        given_top = "horizon_days" in self.model_fields_set
        given_target = self.target.horizon_days
        if given_target is not None and given_top and given_target != self.horizon_days:
            raise KeyProblem(
                "target.horizon_days",
                f"is {given_target} but the top-level horizon_days is {self.horizon_days}; set the horizon "
                "in one place",
            )
        if not given_top:
            horizon = given_target if given_target is not None else DEFAULT_HORIZON_DAYS[self.target.kind]
            # Frozen model: the resolved value is written once, here; model_fields_set still says the
            # user did not give it, so a copy with another target resolves again.
            object.__setattr__(self, "horizon_days", horizon)
        return self

    def with_overrides(self, **overrides: Any) -> TrainConfig:
        """A copy with the given non-None values replaced (command-line options win over the file).

        ``target`` may be a kind (``"opportunity"``): the file's ``[target] horizon_days`` belongs to
        the file's kind, so a different kind starts from its own default. A ``horizon_days`` override
        replaces any horizon in the file. The copy is validated again, so an out-of-range override is
        refused like a bad file value.
        """
        values: dict[str, Any] = {name: getattr(self, name) for name in self.model_fields_set}
        values.update({key: value for key, value in overrides.items() if value is not None})
        kind = overrides.get("target")
        if isinstance(kind, str):
            same = kind == self.target.kind
            values["target"] = {"kind": kind, "horizon_days": self.target.horizon_days if same else None}
        if overrides.get("horizon_days") is not None:
            target = values.get("target", self.target)
            target = target if isinstance(target, dict) else target.model_dump()
            values["target"] = {**target, "horizon_days": None}
        try:
            return TrainConfig.model_validate(values)
        except ValidationError as error:
            raise ConfigError(_describe(error, TrainConfig)) from None

    def to_record(self) -> dict[str, Any]:
        """A JSON-able record for the model card: every top-level value, and the section keys that
        were set (``TrainConfig.from_record`` rebuilds the same config)."""
        record = self.model_dump(mode="json", exclude={"model", "features"})
        record["model"] = self.model.model_dump(mode="json", exclude_unset=True)
        record["features"] = self.features.model_dump(mode="json", exclude_unset=True)
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> TrainConfig:
        """The config stored by ``to_record``; keys unknown to this version are ignored (an older or
        newer card), values are validated."""
        known = {key: value for key, value in record.items() if key in cls.model_fields}
        try:
            return cls.model_validate(known)
        except ValidationError as error:
            raise ConfigError(f"stored training config: {_describe(error, cls)}") from None


def load_train_config(path: Path | None) -> TrainConfig:
    """Read a TOML training config; unknown keys and out-of-range values are refused naming the key."""
    if path is None:
        return TrainConfig()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    try:
        return TrainConfig.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(f"{path}: {_describe(error, TrainConfig)}") from None


def _describe(error: ValidationError, root: type[TrainConfig]) -> str:
    """Every problem on one line, each naming the key's dotted path."""
    messages = []
    for problem in config_problems(error, root):
        if problem.kind == "extra_forbidden":
            section = problem.key.rpartition(".")[0]
            where = f"[{section}]" if section else "the top level"
            known = ", ".join(problem.allowed)
            messages.append(f"unknown key '{problem.key}' (known keys in {where}: {known})")
        else:
            messages.append(f"key '{problem.key}': {problem.problem}")
    return "; ".join(messages)

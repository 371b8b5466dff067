"""Thresholds of the leakage audit and the promotion guards: the ``[audit]`` and ``[promotion]`` tables
of the training config (``training.config.TrainConfig``).

Typed and bounded (pydantic, unknown keys refused), so a typo such as ``[audit] acept = [...]`` is
refused with the key's name before any data is read.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class AuditSettings(BaseModel):
    """What the leakage audit warns about, what it blocks on, and which findings the user accepted."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Columns named ``table.column`` (e.g. ``"leads.lead_quality"``) whose blocking findings the user
    #: has judged harmless: they are recorded with the run and no longer stop promotion.
    accept: tuple[str, ...] = ()
    #: How many columns the always-printed ranking by single-column ROC-AUC shows.
    top_columns: int = Field(default=10, ge=1, le=100)
    #: Warn when one column alone reaches this ROC-AUC (or 1 minus it) ...
    warn_column_auc: float = Field(default=0.8, gt=0.5, le=1.0)
    #: ... or when its distance from 0.5 is this many robust deviations (MAD) above the columns' median.
    outlier_mads: float = Field(default=4.0, gt=0.0)
    #: A level is near-pure when at least ``min_level_count`` leads hold it and at most this share of
    #: them has the outcome it lacks (won or not won), which is also at most a tenth of what the base
    #: rate predicts (and the base rate predicts at least 10): surprising, not just a weak level.
    near_pure_share: float = Field(default=0.02, ge=0.0, lt=0.5)
    min_level_count: int = Field(default=20, ge=1)
    #: Warn when a column's populated share differs by this much between leads that progressed in
    #: sales (handed over or closed) and leads that did not, or between won and not-won leads.
    progress_missingness_gap: float = Field(default=0.3, gt=0.0, le=1.0)
    #: Warn when this share of a text column's rows (or of its distinct values) reads as a sales action
    #: or outcome (see ``training.audit.vocabulary``).
    vocabulary_share: float = Field(default=0.3, gt=0.0, le=1.0)
    #: Block when one column carries more than this share of the model's total importance (mean
    #: absolute contribution on the test period) ...
    max_column_importance_share: float = Field(default=0.5, gt=0.0, le=1.0)
    #: ... provided at least this many columns carry importance (with two, one always carries half).
    min_columns_for_dominance: int = Field(default=3, ge=2)
    #: Block when the model's test ROC-AUC is above this: real buying signals are rarely that clean.
    max_test_auc: float = Field(default=0.95, gt=0.5, le=1.0)
    #: Block when at least this share of the closed leads with history changed a feature column after
    #: the hand-over or the close (the model would learn from values written after the outcome).
    max_changed_after_outcome_share: float = Field(default=0.05, ge=0.0, le=1.0)
    #: Drift between the training and test periods: warn when a feature group's population stability
    #: index (PSI) exceeds this (0.1 moderate, 0.25 major by the usual reading) ...
    drift_psi: float = Field(default=0.25, gt=0.0)
    #: ... or when the test period's base rate is more than this factor above or below the training's.
    drift_base_rate_factor: float = Field(default=1.5, gt=1.0)
    #: ... or when more than this share of a numeric profile column's test values lies outside its
    #: training range (``training.model.out_of_range``; about 2/n under a random split).
    out_of_range_share: float = Field(default=0.05, ge=0.0, le=1.0)
    #: Rows sampled at most for the single-column checks (keeps the audit fast on millions of leads).
    max_rows: int = Field(default=200_000, ge=1_000)
    seed: int = 0

    @field_validator("accept")
    @classmethod
    def _table_dot_column(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            table, _, column = item.partition(".")
            if not table or not column:
                raise ValueError(f"{item!r} must name a table and a column, e.g. 'leads.{item}'")
        return value


class PromotionSettings(BaseModel):
    """When a challenger may become champion automatically (see ``training.registry.promotion``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: The lower end of the test ROC-AUC's 95% interval must be above 0.5 plus this margin.
    chance_margin: float = Field(default=0.02, ge=0.0, lt=0.5)
    #: For each baseline, the lower end of the paired 95% interval of (model - baseline) must be at
    #: least minus this (a model may tie a baseline, not lose to it).
    baseline_tolerance: float = Field(default=0.005, ge=0.0, lt=0.5)
    #: The challenger must reach this share of the champion's ROC-AUC on the new test window.
    min_champion_ratio: float = Field(default=0.95, gt=0.0, le=1.5)
    #: The champion's ROC-AUC on the new window may fall at most this far below its recorded test
    #: ROC-AUC; a larger fall says the data broke rather than a better model arrived, and stops
    #: automatic promotion (``leadripe promote N --reason ...`` overrides it).
    max_champion_drop: float = Field(default=0.15, gt=0.0, le=1.0)

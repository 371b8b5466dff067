"""The trained artifact: the fitted feature+model Pipeline and the model card that travels with it.

Training produces a ``ModelBundle``; MLflow stores it (as a pyfunc model, see ``training.pyfunc``) and
serving loads it back. Everything the API needs to answer beyond the raw score (threshold, the
gone-cold rule, percentiles of the training population, per-signal win rates for plain-language
reasons, what ripe leads typically show) is computed once at training time and kept in the card,
so serving never needs the training data.

The card is a typed contract (pydantic, unknown fields refused) with a format number. Loading a card of
another format, a card with a field this version does not know or lacks, or a pipeline whose feature
step predates feature specs fails with an ``ArtifactError`` that names the file and what is wrong: an
artifact is never half-understood, and nothing falls back to defaults silently.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
from pydantic import BaseModel, ConfigDict, ValidationError
from sklearn.pipeline import Pipeline

from training.audit.findings import Finding
from training.data.event_types import EventNaming
from training.features.specs import FeatureCatalog, FeatureSpec
from training.features.targets import TargetKind
from training.features.transformer import LeadFeatures
from training.model.decision_policy import DecisionPolicy
from training.model.explanation_stats import ExplanationStats
from training.model.sampling import SnapshotSample
from training.model.serving_types import ServingStats
from training.model.threshold import ThresholdDecision, ThresholdPolicy
from training.report.importance_summary import ImportanceSummary

PIPELINE_FILE = "pipeline.joblib"
BASELINES_FILE = "baselines.joblib"
CARD_FILE = "model_card.json"
REPORT_FILE = "report.html"
#: Format of the model card this version writes and reads. Bump it whenever the card's fields change
#: meaning, so that an artifact of another format is refused by name rather than misread.
CARD_FORMAT = 2


class ArtifactError(ValueError):
    """A model artifact this version of leadripe cannot use: old, foreign or inconsistent."""


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ThresholdRecord(_Record):
    """The handover threshold (stored once), the policy that chose it and what it did on held-out leads."""

    value: float
    policy: ThresholdPolicy | None = None
    explanation: str = ""
    handover_rate: float | None = None
    acceptance_rate: float | None = None

    @classmethod
    def of(cls, decision: ThresholdDecision) -> ThresholdRecord:
        """The record of a ``ThresholdDecision`` (unknown rates as None)."""
        raw = decision.to_dict()
        return cls(
            value=decision.threshold,
            policy=decision.policy,
            explanation=decision.explanation,
            handover_rate=raw["handover_rate"],
            acceptance_rate=raw["acceptance_rate"],
        )


class SamplingRecord(_Record):
    """What sampling did to one part's snapshots (``training.model.sampling.SnapshotSample``)."""

    budget: int | None
    snapshots_before: int
    snapshots_after: int
    leads_before: int
    leads_after: int
    fraction: float
    sampled: bool
    weight: float
    #: the two stages (``training.model.sampling``); cards from before the within-lead stage lack them
    lead_fraction: float | None = None
    within_lead_fraction: float | None = None

    @classmethod
    def of(cls, sample: SnapshotSample) -> SamplingRecord:
        return cls.model_validate(sample.to_dict())


class SplitRecord(_Record):
    """Train/gap/test boundaries and counts (``training.model.split.SplitInfo.to_dict``)."""

    kind: str
    test_start: str | int | float | None
    train_start: str | int | float | None
    train_end: str | int | float | None
    test_end: str | int | float | None
    horizon: str | int | float | None
    n_train: int
    n_gap: int
    n_test: int
    train_positives: int | None = None
    test_positives: int | None = None
    train_won_leads: int | None = None
    train_not_won_leads: int | None = None
    test_won_leads: int | None = None
    test_not_won_leads: int | None = None
    #: per part ("train", "test"): how snapshots were sampled by lead (``SnapshotSample``)
    sampling: dict[str, SamplingRecord] = {}


class FindingRecord(_Record):
    """A leakage-audit finding as the card keeps it (``training.audit.findings.Finding.to_dict``)."""

    table: str
    column: str
    kind: str
    severity: str
    detail: str
    action: str
    value: str = ""
    accepted: str = "no"

    @classmethod
    def of(cls, finding: Finding) -> FindingRecord:
        return cls.model_validate(finding.to_dict())


def card_metrics(values: Mapping[str, float]) -> dict[str, float | None]:
    """Metrics as the card keeps them: one undefined on the test period (NaN, e.g. the acceptance rate
    when the threshold hands over nobody) as None, which JSON writes as null and reads back."""
    return {name: None if math.isnan(value) else float(value) for name, value in values.items()}


class ModelCard(BaseModel):
    """Facts about a trained model, JSON-serialisable and typed (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    card_format: int = CARD_FORMAT
    name: str = "lead-maturity"
    version: str | None = None
    trained_at: str = ""
    dataset: str = ""
    #: where the training data was read from (for ``leadripe report`` to rebuild the test period)
    data_dir: str = ""
    data_fingerprint: str = ""
    #: the ``TrainConfig`` the model was trained with, as its fields
    config: dict[str, Any] = {}
    time_basis: str = "timestamps"
    #: what the model predicts within ``horizon_days`` (``training.features.targets``); cards written
    #: before targets existed have none, and they were all trained on wins
    target: TargetKind = "won"
    horizon_days: int = 90
    split: SplitRecord | None = None
    threshold: ThresholdRecord | None = None
    #: flat test metrics of the model and each baseline: {"model": {...}, "logistic": {...}, ...};
    #: None where a metric is undefined on the test period (an acceptance rate when the threshold
    #: handed over nobody), which JSON writes as null
    metrics: dict[str, dict[str, float | None]] = {}
    #: what each model input is, in the model's column order (``LeadFeatures.feature_specs()``)
    features: list[FeatureSpec] = []
    event_types: list[str] = []
    #: a CRM's event type names -> the model's (the import mapping's renames), applied by the scoring API
    event_type_aliases: dict[str, str] = {}
    #: event types the import left out (``skip_types``): the API ignores them without a warning
    skipped_event_types: list[str] = []
    #: the import's ``detail_types`` (pattern -> event type, in order), applied to a request's event details
    event_detail_types: dict[str, str] = {}
    #: the import's ``before_created``: "creation" makes the API count a request's early events at the
    #: lead's creation, as training did; otherwise it drops them
    events_before_created: str = "reject"
    profile_columns: list[str] = []
    #: what serving needs to explain: percentiles, grades, gone-cold rule, signal stats, ripe profile, ...
    serving: ServingStats | None = None
    #: reference values and fit/interest edges behind the reasons (``serving.explanation``)
    explanation: ExplanationStats | None = None
    #: the report's importance tables by business signal, as ``GET /v1/importances`` serves them
    importances: ImportanceSummary | None = None
    #: the leakage audit's warnings and blocking findings (not its information notes)
    leakage_warnings: list[FindingRecord] = []
    #: what "ripe" and "gone cold" mean for this model (``training.model.decision_policy``); None: the
    #: verdict the threshold and the serving statistics' inactivity rule imply (``decision.implied_policy``)
    decision: DecisionPolicy | None = None

    @property
    def feature_names(self) -> list[str]:
        return [spec.name for spec in self.features]

    @property
    def feature_groups(self) -> dict[str, str]:
        """feature -> business signal (event type, profile field or derived group)."""
        return {spec.name: spec.signal for spec in self.features}

    def catalog(self) -> FeatureCatalog:
        """The features' specs with lookups by name and kind."""
        return FeatureCatalog(self.features)

    def event_naming(self) -> EventNaming:
        """How a request's event types become the model's (renames, detail patterns, case)."""
        return EventNaming(self.event_type_aliases, self.event_detail_types, self.event_types)

    def threshold_value(self) -> float:
        """The readiness at or above which a lead is handed over; a clear error if the card has none."""
        if self.threshold is None:
            raise ArtifactError(
                f"model card of {self.name!r} (version {self.version}) has no threshold['value']; "
                "the bundle was saved before its threshold was chosen"
            )
        return self.threshold.value

    def serving_stats(self) -> ServingStats:
        """The serving statistics; a clear error if the card has none (not made by ``leadripe train``)."""
        if self.serving is None:
            raise ArtifactError(
                f"model card of {self.name!r} (version {self.version}) has no serving statistics "
                "(percentiles, grades, gone-cold rule): it was not made by `leadripe train`"
            )
        return self.serving

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    @classmethod
    def from_json(cls, text: str, source: str = "model card") -> ModelCard:
        """Parse a card written by ``to_json``; else an ``ArtifactError`` naming ``source`` and the field."""
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as error:
            raise ArtifactError(f"{source}: not valid JSON ({error.msg}, line {error.lineno})") from None
        if not isinstance(raw, dict):
            raise ArtifactError(f"{source}: expected a JSON object, got {type(raw).__name__}")
        found = raw.get("card_format")
        if found != CARD_FORMAT:
            written = (
                "no card_format (written before leadripe versioned its cards)"
                if found is None
                else (f"card_format {found!r}")
            )
            raise ArtifactError(
                f"{source} has {written}; this leadripe reads card_format {CARD_FORMAT}. Retrain the model "
                "(`leadripe train`) or serve it with the leadripe version that trained it."
            )
        try:
            return cls.model_validate(raw)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or '(card)'}: {e['msg']}" for e in error.errors()[:5]
            )
            raise ArtifactError(f"{source} is not a valid leadripe model card: {problems}") from None


@dataclass
class ModelBundle:
    pipeline: Pipeline
    card: ModelCard
    #: the fitted baselines (name -> estimator), kept so that reports can compare against them
    baselines: dict[str, Any] = field(default_factory=dict)
    #: the self-contained HTML report for marketing, when one was made at training time
    report_html: str | None = None

    def save(self, directory: Path) -> None:
        """Write the pipeline, card, baselines and report into ``directory`` (created)."""
        directory.mkdir(parents=True, exist_ok=True)
        joblib.dump(self.pipeline, directory / PIPELINE_FILE)
        if self.baselines:
            joblib.dump(self.baselines, directory / BASELINES_FILE)
        if self.report_html is not None:
            (directory / REPORT_FILE).write_text(self.report_html, encoding="utf-8")
        (directory / CARD_FILE).write_text(self.card.to_json())

    @classmethod
    def load(cls, directory: Path) -> ModelBundle:
        """Load a bundle written by ``save``. Only ever called on trusted, configured paths.

        Raises ``ArtifactError`` naming the file when the card or pipeline is of another version.
        """
        card_path = directory / CARD_FILE
        if not card_path.exists():
            raise ArtifactError(f"{card_path}: no model card; not a leadripe model directory")
        card = ModelCard.from_json(card_path.read_text(), source=str(card_path))
        pipeline = joblib.load(directory / PIPELINE_FILE)
        check_pipeline(pipeline, card, str(directory / PIPELINE_FILE))
        baselines_path, report_path = directory / BASELINES_FILE, directory / REPORT_FILE
        baselines = joblib.load(baselines_path) if baselines_path.exists() else {}
        report = report_path.read_text(encoding="utf-8") if report_path.exists() else None
        return cls(pipeline=pipeline, card=card, baselines=baselines, report_html=report)


def check_pipeline(pipeline: Any, card: ModelCard, source: str) -> None:
    """Refuse a pipeline that does not fit its card: not a Pipeline, a feature step fitted before
    features published their specs, or features other than the card's."""
    if not isinstance(pipeline, Pipeline) or len(pipeline.steps) < 2:
        raise ArtifactError(
            f"{source}: expected a fitted scikit-learn Pipeline, got {type(pipeline).__name__}"
        )
    features = pipeline[0]
    if not isinstance(features, LeadFeatures):
        return  # a custom feature step (tests, experiments): only LeadFeatures publishes specs
    if "feature_specs_" not in vars(features):
        raise ArtifactError(
            f"{source}: the feature step was fitted by an older leadripe (it publishes no feature specs). "
            "Retrain the model (`leadripe train`) or serve it with the leadripe version that trained it."
        )
    if card.features and [s.name for s in features.feature_specs()] != card.feature_names:
        raise ArtifactError(f"{source}: the pipeline's features differ from those its model card lists")

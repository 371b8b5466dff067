"""The trained artifact: the fitted feature+model Pipeline and the model card that travels with it.

Training produces a ``ModelBundle``; MLflow stores it (as a pyfunc model, see ``training.pyfunc``) and
serving loads it back. Everything the API needs to answer beyond the raw score (threshold, the
gone-cold rule, percentiles of the training population, per-signal win rates for plain-language
reasons, what ripe leads typically show) is computed once at training time and kept in the card,
so serving never needs the training data.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import joblib
from sklearn.pipeline import Pipeline

PIPELINE_FILE = "pipeline.joblib"
BASELINES_FILE = "baselines.joblib"
CARD_FILE = "model_card.json"
REPORT_FILE = "report.html"


@dataclass
class ModelCard:
    """Facts about a trained model, JSON-serialisable. Sections are plain dicts so that the card can
    grow without breaking older artifacts; each producer documents its own section."""

    name: str = "lead-maturity"
    version: str | None = None
    trained_at: str = ""
    dataset: str = ""
    #: where the training data was read from (for ``leadripe report`` to rebuild the test period)
    data_dir: str = ""
    data_fingerprint: str = ""
    #: the ``TrainConfig`` the model was trained with, as a dict
    config: dict[str, Any] = field(default_factory=dict)
    time_basis: str = "timestamps"
    horizon_days: int = 90
    #: train/gap/test boundaries and counts, from ``training.model.split``.
    split: dict[str, Any] = field(default_factory=dict)
    #: threshold value, policy and its explanation, from ``training.model.threshold``.
    threshold: dict[str, Any] = field(default_factory=dict)
    #: flat test metrics of the model and each baseline: {"model": {...}, "logistic": {...}, ...}.
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    feature_names: list[str] = field(default_factory=list)
    #: feature -> business signal (event type or profile field), for grouped importances.
    feature_groups: dict[str, str] = field(default_factory=dict)
    event_types: list[str] = field(default_factory=list)
    profile_columns: list[str] = field(default_factory=list)
    #: what serving needs to explain: percentiles, gone-cold rule, signal stats, ripe profile, ...
    serving: dict[str, Any] = field(default_factory=dict)
    leakage_warnings: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, default=str)

    @classmethod
    def from_json(cls, text: str) -> ModelCard:
        return cls(**json.loads(text))


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
        """Load a bundle written by ``save``. Only ever called on trusted, configured paths."""
        pipeline = joblib.load(directory / PIPELINE_FILE)
        card = ModelCard.from_json((directory / CARD_FILE).read_text())
        baselines_path, report_path = directory / BASELINES_FILE, directory / REPORT_FILE
        baselines = joblib.load(baselines_path) if baselines_path.exists() else {}
        report = report_path.read_text(encoding="utf-8") if report_path.exists() else None
        return cls(pipeline=pipeline, card=card, baselines=baselines, report_html=report)

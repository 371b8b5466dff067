"""Service settings, read from the environment (prefix ``LEADRIPE_``) by pydantic-settings."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL_URI = "models:/lead-maturity@champion"


class Settings(BaseSettings):
    """How the scoring API runs; each field is read from ``LEADRIPE_<FIELD>`` (e.g. ``LEADRIPE_API_KEY``)."""

    model_config = SettingsConfigDict(env_prefix="LEADRIPE_", extra="ignore", protected_namespaces=())

    #: MLflow model URI of the served model (registry alias by default). Ignored when ``model_dir`` is set.
    model_uri: str = DEFAULT_MODEL_URI
    #: A local bundle directory (``ModelBundle.save`` output); takes precedence over ``model_uri``.
    model_dir: Path | None = None
    #: When set, every ``/v1`` request must carry it in the ``X-API-Key`` header; admin needs it always.
    api_key: SecretStr | None = None
    #: Most leads one ``POST /v1/score/batch`` may carry.
    max_batch_size: int = Field(default=1000, ge=1)
    #: Largest accepted request body; larger bodies get 413 before they are parsed.
    max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    #: Check the model source for a new version every N seconds and reload it (0 = off): a moved
    #: champion alias is served within this time (plus the load) by every worker.
    reload_poll_seconds: float = Field(default=2.0, ge=0.0)
    #: A directory the workers of one server share to reload together (``serving.worker_sync``);
    #: ``leadripe serve`` makes a fresh one when unset. Unset: each process reloads alone.
    state_dir: Path | None = None
    #: How often a worker checks the shared directory for a reload by another worker.
    sync_poll_seconds: float = Field(default=0.25, gt=0.0, le=5.0)
    #: How long an admin reload waits for every worker to switch before answering which did not.
    reload_wait_seconds: float = Field(default=10.0, gt=0.0, le=120.0)
    #: Default number of positive and of negative reasons per lead.
    reasons_per_side: int = Field(default=5, ge=0, le=50)
    #: Most "what would ripen it" suggestions per too-green lead.
    max_ripening_steps: int = Field(default=3, ge=0, le=20)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    #: FastAPI's native OpenTelemetry spans and metrics (they need a configured provider, e.g. from
    #: ``opentelemetry-instrument``). Off by default: OpenTelemetry is installed with MLflow, and merely
    #: checking for providers on every request cost ~8% of a scoring request's CPU.
    opentelemetry: bool = False

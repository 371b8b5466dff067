"""The served model: loaded once at startup, swapped atomically on reload.

A request reads ``ModelHolder.current`` once and keeps that ``LeadScorer`` for its whole life, so a
reload (a single reference assignment) never changes the model under a request in flight: requests
that started before the swap finish on the old model, later ones use the new one. Reloads themselves
are serialised by a lock so that two reloads cannot interleave.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from serving.heap import settle_heap
from serving.logs import get_logger
from serving.scorer import LeadScorer
from serving.settings import Settings
from training.bundle import CARD_FILE, PIPELINE_FILE, ModelBundle

log = get_logger("model")
_ALIAS_URI = re.compile(r"^models:/(?P<name>[^/@]+)@(?P<alias>[^/@]+)$")
_VERSION_URI = re.compile(r"^models:/(?P<name>[^/@]+)/(?P<version>\d+)$")


@dataclass(frozen=True)
class LoadedModel:
    scorer: LeadScorer
    source: str
    loaded_at: datetime
    #: What identifies the loaded artifact at its source (registry version, or file times); polling
    #: reloads when the source's current fingerprint differs.
    fingerprint: str


class ModelHolder:
    """Holds the current model; ``reload`` loads a new one and swaps it in atomically, then calls
    ``after_swap`` (the server settles its heap there: ``serving.heap``)."""

    def __init__(
        self,
        load: Callable[[], LoadedModel],
        fingerprint: Callable[[], str] | None = None,
        after_swap: Callable[[], None] | None = None,
    ) -> None:
        self._load = load
        self._fingerprint = fingerprint
        self._after_swap = after_swap
        self._current: LoadedModel | None = None
        self._lock = threading.Lock()
        self.last_error: str | None = None

    @property
    def current(self) -> LoadedModel | None:
        return self._current

    def reload(self) -> LoadedModel:
        """Load the configured model and make it current; the previous one stays valid for its users."""
        with self._lock:
            try:
                loaded = self._load()
            except Exception as error:
                self.last_error = f"{type(error).__name__}: {error}"
                raise
            self._current = loaded  # the atomic swap: one reference assignment
            self.last_error = None
            if self._after_swap is not None:
                self._after_swap()
            log.info("model loaded", extra={"model_version": loaded.scorer.version, "source": loaded.source})
            return loaded

    def serves_source(self) -> bool:
        """True when the current model is the one the configured source holds now (same fingerprint);
        False when nothing is loaded or the source cannot be fingerprinted."""
        current = self._current
        if self._fingerprint is None or current is None:
            return False
        return self._fingerprint() == current.fingerprint

    def source_changed(self) -> bool:
        """True when the configured source now holds a different model than the current one."""
        if self._fingerprint is None:
            return False
        current = self._current
        return current is None or self._fingerprint() != current.fingerprint


def holder_from_settings(settings: Settings) -> ModelHolder:
    """A holder loading from ``settings.model_dir`` if set, else from the MLflow ``settings.model_uri``;
    the server process's heap is settled after every load (``serving.heap``)."""
    if settings.model_dir is not None:
        directory = settings.model_dir
        return ModelHolder(
            lambda: _load_directory(directory), lambda: _directory_fingerprint(directory), settle_heap
        )
    uri = settings.model_uri
    return ModelHolder(lambda: _load_registry(uri), lambda: _registry_fingerprint(uri), settle_heap)


def load_model(source: str) -> LoadedModel:
    """A model from a local bundle directory (when ``source`` is one) or an MLflow model URI, loaded
    the way the server loads it (an alias is resolved to its version first)."""
    directory = Path(source)
    if directory.is_dir():
        return _load_directory(directory)
    return _load_registry(source)


def resolve_model_uri(source: str) -> str:
    """``source`` with a registry alias (``models:/name@alias``) replaced by the version it points at
    now, so that every process loading it (e.g. Spark executors) gets the same model; other sources
    as they are."""
    match = _ALIAS_URI.match(source)
    if Path(source).is_dir() or not match:
        return source
    return f"models:/{match['name']}/{_registry_fingerprint(source)}"


def _load_directory(directory: Path) -> LoadedModel:
    fingerprint = _directory_fingerprint(directory)
    bundle = ModelBundle.load(directory)
    version = str(bundle.card.version) if bundle.card.version is not None else "local"
    source = f"dir:{directory}"
    return LoadedModel(
        LeadScorer(bundle, version=version, source=source), source, datetime.now(UTC), fingerprint
    )


def _directory_fingerprint(directory: Path) -> str:
    stamps = []
    for name in (PIPELINE_FILE, CARD_FILE):
        path = directory / name
        stamps.append(f"{path.stat().st_mtime_ns}:{path.stat().st_size}" if path.exists() else "-")
    return "|".join(stamps)


def _load_registry(uri: str) -> LoadedModel:
    from training.registry import load_bundle

    # Resolve an alias to its version first and load that version, so the version we report is the one
    # actually loaded even if the alias moves meanwhile.
    version = _registry_fingerprint(uri)
    match = _ALIAS_URI.match(uri)
    resolved = f"models:/{match['name']}/{version}" if match and version else uri
    bundle = load_bundle(resolved)
    numbered = _VERSION_URI.match(uri)
    card_version = str(bundle.card.version) if bundle.card.version is not None else None
    label = version or card_version or (numbered["version"] if numbered else "unknown")
    return LoadedModel(
        LeadScorer(bundle, version=label, source=resolved), resolved, datetime.now(UTC), version
    )


def _registry_fingerprint(uri: str) -> str:
    """The registry version an alias URI points at ('' for other URIs, which never change)."""
    match = _ALIAS_URI.match(uri)
    if not match:
        return ""
    from mlflow.tracking import MlflowClient

    return str(MlflowClient().get_model_version_by_alias(match["name"], match["alias"]).version)

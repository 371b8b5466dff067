"""The model registry: which logged model is the champion (served) and which the latest challenger.

Aliases on the registered model ``lead-maturity`` (MLflow model registry):

``challenger``  the newest fully logged candidate, set by ``register_candidate``.
``champion``    the version the API serves, moved only by ``promote`` and ``rollback``.

Promotion history is kept as a JSON list of versions (oldest first) in the registered-model tag
``leadripe.champion_history``; each promoted version also gets a ``previous_champion`` tag for
people browsing the MLflow UI. ``rollback`` is an undo: it moves the champion back to the version
before the current one in that history and drops the current one from it, so rolling back twice goes
two promotions back; when no earlier champion remains it refuses with a ``RegistryError``.

A failed or interrupted training run never changes the champion: aliases move only in
``register_candidate`` / ``promote``, which training calls after the model is fully logged.

Every function works on the store chosen by ``training.registry.tracking.configure_tracking`` (call it first).
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import mlflow
from mlflow.entities.model_registry import ModelVersion, RegisteredModel
from mlflow.exceptions import MlflowException
from mlflow.models.model import ModelInfo
from mlflow.tracking import MlflowClient

from training.bundle import ModelBundle
from training.pyfunc import LeadMaturityModel

DEFAULT_MODEL_NAME = "lead-maturity"
CHAMPION = "champion"
CHALLENGER = "challenger"
HISTORY_TAG = "leadripe.champion_history"
PREVIOUS_CHAMPION_TAG = "previous_champion"
PROMOTED_AT_TAG = "promoted_at"
#: Reason given by the person who promoted by hand (``leadripe promote N --reason ...``).
PROMOTION_REASON_TAG = "promotion_reason"
#: ``table.column`` of a version's unresolved blocking audit findings (comma-separated; empty: none).
AUDIT_BLOCKED_TAG = "audit_blocked"


class RegistryError(ValueError):
    """A registry request that cannot be honoured; the message is meant for the CLI user."""


@dataclass(frozen=True)
class ChampionChange:
    """What ``promote`` / ``rollback`` did: the champion moved from ``previous`` to ``current``."""

    name: str
    previous: int | None
    current: int

    def __str__(self) -> str:
        before = f"v{self.previous}" if self.previous is not None else "none"
        return f"{self.name}: champion {before} -> v{self.current}"


def register_candidate(
    model: ModelInfo | str,
    name: str = DEFAULT_MODEL_NAME,
    *,
    tags: Mapping[str, object] | None = None,
) -> int:
    """Register a fully logged model as a new version of ``name``, tag it, and point ``challenger`` at it.

    ``model`` is the ``ModelInfo`` returned by ``training.pyfunc.log_bundle`` or a model URI. Tags
    (e.g. test AUC, the promotion decision) are written before the alias moves, so the alias never
    points at a half-described version. Returns the new version number.
    """
    client = MlflowClient()
    model_uri = model.model_uri if isinstance(model, ModelInfo) else model
    already = model.registered_model_version if isinstance(model, ModelInfo) else None
    if already is not None and _version_of(client, name, already, model) is not None:
        version = int(already)
    else:
        try:
            # MLflow prints "Successfully registered model ..." to stderr: not for leadripe's users.
            with contextlib.redirect_stderr(io.StringIO()):
                version = int(mlflow.register_model(model_uri, name).version)
        except MlflowException as error:
            raise RegistryError(f"cannot register {model_uri!r} as {name!r}: {error.message}") from None
    for key, value in (tags or {}).items():
        client.set_model_version_tag(name, str(version), key, str(value))
    client.set_registered_model_alias(name, CHALLENGER, str(version))
    return version


def promote(name: str, version: int | str, *, reason: str | None = None) -> ChampionChange:
    """Make ``version`` the champion of ``name``, remembering the champion it replaces for ``rollback``.

    Promoting the current champion again changes nothing. ``reason`` (a person promoting by hand,
    e.g. over a champion-collapse guard) is recorded on the version. A version with unresolved blocking
    audit findings is never promoted: ``RegistryError`` names its columns.
    """
    client = MlflowClient()
    registered = _require_model(client, name)
    found = _require_version(client, name, version)
    target = int(found.version)
    blocked = (found.tags or {}).get(AUDIT_BLOCKED_TAG, "")
    if blocked:
        raise RegistryError(
            f"model {name!r} v{target} has blocking leakage-audit findings on {blocked}: it is never "
            "promoted. Exclude those columns (exclude_columns) or accept them (audit.accept) and train again"
        )
    previous = _alias_version(registered, CHAMPION)
    if reason:
        client.set_model_version_tag(name, str(target), PROMOTION_REASON_TAG, reason[:5000])
    if previous == target:
        return ChampionChange(name, previous, target)
    history = _history_ending_at(registered, previous)
    if previous is not None:
        client.set_model_version_tag(name, str(target), PREVIOUS_CHAMPION_TAG, str(previous))
    client.set_model_version_tag(
        name, str(target), PROMOTED_AT_TAG, datetime.now(UTC).isoformat(timespec="seconds")
    )
    # Alias first, history second: if interrupted in between, rollback still sees the new champion
    # (``_history_ending_at`` appends it) and undoes to the right place.
    client.set_registered_model_alias(name, CHAMPION, str(target))
    _write_history(client, name, [*history, target])
    return ChampionChange(name, previous, target)


def rollback(name: str) -> ChampionChange:
    """Move the champion of ``name`` back to the one before it (see the module docstring).

    Raises ``RegistryError`` if ``name`` is unknown, has no champion, or the champion has no earlier
    champion still registered to go back to.
    """
    client = MlflowClient()
    registered = _require_model(client, name)
    current = _alias_version(registered, CHAMPION)
    if current is None:
        raise RegistryError(f"model {name!r} has no champion, so there is nothing to roll back")
    history = _history_ending_at(registered, current)[:-1]
    # Versions deleted since they were champion cannot come back; skip them.
    while history and _version_of(client, name, history[-1]) is None:
        history.pop()
    if not history:
        raise RegistryError(
            f"model {name!r}: champion v{current} has no earlier champion to roll back to; "
            f"use `promote` to choose a version explicitly"
        )
    target = history[-1]
    client.set_registered_model_alias(name, CHAMPION, str(target))
    _write_history(client, name, history)
    return ChampionChange(name, current, target)


def current_champion(name: str = DEFAULT_MODEL_NAME) -> int | None:
    """The champion version of ``name``; ``None`` if the model is not registered or has no champion."""
    try:
        registered = MlflowClient().get_registered_model(name)
    except MlflowException:
        return None
    return _alias_version(registered, CHAMPION)


def version_tags(name: str, version: int) -> dict[str, str]:
    """The tags of one registered version (empty when it does not exist)."""
    found = _version_of(MlflowClient(), name, version)
    return dict(found.tags or {}) if found is not None else {}


def load_bundle(model_uri: str) -> ModelBundle:
    """The ``ModelBundle`` inside a logged leadripe pyfunc model, e.g. ``models:/lead-maturity@champion``."""
    try:
        python_model = mlflow.pyfunc.load_model(model_uri).unwrap_python_model()
    except MlflowException as error:
        raise RegistryError(f"cannot load model {model_uri!r}: {error.message}") from None
    if not isinstance(python_model, LeadMaturityModel) or python_model.bundle is None:
        raise RegistryError(
            f"model {model_uri!r} is not a leadripe model (found {type(python_model).__name__})"
        )
    return python_model.bundle


def load_champion(name: str = DEFAULT_MODEL_NAME) -> tuple[int, ModelBundle] | None:
    """The champion's version and bundle, or ``None`` when there is no champion yet.

    Loads by version number rather than alias, so the returned version is the one actually loaded
    even if somebody promotes meanwhile.
    """
    version = current_champion(name)
    if version is None:
        return None
    return version, load_bundle(f"models:/{name}/{version}")


def _require_model(client: MlflowClient, name: str) -> RegisteredModel:
    try:
        return client.get_registered_model(name)
    except MlflowException:
        known = sorted(model.name for model in client.search_registered_models())
        listed = ", ".join(known) if known else "none registered yet"
        raise RegistryError(f"no registered model named {name!r} (known: {listed})") from None


def _require_version(client: MlflowClient, name: str, version: int | str) -> ModelVersion:
    try:
        number = int(version)
    except (TypeError, ValueError):
        raise RegistryError(f"model version must be a whole number, got {version!r}") from None
    found = _version_of(client, name, number)
    if found is None:
        versions = sorted(int(v.version) for v in client.search_model_versions(f"name = '{name}'"))
        listed = ", ".join(map(str, versions)) if versions else "none"
        raise RegistryError(f"model {name!r} has no version {number} (versions: {listed})")
    return found


def _version_of(
    client: MlflowClient, name: str, version: int | str, model: ModelInfo | str | None = None
) -> ModelVersion | None:
    """The model version, or ``None`` if it does not exist (or does not hold ``model``'s logged model)."""
    try:
        found = client.get_model_version(name, str(version))
    except MlflowException:
        return None
    if isinstance(model, ModelInfo) and found.model_id is not None and found.model_id != model.model_id:
        return None
    return found


def _alias_version(registered: RegisteredModel, alias: str) -> int | None:
    version = (registered.aliases or {}).get(alias)
    return int(version) if version is not None else None


def _history_ending_at(registered: RegisteredModel, champion: int | None) -> list[int]:
    """The stored promotion history, made to end at the actual champion.

    The champion alias can disagree with the stored history when it was moved outside leadripe (MLflow
    UI) or a promotion was interrupted between alias and history; the alias is the truth.
    """
    raw = (registered.tags or {}).get(HISTORY_TAG)
    history = [int(v) for v in json.loads(raw)] if raw else []
    if champion is not None and (not history or history[-1] != champion):
        history.append(champion)
    return history


def _write_history(client: MlflowClient, name: str, history: list[int]) -> None:
    client.set_registered_model_tag(name, HISTORY_TAG, json.dumps(history))

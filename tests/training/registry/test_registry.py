"""The registry: promotion rule, challenger / champion aliases, promote / rollback, failure safety.

The registry does not care what the model is, so a small stand-in pipeline (event count -> logistic
regression, with ReadinessModel's method names) keeps logging fast; ``test_pyfunc`` uses the real one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.models.model import ModelInfo
from mlflow.tracking import MlflowClient
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline

from training.bundle import ModelBundle, ModelCard
from training.data.live_arrays import batch_from_records
from training.pyfunc import log_bundle
from training.registry import (
    AUDIT_BLOCKED_TAG,
    CHALLENGER,
    CHAMPION,
    PREVIOUS_CHAMPION_TAG,
    PROMOTION_REASON_TAG,
    RegistryError,
    current_champion,
    load_bundle,
    load_champion,
    promote,
    register_candidate,
    rollback,
)
from training.registry.promotion import ChallengerEvidence, ChampionEvidence, decide_promotion
from training.registry.tracking import _artifact_location, _default_uri, configure_tracking
from training.scoring import score_records

AS_OF = pd.Timestamp("2024-03-01", tz="UTC")


class EventCount(TransformerMixin, BaseEstimator):
    """Stand-in feature step: the number of events before the cutoff."""

    def fit(self, batch, y=None):
        self.categorical_columns_, self.numeric_columns_ = [], []
        return self

    def transform(self, batch):
        snapshots = batch.snapshots[["lead_id", "cutoff"]].reset_index(names="row")
        seen = batch.events.merge(snapshots, on="lead_id")
        seen = seen[seen["occurred_at"] < seen["cutoff"]]
        return pd.DataFrame({"n": seen.groupby("row").size().reindex(snapshots["row"], fill_value=0) * 1.0})


class StandInModel(LogisticRegression):
    def raw_score(self, X):
        return self.decision_function(X)

    def readiness(self, X):
        return self.predict_proba(X)[:, 1]


def make_records(n: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [
        {
            "lead_id": f"L{i}",
            "as_of": AS_OF.isoformat(),
            "events": [
                {"occurred_at": (AS_OF - pd.Timedelta(days=int(d))).isoformat(), "event_type": "email_click"}
                for d in rng.integers(1, 60, size=int(rng.integers(0, 8)))
            ],
        }
        for i in range(n)
    ]


def ready(records: list[dict]) -> np.ndarray:
    """The truth of the synthetic data: leads with at least four events are ready."""
    return np.array([len(r["events"]) >= 4 for r in records], dtype=int)


def make_bundle(*, backwards: bool = False) -> ModelBundle:
    """A fitted stand-in bundle; ``backwards`` ranks leads the wrong way round (a worse model)."""
    records = make_records(60, seed=0)
    batch = batch_from_records(records, default_as_of=AS_OF)
    labels = ready(records)
    pipeline = Pipeline([("features", EventCount()), ("model", StandInModel())])
    pipeline.fit(batch, 1 - labels if backwards else labels)
    return ModelBundle(pipeline, ModelCard(threshold={"value": 0.5}))


# ------------------------------------------------------------------------------ MLflow-backed tests


@pytest.fixture(scope="module")
def tracking_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("mlflow")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root}/mlflow.db")
        configure_tracking()
        yield root
        mlflow.set_tracking_uri(None)  # MLflow keeps the URI globally; do not leak it into other tests


@pytest.fixture(scope="module")
def logged(tracking_root: Path) -> dict[str, ModelInfo]:
    """A good and a deliberately worse model, each logged once and registered as often as tests need."""
    infos = {}
    for label, bundle in (("good", make_bundle()), ("worse", make_bundle(backwards=True))):
        with mlflow.start_run(run_name=label):
            infos[label] = log_bundle(bundle)
    return infos


@pytest.fixture
def name(request: pytest.FixtureRequest, tracking_root: Path) -> str:
    """A registered-model name of this test's own, so tests do not share aliases."""
    return f"lm-{request.node.name}".replace("[", "-").replace("]", "")


def _auc(bundle: ModelBundle) -> float:
    records = make_records(80, seed=5)  # the "new test window"
    return float(roc_auc_score(ready(records), score_records(bundle, records)["readiness"]))


def test_configure_tracking_keeps_artifacts_beside_the_database(tracking_root: Path) -> None:
    experiment = MlflowClient().get_experiment_by_name("leadripe")
    assert experiment is not None
    assert experiment.artifact_location == (tracking_root / "mlruns").as_uri()
    assert mlflow.get_tracking_uri() == f"sqlite:///{tracking_root}/mlflow.db"


def test_tracking_uri_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert _default_uri(Path()) == f"sqlite:///{tmp_path.resolve()}/mlflow.db"
    assert _artifact_location(f"sqlite:///{tmp_path}/x/mlflow.db") == (tmp_path / "x" / "mlruns").as_uri()
    assert _artifact_location("sqlite:///rel/mlflow.db") == (tmp_path.resolve() / "rel" / "mlruns").as_uri()
    assert _artifact_location("http://mlflow.internal:5000") is None  # the server decides


def test_model_registered_while_logging_is_not_registered_twice(tracking_root: Path, name: str) -> None:
    with mlflow.start_run():
        info = log_bundle(make_bundle(), registered_model_name=name)
    assert register_candidate(info, name) == info.registered_model_version == 1
    assert len(MlflowClient().search_model_versions(f"name = '{name}'")) == 1
    assert int(MlflowClient().get_model_version_by_alias(name, CHALLENGER).version) == 1


def test_first_model_becomes_champion(logged: dict[str, ModelInfo], name: str) -> None:
    assert current_champion(name) is None
    version = register_candidate(logged["good"], name, tags={"test_auc": 0.9})
    client = MlflowClient()
    assert int(client.get_model_version_by_alias(name, CHALLENGER).version) == version
    assert client.get_model_version(name, str(version)).tags["test_auc"] == "0.9"
    assert current_champion(name) is None  # registering alone never crowns a champion

    auc = _auc(load_bundle(f"models:/{name}@{CHALLENGER}"))
    decision = decide_promotion(ChallengerEvidence(auc, (auc - 0.05, auc + 0.05)), None)
    assert decision.promote, decision.reason
    change = promote(name, version)
    assert (change.previous, change.current) == (None, version)
    assert current_champion(name) == version
    champion = load_champion(name)
    assert champion is not None and champion[0] == version


def test_worse_model_is_challenger_but_not_promoted(logged: dict[str, ModelInfo], name: str) -> None:
    first = register_candidate(logged["good"], name)
    promote(name, first)
    candidate = register_candidate(logged["worse"], name)

    champion = load_champion(name)
    assert champion is not None
    champion_auc = _auc(champion[1])
    candidate_auc = _auc(load_bundle(f"models:/{name}@{CHALLENGER}"))
    assert candidate_auc < 0.5 < champion_auc  # the test data really separates the two models
    decision = decide_promotion(
        ChallengerEvidence(candidate_auc, (candidate_auc - 0.05, candidate_auc + 0.05)),
        ChampionEvidence(champion[0], champion_auc, recorded_auc=champion_auc),
    )

    assert not decision.promote
    assert current_champion(name) == first
    assert int(MlflowClient().get_model_version_by_alias(name, CHALLENGER).version) == candidate


def test_promote_and_rollback_walk_the_history(logged: dict[str, ModelInfo], name: str) -> None:
    v1, v2, v3 = (register_candidate(logged["good"], name) for _ in range(3))
    promote(name, v1)
    promote(name, v2)
    assert str(promote(name, v3)) == f"{name}: champion v{v2} -> v{v3}"
    assert MlflowClient().get_model_version(name, str(v3)).tags[PREVIOUS_CHAMPION_TAG] == str(v2)
    assert promote(name, v3).previous == v3  # promoting the champion again changes nothing

    assert (rollback(name).previous, current_champion(name)) == (v3, v2)
    assert rollback(name).current == v1 == current_champion(name)
    with pytest.raises(RegistryError, match="no earlier champion"):
        rollback(name)
    assert current_champion(name) == v1

    # By hand forward again, then back: rollback undoes the last promotion.
    promote(name, v3)
    assert rollback(name).current == v1


def test_rollback_after_alias_moved_outside_leadripe(logged: dict[str, ModelInfo], name: str) -> None:
    v1, v2 = (register_candidate(logged["good"], name) for _ in range(2))
    promote(name, v1)
    MlflowClient().set_registered_model_alias(name, CHAMPION, str(v2))  # e.g. in the MLflow UI
    assert rollback(name).current == v1


@pytest.mark.parametrize("failure_point", ["bundle_save", "mlflow_save"])
def test_interrupted_logging_leaves_the_registry_unchanged(
    logged: dict[str, ModelInfo], name: str, failure_point: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    champion = register_candidate(logged["good"], name)
    promote(name, champion)
    challenger = register_candidate(logged["worse"], name)

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    if failure_point == "bundle_save":
        monkeypatch.setattr(ModelBundle, "save", boom)
    else:
        monkeypatch.setattr(mlflow.pyfunc, "save_model", boom)
    with pytest.raises(RuntimeError, match="disk full"), mlflow.start_run() as run:
        # What training does, in order: log, register, decide, promote. It dies in the first step.
        info = log_bundle(make_bundle())
        promote(name, register_candidate(info, name))

    client = MlflowClient()
    assert client.get_run(run.info.run_id).info.status == "FAILED"
    assert current_champion(name) == champion
    assert int(client.get_model_version_by_alias(name, CHALLENGER).version) == challenger
    assert len(client.search_model_versions(f"name = '{name}'")) == 2


def test_registry_errors_are_clear(logged: dict[str, ModelInfo], name: str) -> None:
    with pytest.raises(RegistryError, match="no registered model named 'nope'"):
        promote("nope", 1)
    with pytest.raises(RegistryError, match="no registered model named 'nope'"):
        rollback("nope")
    assert current_champion("nope") is None
    assert load_champion("nope") is None

    version = register_candidate(logged["good"], name)
    with pytest.raises(RegistryError, match=rf"no version 99 \(versions: {version}\)"):
        promote(name, 99)
    with pytest.raises(RegistryError, match="whole number"):
        promote(name, "latest")
    with pytest.raises(RegistryError, match="has no champion"):
        rollback(name)
    with pytest.raises(RegistryError, match="cannot load model"):
        load_bundle(f"models:/{name}@{CHAMPION}")


def test_promote_records_the_reason_and_refuses_audit_blocked_versions(
    logged: dict[str, ModelInfo], name: str
) -> None:
    first = register_candidate(logged["good"], name)
    promote(name, first, reason="data fixed after the March export")
    client = MlflowClient()
    assert (
        client.get_model_version(name, str(first)).tags[PROMOTION_REASON_TAG]
        == "data fixed after the March export"
    )
    blocked = register_candidate(
        logged["good"], name, tags={AUDIT_BLOCKED_TAG: "leads.field_a, leads.field_b"}
    )
    with pytest.raises(
        RegistryError, match=r"blocking leakage-audit findings on leads.field_a, leads.field_b"
    ):
        promote(name, blocked, reason="I am sure")
    assert current_champion(name) == first
    clean = register_candidate(logged["good"], name, tags={AUDIT_BLOCKED_TAG: ""})
    assert promote(name, clean).current == clean

"""Model artifacts: the typed card round-trips; an old or foreign artifact fails by name, never silently."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from serving.model_holder import holder_from_settings
from serving.settings import Settings
from tests.serving.test_api import make_dataset, train_bundle
from training.bundle import CARD_FILE, ArtifactError, ModelBundle, ModelCard, card_metrics


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[ModelBundle, Path]:
    bundle = train_bundle(make_dataset())
    directory = tmp_path_factory.mktemp("bundle")
    bundle.save(directory)
    return bundle, directory


def _rewrite_card(
    directory: Path, tmp_path: Path, change: dict[str, object], drop: tuple[str, ...] = ()
) -> Path:
    target = tmp_path / "model"
    target.mkdir()
    for item in directory.iterdir():
        (target / item.name).write_bytes(item.read_bytes())
    raw = json.loads((directory / CARD_FILE).read_text())
    raw.update(change)
    for key in drop:
        raw.pop(key)
    (target / CARD_FILE).write_text(json.dumps(raw))
    return target


def test_the_typed_card_round_trips(saved: tuple[ModelBundle, Path]) -> None:
    bundle, directory = saved
    loaded = ModelBundle.load(directory)
    assert loaded.card == bundle.card
    assert (
        loaded.card.serving is not None and loaded.card.serving.grades == bundle.card.serving_stats().grades
    )
    assert loaded.card.feature_names == list(bundle.pipeline[0].get_feature_names_out())


def test_a_card_from_before_card_formats_is_refused_by_name(
    saved: tuple[ModelBundle, Path], tmp_path: Path
) -> None:
    _, directory = saved
    old = _rewrite_card(directory, tmp_path, {}, drop=("card_format",))
    with pytest.raises(ArtifactError, match=r"no card_format.*Retrain the model"):
        ModelBundle.load(old)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"feature_groups": {"a": "b"}}, "feature_groups"),  # a field of older cards
        ({"card_format": 99}, "card_format 99"),
        ({"threshold": {"threshold": 0.3}}, "threshold"),
    ],
)
def test_a_foreign_card_is_refused_naming_what_is_wrong(
    saved: tuple[ModelBundle, Path], tmp_path: Path, change: dict[str, object], named: str
) -> None:
    _, directory = saved
    with pytest.raises(ArtifactError, match=named) as error:
        ModelBundle.load(_rewrite_card(directory, tmp_path, change))
    assert str(tmp_path) in str(error.value)  # names the file


def test_a_feature_step_without_specs_is_refused(saved: tuple[ModelBundle, Path], tmp_path: Path) -> None:
    bundle, _ = saved
    features = bundle.pipeline[0]
    specs = features.__dict__.pop("feature_specs_")
    try:
        bundle.save(tmp_path)
    finally:
        features.feature_specs_ = specs
    with pytest.raises(ArtifactError, match="older leadripe"):
        ModelBundle.load(tmp_path)


def test_the_server_reports_an_old_artifact_instead_of_serving_it(
    saved: tuple[ModelBundle, Path], tmp_path: Path
) -> None:
    _, directory = saved
    old = _rewrite_card(directory, tmp_path, {}, drop=("card_format",))
    holder = holder_from_settings(Settings(model_dir=old))
    with pytest.raises(ArtifactError):
        holder.reload()
    assert holder.current is None and "card_format" in (holder.last_error or "")


def test_a_card_without_serving_statistics_cannot_serve() -> None:
    with pytest.raises(ArtifactError, match="no serving statistics"):
        ModelCard(threshold={"value": 0.5}).serving_stats()


def test_a_card_with_an_undefined_metric_round_trips() -> None:
    """A threshold that hands over nobody leaves the acceptance rate undefined (NaN); JSON writes it as
    null, and the card must read back (a second `leadripe train` reads the champion's card: Olist)."""
    card = ModelCard(metrics={"model": card_metrics({"roc_auc": 0.7, "acceptance_rate": math.nan})})
    assert card.metrics["model"]["acceptance_rate"] is None
    loaded = ModelCard.from_json(card.to_json())
    assert loaded.metrics["model"] == {"roc_auc": 0.7, "acceptance_rate": None}

"""What the served model is and what drives it."""

from __future__ import annotations

import dataclasses
from collections import defaultdict

import numpy as np
from fastapi import APIRouter

from serving.dependencies import ApiKeyDep, ModelDep
from serving.routers.responses import AUTH_ERRORS, NO_MODEL
from serving.schemas import FeatureImportance, Importances, ModelInfo, SignalImportance, ThresholdInfo

router = APIRouter(
    prefix="/v1", tags=["model"], dependencies=[ApiKeyDep], responses={**AUTH_ERRORS, **NO_MODEL}
)


@router.get(
    "/model", response_model=ModelInfo, summary="The served model: version, window, threshold, metrics"
)
def model_info(model: ModelDep) -> ModelInfo:
    scorer = model.scorer
    card = scorer.bundle.card
    threshold = card.threshold
    policy = threshold.policy if threshold is not None else None
    return ModelInfo(
        name=card.name,
        version=scorer.version,
        source=model.source,
        loaded_at=model.loaded_at,
        trained_at=card.trained_at,
        dataset=card.dataset,
        horizon_days=card.horizon_days,
        training_window=card.split.model_dump() if card.split is not None else {},
        threshold=ThresholdInfo(
            value=scorer.threshold,
            policy=dataclasses.asdict(policy) if policy is not None else None,
            explanation=threshold.explanation if threshold is not None else None,
        ),
        metrics=card.metrics,
        features=scorer.feature_names,
        event_types=sorted(scorer.known_event_types),
        profile_columns=list(card.profile_columns),
        gone_cold_rule=scorer.stats.gone_cold.model_dump(),
    )


@router.get(
    "/importances", response_model=Importances, summary="Global importances grouped by business signal"
)
def importances(model: ModelDep) -> Importances:
    scorer = model.scorer
    gains = np.asarray(
        getattr(scorer.model, "feature_importances_", np.zeros(len(scorer.feature_names))), dtype=float
    )
    total = gains.sum()
    shares = gains / total if total > 0 else gains
    by_signal: dict[str, list[FeatureImportance]] = defaultdict(list)
    for feature, share in zip(scorer.feature_names, shares, strict=True):
        by_signal[scorer.specs.signal_of(feature)].append(
            FeatureImportance(feature=feature, importance=float(share))
        )
    signals = [
        SignalImportance(
            signal=signal,
            importance=float(sum(f.importance for f in features)),
            features=sorted(features, key=lambda f: -f.importance),
        )
        for signal, features in by_signal.items()
    ]
    return Importances(
        model_version=scorer.version,
        measure="share of total split gain",
        signals=sorted(signals, key=lambda s: -s.importance),
    )

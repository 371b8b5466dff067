"""What the served model is and what drives it."""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter, HTTPException

from serving.dependencies import ApiKeyDep, ModelDep
from serving.routers.responses import AUTH_ERRORS, NO_MODEL
from serving.schemas import GoneColdInfo, Importances, ModelInfo, ThresholdInfo

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
        target=card.target,
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
        # The rule that decides is the policy's; the serving statistics only say how inactivity is counted.
        gone_cold_rule=GoneColdInfo(
            **scorer.policy.gone_cold.model_dump(),
            inactivity_feature=scorer.stats.gone_cold.inactivity_feature,
            fallback_feature=scorer.stats.gone_cold.fallback_feature,
        ),
        decision=scorer.policy,
    )


@router.get(
    "/importances",
    response_model=Importances,
    responses={503: {"description": "No model loaded, or the model has no importance summary"}},
    summary="What drives readiness, by business signal, as the report shows it",
)
def importances(model: ModelDep) -> Importances:
    """The served model's importance summary, computed at training time on the test period with the
    report's own tables: per business signal its readable name, the average size of its push on a
    lead's score with a 95% bootstrap interval, the ROC-AUC drop when shuffled, and its win rates."""
    scorer = model.scorer
    summary = scorer.bundle.card.importances
    if summary is None:
        raise HTTPException(
            status_code=503,
            detail="the served model has no importance summary: retrain it with this leadripe",
        )
    return Importances(model_version=scorer.version, **summary.model_dump())

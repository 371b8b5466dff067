"""Scoring: one lead, or a batch of leads in one vectorised call."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.exceptions import RequestValidationError
from pydantic_core import to_json

from serving.batching import ScoreOptions, score_many
from serving.dependencies import ApiKeyDep, ModelDep, QueueDep, SettingsDep
from serving.early_events import drop_early_events
from serving.logs import get_logger
from serving.schemas import BatchIn, BatchOut, LeadScore
from serving.scorer import LeadInputError, LeadScorer
from training.data.live import LeadIn

router = APIRouter(prefix="/v1/score", tags=["score"], dependencies=[ApiKeyDep])
log = get_logger("score")

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body cannot be parsed (e.g. it is not valid UTF-8)"},
    401: {"description": "Missing API key"},
    403: {"description": "Wrong API key"},
    413: {"description": "Request body too large"},
    422: {
        "description": "Invalid request: each error names the field path (loc), the problem (msg) and its "
        "type; values are never echoed"
    },
    503: {"description": "No model loaded yet"},
}
ReasonsQuery = Annotated[
    int | None, Query(ge=0, le=50, description="Reasons per side (positive/negative); default from settings.")
]


@router.post("", response_model=LeadScore, responses=ERRORS, summary="Score one lead")
async def score_lead(
    lead: LeadIn, model: ModelDep, settings: SettingsDep, queue: QueueDep, reasons: ReasonsQuery = None
) -> Response:
    """Readiness, verdict, reasons, what would ripen it and warnings for one lead.

    Concurrent requests are scored together in one vectorised call (see ``serving.batching``).
    """
    check_leads_or_422(model.scorer, [lead], ("body",))
    (lead,), (early,) = drop_early_events([lead], model.scorer.early_events_at_creation)
    options = ScoreOptions(
        reasons_per_side=settings.reasons_per_side if reasons is None else reasons,
        max_ripening_steps=settings.max_ripening_steps,
    )
    answer = await queue.score(model.scorer, lead, datetime.now(UTC), options)
    if early is not None:
        answer["warnings"] = [*answer["warnings"], early]
    # The scorer's dicts have LeadScore's shape (tests validate them): serialised as they are, without
    # building and validating a model per reason again.
    return Response(to_json(answer), media_type="application/json")


@router.post("/batch", response_model=BatchOut, responses=ERRORS, summary="Score many leads at once")
async def score_batch(
    batch: BatchIn, model: ModelDep, settings: SettingsDep, queue: QueueDep, reasons: ReasonsQuery = None
) -> Response:
    """The same answer as ``POST /v1/score`` for each lead, computed in one vectorised pass."""
    if len(batch.leads) > settings.max_batch_size:
        raise RequestValidationError(
            [
                {
                    "loc": ("body", "leads"),
                    "msg": f"at most {settings.max_batch_size} leads per batch, got {len(batch.leads)}",
                    "type": "too_long",
                }
            ]
        )
    default_as_of = batch.as_of or datetime.now(UTC)  # BatchIn made it UTC
    for i, lead in enumerate(batch.leads):
        if lead.as_of is None and lead.created_at is not None and default_as_of < lead.created_at:
            raise RequestValidationError(
                [
                    {
                        "loc": ("body", "leads", i, "created_at"),
                        "msg": "the batch as_of is before created_at",
                        "type": "value_error",
                    }
                ]
            )
    check_leads_or_422(model.scorer, batch.leads, ("body", "leads"), default_as_of)
    leads, early = drop_early_events(batch.leads, model.scorer.early_events_at_creation)
    answers = await queue.run(
        score_many,
        model.scorer,
        leads,
        default_as_of=default_as_of,
        reasons_per_side=settings.reasons_per_side if reasons is None else reasons,
        max_ripening_steps=settings.max_ripening_steps,
    )
    for answer, warning in zip(answers, early, strict=True):
        if warning is not None:
            answer["warnings"] = [*answer["warnings"], warning]
    out = {"model_version": model.scorer.version, "count": len(answers), "results": answers}
    log.info("batch scored", extra={"n_leads": len(answers), "model_version": model.scorer.version})
    return Response(to_json(out), media_type="application/json")


def check_leads_or_422(
    scorer: LeadScorer,
    leads: Sequence[LeadIn],
    loc_prefix: tuple[str, ...],
    default_as_of: datetime | None = None,
) -> None:
    """Raise a 422 naming the field (under ``loc_prefix``) when a lead cannot be scored."""
    # Before queueing: a lead that cannot be scored must fail its own request only, not the others
    # scored in the same call.
    try:
        scorer.check_leads(leads, default_as_of)
    except LeadInputError as error:
        where = (*loc_prefix, error.index) if loc_prefix[-1] == "leads" else loc_prefix
        raise RequestValidationError(
            [{"loc": (*where, *error.loc), "msg": str(error), "type": "value_error"}]
        ) from None

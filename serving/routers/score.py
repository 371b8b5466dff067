"""Scoring: one lead, or a batch of leads in one vectorised call."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool

from serving.dependencies import ApiKeyDep, ModelDep, SettingsDep
from serving.logs import get_logger
from serving.schemas import BatchIn, BatchOut, LeadIn, LeadScore
from serving.scorer import LeadInputError, LeadScorer

router = APIRouter(prefix="/v1/score", tags=["score"], dependencies=[ApiKeyDep])
log = get_logger("score")

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing API key"},
    403: {"description": "Wrong API key"},
    413: {"description": "Request body too large"},
    422: {"description": "Invalid request; the detail names the field path"},
    503: {"description": "No model loaded yet"},
}
ReasonsQuery = Annotated[
    int | None, Query(ge=0, le=50, description="Reasons per side (positive/negative); default from settings.")
]


@router.post("", response_model=LeadScore, responses=_ERRORS, summary="Score one lead")
async def score_lead(
    lead: LeadIn, model: ModelDep, settings: SettingsDep, reasons: ReasonsQuery = None
) -> Response:
    """Readiness, verdict, reasons, what would ripen it and warnings for one lead."""
    now = datetime.now(UTC)
    answers = await run_in_threadpool(_score, model.scorer, [lead], now, settings, reasons, ("body",))
    return Response(answers[0].model_dump_json(), media_type="application/json")


@router.post("/batch", response_model=BatchOut, responses=_ERRORS, summary="Score many leads at once")
async def score_batch(
    batch: BatchIn, model: ModelDep, settings: SettingsDep, reasons: ReasonsQuery = None
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
    default_as_of = batch.as_of.astimezone(UTC) if batch.as_of else datetime.now(UTC)
    for i, lead in enumerate(batch.leads):
        if lead.as_of is None and lead.created_at is not None and default_as_of < lead.created_at:
            raise RequestValidationError(
                [
                    {
                        "loc": ("body", "leads", i, "created_at"),
                        "msg": f"the batch as_of ({default_as_of.isoformat()}) is before created_at",
                        "type": "value_error",
                    }
                ]
            )
    answers = await run_in_threadpool(
        _score, model.scorer, batch.leads, default_as_of, settings, reasons, ("body", "leads")
    )
    out = BatchOut.model_construct(model_version=model.scorer.version, count=len(answers), results=answers)
    log.info("batch scored", extra={"n_leads": len(answers), "model_version": model.scorer.version})
    return Response(out.model_dump_json(), media_type="application/json")


def _score(
    scorer: LeadScorer,
    leads: Sequence[LeadIn],
    default_as_of: datetime,
    settings: Any,
    reasons: int | None,
    loc_prefix: tuple[str, ...],
) -> list[LeadScore]:
    try:
        return scorer.score_leads(
            leads,
            default_as_of=default_as_of,
            reasons_per_side=settings.reasons_per_side if reasons is None else reasons,
            max_ripening_steps=settings.max_ripening_steps,
        )
    except LeadInputError as error:
        where = (*loc_prefix, error.index) if loc_prefix[-1] == "leads" else loc_prefix
        raise RequestValidationError(
            [{"loc": (*where, *error.loc), "msg": str(error), "type": "value_error"}]
        ) from None

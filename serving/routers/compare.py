"""Why one lead scores above another."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Response
from fastapi.exceptions import RequestValidationError
from pydantic_core import to_json

from serving.comparison import compare_leads
from serving.dependencies import ApiKeyDep, ModelDep, QueueDep
from serving.early_events import drop_early_events
from serving.routers.score import ERRORS, check_leads_or_422
from serving.schemas import CompareIn, Comparison

router = APIRouter(prefix="/v1", tags=["score"], dependencies=[ApiKeyDep])


@router.post("/compare", response_model=Comparison, responses=ERRORS, summary="Why lead A scores above B")
async def compare(body: CompareIn, model: ModelDep, queue: QueueDep) -> Response:
    """Which of two leads scores higher, and the business signals that make the difference: the
    difference of their exact contributions grouped by signal, in sentences."""
    default_as_of = body.as_of.astimezone(UTC) if body.as_of else datetime.now(UTC)
    leads = [body.a, body.b]
    for name, lead in zip(("a", "b"), leads, strict=True):
        if lead.as_of is None and lead.created_at is not None and default_as_of < lead.created_at:
            raise RequestValidationError(
                [
                    {
                        "loc": ("body", name, "created_at"),
                        "msg": "the default as_of is before created_at",
                        "type": "value_error",
                    }
                ]
            )
        check_leads_or_422(model.scorer, [lead], ("body", name), default_as_of)
    # Events before a lead's creation are settled as for POST /v1/score, so both answers agree.
    (a, b), _ = drop_early_events(leads, model.scorer.early_events_at_creation)
    answer: dict[str, Any] = await queue.run(compare_leads, model.scorer, a, b, default_as_of=default_as_of)
    return Response(to_json(answer), media_type="application/json")

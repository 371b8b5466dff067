"""The marketing report of the served model: what drives readiness, in marketing's words."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse

from serving.dependencies import ApiKeyDep, ModelDep
from serving.routers.responses import AUTH_ERRORS, NO_MODEL

router = APIRouter(
    tags=["report"],
    dependencies=[ApiKeyDep],
    responses={**AUTH_ERRORS, **NO_MODEL, 404: {"description": "The served model has no report"}},
)


@router.get(
    "/report",
    response_class=HTMLResponse,
    summary="The self-contained HTML report made when the served model was trained",
)
async def report(model: ModelDep) -> HTMLResponse:
    # The report travels inside the model bundle: the page always describes the model being served,
    # and nothing is read from a path a request could name.
    html = model.scorer.bundle.report_html
    if html is None:
        raise HTTPException(
            status_code=404, detail="the served model has no report; run `leadripe report` to make one"
        )
    return HTMLResponse(html)

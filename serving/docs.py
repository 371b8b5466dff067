"""The interactive API docs (``/docs``) from Swagger UI files shipped in a Python package.

FastAPI's default page loads Swagger UI from a public CDN: the docs then fail offline, and a third-party
script runs on the API's origin. Here the page, its script, stylesheet and icon all come from the
``swagger-ui-bundle-v2`` package on this server. ReDoc (also CDN-loaded by default) is not offered.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

DOCS_URL = "/docs"
ASSETS_URL = "/docs/assets"


def swagger_ui_dir() -> Path:
    """The directory of the packaged Swagger UI distribution."""
    from swagger_ui_bundle import swagger_ui_path

    return Path(str(swagger_ui_path))


def add_docs(app: FastAPI) -> None:
    """Serve ``/docs`` and its assets (create the app with ``docs_url=None, redoc_url=None``)."""
    app.mount(ASSETS_URL, StaticFiles(directory=swagger_ui_dir()), name="docs-assets")
    title = f"{app.title} - docs"
    openapi_url = app.openapi_url or "/openapi.json"

    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=title,
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon-32x32.png",
        )

    app.add_api_route(DOCS_URL, docs, include_in_schema=False, response_class=HTMLResponse)

"""The API's documentation page, `/docs`: Swagger UI served from the `fastapi-offline`
package's copy of its files, so it works on a machine with no network, under the same strict
Content-Security-Policy as every other page (no inline script, no other origin)."""

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

# Swagger UI's bundle, stylesheet and icon, as the fastapi-offline wheel ships them.
ASSETS = Path(str(files("fastapi_offline") / "static"))
ASSETS_URL = "/docs/assets"

router = APIRouter(include_in_schema=False)


def add_docs(app: FastAPI) -> None:
    """`/docs` and the files it loads; create the app with `docs_url=None, redoc_url=None`."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")
    app.include_router(router)


@router.get("/docs")
async def docs(request: Request) -> Response:
    """Swagger UI on the app's OpenAPI document; `/static/swagger-init.js` starts it."""
    return request.app.state.templates.TemplateResponse(
        request,
        "swagger.html",
        {"openapi_url": request.app.openapi_url, "assets": ASSETS_URL, "title": request.app.title},
    )

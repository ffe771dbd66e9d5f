"""The OpenAPI document's account of API keys, when they are set: a bearer scheme every
operation needs but the health check, so Swagger UI's Authorize button sends the key."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

SCHEME = "apiKey"
OPEN_OPERATIONS = {("/api/health", "get")}


def describe_keys(app: FastAPI) -> None:
    """Make `app.openapi()` declare the bearer key (call once the routes are added)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                routes=app.routes,
            )
            schema.setdefault("components", {})["securitySchemes"] = {
                SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "One of the keys in QA_API_KEYS, as `Authorization: Bearer "
                    "<key>`.",
                }
            }
            schema["security"] = [{SCHEME: []}]
            for path, method in OPEN_OPERATIONS:
                schema["paths"][path][method]["security"] = []
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

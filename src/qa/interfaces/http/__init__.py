"""The HTTP interface: the JSON API, the OpenAI-compatible routes and the web chat over one
shared pipeline. `create_app` is imported when first asked for, so that
`qa.interfaces.http.schemas` (which `qa mcp` and `qa ask` use) does not bring in the whole web
app."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qa.interfaces.http.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from qa.interfaces.http.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

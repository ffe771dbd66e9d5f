"""Assembles the FastAPI app; the pipeline is loaded once, in the lifespan."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from qa import __version__
from qa.api import pages
from qa.api.middleware import BodySizeLimit, RequestLog
from qa.api.routes import router
from qa.api.security import SecurityHeaders
from qa.config import Settings
from qa.pipeline import Pipeline
from qa.watch import CorpusWatcher


def create_app(settings: Settings | None = None, *, pipeline: Pipeline | None = None) -> FastAPI:
    """The app; with no `pipeline`, it loads (or builds) the index named in `settings`."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pipeline = pipeline or await run_in_threadpool(Pipeline.load_or_build, settings)
        app.state.watcher = None
        if not settings.watch:
            yield
            return
        watcher = app.state.watcher = CorpusWatcher(settings, app.state)
        task = asyncio.create_task(watcher.run())
        try:
            yield
        finally:
            watcher.stop()
            await task

    app = FastAPI(
        title="qa",
        version=__version__,
        summary="Answers from a corpus, quoted verbatim and cited.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.templates = pages.templates_for(settings.web)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestLog)  # outermost: logs every response, 413s included
    app.include_router(router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=settings.web / "static"), name="static")

    @app.exception_handler(RequestValidationError)
    async def validation_errors(request: Request, exc: RequestValidationError) -> Response:
        """422 naming each bad field; the offending input is not echoed back, since it may
        not be encodable (a lone surrogate, NaN) and is the client's own anyway."""
        detail = [
            {"type": e.get("type"), "loc": list(e.get("loc", ())), "msg": e.get("msg")}
            for e in exc.errors()
        ]
        body = json.dumps({"detail": detail}, ensure_ascii=True)
        return Response(body, status_code=422, media_type="application/json")

    @app.exception_handler(StarletteHTTPException)
    async def html_errors(request: Request, exc: StarletteHTTPException) -> Response:
        """JSON errors for the API; a page for people everywhere else."""
        if request.url.path.startswith(("/api/", "/static/")) or exc.status_code < 400:
            return await http_exception_handler(request, exc)
        return request.app.state.templates.TemplateResponse(
            request,
            "error.html",
            {"status": exc.status_code, "detail": exc.detail},
            status_code=exc.status_code,
        )

    return app

"""Assembles the FastAPI app; the pipeline is loaded once, in the lifespan."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from qa import __version__
from qa.config import Settings
from qa.interfaces.http import auth, feedback, openai_chat, pages
from qa.interfaces.http.docs import add_docs
from qa.interfaces.http.middleware import BodySizeLimit, RequestLog
from qa.interfaces.http.openapi import describe_keys
from qa.interfaces.http.ratelimit import RateLimit
from qa.interfaces.http.routes import router
from qa.interfaces.http.security import SecurityHeaders
from qa.interfaces.watch import BuildFollower, CorpusWatcher
from qa.learning.feedback import FeedbackStore
from qa.pipeline import Pipeline

DESCRIPTION = """\
Every answer is sentences quoted verbatim from the corpus, each cited with its document and
character offsets; when the corpus does not hold the answer, `answered` is false.

- `/api/...`: `qa`'s own API (the contract). `POST /api/feedback` keeps a user's verdict on
  an answer for `qa feedback export` and `qa train --feedback`.
- `/v1/chat/completions`, `/v1/models`: OpenAI-compatible, for the `openai` client and chat
  UIs; the citations travel in the extension field `qa`.
- With API keys set (`QA_API_KEYS`), every operation but `GET /api/health` needs
  `Authorization: Bearer <key>`, else 401. With `QA_RATE_LIMIT`, requests over the limit get
  429 with `Retry-After`.
"""


def create_app(settings: Settings | None = None, *, pipeline: Pipeline | None = None) -> FastAPI:
    """The app; with no `pipeline`, it loads (or builds) the index named in `settings`."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pipeline = pipeline or await run_in_threadpool(Pipeline.load_or_build, settings)
        app.state.watcher = None
        workers: list[CorpusWatcher | BuildFollower] = []
        if settings.watch and settings.corpus.is_dir():
            app.state.watcher = CorpusWatcher(settings, app.state)
            workers.append(app.state.watcher)
        if settings.backend == "milvus" and settings.follow_seconds > 0:
            workers.append(BuildFollower(settings, app.state))
        tasks = [asyncio.create_task(worker.run()) for worker in workers]
        try:
            yield
        finally:
            for worker in workers:
                worker.stop()
            await asyncio.gather(*tasks)

    app = FastAPI(
        title="qa",
        version=__version__,
        summary="Answers from a corpus, quoted verbatim and cited.",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served from the package's own files by add_docs: no CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.templates = pages.templates_for(settings.web)
    app.state.feedback = FeedbackStore(settings.feedback_path)  # the file made on first use
    keys = auth.read_keys(settings.api_keys)
    ring = auth.KeyRing(keys) if keys else None
    app.state.key_ring = ring
    # Middleware, innermost first: each added wraps the ones before it.
    if ring is not None:
        app.add_middleware(auth.RequireKey, ring=ring)
    if settings.rate_limit:
        app.add_middleware(RateLimit, limit=settings.rate_limit, ring=ring)
    if ring is not None:
        app.add_middleware(
            SessionMiddleware,
            secret_key=ring.session_secret,
            session_cookie="qa_session",
            max_age=auth.SESSION_DAYS * 24 * 3600,
            same_site="strict",
            https_only=settings.secure_cookies,
        )
        app.include_router(auth.router)
    app.add_middleware(SecurityHeaders)
    if settings.cors_origins:
        # Outside the key check: a preflight carries no key, and a 401 must be readable.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestLog)  # outermost: logs every response, 413s included
    app.include_router(router)
    app.include_router(feedback.router)
    app.include_router(openai_chat.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=settings.web / "static"), name="static")
    add_docs(app)
    if ring is not None:
        describe_keys(app)

    @app.exception_handler(RequestValidationError)
    async def validation_errors(request: Request, exc: RequestValidationError) -> Response:
        """422 naming each bad field; the offending input is not echoed back, since it may
        not be encodable (a lone surrogate, NaN) and is the client's own anyway. OpenAI's
        error object on its routes."""
        errors = [
            {"type": e.get("type"), "loc": list(e.get("loc", ())), "msg": e.get("msg")}
            for e in exc.errors()
        ]
        if request.url.path.startswith("/v1/"):
            fields = [".".join(str(p) for p in e["loc"][1:]) for e in errors]
            message = "; ".join(
                f"{f}: {e['msg']}" if f else e["msg"] for f, e in zip(fields, errors, strict=True)
            )
            return openai_chat.openai_error(422, message, param=fields[0] if fields else None)
        body = json.dumps({"detail": errors}, ensure_ascii=True)
        return Response(body, status_code=422, media_type="application/json")

    @app.exception_handler(StarletteHTTPException)
    async def html_errors(request: Request, exc: StarletteHTTPException) -> Response:
        """JSON errors for the API (OpenAI's shape on its routes); a page for people
        everywhere else."""
        if request.url.path.startswith("/v1/") and exc.status_code >= 400:
            return openai_chat.openai_error(exc.status_code, str(exc.detail))
        if request.url.path.startswith(("/api/", "/static/", "/docs/")) or exc.status_code < 400:
            return await http_exception_handler(request, exc)
        return request.app.state.templates.TemplateResponse(
            request,
            "error.html",
            {"status": exc.status_code, "detail": exc.detail},
            status_code=exc.status_code,
        )

    return app

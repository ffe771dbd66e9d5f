"""Assembles the FastAPI app; the pipeline is loaded once, in the lifespan."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from qa import __version__
from qa.api.routes import router
from qa.config import Settings
from qa.pipeline import Pipeline


def create_app(settings: Settings | None = None, *, pipeline: Pipeline | None = None) -> FastAPI:
    """The app; with no `pipeline`, it loads (or builds) the index named in `settings`."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pipeline = pipeline or await run_in_threadpool(Pipeline.load_or_build, settings)
        yield

    app = FastAPI(
        title="qa",
        version=__version__,
        summary="Answers from a corpus, quoted verbatim and cited.",
        lifespan=lifespan,
    )
    app.include_router(router)
    return app

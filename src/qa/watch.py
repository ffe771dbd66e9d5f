"""The corpus kept in step while serving: a change to the folder rebuilds the index in the
background and the app switches to it whole.

watchfiles reports files added, changed or removed (inotify on Linux). The build runs in a
worker thread and reuses the previous build's chunks and embeddings for unchanged documents
(`index.build_index`), then publishes atomically; only then is the new index loaded, warmed
up and put in `app.state.pipeline`, in one assignment. A request holds the pipeline it
started with, so none fails or waits on a build; a build that fails leaves the index in use.
"""

import asyncio
import logging
from pathlib import Path

import watchfiles
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import State

from qa.config import Settings
from qa.errors import QAError
from qa.ingest import is_document_name
from qa.pipeline import Pipeline, build

log = logging.getLogger(__name__)


class CorpusWatcher:
    """Watches `settings.corpus` and swaps in a rebuilt pipeline after each change."""

    def __init__(self, settings: Settings, state: State) -> None:
        self.settings = settings
        self.state = state
        self.building = False
        self.builds = 0  # finished rebuilds, whether they succeeded or not
        self._stop = asyncio.Event()

    async def run(self) -> None:
        """Rebuild after each batch of changes (watchfiles groups a burst into one) until
        `stop`."""
        root = Path(self.settings.corpus).resolve()

        def is_document(change: watchfiles.Change, path: str) -> bool:
            name = Path(path)
            return name.is_relative_to(root) and is_document_name(name.relative_to(root))

        async for _ in watchfiles.awatch(root, watch_filter=is_document, stop_event=self._stop):
            await self.rebuild()

    def stop(self) -> None:
        self._stop.set()

    async def rebuild(self) -> None:
        self.building = True
        try:
            self.state.pipeline = await run_in_threadpool(self._build_and_load)
        except (QAError, OSError, ValueError) as exc:
            log.warning("the corpus changed, but the index in use is kept: %s", exc)
        finally:
            self.building = False
            self.builds += 1

    def _build_and_load(self) -> Pipeline:
        current: Pipeline = self.state.pipeline
        report = build(self.settings, embedder=current.embedder)
        pipeline = Pipeline.load(self.settings, embedder=current.embedder)
        pipeline.warm_up()
        log.info(
            "index rebuilt after a corpus change: %d documents, %d chunks in %.1f s",
            report.documents,
            report.chunks,
            report.seconds,
        )
        return pipeline

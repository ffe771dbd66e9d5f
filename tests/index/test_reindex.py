"""Re-indexing: vectors and splits of unchanged text come from the previous build."""

import json

import numpy as np
import pytest

from conftest import write_corpus
from qa.corpus.ingest import chunk, load_corpus
from qa.embedding.embed import Embedder, token_batches
from qa.index.build import (
    build_index,
    chunk_reusing,
    load_index,
    passage_context,
    read_previous_build,
    sentence_context,
)
from qa.index.storage import write_manifest

TOWNS = {
    f"town{n}.txt": (
        f"Town {n}\n\nHistory\nTown {n} was founded in {1800 + n}. Its first mill burned down.\n\n"
        f"Trade\nTown {n} sells {n * 10} tonnes of wool a year. Merchants come by river.\n"
    )
    for n in range(5)
}


class CountingEmbedder(Embedder):
    """The real embedder, recording every text it is asked to embed in a batch."""

    def __init__(self, real: Embedder) -> None:
        super().__init__(real.model, real.name)
        self.texts: list[str] = []

    def encode(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        self.texts.extend(texts)
        return super().encode(texts, batch_size=batch_size)


@pytest.fixture
def towns(tmp_path, embedder):
    corpus = write_corpus(tmp_path / "corpus", TOWNS)
    index = tmp_path / "index"
    build_index(corpus, index, embedder, max_passage_chars=800)
    return corpus, index


def embedded_texts(index_dir) -> tuple[list[str], list[str]]:
    """The passage and sentence texts an index embedded, rebuilt from what it stores."""
    index = load_index(index_dir)
    passages = [passage_context(index.documents[p.doc_id], p) for p in index.passages]
    sentences = [
        sentence_context(
            index.documents[s.doc_id], index.passages[s.passage_id], index.sentence_text(s)
        )
        for s in index.sentences
    ]
    return passages, sentences


def texts_of(index_dir, doc_id: str) -> set[str]:
    index = load_index(index_dir)
    passages, sentences = embedded_texts(index_dir)
    return {t for p, t in zip(index.passages, passages, strict=True) if p.doc_id == doc_id} | {
        t for s, t in zip(index.sentences, sentences, strict=True) if s.doc_id == doc_id
    }


def change_one_town(corpus) -> None:
    path = corpus / "town3.txt"
    path.write_text(path.read_text().replace("first mill burned", "first mill flooded"))


def test_changing_one_document_embeds_only_its_new_texts(towns, embedder):
    corpus, index_dir = towns
    before = texts_of(index_dir, "town3.txt")
    change_one_town(corpus)
    counting = CountingEmbedder(embedder)
    report = build_index(corpus, index_dir, counting, max_passage_chars=800)
    new_texts = texts_of(index_dir, "town3.txt") - before
    assert new_texts  # the changed paragraph: its passage and its changed sentence
    assert sorted(counting.texts) == sorted(new_texts)
    assert report.embedded == len(new_texts)


def test_unchanged_corpus_embeds_nothing(towns, embedder):
    corpus, index_dir = towns
    counting = CountingEmbedder(embedder)
    report = build_index(corpus, index_dir, counting, max_passage_chars=800)
    assert counting.texts == []
    assert report.embedded == 0
    assert (report.documents, report.chunks, report.sentences) == (5, 10, 20)


def test_reused_vectors_equal_fresh_embeddings(towns, embedder):
    corpus, index_dir = towns
    change_one_town(corpus)
    build_index(corpus, index_dir, embedder, max_passage_chars=800)
    index = load_index(index_dir)
    passages, sentences = embedded_texts(index_dir)
    stored = index.passage_search.vectors.reconstruct_n(0, index.passage_search.vectors.ntotal)
    assert np.allclose(stored, embedder.encode(passages), atol=1e-5)
    assert np.allclose(index.sentence_vectors, embedder.encode(sentences), atol=1e-5)


def test_reindexed_build_equals_a_build_from_scratch(towns, embedder, tmp_path):
    corpus, index_dir = towns
    change_one_town(corpus)
    (corpus / "town1.txt").unlink()
    (corpus / "town9.txt").write_text("Town 9\n\nTown 9 has no river. It trades salt.\n")
    build_index(corpus, index_dir, embedder, max_passage_chars=800)
    scratch = tmp_path / "scratch"
    build_index(corpus, scratch, embedder, max_passage_chars=800)
    reused, fresh = load_index(index_dir), load_index(scratch)
    assert (reused.path / "units.json").read_text() == (fresh.path / "units.json").read_text()
    assert reused.passages == fresh.passages and reused.sentences == fresh.sentences
    assert np.allclose(reused.sentence_vectors, fresh.sentence_vectors, atol=1e-5)


def test_split_reused_from_the_previous_build_equals_a_fresh_split(towns, embedder):
    corpus, index_dir = towns
    change_one_town(corpus)
    documents = load_corpus(corpus)
    previous = read_previous_build(index_dir, embedder, 800)
    assert previous is not None and len(previous.splits) == 5
    assert chunk_reusing(documents, 800, previous) == chunk(documents, 800)


def test_previous_build_of_another_model_is_embedded_again(towns, embedder):
    corpus, index_dir = towns
    manifest_path = load_index(index_dir).path / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["model"]["name"] = "someone/another-model"
    manifest_path.write_text(json.dumps(manifest))
    counting = CountingEmbedder(embedder)
    report = build_index(corpus, index_dir, counting, max_passage_chars=800)
    passages, sentences = embedded_texts(index_dir)
    assert report.embedded == len(set(passages + sentences)) == len(set(counting.texts))


def test_damaged_previous_build_is_embedded_again(towns, embedder):
    corpus, index_dir = towns
    vectors = load_index(index_dir).path / "sentences.npy"
    data = bytearray(vectors.read_bytes())
    data[-1] ^= 0xFF
    vectors.write_bytes(bytes(data))
    counting = CountingEmbedder(embedder)
    build_index(corpus, index_dir, counting, max_passage_chars=800)
    passages, sentences = embedded_texts(index_dir)
    assert sorted(set(counting.texts)) == sorted(set(passages + sentences))
    assert np.allclose(
        load_index(index_dir).sentence_vectors, embedder.encode(sentences), atol=1e-5
    )


def test_previous_build_with_mismatched_keys_is_embedded_again(towns, embedder):
    corpus, index_dir = towns
    build = load_index(index_dir).path
    np.save(build / "sentence_keys.npy", np.load(build / "sentence_keys.npy")[:-1])
    manifest = json.loads((build / "manifest.json").read_text())
    manifest.pop("files")
    write_manifest(build, manifest)  # checksums verify, but keys and vectors disagree
    counting = CountingEmbedder(embedder)
    report = build_index(corpus, index_dir, counting, max_passage_chars=800)
    assert report.embedded == len(set(counting.texts)) > 0


def test_failed_reindex_leaves_the_old_index_usable(towns, embedder, monkeypatch):
    corpus, index_dir = towns
    before = load_index(index_dir)
    change_one_town(corpus)

    def fail(*args, **kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(embedder, "encode", fail)
    with pytest.raises(RuntimeError, match="out of memory"):
        build_index(corpus, index_dir, embedder, max_passage_chars=800)
    after = load_index(index_dir)
    assert after.path == before.path
    assert np.array_equal(after.sentence_vectors, before.sentence_vectors)


# --- the embedder's batches --------------------------------------------------------------


def test_batches_group_texts_by_length_within_the_token_budget():
    lengths = [30, 200, 12, 31, 180, 12, 500]
    batches = token_batches(lengths, max_tokens=400, max_texts=3)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) <= 3
        assert len(batch) == 1 or len(batch) * max(lengths[i] for i in batch) <= 400
    assert [lengths[b[0]] for b in batches] == sorted(lengths[b[0]] for b in batches)


def test_batch_vectors_equal_one_by_one_vectors_and_repeats_are_embedded_once(embedder):
    texts = [
        "A short one.",
        "A much longer sentence that goes on about rivers, mills and wool for a while.",
        "A short one.",
        "Medium length text about a town.",
    ]
    counting = CountingEmbedder(embedder)
    calls: list[list[str]] = []
    original = counting._encode_batch
    counting._encode_batch = lambda batch: calls.append(batch) or original(batch)
    vectors = counting.encode(texts)
    assert sum(len(c) for c in calls) == 3
    one_by_one = np.vstack([embedder.encode([t]) for t in texts])
    assert vectors.shape == (4, embedder.dimension) and vectors.dtype == np.float32
    assert np.allclose(vectors, one_by_one, atol=1e-5)
    assert np.array_equal(vectors[0], vectors[2])

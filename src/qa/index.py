"""Build, save, load and check the index: FAISS over passage vectors, BM25 over passages.

Sentence vectors and terms are stored beside them for the answerer.
"""

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bm25s
import faiss
import numpy as np

from qa import __version__
from qa.embed import MODEL_NAME, MODEL_PACKAGE, Embedder
from qa.errors import IndexCorruptError
from qa.ingest import Chunks, Document, Heading, Passage, Sentence, chunk, corpus_files, load_corpus
from qa.storage import (
    current_build,
    discard,
    new_build_dir,
    publish,
    read_manifest,
    write_json,
    write_manifest,
)
from qa.text import content_terms

log = logging.getLogger(__name__)

INDEX_FORMAT = 2  # 2: sentences are embedded under their section heading
SPLITTER = "pysbd-0.3.4"


@dataclass(slots=True)
class Index:
    """A loaded index: the corpus units with their vectors and lexical indexes."""

    manifest: dict[str, Any]
    documents: dict[str, Document]
    passages: list[Passage]
    sentences: list[Sentence]
    passage_vectors: faiss.Index
    sentence_vectors: np.ndarray
    passage_bm25: bm25s.BM25
    sentence_terms: list[frozenset[str]]
    term_idf: dict[str, float]
    path: Path

    def passage_text(self, passage: Passage) -> str:
        return self.documents[passage.doc_id].text[passage.start : passage.end]

    def sentence_text(self, sentence: Sentence) -> str:
        return self.documents[sentence.doc_id].text[sentence.start : sentence.end]

    @property
    def built_at(self) -> str:
        return str(self.manifest["built_at"])


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What `qa index` prints."""

    documents: int
    chunks: int
    sentences: int
    seconds: float
    path: Path


# --- build -------------------------------------------------------------------------------


def passage_context(document: Document, passage: Passage) -> str:
    """The text a passage is embedded and BM25-indexed as: its section heading, then itself."""
    heading = passage.section if passage.section != document.title else ""
    body = document.text[passage.start : passage.end]
    return f"{document.title}. {heading}. {body}" if heading else f"{document.title}. {body}"


def sentence_context(document: Document, passage: Passage, text: str) -> str:
    """The text a sentence is embedded as: its section heading, then itself."""
    heading = passage.section if passage.section != document.title else document.title
    return f"{heading}. {text}"


def build_index(
    corpus_dir: Path, index_dir: Path, embedder: Embedder, *, max_passage_chars: int
) -> BuildReport:
    """Build the whole index into a new folder and switch to it only once it is complete."""
    started = time.perf_counter()
    documents = load_corpus(corpus_dir)
    chunks = chunk(documents, max_passage_chars)
    by_id = {d.doc_id: d for d in documents}
    partial = new_build_dir(index_dir)
    try:
        _write_build(partial, corpus_dir, documents, by_id, chunks, embedder, max_passage_chars)
        final = publish(index_dir, partial)
    except BaseException:  # including KeyboardInterrupt: never leave half a build behind
        discard(partial)
        raise
    return BuildReport(
        documents=len(documents),
        chunks=len(chunks.passages),
        sentences=len(chunks.sentences),
        seconds=time.perf_counter() - started,
        path=final,
    )


def _write_build(
    build: Path,
    corpus_dir: Path,
    documents: list[Document],
    by_id: dict[str, Document],
    chunks: Chunks,
    embedder: Embedder,
    max_passage_chars: int,
) -> None:
    passage_texts = [passage_context(by_id[p.doc_id], p) for p in chunks.passages]
    sentence_texts = [by_id[s.doc_id].text[s.start : s.end] for s in chunks.sentences]

    passage_vectors = embedder.encode(passage_texts)
    # Inner product on unit vectors is cosine similarity; flat search is exact and, at
    # thousands of passages, faster than any approximate index.
    flat = faiss.IndexFlatIP(embedder.dimension)
    flat.add(passage_vectors)
    faiss.write_index(flat, str(build / "passages.faiss"))
    np.save(
        build / "sentences.npy",
        embedder.encode(
            [
                sentence_context(by_id[s.doc_id], chunks.passages[s.passage_id], t)
                for s, t in zip(chunks.sentences, sentence_texts, strict=True)
            ]
        ),
    )

    bm25 = bm25s.BM25()
    bm25.index([content_terms(t) or [""] for t in passage_texts], show_progress=False)
    bm25.save(str(build / "bm25"), show_progress=False)

    write_json(
        build / "documents.json",
        [
            {
                "doc_id": d.doc_id,
                "title": d.title,
                "text": d.text,
                "headings": [[h.start, h.end, h.level] for h in d.headings],
            }
            for d in documents
        ],
    )
    write_json(
        build / "units.json",
        {
            "passages": [
                [p.doc_id, p.section, p.start, p.end, list(p.sentence_ids)] for p in chunks.passages
            ],
            "sentences": [
                [s.passage_id, s.start, s.end, content_terms(text)]
                for s, text in zip(chunks.sentences, sentence_texts, strict=True)
            ],
        },
    )
    write_manifest(
        build,
        {
            "format": INDEX_FORMAT,
            "package_version": __version__,
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "model": {
                "name": embedder.name,
                "package": MODEL_PACKAGE,
                "dimension": embedder.dimension,
            },
            "chunking": _chunking(max_passage_chars),
            "corpus": corpus_fingerprint(corpus_dir),
            "documents": {d.doc_id: d.sha256 for d in documents},
            "counts": {
                "documents": len(documents),
                "passages": len(chunks.passages),
                "sentences": len(chunks.sentences),
            },
        },
    )


def _chunking(max_passage_chars: int) -> dict[str, Any]:
    return {"max_passage_chars": max_passage_chars, "splitter": SPLITTER}


def corpus_fingerprint(corpus_dir: Path) -> dict[str, str]:
    """SHA-256 of the bytes of every candidate file, including ones ingest skips."""
    return {
        doc_id: hashlib.sha256(path.read_bytes()).hexdigest()
        for doc_id, path in corpus_files(corpus_dir)
    }


# --- load and check ----------------------------------------------------------------------


def load_index(index_dir: Path, *, verify: bool = True) -> Index:
    """Load the current build; IndexMissingError or IndexCorruptError when it can't be used."""
    build = current_build(index_dir)
    manifest = read_manifest(build, verify=verify)
    if manifest.get("format") != INDEX_FORMAT:
        raise IndexCorruptError(
            f"index in {index_dir} has format {manifest.get('format')}, this version reads "
            f"{INDEX_FORMAT}: rebuild with `qa index`"
        )
    try:
        documents = {
            d["doc_id"]: Document(
                doc_id=d["doc_id"],
                title=d["title"],
                text=d["text"],
                headings=[Heading(*h) for h in d["headings"]],
            )
            for d in json.loads((build / "documents.json").read_text(encoding="utf-8"))
        }
        units = json.loads((build / "units.json").read_text(encoding="utf-8"))
        passages = [
            Passage(i, doc_id, section, start, end, tuple(sentence_ids))
            for i, (doc_id, section, start, end, sentence_ids) in enumerate(units["passages"])
        ]
        sentences = []
        sentence_terms = []
        for i, (passage_id, start, end, terms) in enumerate(units["sentences"]):
            doc_id = passages[passage_id].doc_id
            sentences.append(Sentence(i, passage_id, doc_id, start, end))
            sentence_terms.append(frozenset(terms))
        passage_vectors = faiss.read_index(str(build / "passages.faiss"))
        sentence_vectors = np.load(build / "sentences.npy")
        bm25 = bm25s.BM25.load(str(build / "bm25"), show_progress=False)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise IndexCorruptError(f"index in {index_dir} is unreadable ({exc}): rebuild") from exc
    if passage_vectors.ntotal != len(passages) or len(sentence_vectors) != len(sentences):
        raise IndexCorruptError(f"index in {index_dir} is inconsistent: rebuild with `qa index`")
    return Index(
        manifest=manifest,
        documents=documents,
        passages=passages,
        sentences=sentences,
        passage_vectors=passage_vectors,
        sentence_vectors=sentence_vectors,
        passage_bm25=bm25,
        sentence_terms=sentence_terms,
        term_idf=_idf(sentence_terms),
        path=build,
    )


def _idf(term_sets: list[frozenset[str]]) -> dict[str, float]:
    """Smoothed inverse document frequency of each term over sentences."""
    counts: dict[str, int] = {}
    for terms in term_sets:
        for term in terms:
            counts[term] = counts.get(term, 0) + 1
    n = len(term_sets)
    return {t: float(np.log((n + 1) / (c + 0.5))) for t, c in counts.items()}


def stale_reasons(
    manifest: dict[str, Any], corpus_dir: Path, *, max_passage_chars: int
) -> list[str]:
    """Why an index no longer matches the corpus and settings; empty when it is fresh."""
    reasons = []
    if manifest.get("package_version") != __version__:
        reasons.append(
            f"it was built by qa {manifest.get('package_version')}, this is {__version__}"
        )
    if manifest.get("model", {}).get("name") != MODEL_NAME:
        reasons.append("it was built with another embedding model")
    if manifest.get("chunking") != _chunking(max_passage_chars):
        reasons.append("the chunking settings changed")
    built = manifest.get("corpus", {})
    now = corpus_fingerprint(corpus_dir) if corpus_dir.is_dir() else {}
    added = now.keys() - built.keys()
    removed = built.keys() - now.keys()
    changed = [k for k in now.keys() & built.keys() if now[k] != built[k]]
    if added or removed or changed:
        reasons.append(
            f"the corpus changed ({len(added)} added, {len(removed)} removed, "
            f"{len(changed)} modified)"
        )
    return reasons

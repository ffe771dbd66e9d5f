"""Build, save, load and check the index: FAISS over passage vectors, BM25 over passages.

Sentence vectors and terms are stored beside them for the answerer, and every vector with the
SHA-256 of the exact text it embeds, so that the next build embeds only text that is new.
This is the embedded (`local`) backend's folder; `qa.index.milvus_store` keeps the same build in
Milvus collections and reuses the steps here.
"""

import hashlib
import importlib.metadata
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import bm25s
import numpy as np

from qa import __version__
from qa.corpus import ingest
from qa.corpus.ingest import (
    Chunks,
    Document,
    DocumentReader,
    Heading,
    Passage,
    Sentence,
    chunk,
    corpus_files,
    load_corpus,
    read_each,
)
from qa.embedding.embed import MODEL_NAME, MODEL_PACKAGE, Embedder
from qa.errors import IndexCorruptError, IndexMissingError, QAError
from qa.index.passage_search import LocalSearch, PassageSearch
from qa.index.storage import (
    MANIFEST,
    current_build,
    discard,
    new_build_dir,
    publish,
    read_manifest,
    write_json,
    write_manifest,
)
from qa.index.vector_index import build_vector_index, load_vector_index, write_vector_index
from qa.index.vocabulary import Vocabulary
from qa.text import content_terms

log = logging.getLogger(__name__)

# Bump whenever the files or what a text's vector means change: a build reuses the vectors
# of the previous build only when its format and embedding model are the same.
# 2: sentences are embedded under their section heading.
# 3: passage vectors and the SHA-256 of every embedded text are stored, for reuse.
# 4: the corpus's vocabulary is stored, for typo correction and names typed lower-case.
INDEX_FORMAT = 4
# Vectors are keyed by the SHA-256 of the text they embed, so any build since format 3 can
# lend them to a new one made with the same model.
REUSABLE_FORMATS = (3, 4)
KEY_BYTES = 32  # a SHA-256 digest
SPLITTER = "pysbd-0.3.4"
MANIFEST_NAME = MANIFEST


@dataclass(slots=True)
class Index:
    """A loaded index: the corpus units with their vectors and lexical indexes."""

    manifest: dict[str, Any]
    documents: dict[str, Document]
    passages: list[Passage]
    sentences: list[Sentence]
    passage_search: PassageSearch
    # Rows by sentence id: an array, or Milvus's collection read a few rows at a time.
    sentence_vectors: Any
    sentence_terms: list[frozenset[str]]
    term_idf: dict[str, float]
    vocabulary: Vocabulary
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
    embedded: int = 0  # texts embedded; the others were reused from the previous build
    phases: dict[str, float] = field(default_factory=dict)  # seconds by phase


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


class BuildProgress(Protocol):
    """What a build tells as it goes, for a command line to show: each file read, the
    passages and sentences they make, and the texts embedded so far."""

    def read(self, done: int, total: int, doc_id: str) -> None: ...

    def chunked(self, documents: int, passages: int, sentences: int) -> None: ...

    def embedded(self, done: int, total: int) -> None: ...


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    *,
    max_passage_chars: int,
    reader: DocumentReader = read_each,
    progress: BuildProgress | None = None,
) -> BuildReport:
    """Build the whole index into a new folder and switch to it only once it is complete.

    What the current build already holds is taken from it, not computed again: the vector of
    every text it embedded, and the passages and sentences of every unchanged document.
    """
    started = time.perf_counter()
    phases = Phases()
    with phases("read"):
        documents = load_corpus(
            corpus_dir, reader=reader, progress=progress.read if progress else None
        )
    with phases("previous"):
        previous = read_previous_build(index_dir, embedder, max_passage_chars)
    with phases("chunk"):
        chunks = chunk_reusing(documents, max_passage_chars, previous)
    if progress is not None:
        progress.chunked(len(documents), len(chunks.passages), len(chunks.sentences))
    partial = new_build_dir(index_dir)
    try:
        embedded = write_build(
            partial,
            corpus_dir,
            documents,
            chunks,
            embedder,
            max_passage_chars,
            previous,
            phases,
            progress=progress,
        )
        with phases("publish"):
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
        embedded=embedded,
        phases=dict(phases.seconds),
    )


def write_build(
    build: Path,
    corpus_dir: Path,
    documents: list[Document],
    chunks: Chunks,
    embedder: Embedder,
    max_passage_chars: int,
    previous: "PreviousBuild | None",
    phases: "Phases",
    *,
    local_search: bool = True,
    progress: BuildProgress | None = None,
) -> int:
    """Write every file of a build; return how many texts had to be embedded. Without
    `local_search`, the FAISS and BM25 files are left out (Milvus indexes the passages)."""
    by_id = {d.doc_id: d for d in documents}
    with phases("embed"):
        passage_texts = [passage_context(by_id[p.doc_id], p) for p in chunks.passages]
        sentence_texts = [by_id[s.doc_id].text[s.start : s.end] for s in chunks.sentences]
        contexts = [
            sentence_context(by_id[s.doc_id], chunks.passages[s.passage_id], t)
            for s, t in zip(chunks.sentences, sentence_texts, strict=True)
        ]
        # One call for both kinds, so that batches group texts of similar length.
        keys, vectors, embedded = embed_reusing(
            passage_texts + contexts,
            embedder,
            previous,
            progress=progress.embedded if progress else None,
        )
    n = len(passage_texts)
    with phases("write"):
        if local_search:
            # The kind of FAISS index follows the number of passages: exact search up to
            # vector_index.FLAT_MAX, IVF lists of 8-bit codes beyond (see make bench-scale).
            write_vector_index(build_vector_index(vectors[:n]), build / "passages.faiss")
            bm25 = bm25s.BM25()
            bm25.index([content_terms(t) or [""] for t in passage_texts], show_progress=False)
            bm25.save(str(build / "bm25"), show_progress=False)
        # The exact vectors and the keys of their texts, for the next build to reuse.
        np.save(build / "passages.npy", vectors[:n])
        np.save(build / "sentences.npy", vectors[n:])
        np.save(build / "passage_keys.npy", keys[:n])
        np.save(build / "sentence_keys.npy", keys[n:])

        write_json(
            build / "vocabulary.json",
            # Paragraphs only: a title-case heading ("Step One") says nothing of names.
            Vocabulary.from_texts(
                d.text[p.start : p.end] for d in documents for p in d.paragraphs
            ).to_json(),
        )
        write_json(
            build / "documents.json",
            [
                {
                    "doc_id": d.doc_id,
                    "title": d.title,
                    "text": d.text,
                    "headings": [[h.start, h.end, h.level] for h in d.headings],
                    "pages": [list(mark) for mark in d.pages],
                    "kinds": [list(span) for span in d.kinds],
                }
                for d in documents
            ],
        )
        known_terms = previous.sentence_terms if previous else {}
        write_json(
            build / "units.json",
            {
                "passages": [
                    [p.doc_id, p.section, p.start, p.end, list(p.sentence_ids)]
                    for p in chunks.passages
                ],
                "sentences": [
                    [s.passage_id, s.start, s.end, _terms(s, text, known_terms)]
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
                "model": _model(embedder),
                "embedding": _embedding(embedder),
                "chunking": _chunking(max_passage_chars),
                "readers": readers_fingerprint(),
                "corpus": corpus_fingerprint(corpus_dir),
                "corpus_dir": str(corpus_dir.resolve()),
                "documents": {d.doc_id: d.sha256 for d in documents},
                "counts": {
                    "documents": len(documents),
                    "passages": len(chunks.passages),
                    "sentences": len(chunks.sentences),
                },
            },
        )
    return embedded


def _terms(
    sentence: Sentence, text: str, known: dict[tuple[str, int, int], list[str]]
) -> list[str]:
    """A sentence's content terms, from the previous build when its document is unchanged."""
    terms = known.get((sentence.doc_id, sentence.start, sentence.end))
    return content_terms(text) if terms is None else terms


def _model(embedder: Embedder) -> dict[str, Any]:
    return {"name": embedder.name, "package": MODEL_PACKAGE, "dimension": embedder.dimension}


def _embedding(embedder: Embedder) -> dict[str, Any]:
    """What besides the model decides a text's vector: a vector is reused only if all match."""
    try:
        weights = importlib.metadata.version(MODEL_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        weights = None
    return {
        "model_package_version": weights,
        "max_seq_length": int(embedder.max_seq_length),
        "normalized": True,
    }


# --- reuse of the previous build ---------------------------------------------------------

# (section, start, end, sentence spans) of each passage of one document.
Split = list[tuple[str, int, int, list[tuple[int, int]]]]
# The vectors a store holds for these SHA-256 keys of texts, by key (the keys it lacks left out).
Lookup = Callable[[list[bytes]], dict[bytes, np.ndarray]]


@dataclass(frozen=True, slots=True)
class PreviousBuild:
    """What a new build may take from the current one instead of computing it again."""

    stored: Lookup  # the vectors it holds, by the SHA-256 of the text embedded
    # Only when it was made by this qa version with the same chunking settings:
    splits: dict[str, tuple[str, Split]]  # doc_id -> (SHA-256 of its text, its split)
    sentence_terms: dict[tuple[str, int, int], list[str]]  # (doc_id, start, end) -> terms


def read_previous_build(
    index_dir: Path, embedder: Embedder, max_passage_chars: int
) -> PreviousBuild | None:
    """The current build, if it verifies and was embedded the same way; else None."""
    try:
        build = current_build(index_dir)
        manifest = read_manifest(build, verify=True)
    except IndexMissingError:
        return None  # a first build: nothing to reuse, and nothing to say
    except QAError as exc:
        log.info("not reusing the previous build: %s", exc)
        return None

    def stored() -> Lookup:
        keys = [np.load(build / "passage_keys.npy"), np.load(build / "sentence_keys.npy")]
        vectors = np.concatenate(
            [np.load(build / "passages.npy"), np.load(build / "sentences.npy")]
        )
        if sum(map(len, keys)) != len(vectors) or vectors.shape[1:] != (embedder.dimension,):
            raise ValueError("keys and vectors do not match")
        rows = {key.tobytes(): i for i, key in enumerate(np.concatenate(keys))}
        return lambda wanted: {k: vectors[rows[k]] for k in wanted if k in rows}

    def units() -> dict[str, Any]:
        return json.loads((build / "units.json").read_text(encoding="utf-8"))

    return previous_build(manifest, stored, units, embedder, max_passage_chars)


def previous_build(
    manifest: dict[str, Any],
    stored: Callable[[], Lookup],
    units: Callable[[], dict[str, Any]],
    embedder: Embedder,
    max_passage_chars: int,
) -> PreviousBuild | None:
    """What a new build may reuse of a stored one, given its manifest, a maker of the
    lookup of its vectors and a reader of its units; None when nothing."""
    try:
        if (
            manifest.get("format") not in REUSABLE_FORMATS
            or manifest.get("model") != _model(embedder)
            or manifest.get("embedding") != _embedding(embedder)
        ):
            log.info("not reusing the previous build: another index format or embedding model")
            return None
        lookup = stored()
        same_split = manifest.get("package_version") == __version__ and manifest.get(
            "chunking"
        ) == _chunking(max_passage_chars)
        splits, terms = _previous_splits(units(), manifest) if same_split else ({}, {})
    except (QAError, OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        log.info("not reusing the previous build: %s", exc)
        return None
    return PreviousBuild(lookup, splits, terms)


def _previous_splits(
    units: dict[str, Any], manifest: dict[str, Any]
) -> tuple[dict[str, tuple[str, Split]], dict[tuple[str, int, int], list[str]]]:
    sentences = units["sentences"]
    splits: dict[str, tuple[str, Split]] = {}
    terms: dict[tuple[str, int, int], list[str]] = {}
    for doc_id, section, start, end, sentence_ids in units["passages"]:
        spans = [(sentences[i][1], sentences[i][2]) for i in sentence_ids]
        splits.setdefault(doc_id, (manifest["documents"][doc_id], []))[1].append(
            (section, start, end, spans)
        )
        for i in sentence_ids:
            terms[(doc_id, sentences[i][1], sentences[i][2])] = sentences[i][3]
    return splits, terms


def chunk_reusing(
    documents: list[Document], max_passage_chars: int, previous: PreviousBuild | None
) -> Chunks:
    """Passages and sentences of the corpus, as `chunk` makes them; unchanged documents keep
    their split from the previous build (sentence splitting is the slow part of chunking)."""
    old = previous.splits if previous else {}
    reused = {
        d.doc_id: old[d.doc_id][1]
        for d in documents
        if d.doc_id in old and old[d.doc_id][0] == d.sha256
    }
    fresh = chunk([d for d in documents if d.doc_id not in reused], max_passage_chars)
    return _numbered(documents, {**reused, **_splits(fresh)})


def _splits(chunks: Chunks) -> dict[str, Split]:
    splits: dict[str, Split] = {}
    for p in chunks.passages:
        spans = [(chunks.sentences[i].start, chunks.sentences[i].end) for i in p.sentence_ids]
        splits.setdefault(p.doc_id, []).append((p.section, p.start, p.end, spans))
    return splits


def _numbered(documents: list[Document], splits: dict[str, Split]) -> Chunks:
    """Passages and sentences numbered in document order, as `chunk` numbers them."""
    passages: list[Passage] = []
    sentences: list[Sentence] = []
    for document in documents:
        for section, start, end, spans in splits.get(document.doc_id, []):
            passage_id, first = len(passages), len(sentences)
            for s, e in spans:
                sentences.append(Sentence(len(sentences), passage_id, document.doc_id, s, e))
            ids = tuple(range(first, len(sentences)))
            passages.append(Passage(passage_id, document.doc_id, section, start, end, ids))
    return Chunks(passages, sentences)


def text_keys(texts: list[str]) -> np.ndarray:
    """SHA-256 of each text's UTF-8 bytes, one row of KEY_BYTES per text."""
    digests = b"".join(hashlib.sha256(t.encode("utf-8")).digest() for t in texts)
    return np.frombuffer(digests, dtype=np.uint8).reshape(len(texts), KEY_BYTES)


def embed_reusing(
    texts: list[str],
    embedder: Embedder,
    previous: PreviousBuild | None,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Keys and vectors of `texts`, embedding only the texts the previous build did not
    embed; also how many distinct texts were embedded. `progress` is told the distinct texts
    embedded so far, of how many."""
    keys = text_keys(texts)
    wanted = [k.tobytes() for k in keys]
    found = previous.stored(list(dict.fromkeys(wanted))) if previous else {}
    vectors = np.empty((len(texts), embedder.dimension), dtype=np.float32)
    missing = []
    for i, key in enumerate(wanted):
        vector = found.get(key)
        if vector is None:
            missing.append(i)
        else:
            vectors[i] = vector
    if missing:
        new = [texts[i] for i in missing]
        # Told only when asked: an encoder made for tests or a benchmark need not take it.
        vectors[missing] = (
            embedder.encode(new, progress=progress) if progress else embedder.encode(new)
        )
    elif progress is not None:
        progress(0, 0)  # nothing new to embed
    return keys, vectors, len({texts[i] for i in missing})


class Phases:
    """Wall-clock seconds spent in each named phase of a build."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            self.seconds[name] = self.seconds.get(name, 0.0) + elapsed


def _chunking(max_passage_chars: int) -> dict[str, Any]:
    return {"max_passage_chars": max_passage_chars, "splitter": SPLITTER}


@cache
def readers_fingerprint() -> str:
    """SHA-256 of the corpus stage's source: an index read by other code is stale, even
    within one release (a reader changed while developing it)."""
    digest = hashlib.sha256()
    for path in sorted(Path(ingest.__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


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
    check_format(manifest, str(index_dir))
    try:
        # Memory-mapped: worker processes over one index share its pages.
        passage_vectors = load_vector_index(build / "passages.faiss", mmap=True)
        bm25 = bm25s.BM25.load(str(build / "bm25"), show_progress=False)
        search = LocalSearch(passage_vectors, bm25, passage_vectors.ntotal)
        return assemble(
            manifest,
            lambda name: (build / name).read_text(encoding="utf-8"),
            search,
            np.load(build / "sentences.npy"),
            build,
        )
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise IndexCorruptError(f"index in {index_dir} is unreadable ({exc}): rebuild") from exc


def check_format(manifest: dict[str, Any], where: str) -> None:
    if manifest.get("format") != INDEX_FORMAT:
        raise IndexCorruptError(
            f"index in {where} has format {manifest.get('format')}, this version reads "
            f"{INDEX_FORMAT}: rebuild with `qa index`"
        )


def assemble(
    manifest: dict[str, Any],
    read_text: Callable[[str], str],
    search: PassageSearch,
    sentence_vectors: Any,
    path: Path,
) -> Index:
    """An Index from a build's files (read by name with `read_text`) and its backend's
    passage search and sentence vectors; ValueError when they do not agree."""
    documents = {
        d["doc_id"]: Document(
            doc_id=d["doc_id"],
            title=d["title"],
            text=d["text"],
            headings=[Heading(*h) for h in d["headings"]],
            pages=[(start, page) for start, page in d.get("pages", [])],
            kinds=[(start, end, kind) for start, end, kind in d.get("kinds", [])],
        )
        for d in json.loads(read_text("documents.json"))
    }
    units = json.loads(read_text("units.json"))
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
    vocabulary = Vocabulary.from_json(json.loads(read_text("vocabulary.json")))
    if search.count != len(passages) or len(sentence_vectors) != len(sentences):
        raise ValueError("the vectors and the units do not match")
    return Index(
        manifest=manifest,
        documents=documents,
        passages=passages,
        sentences=sentences,
        passage_search=search,
        sentence_vectors=sentence_vectors,
        sentence_terms=sentence_terms,
        term_idf=_idf(sentence_terms),
        vocabulary=vocabulary,
        path=path,
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
    if manifest.get("readers") != readers_fingerprint():
        reasons.append("the file readers changed")
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

"""The index in Milvus (`QA_BACKEND=milvus`): the same build as the index folder's, kept in
collections, for corpora beyond one machine and for any number of stateless `qa serve`
replicas over one store.

A build is three collections named after it:
- `<prefix>_<build>_passages`: a passage's text, title, section, `doc_id`, offsets, the
  SHA-256 of the text it embeds, its dense vector (inner product, AUTOINDEX) and its BM25
  sparse vector, which Milvus's BM25 Function makes from its terms (`qa.text.content_terms`,
  the terms the embedded index's bm25s reads, split on white space; k1 and b as bm25s's);
- `<prefix>_<build>_sentences`: a sentence's passage, offsets, SHA-256 and vector;
- `<prefix>_<build>_files`: the build's documents, units (with every sentence's terms),
  vocabulary and manifest, as JSON in parts: what a replica holds in memory.

Builds are atomic: a new build is written to new collections, and only when every row is in
does the one row of `<prefix>_current` switch to it (an upsert). Milvus Lite has no aliases
(`create_alias` is unimplemented there), so the switch is that row on every Milvus: readers
see the old build or the new one. The build before the current one is kept, so replicas
still on it keep answering until they follow the switch (`qa.interfaces.watch.BuildFollower`);
older ones are dropped. Builds are incremental: vectors are read back from the current build
by the SHA-256 of their text and only new texts are embedded
(`qa.index.build.previous_build`).
"""

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from qa.config import Settings
from qa.corpus.ingest import DocumentReader, load_corpus, read_each
from qa.embedding.embed import Embedder
from qa.errors import IndexCorruptError, IndexMissingError, QAError
from qa.index.build import (
    MANIFEST_NAME,
    BuildProgress,
    BuildReport,
    Index,
    Lookup,
    Phases,
    PreviousBuild,
    assemble,
    check_format,
    chunk_reusing,
    passage_context,
    previous_build,
    write_build,
)
from qa.index.passage_search import Scored
from qa.text import content_terms

log = logging.getLogger(__name__)

FILES = ("documents.json", "units.json", "vocabulary.json", MANIFEST_NAME)
PART_CHARS = 16_000  # a VARCHAR holds 65,535 bytes: 16,000 characters of UTF-8 always fit
TEXT_BYTES = 65_535
NAME_BYTES = 4_096
BATCH = 1_000  # rows an insert or a read carries
KEYS_PER_QUERY = 500  # keys in one `key in [...]` filter
# Threads for a question's concurrent searches (a question needs two at a time).
_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="qa-milvus")
RRF_K = 60  # the reciprocal rank fusion constant that Milvus's hybrid search ranks with
# bm25s's defaults, so that a passage's BM25 score is the embedded index's (times k1 + 1).
BM25_PARAMS = {"bm25_k1": 1.5, "bm25_b": 0.75}


@cache
def _milvus() -> Any:
    """pymilvus, imported once (a question's search asks for it too)."""
    try:
        with warnings.catch_warnings():
            # milvus-lite 2.5 imports pkg_resources, which warns that it is deprecated.
            warnings.simplefilter("ignore", UserWarning)
            with contextlib.suppress(ImportError):  # only Milvus Lite files need it
                import milvus_lite  # noqa: F401
            import pymilvus
    except ImportError:
        raise QAError(
            "the Milvus backend needs the scale extra: pip install -e '.[scale]'"
        ) from None
    # Milvus Lite serves no MVCC timestamp, and pymilvus warns of it on every iterator.
    logging.getLogger("pymilvus.orm.iterator").setLevel(logging.ERROR)
    return pymilvus


class MilvusStore:
    """One Milvus (a server's URI, or a Milvus Lite file) holding qa's builds under a prefix."""

    def __init__(self, uri: str, prefix: str = "qa", token: str = "") -> None:
        pymilvus = _milvus()
        self.uri = uri
        self.prefix = prefix
        if "://" not in uri:
            Path(uri).parent.mkdir(parents=True, exist_ok=True)
        connecting = logging.getLogger("pymilvus.milvus_client._utils")
        level = connecting.level
        connecting.setLevel(logging.CRITICAL)  # it logs the failure that is raised below
        try:
            self.client = pymilvus.MilvusClient(uri, token=token)
        except Exception as exc:  # pymilvus raises MilvusException and grpc errors alike
            raise QAError(f"cannot open Milvus at {uri}: {_one_line(exc)}") from None
        finally:
            connecting.setLevel(level)

    @classmethod
    def of(cls, settings: Settings) -> "MilvusStore":
        """The store the settings name (`QA_MILVUS_URI`, `QA_MILVUS_PREFIX`, ...)."""
        return cls(settings.milvus_location, settings.milvus_prefix, settings.milvus_token)

    # --- names ------------------------------------------------------------------------

    @property
    def pointer(self) -> str:
        return f"{self.prefix}_current"

    def collection(self, build: str, kind: str) -> str:
        return f"{self.prefix}_{build}_{kind}"

    def builds(self) -> list[str]:
        """Every build stored under the prefix, oldest first."""
        start = f"{self.prefix}_b"
        names = {
            n[len(self.prefix) + 1 :].rsplit("_", 1)[0]
            for n in self.client.list_collections()
            if n.startswith(start)
        }
        return sorted(names)

    def current(self) -> str:
        """The build in use; IndexMissingError when there is none."""
        if self.client.has_collection(self.pointer):
            rows = self.client.get(self.pointer, ids=[0], output_fields=["build"])
            if rows:
                return str(rows[0]["build"])
        raise IndexMissingError(f"no index in Milvus at {self.uri}: run `qa index` first")

    # --- reading ----------------------------------------------------------------------

    def read_file(self, build: str, name: str) -> str:
        """One file of a build, checked against its manifest's SHA-256 (but the manifest)."""
        parts = sorted(
            (row["part"], row["data"])
            for row in self._rows(
                self.collection(build, "files"), ["part", "data"], f'name == "{name}"'
            )
        )
        if not parts or [p for p, _ in parts] != list(range(len(parts))):
            raise IndexCorruptError(f"index file {name} is missing in Milvus: rebuild")
        return "".join(data for _, data in parts)

    def manifest(self, build: str) -> dict[str, Any]:
        try:
            return json.loads(self.read_file(build, MANIFEST_NAME))
        except ValueError as exc:
            raise IndexCorruptError(f"index manifest unreadable in Milvus: {exc}") from exc

    def load(self) -> Index:
        """The current build, its files checked, over Milvus's search and vectors."""
        build = self.current()
        manifest = self.manifest(build)
        check_format(manifest, self.uri)

        def read_text(name: str) -> str:
            text = self.read_file(build, name)
            if hashlib.sha256(text.encode("utf-8")).hexdigest() != manifest["files"].get(name):
                raise IndexCorruptError(f"index file {name} is damaged in Milvus: rebuild")
            return text

        counts = manifest["counts"]
        search = MilvusSearch(self, build, counts["passages"])
        vectors = MilvusVectors(self, build, counts["sentences"])
        try:
            return assemble(manifest, read_text, search, vectors, Path(self.uri))
        except (ValueError, KeyError, TypeError) as exc:
            raise IndexCorruptError(f"index in Milvus is unreadable ({exc}): rebuild") from exc

    def previous(self, embedder: Embedder, max_passage_chars: int) -> PreviousBuild | None:
        """What a new build may reuse of the current one."""
        try:
            build = self.current()
            manifest = self.manifest(build)
        except IndexMissingError:
            return None  # a first build: nothing to reuse, and nothing to say
        except QAError as exc:
            log.info("not reusing the previous build: %s", exc)
            return None

        def stored() -> Lookup:
            return lambda keys: self.vectors_of(build, keys)

        def units() -> dict[str, Any]:
            return json.loads(self.read_file(build, "units.json"))

        return previous_build(manifest, stored, units, embedder, max_passage_chars)

    def vectors_of(self, build: str, keys: list[bytes]) -> dict[bytes, np.ndarray]:
        """The vectors a build holds for these SHA-256 keys of texts (passages' and
        sentences'), read by key: a rebuild reads only the vectors of its own texts."""
        found: dict[bytes, np.ndarray] = {}
        for kind, field in (("passages", "dense"), ("sentences", "vector")):
            name = self.collection(build, kind)
            wanted = [k.hex() for k in keys if k not in found]
            for at in range(0, len(wanted), KEYS_PER_QUERY):
                expr = f"key in {json.dumps(wanted[at : at + KEYS_PER_QUERY])}"
                for row in self._rows(name, ["key", field], expr):
                    found[bytes.fromhex(row["key"])] = np.asarray(row[field], dtype=np.float32)
        return found

    def _rows(self, collection: str, fields: list[str], expr: str = "") -> Iterator[dict]:
        iterator = self.client.query_iterator(
            collection, batch_size=BATCH, filter=expr, output_fields=fields
        )
        try:
            while batch := iterator.next():
                yield from batch
        finally:
            iterator.close()

    # --- writing ----------------------------------------------------------------------

    def publish(self, files: Path, passages: list[dict], sentences: list[dict]) -> str:
        """Write a build (the folder `files` from `write_build`, and its passage and
        sentence rows without vectors) to new collections, then switch to it."""
        build = f"b{time.strftime('%Y%m%d%H%M%S')}_{os.getpid()}_{time.monotonic_ns() % 10**6}"
        try:
            dimension = int(np.load(files / "passages.npy", mmap_mode="r").shape[1])
            self._write_passages(build, files, passages, dimension)
            self._write_sentences(build, files, sentences, dimension)
            self._write_files(build, files)
        except BaseException:
            self.drop(build)
            raise
        self._switch(build)
        return build

    def _write_passages(
        self, build: str, files: Path, passages: list[dict], dimension: int
    ) -> None:
        pymilvus = _milvus()
        dt = pymilvus.DataType
        schema = self.client.create_schema(auto_id=False)
        schema.add_field("id", dt.INT64, is_primary=True)
        schema.add_field("doc_id", dt.VARCHAR, max_length=NAME_BYTES)
        schema.add_field("title", dt.VARCHAR, max_length=NAME_BYTES)
        schema.add_field("section", dt.VARCHAR, max_length=NAME_BYTES)
        schema.add_field("start", dt.INT64)
        schema.add_field("end", dt.INT64)
        schema.add_field("text", dt.VARCHAR, max_length=TEXT_BYTES)
        # The terms BM25 reads, already stemmed and without stop words: split on spaces.
        schema.add_field(
            "terms",
            dt.VARCHAR,
            max_length=TEXT_BYTES,
            enable_analyzer=True,
            analyzer_params={"tokenizer": "whitespace"},
        )
        schema.add_field("key", dt.VARCHAR, max_length=64)
        schema.add_field("dense", dt.FLOAT_VECTOR, dim=dimension)
        schema.add_field("sparse", dt.SPARSE_FLOAT_VECTOR)
        schema.add_function(
            pymilvus.Function(
                name="bm25",
                function_type=pymilvus.FunctionType.BM25,
                input_field_names=["terms"],
                output_field_names=["sparse"],
            )
        )
        index_params = self.client.prepare_index_params()
        index_params.add_index("dense", index_type="AUTOINDEX", metric_type="IP")
        index_params.add_index(
            "sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params=BM25_PARAMS
        )
        name = self.collection(build, "passages")
        self._create(name, schema, index_params)
        self._insert(name, _with_vectors(passages, files, "passage", "dense"))

    def _write_sentences(
        self, build: str, files: Path, sentences: list[dict], dimension: int
    ) -> None:
        dt = _milvus().DataType
        schema = self.client.create_schema(auto_id=False)
        schema.add_field("id", dt.INT64, is_primary=True)
        schema.add_field("passage_id", dt.INT64)
        schema.add_field("start", dt.INT64)
        schema.add_field("end", dt.INT64)
        schema.add_field("key", dt.VARCHAR, max_length=64)
        schema.add_field("vector", dt.FLOAT_VECTOR, dim=dimension)
        index_params = self.client.prepare_index_params()
        index_params.add_index("vector", index_type="AUTOINDEX", metric_type="IP")
        name = self.collection(build, "sentences")
        self._create(name, schema, index_params)
        self._insert(name, _with_vectors(sentences, files, "sentence", "vector"))

    def _write_files(self, build: str, files: Path) -> None:
        name = self.collection(build, "files")
        self._plain_collection(name, [("name", NAME_BYTES), ("data", TEXT_BYTES)], ["part"])
        rows = []
        for file_name in FILES:
            text = (files / file_name).read_text(encoding="utf-8")
            for part, at in enumerate(range(0, max(len(text), 1), PART_CHARS)):
                rows.append({"name": file_name, "part": part, "data": text[at : at + PART_CHARS]})
        for i, row in enumerate(rows):
            row["id"] = i
            row["unused"] = [0.0, 0.0]
        # The manifest goes last: a build whose files are not all in has none.
        self._insert(name, rows)

    def _plain_collection(
        self, name: str, strings: list[tuple[str, int]], integers: list[str]
    ) -> None:
        """A collection of scalar rows (Milvus requires a vector field: a 2-d one, unused)."""
        dt = _milvus().DataType
        schema = self.client.create_schema(auto_id=False)
        schema.add_field("id", dt.INT64, is_primary=True)
        for field_name, max_length in strings:
            schema.add_field(field_name, dt.VARCHAR, max_length=max_length)
        for field_name in integers:
            schema.add_field(field_name, dt.INT64)
        schema.add_field("unused", dt.FLOAT_VECTOR, dim=2)
        index_params = self.client.prepare_index_params()
        index_params.add_index("unused", index_type="AUTOINDEX", metric_type="L2")
        self._create(name, schema, index_params)

    def _create(self, name: str, schema: Any, index_params: Any) -> None:
        # Strong consistency: a build's rows are all readable the moment it is switched to.
        self.client.create_collection(
            name, schema=schema, index_params=index_params, consistency_level="Strong"
        )

    def _insert(self, name: str, rows: list[dict]) -> None:
        for at in range(0, len(rows), BATCH):
            self.client.insert(name, rows[at : at + BATCH])
        self.client.flush(name)

    def _switch(self, build: str) -> None:
        """Make `build` current in one upsert; drop every build but it and the one before."""
        if not self.client.has_collection(self.pointer):
            self._plain_collection(self.pointer, [("build", 256)], [])
        try:
            before = self.current()
        except IndexMissingError:
            before = None
        self.client.upsert(self.pointer, [{"id": 0, "build": build, "unused": [0.0, 0.0]}])
        for old in self.builds():
            if old not in (build, before):
                self.drop(old)

    def drop(self, build: str) -> None:
        """Remove a build's collections (the current one's too: use with care)."""
        for kind in ("passages", "sentences", "files"):
            name = self.collection(build, kind)
            if self.client.has_collection(name):
                self.client.drop_collection(name)


class MilvusSearch:
    """Passage search in Milvus: its hybrid search (dense and BM25 requests fused by
    reciprocal rank) picks the candidates; their dense scores come from their stored
    vectors and their BM25 scores from a BM25 search among them, so that `retrieve` fuses
    the same scores as over the embedded index."""

    backend = "milvus"

    def __init__(self, store: MilvusStore, build: str, count: int) -> None:
        self.client = store.client
        self.build = build
        self.name = store.collection(build, "passages")
        self.count = count

    def score(
        self,
        question_vector: np.ndarray,
        terms: list[str],
        depth: int,
        *,
        within: np.ndarray | None = None,
        include: frozenset[int] = frozenset(),
    ) -> Scored:
        pymilvus = _milvus()
        query = np.asarray(question_vector, dtype=np.float32).reshape(-1)
        text = " ".join(terms)
        expr = "" if within is None else f"id in {[int(i) for i in within]}"
        dense_request = pymilvus.AnnSearchRequest(
            [query.tolist()], "dense", {"metric_type": "IP"}, limit=depth, expr=expr
        )
        requests = [dense_request]
        if text:
            requests.append(
                pymilvus.AnnSearchRequest(
                    [text], "sparse", {"metric_type": "BM25"}, limit=depth, expr=expr
                )
            )
        # The BM25 ranking runs beside the hybrid search: its best score normalises every
        # candidate's, and it holds most candidates' own scores.
        ranked = _POOL.submit(self._bm25, text, depth, expr) if text else None
        found = self.client.hybrid_search(
            self.name, requests, pymilvus.RRFRanker(RRF_K), limit=depth, output_fields=["dense"]
        )[0]
        vectors = {int(hit["id"]): hit["entity"]["dense"] for hit in found}
        extra = sorted(include - vectors.keys())
        if extra:
            for row in self.client.get(self.name, ids=extra, output_fields=["dense"]):
                vectors[int(row["id"])] = row["dense"]
        ids = np.asarray(sorted(vectors), dtype=np.int64)
        bm25 = ranked.result() if ranked else {}
        if not len(ids):
            empty = np.zeros(0, dtype=np.float32)
            return Scored(ids, empty, empty)
        dense = np.asarray([vectors[i] for i in ids.tolist()], dtype=np.float32) @ query
        return Scored(ids, dense, self._lexical(text, ids, bm25))

    def _bm25(self, text: str, limit: int, expr: str, ids: list[int] | None = None) -> dict:
        """BM25 scores of the best `limit` passages for the terms `text` (of `ids` only, if
        given), by passage id."""
        if ids is not None:
            expr = f"id in {ids}"
        hits = self.client.search(
            self.name,
            [text],
            anns_field="sparse",
            limit=limit,
            filter=expr,
            search_params={"metric_type": "BM25"},
        )[0]
        return {int(hit["id"]): float(hit["distance"]) for hit in hits}

    def _lexical(self, text: str, ids: np.ndarray, ranked: dict[int, float]) -> np.ndarray:
        """The candidates' BM25 over the best BM25 among the passages searched; `ranked`
        holds the best ones' scores, and the others' are read."""
        best = max(ranked.values(), default=0.0)
        if best <= 0:
            return np.zeros(len(ids), dtype=np.float32)
        missing = [i for i in ids.tolist() if i not in ranked]
        scores = dict(ranked)
        if missing:
            scores.update(self._bm25(text, len(missing), "", missing))
        return np.asarray([scores.get(i, 0.0) for i in ids.tolist()], dtype=np.float32) / best


class MilvusVectors:
    """Sentence vectors read from Milvus a few rows at a time: `vectors[ids]` is their
    (len(ids), dimension) array, in the order of `ids`."""

    def __init__(self, store: MilvusStore, build: str, count: int) -> None:
        self.client = store.client
        self.name = store.collection(build, "sentences")
        self.count = count

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, ids: Any) -> np.ndarray:
        wanted = [int(i) for i in np.atleast_1d(np.asarray(ids))]
        rows = self.client.get(self.name, ids=sorted(set(wanted)), output_fields=["vector"])
        found = {int(r["id"]): r["vector"] for r in rows}
        if len(found) != len(set(wanted)):
            raise IndexCorruptError("sentence vectors are missing in Milvus: rebuild")
        return np.asarray([found[i] for i in wanted], dtype=np.float32)


def build_milvus(
    corpus_dir: Path,
    store: MilvusStore,
    embedder: Embedder,
    *,
    max_passage_chars: int,
    reader: DocumentReader = read_each,
    progress: BuildProgress | None = None,
) -> BuildReport:
    """Build the corpus into new collections and switch to them once they are complete;
    texts the current build embedded are not embedded again."""
    started = time.perf_counter()
    phases = Phases()
    with phases("read"):
        documents = load_corpus(
            corpus_dir, reader=reader, progress=progress.read if progress else None
        )
    with phases("previous"):
        previous = store.previous(embedder, max_passage_chars)
    with phases("chunk"):
        chunks = chunk_reusing(documents, max_passage_chars, previous)
    if progress is not None:
        progress.chunked(len(documents), len(chunks.passages), len(chunks.sentences))
    by_id = {d.doc_id: d for d in documents}
    with tempfile.TemporaryDirectory(prefix="qa-milvus-build-") as tmp:
        files = Path(tmp)
        embedded = write_build(
            files,
            corpus_dir,
            documents,
            chunks,
            embedder,
            max_passage_chars,
            previous,
            phases,
            local_search=False,
            progress=progress,
        )
        with phases("publish"):
            passages = []
            for p in chunks.passages:
                document = by_id[p.doc_id]
                passages.append(
                    {
                        "id": p.id,
                        "doc_id": _clip(p.doc_id, NAME_BYTES),
                        "title": _clip(document.title, NAME_BYTES),
                        "section": _clip(p.section, NAME_BYTES),
                        "start": p.start,
                        "end": p.end,
                        "text": _clip(document.text[p.start : p.end], TEXT_BYTES),
                        "terms": _clip(
                            " ".join(content_terms(passage_context(document, p))), TEXT_BYTES
                        ),
                    }
                )
            sentences = [
                {"id": s.id, "passage_id": s.passage_id, "start": s.start, "end": s.end}
                for s in chunks.sentences
            ]
            store.publish(files, passages, sentences)
    return BuildReport(
        documents=len(documents),
        chunks=len(chunks.passages),
        sentences=len(chunks.sentences),
        seconds=time.perf_counter() - started,
        path=Path(store.uri),
        embedded=embedded,
        phases=dict(phases.seconds),
    )


def _with_vectors(rows: list[dict], files: Path, kind: str, field: str) -> list[dict]:
    """`rows` with their vectors (`<kind>s.npy`) in `field` and the hex SHA-256 of the text
    each embeds (`<kind>_keys.npy`) in `key`."""
    vectors = np.load(files / f"{kind}s.npy")
    keys = np.load(files / f"{kind}_keys.npy")
    for row, vector, key in zip(rows, vectors, keys, strict=True):
        row[field] = vector
        row["key"] = key.tobytes().hex()
    return rows


def _clip(text: str, max_bytes: int) -> str:
    """`text`, cut to at most `max_bytes` of UTF-8 on a character boundary."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[:max_bytes].decode("utf-8", errors="ignore")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__

"""Scale report: FAISS flat, HNSW and IVF indexes over 10k, 100k and 1M sentence vectors.

Run with `make bench-scale` (not in CI), or
`.venv/bin/python scripts/bench_scale.py --sizes 10000 100000 --kinds flat hnsw --json`.

The vectors. Gaussian random vectors are far harder for approximate search than sentence
embeddings (no clusters, no low-dimensional structure): at 100k, HNSW found 28 % of the true
top 10 on them against 98 % on the vectors below, so they would overstate what an index needs.
Instead the 1,630 sentences of `squad2-dev-A.json` (split as `qa index` splits them) are
embedded with the packaged model, and each synthetic vector is one of them moved part of the
way toward another sentence of the same article (topics stay clustered), plus noise drawn
from the real embeddings' own covariance (so it stays in the directions sentences vary in),
then normalised. The queries are held out: real questions of the same file, embedded and
perturbed the same way, never indexed. Their mean top-1 cosine to the corpus (0.62 at 10k,
0.66 at 100k) is close to real questions against the real sentences (0.64). Mixing three
sentences, or 1.7x the noise, moved recall by at most 0.03 at 100k. A caveat: 1M vectors made
from 1,630 sentences are clumpier than real text, which favours IVF lists over HNSW graphs.
Embeddings are cached in the temporary folder, keyed by the file's bytes and the model.

For each size and kind: build time (all cores), index size on disk, single-query search
latency p50/p95 (k=10, one FAISS thread) and p50 with two threads, recall@10 (target >= 0.95)
and recall@50 (the depth retrieval asks for) against exact search. The kinds take turns query
by query while timed, so load from other processes hits them alike. `*` marks the kind
`choose_kind` picks. A second table loads each saved index in a fresh worker process, read
into RAM and memory-mapped, and gives the worker's private and file-backed (page cache, shared
between processes) resident memory after 300 searches. The whole run takes about 10 minutes
on two cores, 3 of them building HNSW over 1M vectors. Nothing is asserted: this is a report,
and on a busy machine it is noisy.
"""

import argparse
import hashlib
import json
import multiprocessing
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import faiss
import numpy as np

from qa.corpus.sentences import split_sentences
from qa.embedding.embed import MODEL_NAME, load_embedder
from qa.index.vector_index import (
    KINDS,
    Kind,
    build_vector_index,
    choose_kind,
    load_vector_index,
    search,
    write_vector_index,
)

ROOT = Path(__file__).resolve().parent.parent
SQUAD = ROOT / ".." / "shared" / "benchmarks" / "squad2-dev-A.json"
SIZES = (10_000, 100_000, 1_000_000)
K = 10
DEPTH = 50  # retrieval's candidate depth, max(4k, 50)
RECALL_TARGET = 0.95
RECALL_QUERIES = 1000
LATENCY_QUERIES = 300
WARMUP = 20
PARTNER_WEIGHT = 0.5  # up to half of a vector comes from its same-article partner
NOISE = 0.35  # in units of the real embeddings' spread
CHUNK = 100_000


@dataclass(frozen=True, slots=True)
class Base:
    """Real embeddings the synthetic vectors are made from."""

    sentences: np.ndarray
    articles: np.ndarray
    questions: np.ndarray
    question_articles: np.ndarray
    spread: np.ndarray


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the report."""

    n: int
    kind: str
    chosen: bool
    build_s: float
    index_mb: float
    p50_ms: float
    p95_ms: float
    p50_2thr_ms: float
    recall_at_10: float
    recall_at_50: float


# --- the vectors -------------------------------------------------------------------------


def base_embeddings(squad: Path) -> Base:
    """The file's sentences and questions, embedded once and cached in the temporary folder."""
    key = hashlib.sha256(squad.read_bytes() + MODEL_NAME.encode()).hexdigest()[:16]
    cache = Path(tempfile.gettempdir()) / f"qa-bench-scale-{key}.npz"
    if not cache.is_file():
        np.savez(cache, **_embed_squad(squad))
    with np.load(cache) as saved:
        arrays = {name: saved[name] for name in saved.files}
    return Base(**arrays, spread=spread(arrays["sentences"]))


def _embed_squad(squad: Path) -> dict[str, np.ndarray]:
    data = json.loads(squad.read_text(encoding="utf-8"))["data"]
    sentences, articles, questions, question_articles = [], [], [], []
    for a, article in enumerate(data):
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            spans = split_sentences(context)
            sentences += [context[s:e] for s, e in spans]
            articles += [a] * len(spans)
            questions += [qa["question"] for qa in paragraph["qas"]]
            question_articles += [a] * len(paragraph["qas"])
    embedder = load_embedder()
    return {
        "sentences": embedder.encode(sentences),
        "articles": np.array(articles),
        "questions": embedder.encode(questions),
        "question_articles": np.array(question_articles),
    }


def spread(vectors: np.ndarray) -> np.ndarray:
    """A (d, d) matrix that turns standard normal noise into noise with the rows' covariance."""
    centred = vectors - vectors.mean(axis=0)
    _, singular, components = np.linalg.svd(centred, full_matrices=False)
    return (singular[:, None] * components / np.sqrt(len(vectors))).astype(np.float32)


def partners(base: Base, of_articles: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each article id, the vector of a random sentence of that article."""
    ids = np.empty(len(of_articles), dtype=np.int64)
    for article in np.unique(of_articles):
        mask = of_articles == article
        ids[mask] = rng.choice(np.flatnonzero(base.articles == article), size=int(mask.sum()))
    return base.sentences[ids]


def perturb(
    anchors: np.ndarray, toward: np.ndarray, spread: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Unit rows: each anchor moved part of the way toward its partner, plus shaped noise."""
    weight = rng.uniform(0, PARTNER_WEIGHT, size=(len(anchors), 1)).astype(np.float32)
    noise = rng.standard_normal(anchors.shape, dtype=np.float32) @ spread
    out = (1 - weight) * anchors + weight * toward + NOISE * noise
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def corpus_vectors(base: Base, n: int, seed: int = 0) -> np.ndarray:
    """`n` synthetic sentence vectors, made in chunks to bound the temporary memory."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, base.sentences.shape[1]), dtype=np.float32)
    for start in range(0, n, CHUNK):
        ids = rng.integers(len(base.sentences), size=min(CHUNK, n - start))
        toward = partners(base, base.articles[ids], rng)
        out[start : start + len(ids)] = perturb(base.sentences[ids], toward, base.spread, rng)
    return out


def query_vectors(base: Base, n: int, seed: int = 1) -> np.ndarray:
    """`n` held-out queries: real questions perturbed the same way, never indexed."""
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(base.questions), size=min(n, len(base.questions)), replace=False)
    toward = partners(base, base.question_articles[picked], rng)
    return perturb(base.questions[picked], toward, base.spread, rng)


# --- measuring ---------------------------------------------------------------------------


def memory_mb(field: str = "VmRSS") -> float:
    """One resident-memory figure of this process from /proc/self/status, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def interleaved_latencies(
    indexes: dict[Kind, faiss.Index], queries: np.ndarray, threads: int
) -> dict[Kind, list[float]]:
    """Milliseconds of single-query searches, after warm-up, with `threads` FAISS threads.

    The kinds take turns query by query, so a burst of load from other processes on the
    machine slows them all alike instead of whichever kind happened to be running.
    """
    faiss.omp_set_num_threads(threads)
    times: dict[Kind, list[float]] = {kind: [] for kind in indexes}
    for i in range(-WARMUP, min(LATENCY_QUERIES, len(queries))):
        for kind, index in indexes.items():
            started = time.perf_counter()
            search(index, queries[i % len(queries)], K)
            if i >= 0:
                times[kind].append((time.perf_counter() - started) * 1000)
    return times


def recall(found: np.ndarray, exact: np.ndarray, k: int) -> float:
    """Mean fraction of the exact top `k` found in the index's top `k`."""
    pairs = zip(found[:, :k], exact[:, :k], strict=True)
    return sum(len(set(f) & set(e)) for f, e in pairs) / (len(exact) * k)


def all_threads() -> None:
    faiss.omp_set_num_threads(os.cpu_count() or 1)


def timed_build(vectors: np.ndarray, kind: Kind) -> tuple[faiss.Index, float]:
    print(f"building {kind} over {len(vectors):,} vectors", file=sys.stderr, flush=True)
    all_threads()
    started = time.perf_counter()
    index = build_vector_index(vectors, kind)
    return index, time.perf_counter() - started


def bench_size(
    base: Base, n: int, kinds: list[Kind], queries: np.ndarray, folder: Path
) -> tuple[list[Row], list[dict[str, object]]]:
    """Rows for every kind at size `n`, and the figures of workers loading each saved index."""
    vectors = corpus_vectors(base, n)
    built = {kind: timed_build(vectors, kind) for kind in kinds}
    indexes = {kind: index for kind, (index, _) in built.items()}
    exact_index = indexes.get("flat") or build_vector_index(vectors, "flat")
    del vectors
    all_threads()
    _, exact = search(exact_index, queries, DEPTH)
    one = interleaved_latencies(indexes, queries, threads=1)
    two = interleaved_latencies(indexes, queries, threads=2)
    rows, workers = [], []
    for kind, (index, build_s) in built.items():
        saved = folder / f"{n}-{kind}.faiss"
        write_vector_index(index, saved)
        _, found = search(index, queries, DEPTH)
        p50, p95 = np.percentile(one[kind], [50, 95])
        rows.append(
            Row(
                n=n,
                kind=kind,
                chosen=kind == choose_kind(n),
                build_s=round(build_s, 2),
                index_mb=round(saved.stat().st_size / 1e6, 1),
                p50_ms=round(float(p50), 3),
                p95_ms=round(float(p95), 3),
                p50_2thr_ms=round(float(np.median(two[kind])), 3),
                recall_at_10=round(recall(found, exact, K), 4),
                recall_at_50=round(recall(found, exact, DEPTH), 4),
            )
        )
        print(format_row(rows[-1]), file=sys.stderr, flush=True)
    del built, indexes, exact_index
    for row in rows:
        saved = folder / f"{n}-{row.kind}.faiss"
        workers += [worker(saved, n, row.kind, mmap, queries) for mmap in (False, True)]
        saved.unlink()
    return rows, workers


# --- one worker over a saved index --------------------------------------------------------


def worker(path: Path, n: int, kind: Kind, mmap: bool, queries: np.ndarray) -> dict[str, object]:
    """Figures of a fresh process that loads the saved index and searches it."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        figures = pool.apply(worker_memory, (path, mmap, queries[:LATENCY_QUERIES]))
    return {"n": n, "kind": kind, "mmap": mmap} | figures


def worker_memory(path: Path, mmap: bool, queries: np.ndarray) -> dict[str, float]:
    """Load time and resident memory (MB) a worker adds by loading the index and searching."""
    before = {field: memory_mb(field) for field in ("RssAnon", "RssFile")}
    started = time.perf_counter()
    index = load_vector_index(path, mmap=mmap)
    load_s = time.perf_counter() - started
    faiss.omp_set_num_threads(1)
    for query in queries:
        search(index, query, K)
    return {
        "load_s": round(load_s, 3),
        "private_mb": round(memory_mb("RssAnon") - before["RssAnon"], 1),
        "file_mb": round(memory_mb("RssFile") - before["RssFile"], 1),
    }


# --- report ------------------------------------------------------------------------------

HEADER = (
    f"{'vectors':>9} {'kind':<8} {'build s':>8} {'index MB':>9} "
    f"{'p50 ms':>7} {'p95 ms':>7} {'p50 2thr':>8} {'recall@10':>9} {'recall@50':>9}"
    f"  target recall@10 >= {RECALL_TARGET}"
)
WORKER_HEADER = (
    f"{'vectors':>9} {'kind':<8} {'load':<5} {'load s':>7} {'private MB':>11} "
    f"{'file-backed MB':>15}"
)


def format_row(row: Row) -> str:
    mark = "*" if row.chosen else " "
    verdict = "ok" if row.recall_at_10 >= RECALL_TARGET else "MISSED"
    return (
        f"{row.n:>9,} {row.kind:<7}{mark} {row.build_s:>8.2f} {row.index_mb:>9.1f} "
        f"{row.p50_ms:>7.3f} {row.p95_ms:>7.3f} {row.p50_2thr_ms:>8.3f} "
        f"{row.recall_at_10:>9.4f} {row.recall_at_50:>9.4f}  {verdict}"
    )


def format_worker(row: dict[str, object]) -> str:
    how = "mmap" if row["mmap"] else "read"
    mark = "*" if row["kind"] == choose_kind(int(row["n"])) else " "
    return (
        f"{row['n']:>9,} {row['kind']:<7}{mark} {how:<5} {row['load_s']:>7.3f} "
        f"{row['private_mb']:>11.1f} {row['file_mb']:>15.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--json", action="store_true", help="Also print the figures as JSON.")
    args = parser.parse_args()

    base = base_embeddings(SQUAD)
    queries = query_vectors(base, RECALL_QUERIES)
    print(f"{len(base.sentences)} real sentences, {len(queries)} held-out queries", file=sys.stderr)
    print(HEADER, file=sys.stderr)
    rows: list[Row] = []
    workers: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as folder:
        for n in args.sizes:
            size_rows, size_workers = bench_size(base, n, args.kinds, queries, Path(folder))
            rows += size_rows
            workers += size_workers

    print(HEADER)
    print("\n".join(format_row(r) for r in rows))
    print(f"\nEach index loaded by a fresh worker process\n{WORKER_HEADER}")
    print("\n".join(format_worker(w) for w in workers))
    if args.json:
        print(json.dumps({"rows": [asdict(r) for r in rows], "workers": workers}))


if __name__ == "__main__":
    main()

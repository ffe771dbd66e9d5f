"""Scale report, part 2: the Milvus backend beside the embedded index, a Ray build beside a
local one.

Run with `make bench-scale` (after bench_scale.py; not in CI), or
`.venv/bin/python scripts/bench_milvus.py --sizes 10000 100000 --json figures.json`.

1. Passage search at 10k and 100k passages (`--sizes`). The passage vectors are
   bench_scale.py's synthetic ones (a real sentence of `squad2-dev-A.json` moved toward
   another of its article, plus noise shaped like the real embeddings; the same vectors as
   its `corpus_vectors`), and each passage's text is the SQuAD paragraph that sentence came
   from, under its article's title, so BM25 reads real terms (`qa.text.content_terms`, as a
   build indexes a passage; at 100k each of the 294 paragraphs is repeated ~340 times, so
   BM25 sees many ties). The queries are bench_scale's held-out ones (real questions,
   perturbed, never indexed; the first `--queries`), with the terms of the question each came
   from.
   - Embedded: build = `build_vector_index` (the FAISS kind `choose_kind` picks, all cores)
     plus a bm25s index over the passages' terms (extracting the terms is not timed, for
     either backend). Search = `LocalSearch.score(vector, terms, depth=50)`, what `retrieve`
     calls; dense = `vector_index.search` for the top 10 alone.
   - Milvus: a Milvus Lite file in a temporary folder. Build = `MilvusStore._write_passages`:
     creating the passages collection (dense vector with AUTOINDEX/IP, BM25 function over the
     terms, SPARSE_INVERTED_INDEX) and inserting every row in batches of 1,000, then flushing;
     this is the part of `MilvusStore.publish` that matches FAISS + bm25s (publish also
     writes the sentence collection and the build's JSON files, which the embedded index
     keeps as plain files). "Ready" is the first search after it. Search =
     `MilvusSearch.score(...)` (the full path: hybrid search with RRF, then the exact BM25
     scores of the candidates); dense = a plain `client.search` of the passages collection
     for the top 10.
   The four searches take turns query by query (the order rotating), after a warm-up, so
   load from other processes hits them alike; medians (p50) and the Milvus/embedded ratios.
   Recall@10 and @50 of the dense searches against exact search (numpy inner products over
   every vector). The index Milvus reports (`describe_index`) is printed below the table.
2. Building one corpus from nothing: the SQuAD-A articles as `qa eval --squad` writes them
   (`--ray-corpus DIR` for another folder), with `pipeline.build` into an index folder on
   this process's embedder (`load_embedder(0)`, warmed up); then on a local Ray
   (`ray="local"`: Ray Data actors, one model and one thread each, one per core), Ray's
   start-up (`qa.index.ray_build.connect("local")`) timed apart from the build and Ray shut down
   after it, so that its processes take no CPU from the other builds; then into Milvus Lite
   (`backend="milvus"`, this process's embedder; its seconds include `publish`). The three
   take turns for `--build-rounds` rounds (default 2), each build into a new folder, and the
   table gives medians (and each round): seconds, distinct texts embedded per second, the
   embedding phase alone, and the largest difference between the local and Ray builds'
   vectors (`load_index(...).sentence_vectors`, and the passages').

Wall-clock time (`time.perf_counter`). At the default sizes on two shared cores at a load
average of 6, the run took 14.5 minutes: section 1 about 2.5 (1.5 of them inserting 100k rows
into Milvus Lite), section 2's six builds the rest (a SQuAD-A build took 70-170 s there, ~15 s
on an idle machine; `--build-rounds 1` halves that part). Nothing is asserted: this is a
report, and on a busy machine it is noisy (the load average is printed at the end).
"""

import os

# Read when ray is imported: no usage reports, and a local Ray on 127.0.0.1 only.
os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bm25s
import faiss
import numpy as np

from bench_scale import (
    CHUNK,
    SQUAD,
    Base,
    all_threads,
    base_embeddings,
    partners,
    perturb,
    query_vectors,
    recall,
)
from qa.config import Settings
from qa.corpus.sentences import split_sentences
from qa.embedding.embed import Embedder, load_embedder
from qa.index.build import BuildReport, load_index
from qa.index.milvus_store import MilvusSearch, MilvusStore
from qa.index.passage_search import LocalSearch
from qa.index.vector_index import build_vector_index, choose_kind, search
from qa.learning.squad import read_squad, write_squad_corpus
from qa.pipeline import build
from qa.text import content_terms

SIZES = (10_000, 100_000)
QUERIES = 200
WARMUP = 10
K = 10
DEPTH = 50  # retrieval's candidate depth


# --- the synthetic passages -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SquadTexts:
    """The texts behind bench_scale's real embeddings, in the same order."""

    sentence_paragraph: np.ndarray  # the paragraph of each embedded sentence
    paragraphs: list[tuple[str, str]]  # (title, context)
    questions: list[str]


def squad_texts(squad: Path, base: Base) -> SquadTexts:
    """The sentences' paragraphs and the questions, read as bench_scale embeds them."""
    data = json.loads(squad.read_text(encoding="utf-8"))["data"]
    sentence_paragraph: list[int] = []
    paragraphs: list[tuple[str, str]] = []
    questions: list[str] = []
    for article in data:
        title = article.get("title", "").replace("_", " ").strip() or "Untitled"
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            sentence_paragraph += [len(paragraphs)] * len(split_sentences(context))
            paragraphs.append((title, " ".join(context.split())))
            questions += [qa["question"] for qa in paragraph["qas"]]
    if len(sentence_paragraph) != len(base.sentences) or len(questions) != len(base.questions):
        raise SystemExit(f"{squad} no longer splits as bench_scale's cached embeddings did")
    return SquadTexts(np.asarray(sentence_paragraph), paragraphs, questions)


def synthetic_passages(base: Base, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """bench_scale's `corpus_vectors(base, n, seed)`, and the real sentence each row is made
    from (the same draws in the same order)."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, base.sentences.shape[1]), dtype=np.float32)
    anchors = np.empty(n, dtype=np.int64)
    for start in range(0, n, CHUNK):
        ids = rng.integers(len(base.sentences), size=min(CHUNK, n - start))
        toward = partners(base, base.articles[ids], rng)
        out[start : start + len(ids)] = perturb(base.sentences[ids], toward, base.spread, rng)
        anchors[start : start + len(ids)] = ids
    return out, anchors


def held_out_queries(base: Base, texts: SquadTexts, n: int) -> tuple[np.ndarray, list[list[str]]]:
    """bench_scale's held-out query vectors, and the content terms of each one's question
    (its first draw, `choice` from a fresh generator of seed 1, picks the questions)."""
    vectors = query_vectors(base, n)
    picked = np.random.default_rng(1).choice(len(base.questions), size=len(vectors), replace=False)
    return vectors, [content_terms(texts.questions[i]) for i in picked]


def slug(title: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-").lower() or "article"


def passage_rows(texts: SquadTexts, anchors: np.ndarray) -> tuple[list[dict], list[list[str]]]:
    """Milvus rows (as `build_milvus` makes them, without vectors) and bm25s's token lists."""
    terms = [content_terms(f"{title}. {context}") for title, context in texts.paragraphs]
    rows: list[dict] = []
    tokens: list[list[str]] = []
    for i, paragraph in enumerate(texts.sentence_paragraph[anchors].tolist()):
        title, context = texts.paragraphs[paragraph]
        rows.append(
            {
                "id": i,
                "doc_id": f"{slug(title)}.txt",
                "title": title,
                "section": title,
                "start": 0,
                "end": len(context),
                "text": context,
                "terms": " ".join(terms[paragraph]),
            }
        )
        tokens.append(terms[paragraph] or [""])
    return rows, tokens


# --- section 1: passage search ----------------------------------------------------------------


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Ids of each query's `k` best rows by exact inner product, best first."""
    scores = queries @ vectors.T
    top = np.argpartition(-scores, k, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
    return np.take_along_axis(top, order, axis=1)


def hit_ids(results: list[list[dict]], k: int) -> np.ndarray:
    """Milvus search results as an array of ids, -1 past the hits returned."""
    ids = np.full((len(results), k), -1, dtype=np.int64)
    for row, hits in enumerate(results):
        found = [int(hit["id"]) for hit in hits][:k]
        ids[row, : len(found)] = found
    return ids


def interleaved(
    calls: dict[str, Callable[[np.ndarray, list[str]], object]],
    queries: np.ndarray,
    terms: list[list[str]],
) -> dict[str, list[float]]:
    """Milliseconds of each call per query; the calls take turns, their order rotating."""
    names = list(calls)
    times: dict[str, list[float]] = {name: [] for name in names}
    for i in range(-WARMUP, len(queries)):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            started = time.perf_counter()
            calls[name](queries[i], terms[i])
            if i >= 0:
                times[name].append((time.perf_counter() - started) * 1000)
    return times


def folder_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1e6


def bench_size(
    base: Base,
    texts: SquadTexts,
    n: int,
    queries: np.ndarray,
    terms: list[list[str]],
    tmp: Path,
) -> dict[str, Any]:
    """Every figure of section 1 at `n` passages."""
    vectors, anchors = synthetic_passages(base, n)
    rows, tokens = passage_rows(texts, anchors)
    kind = choose_kind(n)

    print(f"{n:,} passages: FAISS {kind} + bm25s", file=sys.stderr, flush=True)
    all_threads()
    started = time.perf_counter()
    index = build_vector_index(vectors)
    faiss_s = time.perf_counter() - started
    bm25 = bm25s.BM25()
    bm25.index(tokens, show_progress=False)
    embedded_build_s = time.perf_counter() - started
    local = LocalSearch(index, bm25, n)

    print(f"{n:,} passages: Milvus Lite inserts", file=sys.stderr, flush=True)
    files = tmp / f"files-{n}"
    files.mkdir()
    np.save(files / "passages.npy", vectors)
    keys = np.random.default_rng(n).integers(0, 256, size=(n, 32), dtype=np.uint8)
    np.save(files / "passage_keys.npy", keys)
    milvus_dir = tmp / f"milvus-{n}"
    store = MilvusStore(str(milvus_dir / "milvus.db"), prefix="bench")
    build_name = f"b{n}"
    started, cpu = time.perf_counter(), time.process_time()
    store._write_passages(build_name, files, rows, vectors.shape[1])
    milvus_build_s = time.perf_counter() - started
    client_cpu_s = time.process_time() - cpu  # this process's share: pymilvus's conversions
    del rows
    name = store.collection(build_name, "passages")
    dense_params = {"metric_type": "IP"}
    started = time.perf_counter()
    store.client.search(name, [queries[0].tolist()], anns_field="dense", limit=K)
    ready_s = time.perf_counter() - started
    counted = store.client.query(name, output_fields=["count(*)"])[0]["count(*)"]
    milvus = MilvusSearch(store, build_name, n)
    described = store.client.describe_index(name, "dense")

    def milvus_dense(vector: np.ndarray, _terms: list[str]) -> object:
        return store.client.search(
            name, [vector.tolist()], anns_field="dense", limit=K, search_params=dense_params
        )

    print(f"{n:,} passages: {len(queries)} queries, taking turns", file=sys.stderr, flush=True)
    calls: dict[str, Callable[[np.ndarray, list[str]], object]] = {
        "embedded_search": lambda v, t: local.score(v, t, DEPTH),
        "milvus_search": lambda v, t: milvus.score(v, t, DEPTH),
        "faiss_dense": lambda v, t: search(index, v, K),
        "milvus_dense": milvus_dense,
    }
    times = interleaved(calls, queries, terms)

    exact = exact_top(vectors, queries, DEPTH)
    _, faiss_found = search(index, queries, DEPTH)
    milvus_found = hit_ids(
        store.client.search(
            name,
            [q.tolist() for q in queries],
            anns_field="dense",
            limit=DEPTH,
            search_params=dense_params,
        ),
        DEPTH,
    )
    milvus_mb = folder_mb(milvus_dir)
    store.drop(build_name)
    store.client.close()

    def p(name: str, q: float) -> float:
        return round(float(np.percentile(times[name], q)), 3)

    return {
        "passages": n,
        "queries": len(queries),
        "embedded": {
            "index": f"FAISS {kind} + bm25s",
            "build_s": round(embedded_build_s, 2),
            "faiss_build_s": round(faiss_s, 2),
            "bm25_build_s": round(embedded_build_s - faiss_s, 2),
            "faiss_mb": round(faiss.serialize_index(index).nbytes / 1e6, 1),
            "search_p50_ms": p("embedded_search", 50),
            "search_p95_ms": p("embedded_search", 95),
            "dense_p50_ms": p("faiss_dense", 50),
            "dense_p95_ms": p("faiss_dense", 95),
            "recall_at_10": round(recall(faiss_found, exact, K), 4),
            "recall_at_50": round(recall(faiss_found, exact, DEPTH), 4),
        },
        "milvus": {
            "index": "Milvus Lite AUTOINDEX + BM25",
            "describe_index": {k: str(v) for k, v in described.items()},
            "build_s": round(milvus_build_s, 2),
            "rows_per_s": round(n / milvus_build_s),
            "rows_counted": int(counted),
            "build_client_cpu_s": round(client_cpu_s, 2),
            "ready_s": round(ready_s, 3),
            "db_mb": round(milvus_mb, 1),
            "search_p50_ms": p("milvus_search", 50),
            "search_p95_ms": p("milvus_search", 95),
            "dense_p50_ms": p("milvus_dense", 50),
            "dense_p95_ms": p("milvus_dense", 95),
            "recall_at_10": round(recall(milvus_found, exact, K), 4),
            "recall_at_50": round(recall(milvus_found, exact, DEPTH), 4),
        },
    }


# --- section 2: building a corpus ----------------------------------------------------------


def built(reports: list[BuildReport], startups: list[float] | None = None) -> dict[str, Any]:
    """Medians over the rounds of one kind of build, and every round's seconds."""
    report = reports[0]
    seconds = statistics.median(r.seconds for r in reports)
    embed = statistics.median(r.phases.get("embed", 0.0) for r in reports)
    phases = {
        k: round(statistics.median(r.phases.get(k, 0.0) for r in reports), 2) for k in report.phases
    }
    return {
        "documents": report.documents,
        "passages": report.chunks,
        "sentences": report.sentences,
        "texts_embedded": report.embedded,
        "startup_s": None if startups is None else round(statistics.median(startups), 2),
        "build_s": round(seconds, 2),
        "texts_per_s": round(report.embedded / seconds, 1),
        "embed_s": round(embed, 2),
        "embed_texts_per_s": round(report.embedded / embed, 1) if embed > 0 else None,
        "phases_s": phases,
        "rounds_build_s": [round(r.seconds, 2) for r in reports],
        "rounds_startup_s": None if startups is None else [round(s, 2) for s in startups],
    }


def max_difference(local_index: Path, ray_index: Path) -> tuple[float, float]:
    """Largest |difference| between two builds' sentence vectors, and passage vectors."""
    a, b = load_index(local_index), load_index(ray_index)
    sentences = float(np.abs(a.sentence_vectors - b.sentence_vectors).max())
    passages = np.abs(np.load(a.path / "passages.npy") - np.load(b.path / "passages.npy"))
    return sentences, float(passages.max())


def bench_builds(corpus: Path, tmp: Path, embedder: Embedder, rounds: int) -> dict[str, Any]:
    """Local, Ray and Milvus builds of `corpus`, each from nothing, taking turns `rounds`
    times. Ray is started before each Ray build (timed apart) and shut down after it, so
    that its processes take no CPU from the other builds."""
    import ray

    from qa.index.ray_build import connect

    embedder.encode(["warm-up", "the model's first call is slower than the next ones"])
    reports: dict[str, list[BuildReport]] = {"local": [], "ray": [], "milvus": []}
    startups: list[float] = []
    differences: list[tuple[float, float]] = []
    cpus = 0
    for n in range(rounds):
        local_index, ray_index = tmp / f"local-index-{n}", tmp / f"ray-index-{n}"
        print(f"round {n + 1}: building {corpus} locally", file=sys.stderr, flush=True)
        local_settings = Settings(corpus=corpus, index=local_index, backend="local")
        reports["local"].append(build(local_settings, embedder=embedder))

        print(f"round {n + 1}: starting a local Ray", file=sys.stderr, flush=True)
        started = time.perf_counter()
        connect("local")
        startups.append(time.perf_counter() - started)
        ray.data.DataContext.get_current().enable_progress_bars = False
        cpus = int(ray.cluster_resources().get("CPU", 0))
        print(f"round {n + 1}: building on Ray ({cpus} CPUs)", file=sys.stderr, flush=True)
        try:
            ray_settings = Settings(corpus=corpus, index=ray_index, backend="local")
            reports["ray"].append(build(ray_settings, embedder=embedder, ray="local"))
        finally:
            ray.shutdown()
        differences.append(max_difference(local_index, ray_index))

        print(f"round {n + 1}: building into Milvus Lite", file=sys.stderr, flush=True)
        milvus_settings = Settings(corpus=corpus, index=tmp / f"milvus-index-{n}", backend="milvus")
        reports["milvus"].append(build(milvus_settings, embedder=embedder))
    return {
        "corpus": str(corpus),
        "engine": embedder.model.engine,
        "ray_cpus": cpus,
        "rounds": rounds,
        "local": built(reports["local"]),
        "ray": built(reports["ray"], startups)
        | {
            "max_abs_diff_sentence_vectors": max(d[0] for d in differences),
            "max_abs_diff_passage_vectors": max(d[1] for d in differences),
        },
        "milvus": built(reports["milvus"]),
    }


# --- report ---------------------------------------------------------------------------------


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}x" if b > 0 else "-"


def search_table(sizes: list[dict[str, Any]]) -> str:
    header = [
        "passages",
        "backend",
        "index",
        "build s",
        "ready s",
        "search p50 ms",
        "dense top-10 p50 ms",
        "recall@10",
        "recall@50",
    ]
    rows = []
    for size in sizes:
        e, m = size["embedded"], size["milvus"]
        n = f"{size['passages']:,}"
        for label, f in (("embedded", e), ("Milvus Lite", m)):
            rows.append(
                [
                    n,
                    label,
                    f["index"],
                    f"{f['build_s']:.2f}",
                    f"{f['ready_s']:.3f}" if "ready_s" in f else "-",
                    f"{f['search_p50_ms']:.2f}",
                    f"{f['dense_p50_ms']:.3f}",
                    f"{f['recall_at_10']:.4f}",
                    f"{f['recall_at_50']:.4f}",
                ]
            )
        rows.append(
            [
                n,
                "**Milvus / embedded**",
                "",
                ratio(m["build_s"], e["build_s"]),
                "",
                ratio(m["search_p50_ms"], e["search_p50_ms"]),
                ratio(m["dense_p50_ms"], e["dense_p50_ms"]),
                "",
                "",
            ]
        )
    return table(header, rows)


def build_table(figures: dict[str, Any]) -> str:
    header = [
        "build",
        "Ray start-up s",
        "build s (median)",
        "rounds, s",
        "local s / this s",
        "texts embedded",
        "texts/s",
        "embed phase s",
        "embed texts/s",
        "max abs diff vs local",
    ]
    rows = []
    names = (
        ("local", "local (index folder)"),
        ("ray", f"Ray, local, {figures['ray_cpus']} CPUs (index folder)"),
        ("milvus", "local, into Milvus Lite"),
    )
    local_s = figures["local"]["build_s"]
    for key, label in names:
        f = figures[key]
        diff = (
            f"sentences {f['max_abs_diff_sentence_vectors']:.1e}, "
            f"passages {f['max_abs_diff_passage_vectors']:.1e}"
            if key == "ray"
            else "-"
        )
        startup = "-"
        if f["startup_s"] is not None:
            startup = (
                f"{f['startup_s']:.2f} ({', '.join(f'{s:.1f}' for s in f['rounds_startup_s'])})"
            )
        rows.append(
            [
                label,
                startup,
                f"{f['build_s']:.2f}",
                ", ".join(f"{s:.1f}" for s in f["rounds_build_s"]),
                ratio(local_s, f["build_s"]),
                f"{f['texts_embedded']:,}",
                f"{f['texts_per_s']:.1f}",
                f"{f['embed_s']:.2f}",
                "-" if f["embed_texts_per_s"] is None else f"{f['embed_texts_per_s']:.1f}",
                diff,
            ]
        )
    return table(header, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--queries", type=int, default=QUERIES, help="Held-out queries.")
    parser.add_argument("--squad", type=Path, default=SQUAD, help="The SQuAD-A file.")
    parser.add_argument(
        "--ray-corpus", type=Path, help="Corpus folder for section 2 (default: SQuAD-A)."
    )
    parser.add_argument(
        "--build-rounds", type=int, default=2, help="Rounds of the three builds (medians)."
    )
    parser.add_argument("--skip-builds", action="store_true", help="Section 1 only.")
    parser.add_argument("--json", type=Path, metavar="FILE", help="Write every figure here.")
    args = parser.parse_args()

    started = time.perf_counter()
    base = base_embeddings(args.squad)
    texts = squad_texts(args.squad, base)
    queries, terms = held_out_queries(base, texts, args.queries)
    figures: dict[str, Any] = {"sizes": [], "builds": None}
    with tempfile.TemporaryDirectory(prefix="qa-bench-milvus-") as folder:
        tmp = Path(folder)
        for n in args.sizes:
            figures["sizes"].append(bench_size(base, texts, n, queries, terms, tmp))
            print(json.dumps(figures["sizes"][-1]), file=sys.stderr, flush=True)
        if not args.skip_builds:
            corpus = args.ray_corpus
            if corpus is None:
                corpus = tmp / "squad-a"
                write_squad_corpus(read_squad(args.squad), corpus)
            figures["builds"] = bench_builds(corpus, tmp, load_embedder(0), args.build_rounds)
    figures["total_s"] = round(time.perf_counter() - started, 1)
    figures["load_average_at_end"] = [round(x, 1) for x in os.getloadavg()]

    print(f"## Passage search: embedded index vs Milvus Lite ({args.queries} held-out queries)\n")
    print(search_table(figures["sizes"]))
    for size in figures["sizes"]:
        d = size["milvus"]["describe_index"]
        shown = ", ".join(f"{k}={v}" for k, v in d.items() if k not in ("field_name", "dim"))
        m = size["milvus"]
        print(
            f"\nMilvus Lite at {size['passages']:,} passages: {m['rows_per_s']:,} rows/s "
            f"inserted ({m['build_client_cpu_s']:.1f} s of the {m['build_s']:.1f} s on this "
            f"process's CPU), {m['db_mb']:.0f} MB file; dense index as described: {shown}"
        )
    if figures["builds"]:
        b = figures["builds"]
        corpus_line = (
            f"{b['local']['documents']} documents, {b['local']['passages']} passages, "
            f"{b['local']['sentences']} sentences; engine {b['engine']}"
        )
        print(f"\n## Building {Path(b['corpus']).name} from nothing ({corpus_line})\n")
        print(build_table(b))
    load = ", ".join(f"{x:.1f}" for x in figures["load_average_at_end"])
    print(
        f"\ntotal {figures['total_s']:.0f} s; load average at the end {load} "
        f"({os.cpu_count()} CPUs)"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

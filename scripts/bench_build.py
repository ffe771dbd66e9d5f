"""Index build report: build throughput against plain encoding, start-up, re-indexing.

Run with `.venv/bin/python scripts/bench_build.py [--json]`; `scripts/bench.py` calls `run`.

1. Throughput, on the articles of `squad2-dev-A.json` written as a corpus (one document per
   article, as `qa eval --squad` writes it). The baseline is plain
   `model.encode(all_sentences)`: the raw sentence texts of that corpus, split as the index
   splits them, with sentence-transformers' defaults (batch size 32, torch's default threads),
   in this process. The build is `build_index` from nothing (no previous build to reuse), in
   the same process, timed as `qa index` times it, on the configured engine (onnxruntime by
   default; QA_ENGINE=torch for PyTorch). The build embeds more than the baseline
   (every passage under its title and every sentence under its heading), so the report also
   gives tokens per second of the embedding alone, which is what batching and threads change.
2. Start-up: `qa index` (a subprocess, as a user runs it) on an unchanged corpus, and where
   its time goes, from a subprocess that does what `qa index` does with a clock between steps.
3. Re-indexing, on a 100-document corpus: the 294 paragraphs of SQuAD-A's articles, in
   order, grouped into 100 documents of 2 or 3 paragraphs (titled after their article).
   One document gets a sentence added to its last paragraph, then the index is rebuilt. The
   figure is the rebuild's time minus a no-change rebuild's, both in this process (where
   neither pays for imports or the model: the difference is what the change costs beyond the
   fixed start-up), as a % of the build from nothing. The same difference between `qa index`
   processes is printed beside it; process start-up makes it noisier by about +-0.5 s.

4. Extraction: reading the seed article from each format `tests/samples.py` makes (a news
   site's page around it, Chromium's PDF print with header and footer, pandoc's `.docx`),
   median of 20, beside parsing the `.txt`.

Wall-clock time (`time.perf_counter`); medians where repeated. Nothing is asserted: this is a
report, and on a busy machine it is noisy.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from qa.config import Settings
from qa.corpus.formats import READERS
from qa.corpus.ingest import chunk, load_corpus
from qa.embedding.embed import Embedder, load_embedder
from qa.embedding.torch_model import TorchModel
from qa.index.build import BuildReport, build_index, passage_context, sentence_context
from qa.learning.squad import read_squad, write_squad_corpus

ROOT = Path(__file__).resolve().parent.parent
SQUAD = ROOT / ".." / "shared" / "benchmarks" / "squad2-dev-A.json"
SMALL_CORPUS_DOCUMENTS = 100
THROUGHPUT_TARGET = 2.0  # build sentences/s over plain encode sentences/s, at least
REINDEX_TARGET_PCT = 5.0  # re-index time beyond start-up, % of a full build, at most

# What `qa index` does, with a clock between the steps; prints seconds as JSON.
STARTUP_PROBE = """
import json, sys, time
t0 = time.perf_counter()
from pathlib import Path
import qa.interfaces.cli, qa.pipeline
t1 = time.perf_counter()
import onnxruntime, tokenizers
t2 = time.perf_counter()
from qa.embedding.embed import load_embedder
embedder = load_embedder()
t3 = time.perf_counter()
from qa.config import Settings
from qa.index.build import build_index
settings = Settings(corpus=Path(sys.argv[1]), index=Path(sys.argv[2]))
report = build_index(settings.corpus, settings.index, embedder,
                     max_passage_chars=settings.max_passage_chars)
t4 = time.perf_counter()
print(json.dumps({"in_process": t4 - t0, "imports (qa, typer, faiss, bm25s)": t1 - t0,
                  "imports (onnxruntime, tokenizers)": t2 - t1,
                  "torch imported": "torch" in sys.modules,
                  "model load": t3 - t2, "build": t4 - t3, "phases": report.phases,
                  "embedded": report.embedded}))
"""


def median_time(call: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def sentences_of(corpus: Path, max_passage_chars: int) -> list[str]:
    """Every sentence of the corpus as the index splits it, verbatim."""
    documents = load_corpus(corpus)
    by_id = {d.doc_id: d for d in documents}
    return [
        by_id[s.doc_id].text[s.start : s.end] for s in chunk(documents, max_passage_chars).sentences
    ]


def token_count(embedder: Embedder, texts: list[str]) -> int:
    """Tokens the model reads for these texts (special tokens included, truncated)."""
    return sum(embedder.model.token_lengths(texts))


def write_paragraph_corpus(squad: dict, folder: Path, documents: int) -> None:
    """The articles' paragraphs, in order, grouped into `documents` documents."""
    paragraphs = [
        (article.get("title", "").replace("_", " ").strip() or "Untitled", p["context"])
        for article in squad["data"]
        for p in article["paragraphs"]
    ]
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(documents):
        group = paragraphs[
            n * len(paragraphs) // documents : (n + 1) * len(paragraphs) // documents
        ]
        body = "\n\n".join(" ".join(context.split()) for _, context in group)
        title = f"{group[0][0]}, part {n + 1}"
        (folder / f"doc-{n:03d}.txt").write_text(f"{title}\n\n{body}\n", encoding="utf-8")


def qa_index(corpus: Path, index: Path) -> float:
    """Wall-clock seconds of `qa index` in a fresh process."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    command = [sys.executable, "-c", "from qa.interfaces.cli import main; main()", "index"]
    started = time.perf_counter()
    subprocess.run(
        [*command, "--corpus", str(corpus), "--index", str(index)],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def startup_breakdown(corpus: Path, index: Path) -> dict[str, float]:
    """Where a no-change `qa index` spends its time, measured in a fresh process."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", STARTUP_PROBE, str(corpus), str(index)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    wall = time.perf_counter() - started
    probe = json.loads(out.strip().splitlines()[-1])
    parts = {"process start and exit": wall - probe["in_process"]}
    for name in ("imports (qa, typer, faiss, bm25s)", "imports (onnxruntime, tokenizers)"):
        parts[name] = probe[name]
    parts["model load"] = probe["model load"]
    phases = probe["phases"]
    parts["read and parse corpus"] = phases.get("read", 0.0)
    parts["verify and read previous build"] = phases.get("previous", 0.0)
    parts["split changed documents"] = phases.get("chunk", 0.0)
    parts["hash texts, embed new ones"] = phases.get("embed", 0.0)
    parts["write files, hash corpus, publish"] = phases.get("write", 0.0) + phases.get(
        "publish", 0.0
    )
    parts["other"] = probe["build"] - sum(phases.values())
    return parts


def edit_document(path: Path, n: int) -> None:
    """Add a sentence to the document's last paragraph (a different one each time)."""
    text = path.read_text(encoding="utf-8").rstrip("\n")
    path.write_text(f"{text} This paragraph was revised, revision {n}.\n", encoding="utf-8")


def throughput(
    squad: dict, tmp: Path, embedder: Embedder, plain: TorchModel, repeat: int
) -> dict[str, Any]:
    corpus = tmp / "articles"
    write_squad_corpus(squad, corpus)
    max_chars = Settings().max_passage_chars
    sentences = sentences_of(corpus, max_chars)
    plain_times: list[float] = []
    builds: list[BuildReport] = []
    for i in range(repeat):  # taking turns, so that load from other processes hits both
        started = time.perf_counter()
        plain.model.encode(sentences)  # sentence-transformers on PyTorch, every default
        plain_times.append(time.perf_counter() - started)
        index = tmp / f"articles-index-{i}"
        builds.append(build_index(corpus, index, embedder, max_passage_chars=max_chars))
        shutil.rmtree(index)
    plain_s = statistics.median(plain_times)
    build = statistics.median(b.seconds for b in builds)
    embed = statistics.median(b.phases["embed"] for b in builds)
    report = builds[0]
    texts = embedded_texts(corpus, max_chars)
    plain_rate = len(sentences) / plain_s
    build_rate = report.sentences / build
    plain_tokens, build_tokens = token_count(embedder, sentences), token_count(embedder, texts)
    return {
        "documents": report.documents,
        "sentences": report.sentences,
        "torch_threads": torch.get_num_threads(),
        "plain_encode_s": round(plain_s, 3),
        "plain_sentences_per_s": round(plain_rate, 1),
        "build_s": round(build, 3),
        "build_sentences_per_s": round(build_rate, 1),
        "ratio": round(build_rate / plain_rate, 2),
        "build_phases_s": {k: round(v, 3) for k, v in report.phases.items()},
        "plain_tokens": plain_tokens,
        "build_texts_embedded": report.embedded,
        "build_tokens": build_tokens,
        "plain_tokens_per_s": round(plain_tokens / plain_s),
        "build_embed_tokens_per_s": round(build_tokens / embed),
        "token_rate_ratio": round((build_tokens / embed) / (plain_tokens / plain_s), 2),
    }


def embedded_texts(corpus: Path, max_chars: int) -> list[str]:
    """The distinct texts a build of the corpus embeds (passages and sentences in context)."""
    documents = load_corpus(corpus)
    by_id = {d.doc_id: d for d in documents}
    chunks = chunk(documents, max_chars)
    texts = [passage_context(by_id[p.doc_id], p) for p in chunks.passages] + [
        sentence_context(
            by_id[s.doc_id], chunks.passages[s.passage_id], by_id[s.doc_id].text[s.start : s.end]
        )
        for s in chunks.sentences
    ]
    return list(dict.fromkeys(texts))


def reindexing(squad: dict, tmp: Path, embedder: Embedder, repeat: int) -> dict[str, Any]:
    corpus, index = tmp / "paragraphs", tmp / "paragraphs-index"
    write_paragraph_corpus(squad, corpus, SMALL_CORPUS_DOCUMENTS)
    max_chars = Settings().max_passage_chars
    full = build_index(corpus, index, embedder, max_passage_chars=max_chars)
    edited = corpus / f"doc-{SMALL_CORPUS_DOCUMENTS // 2:03d}.txt"
    # No change and one change take turns, so that load from other processes hits both.
    # In this process the start-up (imports, model) is paid once and not at all in either,
    # so the difference is exactly the work a change adds; `qa index` processes confirm it.
    runs: dict[str, list[float]] = {"same": [], "changed": [], "qa_same": [], "qa_changed": []}
    for n in range(repeat):
        runs["same"].append(
            build_index(corpus, index, embedder, max_passage_chars=max_chars).seconds
        )
        edit_document(edited, 2 * n)
        runs["changed"].append(
            build_index(corpus, index, embedder, max_passage_chars=max_chars).seconds
        )
        runs["qa_same"].append(qa_index(corpus, index))
        edit_document(edited, 2 * n + 1)
        runs["qa_changed"].append(qa_index(corpus, index))
    breakdowns = [startup_breakdown(corpus, index) for _ in range(repeat)]
    startup = {k: round(statistics.median(b[k] for b in breakdowns), 3) for k in breakdowns[0]}
    median = {k: statistics.median(v) for k, v in runs.items()}
    beyond = median["changed"] - median["same"]
    beyond_qa = median["qa_changed"] - median["qa_same"]
    return {
        "documents": full.documents,
        "sentences": full.sentences,
        "full_build_s": round(full.seconds, 3),
        "no_change_qa_index_s": round(median["qa_same"], 3),
        "startup_breakdown_s": startup,
        "one_changed_qa_index_s": round(median["qa_changed"], 3),
        "no_change_build_s": round(median["same"], 3),
        "one_changed_build_s": round(median["changed"], 3),
        "beyond_startup_s": round(beyond, 3),
        "beyond_startup_pct_of_full_build": round(100 * beyond / full.seconds, 2),
        "qa_index_beyond_startup_s": round(beyond_qa, 3),
        "qa_index_beyond_startup_pct_of_full_build": round(100 * beyond_qa / full.seconds, 2),
    }


def extraction(tmp: Path, repeat: int = 20) -> dict[str, dict[str, float]]:
    """Median time to read the seed article from each format the tests make (a news page,
    Chromium's PDF print with header and footer, pandoc's .docx), against the .txt parse."""
    sys.path.insert(0, str(ROOT / "tests"))
    from samples import ARTICLE, make_samples

    files = {"txt": ARTICLE}
    for kind, folder in make_samples(tmp / "formats").items():
        files[kind] = next(folder.iterdir())
    out = {}
    for kind, path in files.items():
        reader = READERS.get(path.suffix)
        if reader is None:
            seconds = median_time(lambda path=path: load_corpus(path.parent), repeat)
        else:
            seconds = median_time(lambda path=path, reader=reader: reader(path), repeat)
        out[kind] = {"ms": round(seconds * 1000, 2), "kb": round(path.stat().st_size / 1024, 1)}
    return out


def run(squad_path: Path, tmp: Path, *, repeat: int = 1, reindex_repeat: int = 3) -> dict[str, Any]:
    """Every figure of the report, plus `rows` of (measurement, figure, target, met)."""
    tmp.mkdir(parents=True, exist_ok=True)
    squad = read_squad(squad_path)
    embedder = load_embedder()
    plain = TorchModel()
    for model in (embedder.model, plain):
        model.encode_batch(["warm-up", "the model's first call is slower"])
    figures = {
        "engine": embedder.model.engine,
        "throughput": throughput(squad, tmp, embedder, plain, repeat),
        "reindex": reindexing(squad, tmp, embedder, reindex_repeat),
        "extraction": extraction(tmp),
    }
    figures["rows"] = rows(figures)
    return figures


def rows(figures: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    t, r = figures["throughput"], figures["reindex"]
    out: list[tuple[str, str, str, bool | None]] = [
        (
            f"plain model.encode({t['sentences']} sentences), defaults, "
            f"{t['torch_threads']} threads",
            f"{t['plain_sentences_per_s']:.0f} sentences/s ({t['plain_encode_s']:.1f} s)",
            "",
            None,
        ),
        (
            f"full build of {t['documents']} articles (embeds {t['build_texts_embedded']} texts), "
            f"{figures['engine']}",
            f"{t['build_sentences_per_s']:.0f} sentences/s ({t['build_s']:.1f} s)",
            "",
            None,
        ),
        (
            "build / plain, sentences/s",
            f"{t['ratio']:.2f}x",
            f">= {THROUGHPUT_TARGET:g}x",
            t["ratio"] >= THROUGHPUT_TARGET,
        ),
        (
            "embedding tokens/s, build / plain",
            f"{t['build_embed_tokens_per_s']} / {t['plain_tokens_per_s']} = "
            f"{t['token_rate_ratio']:.2f}x (build reads {t['build_tokens']} tokens, "
            f"plain {t['plain_tokens']})",
            "",
            None,
        ),
        (
            f"no-change qa index, {r['documents']} documents (start-up)",
            f"{r['no_change_qa_index_s']:.2f} s",
            "",
            None,
        ),
    ]
    for part, seconds in r["startup_breakdown_s"].items():
        out.append((f"  {part}", f"{seconds:.2f} s", "", None))
    pct = r["beyond_startup_pct_of_full_build"]
    out += [
        (
            "qa index after 1 of 100 documents changed",
            f"{r['one_changed_qa_index_s']:.2f} s",
            "",
            None,
        ),
        (
            "  beyond start-up, % of full build",
            f"{r['one_changed_build_s']:.2f} - {r['no_change_build_s']:.2f} s = "
            f"{pct:.1f} % of {r['full_build_s']:.1f} s (qa index processes: "
            f"{r['qa_index_beyond_startup_pct_of_full_build']:+.1f} %)",
            f"<= {REINDEX_TARGET_PCT:g} %",
            pct <= REINDEX_TARGET_PCT,
        ),
    ]
    for kind, e in figures["extraction"].items():
        what = "parse" if kind == "txt" else "extract"
        out.append(
            (f"{what} the seed article, .{kind} ({e['kb']} KB)", f"{e['ms']:.1f} ms", "", None)
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, default=SQUAD, help="The SQuAD-A file.")
    parser.add_argument("--repeat", type=int, default=1, help="Plain encodes and full builds.")
    parser.add_argument("--reindex-repeat", type=int, default=3, help="Re-index runs of each kind.")
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qa-bench-build-") as tmp:
        figures = run(args.squad, Path(tmp), repeat=args.repeat, reindex_repeat=args.reindex_repeat)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    table = [
        (name, figure, target, "" if met is None else ("met" if met else "MISSED"))
        for name, figure, target, met in figures["rows"]
    ]
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


if __name__ == "__main__":
    main()

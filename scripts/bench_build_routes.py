"""What the index build's throughput target would take: each way to cut its cost, measured.

Run with `.venv/bin/python scripts/bench_build_routes.py [--json]` (or `make bench-routes`).

Issue 7 asks for a build at 2x the sentences/s of plain `model.encode(all_sentences)`. This
report times, in one process and taking turns, plain `model.encode` of SQuAD-A's sentences
(sentence-transformers on PyTorch, every default) against the service's batching
(`Embedder.encode`) on onnxruntime, fp32 (the service's export) and int8 (that export through
onnxruntime's `quantize_dynamic`, per channel, made here in a temporary folder), each on three
sets of texts:

- what the build embeds today: every passage under its title and every sentence under its
  heading;
- the passages alone, as a build would if sentence vectors were pooled from their passage's
  tokens;
- the bare sentences alone, plain's own texts, as a build would if passage vectors were made
  from their sentences' vectors.

Each figure is the median embedding time; a build would add what a real build here spends
besides embedding (reading, sentence splitting, writing), measured once. Printed as the
build/plain ratio each route would reach. Two figures say what int8 costs in answers' terms:
how far its vectors move from fp32's (the lowest cosine between the two), and whether a
text's vector depends on what it is batched with (embedded alone vs in its build batch).
"""

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench_build import SQUAD, THROUGHPUT_TARGET, embedded_texts, sentences_of
from qa.config import Settings
from qa.embedding.embed import Embedder, load_embedder
from qa.embedding.onnx_model import OnnxModel, export_folder
from qa.embedding.torch_model import TorchModel
from qa.index.build import build_index
from qa.learning.squad import read_squad, write_squad_corpus


def quantized_copy(export: Path, folder: Path) -> Path:
    """The export with its model quantised to int8 (dynamic, per channel)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    shutil.copytree(export, folder, ignore=shutil.ignore_patterns("model.onnx"))
    quantize_dynamic(
        export / "model.onnx", folder / "model.onnx", weight_type=QuantType.QInt8, per_channel=True
    )
    return folder


def batch_dependence(embedder: Embedder, texts: list[str]) -> float:
    """Largest change in a text's vector between embedding it alone and in its batch."""
    batched = embedder.encode(texts)
    sample = range(0, len(texts), max(1, len(texts) // 50))
    return max(
        float(np.abs(embedder.model.encode_batch([texts[i]])[0] - batched[i]).max()) for i in sample
    )


def run(squad_path: Path, tmp: Path, repeat: int) -> dict[str, Any]:
    corpus = tmp / "articles"
    write_squad_corpus(read_squad(squad_path), corpus)
    max_chars = Settings().max_passage_chars
    service = load_embedder(0)
    if service.model.engine != "onnx":
        raise SystemExit("the ONNX engine is unavailable; this report compares its precisions")
    # What a build spends besides embedding, from a real build (the first sentence split of
    # this process included, as `qa index` pays it).
    report = build_index(corpus, tmp / "index", service, max_passage_chars=max_chars)
    fixed = report.seconds - report.phases["embed"]
    sentences = sentences_of(corpus, max_chars)
    build_texts = embedded_texts(corpus, max_chars)
    passages = build_texts[: report.chunks]  # the build's texts are its passages first
    text_sets = {
        "build's texts (today)": build_texts,
        "passages alone": passages,
        "bare sentences alone": sentences,
    }
    models = {
        "fp32": service.model,
        "int8": OnnxModel(quantized_copy(export_folder(Settings().model_cache), tmp / "int8")),
    }
    embedders = {name: Embedder(model, cache_size=0) for name, model in models.items()}
    plain = TorchModel()
    for model in (plain, *models.values()):
        model.encode_batch(["warm-up", "the model's first call is slower"])

    times: dict[str, list[float]] = {}
    vectors: dict[str, np.ndarray] = {}
    for _ in range(repeat):  # taking turns, so that load from other processes hits all
        started = time.perf_counter()
        plain.model.encode(sentences)  # sentence-transformers on PyTorch, every default
        times.setdefault("plain", []).append(time.perf_counter() - started)
        for precision, embedder in embedders.items():
            for label, texts in text_sets.items():
                started = time.perf_counter()
                vectors[precision] = embedder.encode(texts)
                times.setdefault(f"{precision}|{label}", []).append(time.perf_counter() - started)
    plain_s = statistics.median(times.pop("plain"))
    routes = []
    for key, values in times.items():
        precision, label = key.split("|")
        embed_s = statistics.median(values)
        routes.append(
            {
                "precision": precision,
                "texts": label,
                "tokens": sum(models[precision].token_lengths(text_sets[label])),
                "embed_s": round(embed_s, 3),
                "build_s": round(embed_s + fixed, 3),
                "ratio": round(plain_s / (embed_s + fixed), 2),
            }
        )
    # vectors[...] holds the last text set, the bare sentences, for both precisions.
    cosines = (vectors["int8"] * vectors["fp32"]).sum(axis=1)
    return {
        "sentences": len(sentences),
        "plain_encode_s": round(plain_s, 3),
        "build_besides_embedding_s": round(fixed, 3),
        "build_phases_s": {k: round(v, 3) for k, v in report.phases.items()},
        "routes": routes,
        "int8_lowest_cosine_to_fp32": round(float(cosines.min()), 4),
        "batch_dependence": {
            name: batch_dependence(embedder, sentences) for name, embedder in embedders.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, default=SQUAD, help="The SQuAD-A file.")
    parser.add_argument("--repeat", type=int, default=3, help="Runs of each, taking turns.")
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qa-bench-routes-") as tmp:
        figures = run(args.squad, Path(tmp), args.repeat)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(
        f"plain model.encode({figures['sentences']} sentences): {figures['plain_encode_s']:.2f} s;"
        f" a build spends {figures['build_besides_embedding_s']:.2f} s besides embedding"
        f" {figures['build_phases_s']}"
    )
    print(f"{'engine':6}  {'texts embedded':22}  {'tokens':>7}  {'embed':>7}  {'build':>7}  ratio")
    for r in figures["routes"]:
        verdict = "reaches" if r["ratio"] >= THROUGHPUT_TARGET else "short of"
        print(
            f"{r['precision']:6}  {r['texts']:22}  {r['tokens']:7d}  {r['embed_s']:6.2f}s"
            f"  {r['build_s']:6.2f}s  {r['ratio']:.2f}x ({verdict} {THROUGHPUT_TARGET:g}x)"
        )
    lowest = figures["int8_lowest_cosine_to_fp32"]
    print(f"int8 vs fp32, lowest cosine of a sentence's two vectors: {lowest}")
    for name, diff in figures["batch_dependence"].items():
        print(f"{name}: a sentence's vector alone vs in its batch, largest change {diff:.1e}")


if __name__ == "__main__":
    main()

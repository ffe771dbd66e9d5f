"""The same question sets on every backend: answer accuracy on the embedded index, on Milvus
built in this process, and on Milvus built through Ray Data (`make eval-backends`).

The sets are `eval_sets.py`'s: the project's gold sets and the shared development sets
(SQuAD-A, quac-dev whole and scoped, nq-dev). The embedded indexes are `make eval`'s, in
.cache/eval/; the Milvus ones are Milvus Lite files in .cache/eval-backends/, the Ray-built
ones made from nothing on every run (so that Ray embeds every text). Needs the scale extra.
Prints one table, the largest difference from the embedded index in each row, and whether
every set is within `--tolerance` (0.02, issue 17's bar) on answer accuracy.
"""

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

from eval_sets import REPO, asker, sets
from qa.config import Settings
from qa.embedding.embed import load_embedder
from qa.learning.evaluate import evaluate
from qa.pipeline import Pipeline, build

METRICS = (
    ("answer_accuracy", "answer"),
    ("citation_accuracy", "citation"),
    ("abstention_accuracy", "abstention"),
    ("recall@5", "R@5"),
    ("p50_ms", "p50 ms"),
)
BACKENDS = ("local", "milvus", "milvus-ray")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--benchmarks", type=Path, default=REPO.parent / "shared" / "benchmarks")
    parser.add_argument("--work", type=Path, default=REPO / ".cache" / "eval")
    parser.add_argument("--milvus-work", type=Path, default=REPO / ".cache" / "eval-backends")
    parser.add_argument("--ray", default="local", help="Ray address for the Ray builds")
    parser.add_argument("--tolerance", type=float, default=0.02)
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    args = parser.parse_args()
    embedder = load_embedder(0)  # no question cache: every question is timed in full
    results: dict[str, dict[str, dict[str, float]]] = {}
    builds: dict[str, dict[str, float]] = {}
    for name, corpus, items, scoped in sets(args.benchmarks, args.work):
        slug = "".join(c if c.isalnum() else "-" for c in name.removesuffix(" scoped"))
        work = args.milvus_work / slug
        if name.endswith(" scoped") and slug in builds:
            ray_fresh = False  # the whole-library set just built it
        else:
            ray_fresh = True
            shutil.rmtree(work / "ray", ignore_errors=True)
        chosen = {
            "local": Settings(corpus=corpus, index=args.work / slug),
            "milvus": Settings(corpus=corpus, index=work / "lite", backend="milvus"),
            "milvus-ray": Settings(corpus=corpus, index=work / "ray", backend="milvus"),
        }
        results[name] = {}
        for backend, settings in chosen.items():
            if backend == "milvus-ray" and ray_fresh:
                started = time.perf_counter()
                report = build(settings, embedder=embedder, ray=args.ray)
                builds.setdefault(slug, {})["ray_build_s"] = round(time.perf_counter() - started, 1)
                builds[slug]["embedded"] = report.embedded
            pipeline = Pipeline.load_or_build(settings, embedder=embedder)
            report = evaluate(pipeline, items, asker(pipeline), name=backend, scoped=scoped)
            results[name][backend] = report.metrics
        print(f"{name}: {len(items)} questions", file=sys.stderr)
    if args.json:
        out = {"results": results, "ray_builds": builds}
        args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(table(results))
    worst = max(
        abs(r[b]["answer_accuracy"] - r["local"]["answer_accuracy"])
        for r in results.values()
        for b in BACKENDS[1:]
    )
    verdict = "within" if worst <= args.tolerance else "NOT within"
    print(f"\nlargest answer-accuracy difference: {worst:.3f} ({verdict} {args.tolerance})")


def table(results: dict[str, dict[str, dict[str, float]]]) -> str:
    """A row per set: each metric as local / milvus / milvus-ray."""
    head = "| set | n | " + " | ".join(label for _, label in METRICS) + " |"
    lines = [head, "|" + "---|" * (2 + len(METRICS))]
    for name, by_backend in results.items():
        cells = []
        for key, _ in METRICS:
            cells.append(" / ".join(f"{by_backend[b][key]}" for b in BACKENDS))
        lines.append(f"| {name} | {by_backend['local']['n']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()

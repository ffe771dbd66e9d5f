"""`qa eval` on every question set at once, with the baselines, as one table (`make eval`).

The sets are the shared development sets (SQuAD-A, SQuAD-C, quac-dev, nq-dev; skipped
when ../shared/benchmarks is absent) and the project's own gold sets. Each corpus is indexed
once into .cache/eval/ (rebuilt only when stale); the real-document set is asked when
`make real-documents` has built its corpus. quac-dev is asked twice: of the whole
library, and each dialogue within its own document (`doc_ids`, as `qa eval --scoped`).
The SQuAD sets also get the official SQuAD v2.0 exact match and F1 (as `qa eval --squad`).
`--json FILE` also writes every figure, so that a later run can be printed beside it with
`--before FILE`.
"""

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from qa.config import Settings
from qa.embedding.embed import load_embedder
from qa.learning.baselines import bm25_top_sentence, dense_top_sentence
from qa.learning.evaluate import System, add_official_scores, evaluate, load_gold
from qa.learning.squad import read_squad, write_squad_corpus
from qa.pipeline import AskResult, Pipeline
from qa.question.conversation import Turn

REPO = Path(__file__).resolve().parents[1]
COLUMNS = (
    ("answer_accuracy", "answer"),
    ("citation_accuracy", "citation"),
    ("abstention_accuracy", "abstention"),
    ("false_abstention_rate", "declined"),
    ("recall@5", "R@5"),
    ("exact", "EM"),
    ("f1", "F1"),
    ("p50_ms", "p50 ms"),
)
SQUAD_SETS = {"SQuAD-A": "squad2-dev-A.json", "SQuAD-C": "squad2-dev-C.json"}


def sets(benchmarks: Path, work: Path) -> list[tuple[str, Path, list, bool]]:
    """(name, corpus, items, scoped) of every set that is present."""
    gold = REPO / "tests" / "gold"
    found = [
        ("gold (seed, clean)", REPO / "corpus", load_gold(gold / "defectors.jsonl"), False),
        ("chat (seed, chat-box)", REPO / "corpus", load_gold(gold / "chat-defectors.jsonl"), False),
        (
            "chat-steam-engine",
            gold / "corpora" / "steam-engine",
            load_gold(gold / "chat-steam-engine.jsonl"),
            False,
        ),
    ]
    real = REPO / ".cache" / "real-documents" / "corpus"  # make real-documents
    if real.is_dir():
        found.append(("real-documents", real, load_gold(gold / "real-documents.jsonl"), False))
    if benchmarks.is_dir():
        for name, file in SQUAD_SETS.items():
            squad = benchmarks / file
            corpus = work / f"{squad.stem}-corpus"  # each its own corpus: other articles
            found.append((name, corpus, write_squad_corpus(read_squad(squad), corpus), False))
        quac = load_gold(benchmarks / "quac-dev" / "gold.jsonl")
        found.append(("quac-dev", benchmarks / "quac-dev" / "corpus", quac, False))
        found.append(("quac-dev scoped", benchmarks / "quac-dev" / "corpus", quac, True))
        nq = load_gold(benchmarks / "nq-dev" / "gold.jsonl")
        found.append(("nq-dev", benchmarks / "nq-dev" / "corpus", nq, False))
    return found


def asker(pipeline: Pipeline) -> System:
    """The pipeline as the system `evaluate` asks."""

    def ask(question: str, history: list[Turn], doc_ids: list[str] | None) -> AskResult:
        return pipeline.ask(question, history=history, doc_ids=doc_ids)

    return ask


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--benchmarks", type=Path, default=REPO.parent / "shared" / "benchmarks")
    parser.add_argument("--work", type=Path, default=REPO / ".cache" / "eval")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    parser.add_argument("--before", type=Path, help="a --json file to print beside this run")
    args = parser.parse_args()
    embedder = load_embedder(0)  # no question cache: every question is timed in full
    before = json.loads(args.before.read_text()) if args.before else {}
    results: dict[str, dict[str, dict[str, float]]] = {}
    for name, corpus, items, scoped in sets(args.benchmarks, args.work):
        slug = "".join(c if c.isalnum() else "-" for c in name.removesuffix(" scoped"))
        settings = Settings(corpus=corpus, index=args.work / slug)
        pipeline = Pipeline.load_or_build(settings, embedder=embedder)
        results[name] = {}
        for system, ask in (
            ("qa", asker(pipeline)),
            ("bm25-top-sentence", bm25_top_sentence(pipeline).ask),
            ("dense-top-sentence", dense_top_sentence(pipeline).ask),
        ):
            report = evaluate(pipeline, items, ask, name=system, scoped=scoped)
            if name in SQUAD_SETS:
                add_official_scores(report, items)
            results[name][system] = report.metrics
        print(f"{name}: {len(items)} questions", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(table(results, before))


def table(results: dict, before: dict, columns: tuple[tuple[str, str], ...] = COLUMNS) -> str:
    """One markdown table: a row per set and system, `before → now` where a before exists
    (– for a figure that has nothing to count, or that the set has not: EM and F1 are
    SQuAD's)."""
    head = "| set | system | n | " + " | ".join(label for _, label in columns) + " |"
    lines = [head, "|" + "---|" * (3 + len(columns))]
    for name, systems in results.items():
        for system, metrics in systems.items():
            old = before.get(name, {}).get(system, {})
            cells = []
            for key, _ in columns:
                now = shown(metrics.get(key))
                cells.append(f"{shown(old[key])} → {now}" if key in old and system == "qa" else now)
            lines.append(f"| {name} | {system} | {metrics['n']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def shown(figure: float | None) -> str:
    return "–" if figure is None else f"{figure}"


if __name__ == "__main__":
    main()

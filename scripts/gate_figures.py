"""The figures of a quality gate in tests/gold/thresholds.json, from a `qa eval --json` run.

    .venv/bin/qa eval ../shared/benchmarks/squad2-dev-C.json --squad --limit 500 --seed 1 \\
        --json > squad-C.json
    .venv/bin/python scripts/gate_figures.py squad-C squad-C.json

prints, for every figure the gate `squad-C` holds, what the run reached and the gate the
file's margin policy gives: the figure reached, less two standard errors of the questions
it is over (a floor), or plus two (a ceiling, `_max`), rounded outwards. A share's standard
error is sqrt(p (1 - p) / n); an official SQuAD score's, its questions' standard deviation
over sqrt(n). Paste what it prints into the set's entry, with a `_reached` note.
"""

import argparse
import json
import math
import statistics
from collections.abc import Callable
from pathlib import Path

from qa.learning.squad_metrics import exact_match, normalize_answer, token_f1

REPO = Path(__file__).resolve().parents[1]
THRESHOLDS = REPO / "tests" / "gold" / "thresholds.json"


def per_question(metric: str, items: list[dict]) -> list[float]:
    """The values whose mean is `metric`, one per question it is over."""
    answerable = [i for i in items if i["answerable"]]
    rank = [i["rank"] for i in answerable]
    values = {
        "answer_accuracy": lambda: [float(i["correct"]) for i in answerable],
        "citation_accuracy": lambda: [float(i["cited"]) for i in answerable],
        "false_abstention_rate": lambda: [float(not i["answered"]) for i in answerable],
        "abstention_accuracy": lambda: [float(i["correct"]) for i in items if not i["answerable"]],
        "recall@1": lambda: [float(r is not None and r <= 1) for r in rank],
        "recall@5": lambda: [float(r is not None and r <= 5) for r in rank],
        "mrr": lambda: [1 / r if r else 0.0 for r in rank],
        "exact": lambda: [100.0 * _best(exact_match, i) for i in items],
        "f1": lambda: [100.0 * _best(token_f1, i) for i in items],
    }
    if metric not in values:
        raise SystemExit(f"no per-question values for {metric}")
    return values[metric]()


def _best(score: Callable[[str, str], float], item: dict) -> float:
    golds = [a for a in item["expected"] if normalize_answer(a)] if item["answerable"] else []
    return max(score(gold, item["short_answer"]) for gold in golds or [""])


def gate(metric: str, values: list[float], ceiling: bool) -> tuple[float, float]:
    """The figure reached and its gate, rounded outwards (0.01 for shares, 0.1 for scores)."""
    mean = statistics.fmean(values)
    error = statistics.pstdev(values) / math.sqrt(len(values))
    step = 0.1 if metric in ("exact", "f1") else 0.01
    bound = mean + 2 * error if ceiling else mean - 2 * error
    rounded = (math.ceil if ceiling else math.floor)(round(bound / step, 6)) * step
    return mean, round(rounded, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("set", help="the gate's name in thresholds.json, e.g. squad-C")
    parser.add_argument("run", type=Path, help="what `qa eval ... --json` printed")
    args = parser.parse_args()
    entry = json.loads(THRESHOLDS.read_text(encoding="utf-8"))[args.set]
    items = json.loads(args.run.read_text(encoding="utf-8"))["items"]
    figures, reached = {}, []
    for key in (k for k in entry if not k.startswith("_")):
        metric = key.removesuffix("_max")
        mean, bound = gate(metric, per_question(metric, items), key.endswith("_max"))
        figures[key] = bound
        reached.append(f"{metric} {mean:.4g}")
    print(json.dumps({"_reached": ", ".join(reached), **figures}, indent=2))


if __name__ == "__main__":
    main()

"""Scores a system on a gold set: answers, citations, abstention, retrieval and latency.

Retrieval measures come from ir-measures (trec_eval underneath): success@k is the contract's
"recall@k" (the first passage holding a gold answer is within the top k) and RR its "mrr".
"""

import json
import random
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import ir_measures
from ir_measures import RR, Success

from qa.answer.templates import Answer
from qa.errors import QAError
from qa.learning.squad import GoldItem
from qa.learning.squad_metrics import official_scores
from qa.pipeline import AskResult, Pipeline
from qa.question.conversation import Turn

# A system answers a question given the earlier turns of the chat, from the documents
# named (None: the whole corpus); its AskResult lists the passages it retrieved, best first.
System = Callable[[str, list[Turn], list[str] | None], AskResult]


class GoldError(QAError):
    """The gold file is missing or malformed."""


@dataclass(frozen=True, slots=True)
class ItemResult:
    id: str
    question: str
    kind: str | None
    answerable: bool
    expected: list[str]
    answer: str
    answered: bool
    short_answer: str  # the prediction the official SQuAD script reads: "" when declined
    correct: bool
    cited: bool
    confidence: float
    took_ms: float
    rank: int | None  # of the first retrieved passage holding a gold answer


@dataclass(slots=True)
class Report:
    """Metrics of one system over a gold set, overall and by item kind."""

    system: str
    metrics: dict[str, float]
    by_kind: dict[str, dict[str, float]] = field(default_factory=dict)
    items: list[ItemResult] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.metrics,
            "system": self.system,
            "by_kind": self.by_kind,
            "items": [asdict(i) for i in self.items],
        }


def normalise(text: str) -> str:
    """Case and white space ignored, as the contract compares answers."""
    return " ".join(text.split()).lower()


def contains_answer(text: str, answers: list[str]) -> bool:
    text = normalise(text)
    return any(normalise(a) in text for a in answers if a.strip())


def prediction(answer: Answer) -> str:
    """The short answer an answer gives: "" when declined, else its short answer, or failing
    one the quote it cites first."""
    if not answer.answered:
        return ""
    if answer.short_answer is not None:
        return answer.short_answer.text
    return answer.citations[0].quote if answer.citations else answer.answer


# --- gold files ----------------------------------------------------------------------------


def load_gold(path: Path) -> list[GoldItem]:
    """Read a gold set in the contract's JSON Lines format, with line-numbered errors."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise GoldError(f"cannot read gold file {path}: {exc}") from exc
    items = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            items.append(_gold_item(data))
        except (ValueError, TypeError, KeyError) as exc:
            raise GoldError(f"{path}:{number}: not a gold item ({exc})") from exc
    if not items:
        raise GoldError(f"{path} holds no gold items")
    ids = [i.id for i in items]
    if len(set(ids)) != len(ids):
        raise GoldError(f"{path}: item ids are not unique")
    return items


def _gold_item(data: dict[str, Any]) -> GoldItem:
    if not isinstance(data, dict):
        raise TypeError("a line must be a JSON object")
    if not isinstance(data["question"], str) or not isinstance(data["answers"], list):
        raise TypeError("question must be a string and answers a list")
    history = data.get("history") or []
    return GoldItem(
        id=str(data["id"]),
        question=data["question"],
        answers=[str(a) for a in data["answers"]],
        answerable=bool(data["answerable"]),
        history=[
            {"question": str(t["question"]), "answer": str(t.get("answer", ""))} for t in history
        ],
        kind=data.get("kind"),
        doc=data.get("doc"),
        wrong_answers=[str(a) for a in data.get("wrong_answers") or []],
    )


def sample(items: list[GoldItem], limit: int | None, seed: int) -> list[GoldItem]:
    """A seeded sample of `limit` items, kept in file order."""
    if limit is None or limit >= len(items):
        return items
    chosen = set(random.Random(seed).sample(range(len(items)), limit))
    return [item for i, item in enumerate(items) if i in chosen]


# --- scoring -------------------------------------------------------------------------------


def evaluate(
    pipeline: Pipeline,
    items: list[GoldItem],
    system: System,
    *,
    name: str,
    scoped: bool = False,
) -> Report:
    """Ask every item, then score answers, citations, abstention, retrieval and latency.
    `scoped` asks each item within its `doc` (items without one, of the whole corpus)."""
    if scoped:
        unknown = sorted({i.doc for i in items if i.doc and i.doc not in pipeline.index.documents})
        if unknown:
            shown = ", ".join(unknown[:3]) + (" …" if len(unknown) > 3 else "")
            raise GoldError(f"{len(unknown)} gold documents are not in the index: {shown}")
    passage_texts = [normalise(pipeline.index.passage_text(p)) for p in pipeline.index.passages]
    results = []
    qrels, run = [], []
    for item in items:
        history = [Turn(t["question"], t.get("answer", "")) for t in item.history]
        result = system(item.question, history, [item.doc] if scoped and item.doc else None)
        answer = result.answer
        correct = (
            answer.answered and contains_answer(answer.answer, item.answers)
            if item.answerable
            else not answer.answered
        )
        rank = None
        if item.answerable:
            relevant = {
                i for i, text in enumerate(passage_texts) if contains_answer(text, item.answers)
            }
            qrels += [ir_measures.Qrel(item.id, str(i), 1) for i in relevant]
            ranking = result.retrieved
            run += [
                ir_measures.ScoredDoc(item.id, str(pid), float(len(ranking) - r))
                for r, pid in enumerate(ranking)
            ]
            rank = next((r + 1 for r, pid in enumerate(ranking) if pid in relevant), None)
        results.append(
            ItemResult(
                id=item.id,
                question=item.question,
                kind=item.kind,
                answerable=item.answerable,
                expected=item.answers,
                answer=answer.answer,
                answered=answer.answered,
                short_answer=prediction(answer),
                correct=correct,
                cited=any(contains_answer(c.quote, item.answers) for c in answer.citations),
                confidence=answer.confidence,
                took_ms=result.took_ms,
                rank=rank,
            )
        )
    retrieval = _retrieval(qrels, run, [r.id for r in results if r.answerable])
    report = Report(name, _metrics(results, retrieval), items=results)
    kinds = sorted({r.kind for r in results if r.kind})
    for kind in kinds:
        subset = [r for r in results if r.kind == kind]
        report.by_kind[kind] = _metrics(subset, retrieval)
    return report


def _retrieval(
    qrels: list[ir_measures.Qrel], run: list[ir_measures.ScoredDoc], ids: list[str]
) -> dict[str, dict[str, float]]:
    """Per-item success@1, success@5 and reciprocal rank (0 when nothing relevant is found)."""
    per_item: dict[str, dict[str, float]] = {
        i: {"recall@1": 0.0, "recall@5": 0.0, "mrr": 0.0} for i in ids
    }
    names = {Success @ 1: "recall@1", Success @ 5: "recall@5", RR: "mrr"}
    if qrels and run:
        for metric in ir_measures.iter_calc(list(names), qrels, run):
            if metric.query_id in per_item:
                per_item[metric.query_id][names[metric.measure]] = float(metric.value)
    return per_item


def _metrics(results: list[ItemResult], retrieval: dict[str, dict[str, float]]) -> dict[str, float]:
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    times = sorted(r.took_ms for r in results)

    def share(rows: list[ItemResult], test: Callable[[ItemResult], bool]) -> float:
        return round(sum(map(test, rows)) / len(rows), 4) if rows else 0.0

    def mean(key: str) -> float:
        values = [retrieval[r.id][key] for r in answerable if r.id in retrieval]
        return round(statistics.fmean(values), 4) if values else 0.0

    return {
        "n": len(results),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "answer_accuracy": share(answerable, lambda r: r.correct),
        "citation_accuracy": share(answerable, lambda r: r.cited),
        "abstention_accuracy": share(unanswerable, lambda r: r.correct),
        "false_abstention_rate": share(answerable, lambda r: not r.answered),
        "overall_accuracy": share(results, lambda r: r.correct),
        "recall@1": mean("recall@1"),
        "recall@5": mean("recall@5"),
        "mrr": mean("mrr"),
        "p50_ms": round(_percentile(times, 50), 2),
        "p95_ms": round(_percentile(times, 95), 2),
    }


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    position = (len(sorted_values) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def add_official_scores(report: Report, items: list[GoldItem]) -> None:
    """Add the official SQuAD v2.0 `exact` and `f1` (overall, `HasAns_*`, `NoAns_*`) of the
    report's short answers to its metrics; `items` are the gold items it scored."""
    predictions = {r.id: r.short_answer for r in report.items}
    gold = {i.id: i.answers if i.answerable else [] for i in items}
    scores = official_scores(gold, predictions)
    scores.pop("total")  # the report's `n`
    report.metrics |= {k: v if k.endswith("_total") else round(v, 4) for k, v in scores.items()}


def worst_misses(report: Report, limit: int = 10) -> list[ItemResult]:
    """Wrong items, the most confidently wrong first."""
    wrong = [r for r in report.items if not r.correct]
    return sorted(wrong, key=lambda r: -r.confidence if r.answered else r.confidence - 1)[:limit]

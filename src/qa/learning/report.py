"""Evaluation reports as rich tables: metrics side by side, by kind, and the worst misses."""

from rich.console import Console
from rich.table import Table

from qa.learning.evaluate import Report, worst_misses

METRICS = [
    "n",
    "answer_accuracy",
    "citation_accuracy",
    "abstention_accuracy",
    "false_abstention_rate",
    "recall@1",
    "recall@5",
    "mrr",
    "p50_ms",
    "p95_ms",
]
# The official SQuAD v2.0 scores (percentages), present after `qa eval --squad`.
OFFICIAL = [
    "exact",
    "f1",
    "HasAns_exact",
    "HasAns_f1",
    "HasAns_total",
    "NoAns_exact",
    "NoAns_f1",
    "NoAns_total",
]


def _cell(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and value >= 1 else f"{value:.3f}"


def print_reports(console: Console, reports: list[Report], *, misses: int = 10) -> None:
    """The pipeline's report (first) beside any baselines, then its breakdown and misses."""
    main = reports[0]
    table = Table(title="Evaluation", title_justify="left")
    table.add_column("metric")
    for report in reports:
        table.add_column(report.system, justify="right")
    for metric in METRICS + [m for m in OFFICIAL if m in main.metrics]:
        table.add_row(metric, *(_cell(r.metrics[metric]) for r in reports))
    console.print(table)

    if main.by_kind:
        kinds = Table(title=f"{main.system} by kind", title_justify="left")
        for column in ("kind", "n", "accuracy", "answered", "recall@5"):
            kinds.add_column(column, justify="left" if column == "kind" else "right")
        for kind, m in main.by_kind.items():
            accuracy = m["answer_accuracy"] if m["answerable"] else m["abstention_accuracy"]
            answered = (
                1 - m["false_abstention_rate"] if m["answerable"] else 1 - m["abstention_accuracy"]
            )
            kinds.add_row(kind, str(m["n"]), _cell(accuracy), _cell(answered), _cell(m["recall@5"]))
        console.print(kinds)

    wrong = worst_misses(main, misses)
    if wrong:
        table = Table(title=f"{main.system}: worst misses", title_justify="left", show_lines=True)
        for column in ("question", "expected", "got"):
            table.add_column(column, overflow="fold")
        for item in wrong:
            expected = " | ".join(item.expected) if item.answerable else "(decline)"
            got = item.answer if item.answered else "(declined)"
            table.add_row(item.question, expected, f"{got[:200]} ({item.confidence:.2f})")
        console.print(table)

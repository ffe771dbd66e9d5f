"""`qa eval`: gold files, metrics, baselines, SQuAD, and the quality gate."""

import json
import sys

import pytest

from conftest import CORPUS, REPO
from qa.baselines import bm25_top_sentence, dense_top_sentence
from qa.cli import main
from qa.evaluate import GoldError, contains_answer, evaluate, load_gold, sample

GOLD = REPO / "tests" / "gold" / "defectors.jsonl"
THRESHOLDS = json.loads((REPO / "tests" / "gold" / "thresholds.json").read_text())
CONTRACT_METRICS = {
    "n", "answer_accuracy", "citation_accuracy", "abstention_accuracy", "false_abstention_rate",
    "recall@1", "recall@5", "mrr", "p50_ms", "p95_ms", "items",
}  # fmt: skip


def run(monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, "argv", ["qa", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


@pytest.fixture(scope="module")
def gold():
    return load_gold(GOLD)


@pytest.fixture(scope="module")
def report(pipeline, gold):
    def ask(question, history):
        return pipeline.ask(question, history=history)

    return evaluate(pipeline, gold, ask, name="qa")


def test_gold_set_has_the_required_shape(gold):
    assert len(gold) >= 60
    assert sum(1 for i in gold if i.history) >= 10
    assert sum(1 for i in gold if not i.answerable) >= 12
    text = (CORPUS / "destinations-of-north-korean-defectors.txt").read_text(encoding="utf-8")
    for item in gold:
        if item.answerable:
            assert item.answers and all(contains_answer(text, [a]) for a in item.answers), item.id
        else:
            assert item.answers == []


def test_quality_gate(report):
    m = report.metrics
    assert m["answer_accuracy"] >= THRESHOLDS["answer_accuracy"]
    assert m["citation_accuracy"] >= THRESHOLDS["citation_accuracy"]
    assert m["abstention_accuracy"] >= THRESHOLDS["abstention_accuracy"]
    assert m["false_abstention_rate"] <= THRESHOLDS["false_abstention_rate_max"]
    assert m["recall@5"] >= THRESHOLDS["recall@5"]
    assert m["mrr"] >= THRESHOLDS["mrr"]


def test_report_breaks_metrics_down_by_kind(report, gold):
    assert set(report.by_kind) == {i.kind for i in gold}
    assert sum(m["n"] for m in report.by_kind.values()) == len(gold)


def test_pipeline_beats_both_baselines_on_the_gold_set(pipeline, gold, report):
    for baseline in (bm25_top_sentence(pipeline), dense_top_sentence(pipeline)):
        plain = evaluate(pipeline, gold, baseline.ask, name="b").metrics
        assert plain["abstention_accuracy"] == 0  # a baseline never declines
        assert report.metrics["overall_accuracy"] > plain["overall_accuracy"]
        assert report.metrics["mrr"] >= plain["mrr"]


def test_sample_is_seeded_and_keeps_file_order(gold):
    first = sample(gold, 10, seed=3)
    assert first == sample(gold, 10, seed=3)
    assert first != sample(gold, 10, seed=4)
    assert [gold.index(i) for i in first] == sorted(gold.index(i) for i in first)
    assert sample(gold, None, seed=1) == gold


def test_eval_json_has_every_contract_metric(monkeypatch, capsys, settings):
    code, out, _ = run(
        monkeypatch, capsys, "eval", str(GOLD), "--index", str(settings.index),
        "--corpus", str(settings.corpus), "--limit", "12", "--seed", "1", "--json",
    )  # fmt: skip
    assert code == 0
    data = json.loads(out)
    assert set(data) >= CONTRACT_METRICS
    assert data["n"] == len(data["items"]) == 12
    for row in data["items"]:
        assert {"id", "question", "answer", "answered", "correct"} <= set(row)
    for key in ("answer_accuracy", "citation_accuracy", "recall@1", "recall@5", "mrr"):
        assert 0 <= data[key] <= 1


def test_eval_prints_tables_with_baselines(monkeypatch, capsys, settings):
    code, out, _ = run(
        monkeypatch, capsys, "eval", str(GOLD), "--index", str(settings.index),
        "--corpus", str(settings.corpus), "--limit", "15", "--compare",
    )  # fmt: skip
    assert code == 0
    for word in ("answer_accuracy", "bm25-top-sentence", "dense-top-sentence", "by kind"):
        assert word in out


def squad_article(title, context, *qas):
    return {
        "title": title,
        "paragraphs": [
            {
                "context": context,
                "qas": [
                    {
                        "id": qid,
                        "question": question,
                        "is_impossible": answer is None,
                        "answers": [] if answer is None else [{"text": answer, "answer_start": 0}],
                    }
                    for qid, question, answer in qas
                ],
            }
        ],
    }


def test_eval_of_a_squad_file_indexes_its_articles(monkeypatch, capsys, tmp_path):
    squad = {
        "data": [
            squad_article(
                "Tides",
                "Tides are caused by the Moon. Spring tides happen twice a month.",
                ("t1", "What causes tides?", "the Moon"),
                ("t2", "Who discovered tides on Mars?", None),
            ),
            squad_article(
                "Volcanoes",
                "Mount Etna erupted in 2021. It is in Sicily.",
                ("v1", "When did Mount Etna erupt?", "2021"),
            ),
        ]
    }
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(squad))
    code, out, _ = run(monkeypatch, capsys, "eval", str(path), "--squad", "--json", "--compare")
    assert code == 0
    data = json.loads(out)
    assert data["n"] == 3
    assert data["answer_accuracy"] == 1.0
    assert data["abstention_accuracy"] == 1.0
    assert set(data["baselines"]) == {"bm25-top-sentence", "dense-top-sentence"}


def test_malformed_gold_line_is_reported_with_its_number(tmp_path):
    path = tmp_path / "bad.jsonl"
    good = {"id": "a", "question": "q?", "answers": ["x"], "answerable": True, "history": []}
    path.write_text(json.dumps(good) + "\n{not json\n")
    with pytest.raises(GoldError, match=r"bad\.jsonl:2"):
        load_gold(path)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["eval", "/no/such/gold.jsonl"], "error: gold file not found"),
        (["eval", "README.md", "--squad"], "is not a SQuAD v2 JSON file"),
        (["eval", "README.md", "--limit", "0"], "error: Invalid value for '--limit'"),
    ],
)
def test_eval_mistakes_get_one_line(monkeypatch, capsys, args, message):
    code, _, err = run(monkeypatch, capsys, *args)
    assert code != 0
    assert message in err
    assert len(err.strip().splitlines()) == 1


SQUAD = REPO.parent / "shared" / "benchmarks" / "squad2-dev-A.json"


@pytest.mark.skipif(not SQUAD.is_file(), reason="the shared SQuAD development file is absent")
def test_quality_gate_on_articles_the_project_was_not_written_for(tmp_path, embedder):
    from qa.config import Settings
    from qa.pipeline import Pipeline, build
    from qa.squad import read_squad, write_squad_corpus

    settings = Settings(corpus=tmp_path / "corpus", index=tmp_path / "index")
    items = sample(write_squad_corpus(read_squad(SQUAD), settings.corpus), 500, seed=1)
    build(settings, embedder=embedder)
    pipeline = Pipeline.load(settings, embedder=embedder)
    m = evaluate(pipeline, items, lambda q, h: pipeline.ask(q, history=h), name="qa").metrics
    assert m["answer_accuracy"] >= THRESHOLDS["squad"]["answer_accuracy"]
    assert m["abstention_accuracy"] >= THRESHOLDS["squad"]["abstention_accuracy"]

"""Feedback that trains: posted through the real API, exported by `qa feedback export`, read
by `qa eval` and by `qa train --feedback`, which labels what the users said."""

import json
import sys

import numpy as np
import pytest
from fastapi.testclient import TestClient
from test_training import gold_lines, item, write_benchmarks

from conftest import REPO, run, write_corpus
from qa.config import Settings
from qa.interfaces.cli import main
from qa.interfaces.http import create_app
from qa.learning import training
from qa.learning.evaluate import load_gold
from qa.learning.training import (
    FEEDBACK_FULL_WEIGHT,
    FEEDBACK_SET,
    collect,
    feedback_set,
    set_weights,
    train,
)
from qa.pipeline import Pipeline, build

LAKES = "lakes.txt"
TEXT = (
    "Lakes of the North\n\nBlue Lake\n"
    "Blue Lake is 40 metres deep. It freezes every January.\n\n"
    "Green Lake\nGreen Lake is shallow and warm. Swimmers visit it in summer.\n"
)
DEEP = "Blue Lake is 40 metres deep."
FREEZES = "It freezes every January."
WARM = "Green Lake is shallow and warm."
DECLINE = "The corpus doesn't say. The closest passages are listed below."


@pytest.fixture(scope="module")
def lakes(tmp_path_factory, embedder):
    """The served index: the lakes corpus, its feedback database in the index folder."""
    corpus = write_corpus(tmp_path_factory.mktemp("corpus"), {LAKES: TEXT})
    settings = Settings(corpus=corpus, index=tmp_path_factory.mktemp("index"))
    build(settings, embedder=embedder)
    return settings, Pipeline.load(settings, embedder=embedder)


@pytest.fixture(scope="module")
def exported(lakes, tmp_path_factory):
    """Feedback posted through the real API as the page sends it, then `qa feedback export`."""
    settings, pipeline = lakes
    with TestClient(create_app(settings, pipeline=pipeline)) as client:

        def ask(question):
            reply = client.post("/api/ask", json={"question": question}).json()
            return {k: reply[k] for k in ("question", "answer", "answered", "citations")}

        def post(body):
            response = client.post("/api/feedback", json=body)
            assert response.status_code == 201, response.text
            return response.json()["id"]

        deep = ask("How deep is Blue Lake?")
        assert deep["answered"] and deep["citations"][0]["quote"] == DEEP
        start = TEXT.index(FREEZES)
        ids = {
            # "helpful" on an answer
            "helpful": post({**deep, "rating": "up"}),
            # "this passage answers it", on whatever the answer was
            "chosen": post(
                {
                    **ask("When does Blue Lake freeze over?"),
                    "rating": "down",
                    "doc_id": LAKES,
                    "start": start,
                    "end": start + len(FREEZES),
                }
            ),
            # "not helpful" on an answer quoting the wrong lake, nothing chosen
            "wrong": post(
                {
                    "question": "How warm is Blue Lake in summer?",
                    "answer": f"{WARM} [1]",
                    "citations": [
                        {"n": 1, "doc_id": LAKES, "quote": WARM, "start": 0, "end": 1, "x": 2}
                    ],
                    "rating": "down",
                }
            ),
            # "helpful" on a decline
            "declined": post(
                {
                    "question": "Who owns Blue Lake?",
                    "answer": DECLINE,
                    "answered": False,
                    "citations": [],
                    "rating": "up",
                }
            ),
            # "not helpful" on a decline, nothing chosen: teaches nothing
            "skipped": post(
                {"question": "Who named Blue Lake?", "answer": DECLINE, "rating": "down"}
            ),
        }
    out = tmp_path_factory.mktemp("export") / "feedback.jsonl"
    with pytest.MonkeyPatch.context() as patch:
        args = ["feedback", "export", "--out", str(out), "--index", str(settings.index)]
        patch.setattr(sys, "argv", ["qa", *args])
        with pytest.raises(SystemExit) as exit_info:
            main()
    assert exit_info.value.code == 0
    return out, ids


def test_the_export_is_a_gold_set_qa_eval_scores(exported, lakes, monkeypatch, capsys):
    out, ids = exported
    gold = {g.id: g for g in load_gold(out)}
    assert set(gold) == {f"feedback-{ids[k]}" for k in ("helpful", "chosen", "wrong", "declined")}
    helpful, chosen = gold[f"feedback-{ids['helpful']}"], gold[f"feedback-{ids['chosen']}"]
    wrong, declined = gold[f"feedback-{ids['wrong']}"], gold[f"feedback-{ids['declined']}"]
    assert (helpful.answers, helpful.answerable) == ([DEEP], True)
    assert (chosen.answers, chosen.answerable, chosen.doc) == ([FREEZES], True, LAKES)
    assert (wrong.answers, wrong.answerable, wrong.wrong_answers) == ([], False, [WARM])
    assert (declined.answers, declined.answerable) == ([], False)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    built = lakes[1].index.built_at
    assert all(r["source"] == "feedback" and r["built"] == built for r in rows)
    code, printed, err = run(
        monkeypatch, capsys, "eval", str(out), "--index", str(lakes[0].index), "--json"
    )
    assert code == 0, err
    report = json.loads(printed)
    assert report["n"] == 4 and (report["answerable"], report["unanswerable"]) == (2, 2)
    assert {row["id"] for row in report["items"]} == set(gold)


def test_training_labels_what_the_feedback_says(exported, lakes):
    out, ids = exported
    settings, pipeline = lakes
    question_set = feedback_set(out, settings.index)
    assert question_set.name == FEEDBACK_SET and question_set.where == settings.index
    examples = {e.item.id: e for e in collect(question_set, pipeline)}
    index = pipeline.index

    def by_text(example):
        texts = [index.sentence_text(index.sentences[s]) for s in example.candidates.sentence_ids]
        return dict(zip(texts, range(len(texts)), strict=True))

    for name, positive in (("helpful", DEEP), ("chosen", FREEZES)):
        example = examples[f"feedback-{ids[name]}"]
        at = by_text(example)
        assert positive in at, name
        assert example.labels.tolist() == [i == at[positive] for i in range(len(at))], name
        assert example.known is None and example.label_weights.sum() == len(at)
    assert examples[f"feedback-{ids['chosen']}"].group == LAKES

    # "Not this answer": that quote is a known negative; the other candidates are unlabelled.
    wrong = examples[f"feedback-{ids['wrong']}"]
    at = by_text(wrong)
    assert WARM in at and not wrong.labels.any()
    assert wrong.label_weights.tolist() == [float(i == at[WARM]) for i in range(len(at))]
    assert wrong.group == FEEDBACK_SET

    declined = examples[f"feedback-{ids['declined']}"]
    assert not declined.labels.any() and declined.known is None


def test_a_quote_of_several_sentences_labels_each_of_them(lakes, tmp_path):
    settings, pipeline = lakes
    line = item("feedback-1", "Tell me about Blue Lake.", [f"{DEEP} {FREEZES}"], None)
    (tmp_path / "f.jsonl").write_text(gold_lines([line]), encoding="utf-8")
    (example,) = collect(feedback_set(tmp_path / "f.jsonl", settings.index), pipeline)
    index = pipeline.index
    texts = [index.sentence_text(index.sentences[s]) for s in example.candidates.sentence_ids]
    assert {DEEP, FREEZES} <= set(texts)
    assert [t for t, label in zip(texts, example.labels, strict=True) if label] == [
        t for t in texts if t in (DEEP, FREEZES)
    ]


def test_an_empty_export_trains_without_feedback(tmp_path, caplog):
    (tmp_path / "none.jsonl").write_text("")
    assert feedback_set(tmp_path / "none.jsonl", tmp_path) is None
    assert "holds no feedback items" in caplog.text


class _Example:
    def __init__(self, set_name):
        self.set = set_name
        self.group = "d"


def test_a_few_verdicts_weigh_less_than_a_whole_set():
    n = 10
    examples = [_Example("squad-A")] * 50 + [_Example(FEEDBACK_SET)] * n
    weights = set_weights(examples)
    assert np.isclose(weights[50:].sum() / weights[:50].sum(), n / FEEDBACK_FULL_WEIGHT)
    many = [_Example("squad-A")] * 50 + [_Example(FEEDBACK_SET)] * (FEEDBACK_FULL_WEIGHT + 5)
    weights = set_weights(many)
    assert np.isclose(weights[50:].sum(), weights[:50].sum())


@pytest.fixture(scope="module")
def benchmarks(tmp_path_factory):
    return write_benchmarks(tmp_path_factory.mktemp("benchmarks"))


def test_qa_train_fits_on_the_exported_feedback(
    exported, lakes, benchmarks, tmp_path, embedder, monkeypatch
):
    """The round trip's end: `train` with the export as its feedback set, asked of the served
    index (the project's own gold sets left out to keep the run small)."""
    out, _ = exported
    monkeypatch.setattr(training, "project_sets", lambda listing: [])
    meta = train(
        REPO,
        benchmarks,
        tmp_path / "work",
        tmp_path / "model",
        embedder,
        echo=lambda _: None,
        ranker_trees=30,
        reader_dir=tmp_path / "no-reader",
        feedback=(out, lakes[0].index),
    )
    assert meta["data"][FEEDBACK_SET] == {
        "source": out.name,
        "questions": 4,
        "sha256": training._sha(out),
    }
    assert meta["held_out"][FEEDBACK_SET]["n"] == 4
    assert (tmp_path / "model" / "ranker.txt").is_file()
    # The served index is asked as it is: indexes are built for the four benchmark corpora.
    assert len(list((tmp_path / "work" / "indexes").iterdir())) == 4


def test_qa_train_refuses_a_missing_feedback_file_in_one_line(tmp_path, monkeypatch, capsys):
    missing = tmp_path / "no.jsonl"
    code, _, err = run(monkeypatch, capsys, "train", "--feedback", str(missing))
    assert code == 1
    assert err == f"error: feedback file not found: {missing}\n"

"""Short answers from the learned reader: a verbatim phrase of the first quote, or none."""

import json
from pathlib import Path

import pytest

from qa.learning.squad_metrics import token_f1

GOLD = Path(__file__).resolve().parents[1] / "gold" / "defectors.jsonl"


def check_short(pipeline, answer) -> None:
    """The contract: document text[start:end] == text, inside the first citation's span."""
    short = answer.short_answer
    assert short is not None
    text = pipeline.index.documents[short.doc_id].text
    assert text[short.start : short.end] == short.text
    first = answer.citations[0]
    assert short.doc_id == first.doc_id
    assert first.start <= short.start < short.end <= first.end
    assert short.text.strip()


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How many North Koreans reside in Canada?", "970"),
        ("How long is the adaptation training at Hanawon?", "12-week"),
        ("When were North Koreans first granted refugee status by the US?", "2006"),
        ("How many North Koreans are estimated to be hiding in China?", "200,000"),
    ],
)
def test_a_factual_question_gets_the_phrase_that_answers(pipeline, question, expected):
    answer = pipeline.ask(question).answer
    assert answer.answered
    check_short(pipeline, answer)
    assert expected in answer.short_answer.text
    # Shorter than the sentence (the reader's spans are at most 24 tokens; some are a
    # clause rather than a phrase: "May 5, 2006, more than 170 ... as of 2014").
    assert len(answer.short_answer.text) < len(answer.citations[0].quote)


def test_a_why_question_gets_no_short_answer(pipeline):
    answer = pipeline.ask("Why do North Koreans leave their country?").answer
    assert answer.short_answer is None


def test_a_declined_question_gets_no_short_answer(pipeline):
    answer = pipeline.ask("Who won the 2018 World Cup?").answer
    assert not answer.answered
    assert answer.short_answer is None


def test_short_answers_on_the_gold_set_are_verbatim_and_mostly_right(pipeline):
    """Every short answer on the seed's gold set keeps the contract, and most of those to
    questions with a short gold answer overlap it (the official SQuAD token F1)."""
    items = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines()]
    scored = []
    for item in items:
        if item["history"]:
            continue
        answer = pipeline.ask(item["question"]).answer
        if answer.short_answer is None:
            continue
        check_short(pipeline, answer)
        if item["answerable"] and all(len(a.split()) <= 4 for a in item["answers"]):
            scored.append(max(token_f1(a, answer.short_answer.text) for a in item["answers"]))
    assert len(scored) >= 15
    assert sum(f >= 0.5 for f in scored) / len(scored) >= 0.6

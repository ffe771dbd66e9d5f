"""Example questions for the chat page: written as questions from the corpus's headings and
sentences, and only those the pipeline answers, on the seed corpus and on real files."""

import re
import shutil
from pathlib import Path

import pytest

from conftest import CORPUS_DOC
from qa.config import Settings
from qa.examples import MAX_ASKED, MAX_EXAMPLES, Writer, examples, without_numbering
from qa.index.vocabulary import Vocabulary
from qa.pipeline import Pipeline, build

FILES = Path(__file__).parent / "corpus" / "files"
REAL = ("harbour-pilots.pdf", "two-column-paper.pdf", "python-tutorial-introduction.html")
NUMBERED = re.compile(r"^\W*(\d|[IVXLC]+\.\s|chapter\s+\d)", re.I)


def assert_asked_as_questions(found: list[str]) -> None:
    assert 1 <= len(found) <= MAX_EXAMPLES
    assert len(set(found)) == len(found)
    for question in found:
        assert question.endswith("?") and question[0].isupper(), question
        assert not NUMBERED.match(question), question
        assert not question.lower().startswith("tell me about"), question


def assert_answered(pipeline: Pipeline, found: list[str], doc_ids=None) -> set[str]:
    """Every example is answered, and from the scope; the documents the answers quote."""
    quoted = set()
    for question in found:
        answer = pipeline.ask(question, doc_ids=doc_ids).answer
        assert answer.answered, question
        quoted.add(answer.citations[0].doc_id)
    if doc_ids:
        assert quoted <= set(doc_ids)
    return quoted


@pytest.fixture(scope="module")
def real(tmp_path_factory, embedder) -> Pipeline:
    """A corpus of real files: a pdflatex preprint, a two-column pdflatex paper and a Sphinx
    page of the Python tutorial."""
    corpus = tmp_path_factory.mktemp("real-corpus")
    for name in REAL:
        shutil.copy(FILES / name, corpus / name)
    settings = Settings(corpus=corpus, index=tmp_path_factory.mktemp("real-index"))
    build(settings, embedder=embedder)
    return Pipeline.load(settings, embedder=embedder)


def test_the_seed_corpus_s_examples_are_questions_it_answers(pipeline):
    found = examples(pipeline)
    assert_asked_as_questions(found)
    assert assert_answered(pipeline, found) == {CORPUS_DOC}


def test_real_files_examples_are_questions_answered_from_more_than_one_of_them(real):
    found = examples(real)
    assert_asked_as_questions(found)
    assert len(assert_answered(real, found)) >= 2  # spread over the documents


def test_examples_within_a_document_come_from_it(real):
    for doc_id in ("harbour-pilots.pdf", "two-column-paper.pdf"):
        found = examples(real, [doc_id])
        assert_asked_as_questions(found)
        assert assert_answered(real, found, [doc_id]) == {doc_id}


def test_examples_are_found_once_per_loaded_index(settings, embedder, monkeypatch):
    fresh = Pipeline.load(settings, embedder=embedder)  # a new index: nothing found yet
    asked = []
    ask = fresh.ask
    monkeypatch.setattr(fresh, "ask", lambda q, **kw: asked.append(q) or ask(q, **kw))
    first = examples(fresh)
    assert 1 <= len(asked) <= MAX_ASKED
    assert set(first) <= set(asked)
    assert examples(fresh) == first
    assert len(asked) == len(set(asked))  # the second page view asked nothing


def test_the_chat_page_offers_the_examples(client, pipeline):
    html = client.get("/").text
    buttons = re.findall(r'<button type="submit" class="example"[^>]*value="([^"]+)"', html)
    assert buttons == examples(pipeline)


# --- how a heading or a sentence is written as a question --------------------------------

VOCABULARY = Vocabulary.from_texts(
    [
        "You create a socket, then use it. Engineers install a module and open the gate. "
        "They patent an engine and judge it. Later James Watt improved it, and Leeds grew."
    ]
)


@pytest.mark.parametrize(
    ("heading", "question"),
    [
        ("3.1. Creating a Socket", "How do you create a socket?"),
        ("How to install a module", "How do you install a module?"),
        ("2 Why do tides turn?", "Why do tides turn?"),
        ("3. Python Packaging", None),  # a name of a topic asks nothing by itself
        ("Housing Benefits", None),  # a noun in -ing, not a task
        ("Abstract", None),
        ("1. Introduction", None),
    ],
)
def test_a_heading_is_a_question_only_when_it_asks_one(heading, question):
    assert Writer(VOCABULARY).from_heading(heading) == question


@pytest.mark.parametrize(
    ("sentence", "question"),
    [
        (
            "As of 2016, an estimated 970 engineers work in Leeds (half of them part-time).",
            "How many engineers work in Leeds?",
        ),
        (
            "The port keeps four pilots on duty at any hour.",
            "How many pilots does the port keep on duty at any hour?",
        ),
        (
            "The longest recorded wait was three days, in 1987.",
            "How long was the longest recorded wait?",
        ),
        ("The mill was built in 1790.", "When was the mill built?"),
        ("Engineers patented the engine in 1769.", "When did engineers patent the engine?"),
        ("The pump was improved by James Watt.", "Who improved the pump?"),
        ("A socket is an endpoint of a connection.", "What is a socket?"),
        ("A gauge is used to log the tide.", "What is a gauge used for?"),
        (
            "Engineers judge a site first by the speed of its current.",
            "How do engineers judge a site?",
        ),
        ("The debuild command runs the lintian command.", "What does the debuild command run?"),
        # shapes that ask nothing, or would ask it wrong
        ("The latter is a special case.", None),
        ("It is a good idea.", None),
        ("The UK rejected 30 out of 40 applications.", None),
        ("Line 11 shows one of the features.", None),
        ("The string takes 24 bytes compared to the 6 bytes needed.", None),
    ],
)
def test_a_sentence_of_a_known_shape_is_asked_about(sentence, question):
    assert Writer(VOCABULARY).from_sentence(sentence) == question


def test_section_numbers_are_left_out():
    for heading in ("3. Python Packaging", "3.2.1 Costs", "IV. Costs", "Chapter 6. Costs"):
        assert without_numbering(heading).split()[-1] in ("Packaging", "Costs")
        assert not NUMBERED.match(without_numbering(heading))

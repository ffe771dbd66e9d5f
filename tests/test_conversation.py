"""Reading the history: the sentences earlier answers quoted, whoever wrote them."""

import pytest

from qa.conversation import NO_QUOTES, QuoteFinder, Turn


@pytest.fixture(scope="module")
def finder(pipeline):
    return QuoteFinder(pipeline.index)


@pytest.fixture(scope="module")
def answer(pipeline):
    return pipeline.ask("How many North Koreans reside in Canada?").answer


def sentence_of(pipeline, text):
    index = pipeline.index
    return next(s.id for s in index.sentences if text in index.sentence_text(s))


def test_qa_own_answer_with_markers(pipeline, finder, answer):
    quoted = finder.sentences(answer.answer)
    assert quoted
    assert quoted[0] == sentence_of(pipeline, "970 North Koreans reside in Canada")
    texts = [pipeline.index.sentence_text(pipeline.index.sentences[s]) for s in quoted]
    assert all(t in answer.answer for t in texts)


def test_a_client_copy_without_markers_cut_short_or_reflowed(pipeline, finder, answer):
    quote = answer.citations[0].quote
    expected = sentence_of(pipeline, "970 North Koreans reside in Canada")
    assert finder.sentences(quote)[:1] == (expected,)
    assert finder.sentences(quote[:45] + "...") == (expected,)
    assert finder.sentences("  ".join(quote.split(" ")))[:1] == (expected,)
    assert finder.sentences(quote[10:])[:1] == (expected,)


def test_a_span_across_two_sentences_finds_both(pipeline, finder):
    index = pipeline.index
    passage = next(p for p in index.passages if len(p.sentence_ids) >= 3)
    first, second = (index.sentences[s] for s in passage.sentence_ids[:2])
    text = index.documents[passage.doc_id].text
    span = text[first.start + 20 : second.end - 20]
    assert finder.sentences(span) == (first.id, second.id)


@pytest.mark.parametrize(
    "answer",
    [
        "CANNOTANSWER",
        "I don't know.",
        "The corpus doesn't say. The closest passages are listed below.",
        "Canada has welcomed many people from the North over the years, it seems.",
        "",
    ],
)
def test_placeholders_declines_and_paraphrases_quote_nothing(finder, answer):
    assert finder.sentences(answer) == ()


def test_quotes_of_a_chat(pipeline, finder, answer):
    us = pipeline.ask("How many North Koreans live in the US?").answer.answer
    quotes = finder.quotes([Turn("Canada?", answer.answer), Turn("US?", us)])
    assert set(quotes.last) <= quotes.earlier
    assert set(finder.sentences(answer.answer)) <= quotes.earlier
    assert quotes.last == finder.sentences(us)
    assert finder.quotes([]) == NO_QUOTES

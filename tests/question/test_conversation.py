"""Reading the history: the sentences earlier answers quoted, whoever wrote them."""

import pytest

from qa.question.conversation import NO_QUOTES, QuoteFinder, Turn, resolve_turn, truecase
from qa.question.parse import AnswerType, expected_type, parse_question
from qa.text import content_terms


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


# --- reading a follow-up as people type it -------------------------------------------------

NAMES = frozenset({"north", "korean", "koreans", "south", "korea", "china", "taegun", "kim"})


def is_name(word: str) -> bool:
    return word.lower() in NAMES


def test_a_chat_typed_in_lower_case_is_read_with_the_corpus_names():
    history = [Turn("how many north koreans are in south korea", "")]
    resolution = resolve_turn("why do they go there?", history, is_name)
    assert resolution.text == "why do North Koreans go in South Korea?"
    assert resolution.previous == Turn("how many North Koreans are in South Korea", "")
    assert truecase("is china safe for them", is_name) == "is China safe for them"


def test_a_pronoun_before_the_name_of_a_place_is_still_the_previous_subject():
    history = [Turn("who is taegun kim", "")]
    text = resolve_turn("how long was he in south korea", history, is_name).text
    assert text == "how long was Taegun Kim in South Korea"
    # A name before the pronoun is what the pronoun stands for.
    kept = resolve_turn("What did Kim say about his family?", history, is_name).text
    assert kept == "What did Kim say about his family?"


def test_and_in_a_place_the_previous_question_named_without_that_preposition():
    history = [Turn("does china give them refugee status", "")]
    resolution = resolve_turn("and in Brazil?", history, is_name)
    assert resolution.text == "does Brazil give them refugee status?"
    assert resolution.fragment == "in Brazil"
    # What the fragment typed is what the answer must hold, whatever its case.
    lower = resolve_turn("and in brazil?", history, is_name)
    question = parse_question(lower.text, as_asked="and in brazil?", new=lower.fragment)
    assert "brazil" in question.required


@pytest.mark.parametrize("bare", ["why?", "Why?", "how so?", "when was that?"])
def test_a_bare_question_asks_about_the_previous_one(bare):
    history = [Turn("how many north koreans are hiding in china", "")]
    resolution = resolve_turn(bare, history, is_name)
    assert resolution.follow_up
    assert resolution.text.endswith("(how many North Koreans are hiding in China?)")
    assert resolution.text.startswith(bare.rstrip("?"))
    question = parse_question(resolution.text, as_asked=bare)
    assert question.answer_type == expected_type(bare) != AnswerType.NUMBER
    assert parse_question("How many in 2015?", as_asked="and in 2015?").answer_type == (
        AnswerType.NUMBER
    )
    assert set(content_terms("hiding in China")) <= set(question.terms)


def test_the_chat_page_s_own_first_question_is_left_as_typed():
    assert resolve_turn("how many north koreans are in south korea", [], is_name).text == (
        "how many north koreans are in south korea"
    )


def test_a_lower_case_chat_answers_follow_ups_and_declines_a_country_it_never_mentions(
    pipeline,
):
    history: list[Turn] = []
    for question, expected in [
        ("how many are hiding in china", "200,000"),
        ("why?", "is a matter of survival"),
        ("and in brazil?", None),
    ]:
        result = pipeline.ask(question, history=history)
        if expected is None:
            assert not result.answer.answered, result.answer.answer
        else:
            assert result.answer.answered and expected in result.answer.answer
            texts = pipeline.index.documents
            cited = result.answer.citations
            assert all(texts[c.doc_id].text[c.start : c.end] == c.quote for c in cited)
        history.append(Turn(question, result.answer.answer))

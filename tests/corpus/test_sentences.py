"""Sentence splitting: the hard cases, and offsets that are always verbatim."""

import pytest

from qa.corpus.sentences import split_sentences


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def test_abbreviation_us_does_not_end_a_sentence():
    text = "He did not select the U.S. because of the language barrier. Then he left."
    assert sentences(text) == [
        "He did not select the U.S. because of the language barrier.",
        "Then he left.",
    ]


def test_money_ranges_with_dashes_stay_in_one_sentence():
    text = "It pays $6,000 – $32,400 in settlement benefits, and $13,300 –$19,100 more. Next."
    assert sentences(text) == [
        "It pays $6,000 – $32,400 in settlement benefits, and $13,300 –$19,100 more.",
        "Next.",
    ]


def test_curly_quotes_stay_with_their_sentence():
    text = "She said it was “better to live well in China than to live poorly”. It was true."
    assert sentences(text) == [
        "She said it was “better to live well in China than to live poorly”.",
        "It was true.",
    ]


def test_bracketed_words_and_ellipsis_do_not_split():
    text = (
        "But the pastor [told him] that it was poor, so...[he] reapplied for the U.S.”. Also this."
    )
    assert sentences(text) == [
        "But the pastor [told him] that it was poor, so...[he] reapplied for the U.S.”.",
        "Also this.",
    ]


def test_decimal_numbers_do_not_split():
    text = "About 5.7 million people live abroad. Some 40 percent live nearby."
    assert sentences(text) == [
        "About 5.7 million people live abroad.",
        "Some 40 percent live nearby.",
    ]


def test_sentence_ending_in_colon_joins_what_it_introduces():
    text = "The convention defines a refugee as:\n“someone who is unable to return.”"
    assert sentences(text) == [text]


def test_repeated_sentences_get_their_own_offsets():
    text = "It rained. It rained. It rained."
    assert split_sentences(text) == [(0, 10), (11, 21), (22, 32)]


@pytest.mark.parametrize(
    "text",
    ["", "   ", "No full stop", "Dr. Smith met Mr. Jones at 5 p.m. on Jan. 5. They left.", "?!"],
)
def test_offsets_are_verbatim_and_trimmed(text):
    for s, e in split_sentences(text):
        piece = text[s:e]
        assert piece == piece.strip()
        assert piece


def test_splits_only_inside_the_given_span():
    text = "Before. Inside one. Inside two. After."
    start, end = text.index("Inside one"), text.index(" After")
    assert [text[s:e] for s, e in split_sentences(text, start, end)] == [
        "Inside one.",
        "Inside two.",
    ]

"""What the reader reads: pairs on the packaged tokenizer, and spans back to characters."""

import numpy as np
import pytest

from qa.answer.reader_inputs import (
    MAX_HEADING_TOKENS,
    MAX_QUESTION_TOKENS,
    MAX_SPAN_TOKENS,
    MAX_TOKENS,
    ReaderTokenizer,
    best_span,
    reader_question,
    span_characters,
)
from qa.embedding.torch_model import packaged_model_dir


@pytest.fixture(scope="module")
def tokenizer() -> ReaderTokenizer:
    return ReaderTokenizer(packaged_model_dir() / "tokenizer.json")


def test_a_pair_is_question_then_sentence_then_heading(tokenizer: ReaderTokenizer) -> None:
    pair = tokenizer.encode("How many live there?", "About 12,000 people live there.", "Towns")
    assert pair.ids[0] == tokenizer.cls
    assert pair.ids[pair.first - 1] == tokenizer.sep
    assert pair.ids[-1] == tokenizer.sep
    # Segment 0 is [CLS] question [SEP]; the sentence and heading are segment 1.
    assert pair.type_ids[: pair.first] == [0] * pair.first
    assert set(pair.type_ids[pair.first :]) == {1}
    assert len(pair.ids) == len(pair.type_ids)


def test_sentence_tokens_keep_their_characters(tokenizer: ReaderTokenizer) -> None:
    sentence = "Café owners in São Paulo pay 12.5% — don't they? 🙂"
    pair = tokenizer.encode("Who pays?", sentence)
    pieces = [sentence[a:b] for a, b in pair.offsets]
    assert "12" in pieces and "Paulo" in pieces
    assert all(0 <= a < b <= len(sentence) for a, b in pair.offsets)


def test_each_part_is_cut_to_its_budget(tokenizer: ReaderTokenizer) -> None:
    long = " ".join(f"word{n}" for n in range(300))
    pair = tokenizer.encode(long, long, long)
    assert len(pair.ids) == MAX_TOKENS
    assert pair.first - 2 == MAX_QUESTION_TOKENS
    # A sentence that fills what is left leaves no room for the heading.
    assert pair.first + len(pair.offsets) + 1 == MAX_TOKENS
    short = tokenizer.encode("why?", "It rained.", long)
    heading_tokens = len(short.ids) - (short.first + len(short.offsets) + 1) - 1
    assert heading_tokens == MAX_HEADING_TOKENS


def test_a_batch_pads_to_the_longest(tokenizer: ReaderTokenizer) -> None:
    pairs = [tokenizer.encode("why?", "Short."), tokenizer.encode("why?", "A longer one, this.")]
    batch = tokenizer.batch(pairs)
    assert batch.input_ids.shape == batch.attention_mask.shape == batch.token_type_ids.shape
    assert batch.attention_mask[0].sum() == len(pairs[0].ids)
    assert batch.attention_mask[1].sum() == len(pairs[1].ids) == batch.input_ids.shape[1]


def test_the_best_span_stays_in_the_sentence_and_in_order(tokenizer: ReaderTokenizer) -> None:
    sentence = "The bridge opened in 1901 after nine years of work."
    pair = tokenizer.encode("When did the bridge open?", sentence)
    width = len(pair.ids)
    start, end = np.zeros(width), np.zeros(width)
    start[0] = end[0] = 100.0  # [CLS] is outside the sentence: never chosen
    year = next(i for i, (a, b) in enumerate(pair.offsets) if sentence[a:b] == "1901")
    start[pair.first + year] = 5.0
    end[pair.first + year] = 5.0
    end[pair.first + year - 2] = 7.0  # an end before the start is not a span
    first, last, score = best_span(start, end, pair)
    assert (first, last, score) == (year, year, 10.0)
    assert span_characters(sentence, pair, first, last) == (21, 25)


def test_a_span_is_never_longer_than_the_limit(tokenizer: ReaderTokenizer) -> None:
    sentence = " ".join(["alpha"] * 60)
    pair = tokenizer.encode("what?", sentence)
    start, end = np.zeros(len(pair.ids)), np.zeros(len(pair.ids))
    start[pair.first] = end[pair.first + 50] = 9.0
    first, last, _ = best_span(start, end, pair)
    assert last - first < MAX_SPAN_TOKENS


def test_a_span_is_widened_to_whole_words(tokenizer: ReaderTokenizer) -> None:
    sentence = "Its unbelievably tall tower stands."
    pair = tokenizer.encode("what?", sentence)
    inside = [i for i, (a, b) in enumerate(pair.offsets) if 4 <= a < 16]
    assert len(inside) > 1, "the word is split into word pieces"
    assert span_characters(sentence, pair, inside[1], inside[1]) == (4, 16)


def test_a_follow_up_is_read_with_the_previous_question() -> None:
    assert reader_question("when?") == "when?"
    assert reader_question("when?", "Who built the bridge?") == "when? [SEP] Who built the bridge?"

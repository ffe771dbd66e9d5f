"""What the learned reader reads: the question and one candidate sentence, as token ids.

The reader (a cross-encoder fine-tuned from the packaged all-MiniLM-L6-v2, `reader.py`)
reads the question and the sentence together: `[CLS] question [SEP] sentence [SEP] heading
[SEP]`. A follow-up's question carries the previous question after its own, so the reader
sees what "it" or "there" stands for. Training (`qa train-reader`) and serving encode with
this one function, on the packaged model's own tokenizer, so they can never read differently.

The sentence's tokens keep their character offsets: the short answer is a span of them.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

# Tokens, special ones included. Measured on the development sets' candidates: a question
# with its previous one and a sentence fit in 96 for 97 % of pairs; the heading goes first.
MAX_TOKENS = 96
MAX_QUESTION_TOKENS = 40  # the question with its previous one
MAX_HEADING_TOKENS = 12
MAX_SPAN_TOKENS = 24  # a short answer is at most this many tokens
HEADS_FILE = "heads.safetensors"  # the reader's heads, beside its LoRA adapters
INT8_FILE = "reader-int8.onnx"  # the export quantised to int8, beside reader.onnx
READER_EXPORT_FORMAT = 2  # raise when the exported graph changes: older exports are remade


def reader_question(text: str, previous: str | None = None) -> str:
    """The question as the reader reads it: a follow-up with the previous question."""
    return text if not previous else f"{text} [SEP] {previous}"


@dataclass(frozen=True, slots=True)
class Encoded:
    """One (question, sentence) pair as the model reads it."""

    ids: list[int]
    type_ids: list[int]
    first: int  # position of the sentence's first token
    offsets: list[tuple[int, int]]  # character span in the sentence of each sentence token


@dataclass(frozen=True, slots=True)
class Batch:
    """Pairs padded to the longest: the model's three inputs."""

    input_ids: np.ndarray
    attention_mask: np.ndarray
    token_type_ids: np.ndarray


class ReaderTokenizer:
    """The packaged model's WordPiece tokenizer, assembling pairs by hand so that the
    question, sentence and heading are each cut to their own budget."""

    def __init__(self, tokenizer_json: Path) -> None:
        self._tokenizer = Tokenizer.from_file(str(tokenizer_json))
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        self.cls = self._id("[CLS]")
        self.sep = self._id("[SEP]")
        self.pad = self._id("[PAD]")

    def _id(self, token: str) -> int:
        found = self._tokenizer.token_to_id(token)
        if found is None:
            raise ValueError(f"the tokenizer has no {token}")
        return found

    def encode(self, question: str, sentence: str, heading: str = "") -> Encoded:
        q = self._tokenizer.encode(question, add_special_tokens=False).ids[:MAX_QUESTION_TOKENS]
        s = self._tokenizer.encode(sentence, add_special_tokens=False)
        h = self._tokenizer.encode(heading, add_special_tokens=False).ids if heading else []
        room = MAX_TOKENS - len(q) - 3  # [CLS] q [SEP] s [SEP]
        s_ids, s_offsets = s.ids[:room], s.offsets[:room]
        room -= len(s_ids) + 1  # h [SEP]
        h = h[: min(MAX_HEADING_TOKENS, room)] if room > 0 else []
        ids = [self.cls, *q, self.sep, *s_ids, self.sep]
        types = [0] * (len(q) + 2) + [1] * (len(s_ids) + 1)
        if h:
            ids += [*h, self.sep]
            types += [1] * (len(h) + 1)
        return Encoded(ids, types, len(q) + 2, list(s_offsets))

    def batch(self, pairs: list[Encoded]) -> Batch:
        width = max(len(p.ids) for p in pairs)
        ids = np.full((len(pairs), width), self.pad, dtype=np.int64)
        mask = np.zeros((len(pairs), width), dtype=np.int64)
        types = np.zeros((len(pairs), width), dtype=np.int64)
        for i, p in enumerate(pairs):
            ids[i, : len(p.ids)] = p.ids
            mask[i, : len(p.ids)] = 1
            types[i, : len(p.type_ids)] = p.type_ids
        return Batch(ids, mask, types)


def best_span(
    start_logits: np.ndarray, end_logits: np.ndarray, pair: Encoded
) -> tuple[int, int, float]:
    """The sentence's best answer span as token positions in the sentence (first, last,
    inclusive) and its score: the start and end logits summed, end not before start and at
    most MAX_SPAN_TOKENS apart."""
    n = len(pair.offsets)
    if n == 0:
        return 0, -1, float("-inf")
    s = start_logits[pair.first : pair.first + n]
    e = end_logits[pair.first : pair.first + n]
    grid = s[:, None] + e[None, :]
    i, j = np.indices(grid.shape)
    grid = np.where((j >= i) & (j - i < MAX_SPAN_TOKENS), grid, -np.inf)
    first, last = np.unravel_index(int(np.argmax(grid)), grid.shape)
    return int(first), int(last), float(grid[first, last])


def span_characters(sentence: str, pair: Encoded, first: int, last: int) -> tuple[int, int]:
    """The character span in `sentence` of tokens first..last, widened to whole words."""
    start, end = pair.offsets[first][0], pair.offsets[last][1]
    while start > 0 and sentence[start - 1].isalnum():
        start -= 1
    while end < len(sentence) and sentence[end].isalnum():
        end += 1
    return start, end

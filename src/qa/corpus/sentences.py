"""Sentence splitting with character offsets into the original text."""

from functools import cache

import pysbd


@cache
def _segmenter() -> pysbd.Segmenter:
    # clean=False keeps the text as written, so every sentence can be found verbatim.
    return pysbd.Segmenter(language="en", clean=False)


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans (start, end) of the sentences in `text[start:end]`, trimmed of white space.

    pysbd decides where sentences end; the spans are found by walking the original text,
    so `text[s:e]` is always the sentence verbatim, even when a sentence repeats.
    """
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    cursor = start
    for piece in _segmenter().segment(text[start:end]):
        stripped = piece.strip()
        if not stripped:
            continue
        found = text.find(stripped, cursor, end)
        if found < 0:  # pysbd altered the text: keep the rest of the span as one sentence
            rest = text[cursor:end]
            found = cursor + len(rest) - len(rest.lstrip())
            stripped = rest.strip()
            if not stripped:
                break
        spans.append((found, found + len(stripped)))
        cursor = found + len(stripped)
    return _merge_fragments(text, spans)


def _merge_fragments(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join a piece with no letter or digit (a stray quote mark) to the sentence before, and
    a sentence that ends in a colon to the one it introduces."""
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        previous = text[merged[-1][0] : merged[-1][1]] if merged else ""
        if merged and (not any(c.isalnum() for c in text[s:e]) or previous.endswith(":")):
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged

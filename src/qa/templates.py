"""The answer's words: quoted sentences with their `[n]` markers, or a plain decline.

Nothing is generated: an answer is sentences of the corpus, verbatim, each followed by the
marker of its citation; sentences next to each other in one paragraph are quoted as one span.
The source is named by the citation, not by words in front of the answer.
"""

from dataclasses import dataclass

from qa.index import Index
from qa.retrieve import Hit

DECLINE_TEXT = "The corpus doesn't say. The closest passages are listed below."
MAX_ANSWER_CHARS = 600
DECLINE_PASSAGES = 3  # closest passages a decline lists, at most


@dataclass(frozen=True, slots=True)
class Citation:
    n: int
    doc_id: str
    title: str
    section: str
    quote: str
    start: int
    end: int
    score: float


@dataclass(frozen=True, slots=True)
class Answer:
    answer: str
    answered: bool
    confidence: float
    citations: list[Citation]


def quote(index: Index, sentence_ids: list[int], scores: list[float], confidence: float) -> Answer:
    """An answer quoting these sentences, the one that answers best first."""
    spans = _spans(index, sentence_ids, scores)
    citations = []
    parts = []
    for n, (first, last, score) in enumerate(spans, 1):
        head, tail = index.sentences[first], index.sentences[last]
        passage = index.passages[head.passage_id]
        text = index.documents[head.doc_id].text[head.start : tail.end]
        citations.append(
            Citation(
                n=n,
                doc_id=head.doc_id,
                title=index.documents[head.doc_id].title,
                section=passage.section,
                quote=text,
                start=head.start,
                end=tail.end,
                score=round(score, 4),
            )
        )
        parts.append(f"{text} [{n}]")
    return Answer(" ".join(parts), True, round(confidence, 3), citations)


def decline(index: Index, hits: list[Hit], confidence: float) -> Answer:
    """The corpus does not hold the answer: say so, and list these closest passages."""
    citations = []
    for n, hit in enumerate(hits, 1):
        passage = index.passages[hit.passage_id]
        citations.append(
            Citation(
                n=n,
                doc_id=passage.doc_id,
                title=index.documents[passage.doc_id].title,
                section=passage.section,
                quote=index.passage_text(passage),
                start=passage.start,
                end=passage.end,
                score=round(hit.score, 4),
            )
        )
    return Answer(DECLINE_TEXT, False, round(confidence, 3), citations)


def _spans(
    index: Index, sentence_ids: list[int], scores: list[float]
) -> list[tuple[int, int, float]]:
    """(first, last sentence, score) of each quoted span: sentences that follow each other
    in one paragraph become one span, placed where its best sentence was."""
    spans: list[tuple[int, int, float]] = []
    for sid, score in zip(sentence_ids, scores, strict=True):
        for i, (first, last, best) in enumerate(spans):
            if _adjacent(index, last, sid):
                spans[i] = (first, sid, best)
                break
            if _adjacent(index, sid, first):
                spans[i] = (sid, last, best)
                break
        else:
            spans.append((sid, sid, score))
    return spans


def _adjacent(index: Index, before: int, after: int) -> bool:
    """Whether sentence `after` follows `before` directly, in the same paragraph."""
    if after != before + 1:
        return False
    a, b = index.sentences[before], index.sentences[after]
    return a.doc_id == b.doc_id and "\n" not in index.documents[a.doc_id].text[a.end : b.start]

"""The answer's words: quoted sentences with their `[n]` markers, or a plain decline.

Nothing is generated: an answer is sentences of the corpus, verbatim, each followed by the
marker of its citation; sentences next to each other in one paragraph are quoted as one span.
The source is named by the citation, not by words in front of the answer. A decline names
what was asked, in the asker's words, and quotes each closest passage, its best sentence
marked for a short view.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace

from qa.answer.retrieve import Hit
from qa.corpus.ingest import Passage
from qa.index.build import Index
from qa.question.restate import indirect

DECLINE_TEXT = "The corpus doesn't say."  # when nothing was asked (all chatter)
MAX_ANSWER_CHARS = 600
DECLINE_PASSAGES = 3  # closest passages a decline lists, at most


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of a document, verbatim: `document.text[start:end] == text`."""

    text: str
    start: int
    end: int


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
    page: int | None = None  # the PDF page where the quote starts
    best: Span | None = None  # a decline's closest passage: its best sentence, inside the quote


@dataclass(frozen=True, slots=True)
class ShortAnswer:
    """The phrase that answers (a number, name, date, place or short clause): verbatim,
    `document.text[start:end] == text`, inside the first citation's span."""

    text: str
    doc_id: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Answer:
    answer: str
    answered: bool
    confidence: float
    citations: list[Citation]
    short_answer: ShortAnswer | None = None  # None: declined, or more than a phrase is asked


def quote(index: Index, sentence_ids: list[int], scores: list[float], confidence: float) -> Answer:
    """An answer quoting these sentences, the one that answers best first."""
    citations = []
    for n, (first, last, score) in enumerate(_spans(index, sentence_ids, scores), 1):
        head, tail = index.sentences[first], index.sentences[last]
        passage = index.passages[head.passage_id]
        citations.append(_cite(index, n, passage, head.start, tail.end, score))
    text = " ".join(f"{c.quote} [{c.n}]" for c in citations)
    return Answer(text, True, round(confidence, 3), citations)


def decline(
    index: Index,
    hits: list[Hit],
    confidence: float,
    question: str = "",
    best: Mapping[int, int] | None = None,
) -> Answer:
    """The corpus does not hold the answer to `question`: say what is missing, and list these
    closest passages, each quoted whole with its best sentence marked (`best`: passage id →
    sentence id; the passage's first sentence where it has none)."""
    citations = []
    for n, hit in enumerate(hits, 1):
        passage = index.passages[hit.passage_id]
        sentence = index.sentences[(best or {}).get(passage.id, passage.sentence_ids[0])]
        cited = _cite(index, n, passage, passage.start, passage.end, hit.score)
        text = index.documents[passage.doc_id].text[sentence.start : sentence.end]
        citations.append(replace(cited, best=Span(text, sentence.start, sentence.end)))
    return Answer(decline_text(question), False, round(confidence, 3), citations)


def decline_text(question: str) -> str:
    """ "The corpus doesn't say how many ….", or the question quoted when its form can't be
    restated as a clause; the plain decline when nothing was asked."""
    asked = " ".join(question.split())
    if not asked.rstrip("?!. "):
        return DECLINE_TEXT
    clause = indirect(asked)
    if clause is not None:
        return f"The corpus doesn't say {clause}."
    end = "" if asked[-1] in "?!." else "."
    return f"The corpus doesn't answer \u201c{asked}\u201d{end}"


def _cite(index: Index, n: int, passage: Passage, start: int, end: int, score: float) -> Citation:
    """Citation `n`: the text from `start` to `end` of the passage's document, verbatim."""
    document = index.documents[passage.doc_id]
    return Citation(
        n=n,
        doc_id=passage.doc_id,
        title=document.title,
        section=passage.section,
        quote=document.text[start:end],
        start=start,
        end=end,
        score=round(score, 4),
        page=document.page_at(start),
    )


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

"""The extractive answerer: evidence of each candidate → the fitted model → the template.

No weight here is set by hand: `evidence.py` describes each sentence of the retrieved
passages, `model.py` (fitted by `qa train`) ranks them and decides whether to answer,
and `templates.py` quotes and cites what was chosen.
"""

from dataclasses import replace

import numpy as np

from qa.answer.evidence import Candidates, EvidenceReader
from qa.answer.model import AnswerModel, default_model, top_read
from qa.answer.reader import Reader, ReaderOutput, default_reader
from qa.answer.reader import shipped as reader_shipped
from qa.answer.reader_inputs import reader_question
from qa.answer.retrieve import Hit
from qa.answer.templates import (
    DECLINE_PASSAGES,
    DECLINE_TEXT,
    MAX_ANSWER_CHARS,
    Answer,
    Citation,
    ShortAnswer,
    decline,
    quote,
)
from qa.index.build import Index
from qa.question.conversation import NO_QUOTES, Quotes
from qa.question.parse import AnswerType, Question

__all__ = ["DECLINE_TEXT", "Answer", "Answerer", "Citation"]


class Answerer:
    """Chooses and cites the sentences that answer a question, or declines."""

    def __init__(
        self, index: Index, model: AnswerModel | None = None, reader: Reader | None = None
    ) -> None:
        self.index = index
        self.evidence = EvidenceReader(index)
        self._model = model
        self._reader = reader

    @property
    def has_reader(self) -> bool:
        """Whether a reader was given or ships with the package."""
        return self._reader is not None or reader_shipped()

    @property
    def reader(self) -> Reader:
        """The learned reader, the package's own unless another was given; loaded (and
        exported once per machine) when first needed."""
        if self._reader is None:
            self._reader = default_reader()
        return self._reader

    @property
    def model(self) -> AnswerModel:
        """The fitted model, the package's own unless another was given; loaded when first
        needed, so that features can be collected before any model exists."""
        if self._model is None:
            self._model = default_model()
        return self._model

    def answer(
        self,
        question: Question,
        question_vector: np.ndarray,
        hits: list[Hit],
        *,
        follow_up: bool = False,
        focus: frozenset[int] = frozenset(),
        quotes: Quotes = NO_QUOTES,
        listed: int = DECLINE_PASSAGES,
        previous: str | None = None,
    ) -> Answer:
        """Answer from the sentences of the best passages of `hits` (as many as the model was
        fitted with), or decline and list the first `listed` passages."""
        read = hits[: self.model.policy.passages]
        candidates = self.evidence.candidates(
            question, question_vector, read, follow_up=follow_up, focus=focus, quotes=quotes
        )
        return self.decide(question, candidates, hits[:listed], previous=previous)

    def decide(
        self,
        question: Question,
        candidates: Candidates,
        closest: list[Hit],
        *,
        previous: str | None = None,
    ) -> Answer:
        """The answer the model chooses from these candidates, or a decline that lists the
        `closest` passages."""
        if not len(candidates) or not question.terms:
            return decline(self.index, closest, 0.0, question.text)
        is_list = question.answer_type is AnswerType.LIST
        ranker = self.model.probabilities(candidates)
        logits, read, order = None, None, []
        if self.model.policy.read:
            # The reader reads the ranker's best candidates before the choice.
            order = top_read(ranker, self.model.policy.read)
            read = self.read(question.text, previous, candidates, order)
            logits = np.full(len(candidates), np.nan)
            logits[order] = read.logits
        selection = self.model.select(candidates, ranker, logits, list_question=is_list)
        if not selection.answered or not selection.chosen:
            best = self.best_of_passages(candidates, ranker)
            return decline(self.index, closest, selection.confidence, question.text, best)
        ids, scores = within_length(
            self.index, candidates, selection.chosen, selection.probabilities, is_list=is_list
        )
        answer = quote(self.index, ids, scores, selection.confidence)
        if question.answer_type in (AnswerType.REASON, AnswerType.LIST) or not self.has_reader:
            return answer  # more than a phrase is asked (or no reader to find one)
        best = selection.chosen[0]
        if best not in order:  # a model that decides without the reader: it reads the best
            order = [best]
            read = self.read(question.text, previous, candidates, order)
        assert read is not None
        return replace(answer, short_answer=self.short(candidates, best, read, order, answer))

    def best_of_passages(self, candidates: Candidates, ranker: np.ndarray) -> dict[int, int]:
        """Each passage's best candidate sentence by the ranker: passage id → sentence id."""
        best: dict[int, int] = {}
        for i in np.argsort(-ranker, kind="stable"):
            sentence = self.index.sentences[candidates.sentence_ids[i]]
            best.setdefault(sentence.passage_id, sentence.id)
        return best

    def read(
        self, text: str, previous: str | None, candidates: Candidates, order: list[int]
    ) -> ReaderOutput:
        """The reader on the candidates at positions `order`."""
        sentences = [self.index.sentences[candidates.sentence_ids[i]] for i in order]
        return self.reader.read(
            reader_question(text, previous),
            [self.index.sentence_text(s) for s in sentences],
            [self.index.passages[s.passage_id].section for s in sentences],
        )

    def short(
        self,
        candidates: Candidates,
        best: int,
        read: ReaderOutput,
        order: list[int],
        answer: Answer,
    ) -> ShortAnswer | None:
        """The reader's span in the best sentence, in document offsets, when it lies inside
        the first citation (it always should) and is shorter than the sentence."""
        if best not in order:
            return None
        sentence = self.index.sentences[candidates.sentence_ids[best]]
        first, last = read.spans[order.index(best)]
        start, end = sentence.start + first, sentence.start + last
        text = self.index.documents[sentence.doc_id].text[start:end]
        cited = answer.citations[0]
        inside = cited.doc_id == sentence.doc_id and cited.start <= start < end <= cited.end
        if not inside or not text.strip() or end - start >= sentence.end - sentence.start:
            return None
        return ShortAnswer(text, sentence.doc_id, start, end)


def within_length(
    index: Index,
    candidates: Candidates,
    chosen: list[int],
    probabilities: np.ndarray,
    *,
    is_list: bool,
) -> tuple[list[int], list[float]]:
    """Sentence ids and scores of the chosen candidates that fit in MAX_ANSWER_CHARS (the
    first always does; a list question may run longer). A sentence whose words were already
    quoted (the same text in another document, or again in this one) is not quoted twice."""
    ids: list[int] = []
    scores: list[float] = []
    seen: set[str] = set()
    length = 0
    for i in chosen:
        sentence = index.sentences[candidates.sentence_ids[i]]
        size = sentence.end - sentence.start
        words = " ".join(index.sentence_text(sentence).split()).casefold()
        if words in seen or (ids and not is_list and length + size > MAX_ANSWER_CHARS):
            continue
        seen.add(words)
        ids.append(sentence.id)
        scores.append(float(probabilities[i]))
        length += size
    return ids, scores

"""The extractive answerer: evidence of each candidate → the fitted model → the template.

No weight here is set by hand: `evidence.py` describes each sentence of the retrieved
passages, `model.py` (fitted by `qa train`) ranks them and decides whether to answer,
and `templates.py` quotes and cites what was chosen.
"""

import numpy as np

from qa.answer.evidence import Candidates, EvidenceReader
from qa.answer.model import AnswerModel, default_model
from qa.answer.retrieve import Hit
from qa.answer.templates import (
    DECLINE_PASSAGES,
    DECLINE_TEXT,
    MAX_ANSWER_CHARS,
    Answer,
    Citation,
    decline,
    quote,
)
from qa.index.build import Index
from qa.question.conversation import NO_QUOTES, Quotes
from qa.question.parse import AnswerType, Question

__all__ = ["DECLINE_TEXT", "Answer", "Answerer", "Citation"]


class Answerer:
    """Chooses and cites the sentences that answer a question, or declines."""

    def __init__(self, index: Index, model: AnswerModel | None = None) -> None:
        self.index = index
        self.evidence = EvidenceReader(index)
        self._model = model

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
    ) -> Answer:
        """Answer from the sentences of the best passages of `hits` (as many as the model was
        fitted with), or decline and list the first `listed` passages."""
        read = hits[: self.model.policy.passages]
        candidates = self.evidence.candidates(
            question, question_vector, read, follow_up=follow_up, focus=focus, quotes=quotes
        )
        return self.decide(question, candidates, hits[:listed])

    def decide(self, question: Question, candidates: Candidates, closest: list[Hit]) -> Answer:
        """The answer the model chooses from these candidates, or a decline that lists the
        `closest` passages."""
        if not len(candidates) or not question.terms:
            return decline(self.index, closest, 0.0)
        is_list = question.answer_type is AnswerType.LIST
        selection = self.model.select(candidates, list_question=is_list)
        if not selection.answered:
            return decline(self.index, closest, selection.confidence)
        ids, scores = within_length(
            self.index, candidates, selection.chosen, selection.probabilities, is_list=is_list
        )
        return quote(self.index, ids, scores, selection.confidence)


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

"""The extractive answerer: score the retrieved sentences, keep the ones that answer, cite them.

Abstention comes from evidence, not one similarity threshold: a question's names and
numbers must appear near the chosen sentence, and its content words must be covered.
"""

import math
import re
from dataclasses import dataclass, replace
from functools import cache, lru_cache

import numpy as np

from qa.index import Index
from qa.question import AnswerType, Question, has_type
from qa.retrieve import Hit
from qa.text import content_terms

DECLINE_TEXT = "The corpus doesn't say. The closest passages are listed below."
MAX_ANSWER_CHARS = 600
MAX_LIST_SENTENCES = 3
# A runner-up sentence joins the answer when its score is within this of the best one's.
# Measured on the SQuAD development articles: answer accuracy 0.698 -> 0.719 for 1.09 ->
# 1.28 sentences an answer (against 0.075 and requiring the runner-up to add new terms).
SECOND_GAP = 0.12
# The expected answer type can be checked reliably only for these.
_STRICT_TYPES = (AnswerType.NUMBER, AnswerType.DATE)
# How a candidate sentence is ranked: a weighted sum of what it has going for it. A
# coordinate search of these weights on the SQuAD development articles moved top-1
# accuracy by at most a point on held-out articles, and a fitted logistic ranker with six
# more features (position, length, passage rank ...) did worse: hand weights they stay.
RANK_WEIGHTS = {
    "dense": 0.5,  # cosine of sentence (embedded under its heading) and question
    "passage_score": 0.2,  # fused retrieval score of its passage
    "coverage": 0.4,  # IDF share of question terms in it (heading and title count half)
    "type_match": 0.1,  # the question wants a number/date/name/reason and it has one
    "type_miss": -0.1,  # ... and it has none
    "salient_missing": -0.3,  # times the share of the question's names and numbers absent
    "in_focus": 0.15,  # a follow-up, and it is in the passage the previous answer quoted
    "negation_match": 0.1,  # the question is negated ("which ... not ...") and so is it
}
# Question terms found only in the sentence before (same passage) count this much towards
# coverage, and names there satisfy the salience check: "He patented ..." follows the
# sentence that names him. SQuAD-A: answer accuracy 0.765 -> 0.781 at 0.2 (0.5 gave 0.790
# but let a later sentence outrank the one that holds the answer on the gold set).
PREV_CREDIT = 0.2
_NEGATION = re.compile(r"\b(not|no|never|none|nor|without|neither)\b|n[’']t\b", re.I)
# A sentence can answer a negated question with other words of absence or failure.
_NEGATIVE_SENTENCE = re.compile(
    r"\b(not|no|never|none|nor|without|neither|cannot|unable|fail\w*|lack\w*|insufficient\w*|"
    r"absen\w*|refus\w*|reject\w*|den(?:y|ies|ied))\b|n[’']t\b",
    re.I,
)
_CAPITALISED_RUN = re.compile(r"[A-Z][\w’'-]*(?:\s+(?:of\s+|for\s+|and\s+)?[A-Z][\w’'-]*)+")
# The confidence model: a logistic function of Evidence.features() (FEATURES names them).
# Set by hand, a few coarse steps at a time, each checked on both the SQuAD development
# articles (500-question sample) and the gold set: the passage's retrieval score and the
# margin over the runner-up carry most of the signal, names missing near the sentence most
# of the doubt. scripts/fit_confidence.py fits a plain logistic regression for comparison;
# on SQuAD's adversarial unanswerable questions it separated no better and declined more.
CONFIDENCE_WEIGHTS = (3.0, 5.0, 2.0, 1.0, -2.0, -3.0, 0.0, -2.0, 3.0, -4.0)
CONFIDENCE_BIAS = -5.2
# Answer when the confidence reaches this.
THRESHOLD = 0.45


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


@dataclass(frozen=True, slots=True)
class Candidate:
    """A sentence of a retrieved passage, scored against the question."""

    sentence_id: int
    score: float
    dense: float
    coverage: float
    passage_score: float
    typed: bool
    missing_salient: frozenset[str]
    passage_missing_salient: frozenset[str]
    in_focus: bool


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the confidence model reads: the best candidate and how it stands out."""

    best: Candidate
    margin: float  # best score minus the runner-up's
    salient_missing: bool  # a name or number of the question is absent near the sentence
    passage_salient_missing: bool  # ... and from its whole passage
    unknown_share: float  # IDF weight of question terms the corpus never uses
    strict_type_missing: bool
    negation_mismatch: bool  # the question is negated ("which ... did not ...") and it is not

    def features(self) -> list[float]:
        return [
            self.best.coverage,
            self.best.dense,
            self.best.passage_score,
            self.margin,
            float(self.salient_missing),
            float(self.passage_salient_missing),
            self.unknown_share,
            float(self.strict_type_missing),
            float(self.best.in_focus),
            float(self.negation_mismatch),
        ]


FEATURES = (
    "coverage",
    "dense",
    "passage_score",
    "margin",
    "salient_missing",
    "passage_salient_missing",
    "unknown_terms",
    "type_missing",
    "in_focus",
    "negation_mismatch",
)


class Answerer:
    """Chooses and cites the sentences that answer a question, or declines."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self._max_idf = max(index.term_idf.values(), default=1.0)
        self._context_terms = cache(self._context_terms_uncached)
        self._passage_terms = cache(self._passage_terms_uncached)
        self._initialisms = cache(self._initialisms_uncached)
        self._names_in = cache(self._names_in_uncached)

    def answer(
        self,
        question: Question,
        question_vector: np.ndarray,
        hits: list[Hit],
        *,
        focus: frozenset[int] = frozenset(),
    ) -> Answer:
        candidates = self.score(question, question_vector, hits, focus=focus)
        if not candidates or not question.terms:
            return self._decline(hits, confidence=0.0)
        confidence = self.confidence(self.evidence(question, candidates))
        if confidence < THRESHOLD:
            return self._decline(hits, confidence=confidence)
        chosen = self._select(candidates[0], candidates, question)
        return Answer(
            answer=self._render(chosen),
            answered=True,
            confidence=round(confidence, 3),
            citations=[self._cite(i, c) for i, c in enumerate(chosen, 1)],
        )

    # --- scoring ------------------------------------------------------------------------

    def score(
        self,
        question: Question,
        question_vector: np.ndarray,
        hits: list[Hit],
        *,
        focus: frozenset[int] = frozenset(),
    ) -> list[Candidate]:
        """Every sentence of the retrieved passages, best first."""
        index = self.index
        ids = [sid for hit in hits for sid in index.passages[hit.passage_id].sentence_ids]
        if not ids:
            return []
        passage_score = {hit.passage_id: hit.score for hit in hits}
        dense = index.sentence_vectors[ids] @ question_vector[0]
        weights = {t: index.term_idf.get(t, self._max_idf) for t in question.terms}
        total = sum(weights.values()) or 1.0
        salient_count = len(question.salient) or 1
        expects_type = question.answer_type is not AnswerType.OTHER
        negated = bool(_NEGATION.search(question.text))
        candidates = []
        for sid, sim in zip(ids, dense.tolist(), strict=True):
            sentence = index.sentences[sid]
            terms = index.sentence_terms[sid]
            context = self._context_terms(sentence.passage_id)
            names: frozenset[str] = frozenset()  # of the sentence before, in the same passage
            if sid > 0 and index.sentences[sid - 1].passage_id == sentence.passage_id:
                names = self._names_in(sid - 1)
            in_sentence = sum(w for t, w in weights.items() if t in terms)
            in_context = sum(w for t, w in weights.items() if t not in terms and t in context)
            in_previous = sum(
                w for t, w in weights.items() if t not in terms and t not in context and t in names
            )
            coverage = (in_sentence + 0.5 * in_context + PREV_CREDIT * in_previous) / total
            typed = has_type(index.sentence_text(sentence), question.answer_type, question.asked)
            # A name may be "he" or "it" here and spelled out in the sentence before; a
            # number may not; and a name the user just typed in a follow-up must be here.
            missing = self._missing(
                question.salient - question.required, (terms, context, names), sentence.passage_id
            ) | self._missing(question.required, (terms,), sentence.passage_id)
            in_focus = sentence.passage_id in focus
            score = (
                RANK_WEIGHTS["dense"] * sim
                + RANK_WEIGHTS["passage_score"] * passage_score[sentence.passage_id]
                + RANK_WEIGHTS["coverage"] * coverage
                + RANK_WEIGHTS["salient_missing"] * len(missing) / salient_count
                + RANK_WEIGHTS["in_focus"] * in_focus
            )
            if expects_type:
                score += RANK_WEIGHTS["type_match"] if typed else RANK_WEIGHTS["type_miss"]
            if negated and _NEGATIVE_SENTENCE.search(index.sentence_text(sentence)):
                score += RANK_WEIGHTS["negation_match"]
            candidates.append(
                Candidate(
                    sentence_id=sid,
                    score=score,
                    dense=sim,
                    coverage=coverage,
                    passage_score=passage_score[sentence.passage_id],
                    typed=typed,
                    missing_salient=missing,
                    passage_missing_salient=missing - self._passage_terms(sentence.passage_id),
                    in_focus=in_focus,
                )
            )
        candidates.sort(key=lambda c: -c.score)
        return candidates

    def evidence(self, question: Question, candidates: list[Candidate]) -> Evidence:
        best = candidates[0]
        runner_up = candidates[1].score if len(candidates) > 1 else 0.0
        weights = {t: self.index.term_idf.get(t) for t in question.terms}
        total = sum(w if w is not None else self._max_idf for w in weights.values()) or 1.0
        unknown = sum(self._max_idf for w in weights.values() if w is None) / total
        return Evidence(
            best=best,
            margin=best.score - runner_up,
            salient_missing=bool(best.missing_salient),
            passage_salient_missing=bool(best.passage_missing_salient),
            unknown_share=unknown,
            strict_type_missing=question.answer_type in _STRICT_TYPES and not best.typed,
            negation_mismatch=bool(
                _NEGATION.search(question.text)
                and not _NEGATIVE_SENTENCE.search(
                    self.index.sentence_text(self.index.sentences[best.sentence_id])
                )
            ),
        )

    def confidence(self, evidence: Evidence) -> float:
        """The probability that the best sentence answers: a logistic model of the evidence."""
        z = CONFIDENCE_BIAS + sum(
            w * f for w, f in zip(CONFIDENCE_WEIGHTS, evidence.features(), strict=True)
        )
        return 1.0 / (1.0 + math.exp(-z))

    def _missing(
        self, salient: frozenset[str], evidence: tuple[frozenset[str], ...], passage_id: int
    ) -> frozenset[str]:
        """Salient terms absent from the evidence; an acronym may match its spelled-out form."""
        missing = salient.difference(*evidence)
        if not missing:
            return missing
        initials = self._initialisms(passage_id)
        return frozenset(
            t
            for t in missing
            if t not in initials and not any(_has_related(t, terms) for terms in evidence)
        )

    def _initialisms_uncached(self, passage_id: int) -> frozenset[str]:
        """Initials of runs of capitalised words in a passage: "United Nations" gives "un"."""
        text = self.index.passage_text(self.index.passages[passage_id])
        found = set()
        for run in _CAPITALISED_RUN.finditer(text):
            letters = "".join(w[0] for w in run.group(0).split() if w[0].isupper()).lower()
            if len(letters) > 1:
                found.add(letters)
        return frozenset(found)

    def _names_in_uncached(self, sentence_id: int) -> frozenset[str]:
        """A sentence's terms other than numbers."""
        return frozenset(t for t in self.index.sentence_terms[sentence_id] if not t[:1].isdigit())

    def _context_terms_uncached(self, passage_id: int) -> frozenset[str]:
        """Terms of the passage's section heading and document title."""
        passage = self.index.passages[passage_id]
        title = self.index.documents[passage.doc_id].title
        return frozenset(content_terms(f"{title} {passage.section}"))

    def _passage_terms_uncached(self, passage_id: int) -> frozenset[str]:
        """Terms of every sentence of a passage."""
        passage = self.index.passages[passage_id]
        return frozenset().union(*(self.index.sentence_terms[s] for s in passage.sentence_ids))

    # --- choosing and rendering ---------------------------------------------------------

    def _select(
        self, best: Candidate, candidates: list[Candidate], question: Question
    ) -> list[Candidate]:
        """The best sentence, plus close runners-up (up to three for a list question)."""
        if question.answer_type is AnswerType.LIST:
            limit = MAX_LIST_SENTENCES
        elif question.answer_type in _STRICT_TYPES and best.typed:
            limit = 1  # one figure or date answers "how many" or "when"
        else:
            limit = 2
        chosen = [best]
        length = self._length(best)
        if question.answer_type is AnswerType.REASON:
            # A "why" is often answered by the sentence after the one that restates it
            # ("The reason why X is ... . Among ..."): quote both.
            following = self._next_in_paragraph(best, candidates)
            if following is not None and length + self._length(following) <= MAX_ANSWER_CHARS:
                return [best, following]
        for c in candidates[1:]:
            if len(chosen) >= limit or c.score < best.score - SECOND_GAP:
                break
            too_long = length + self._length(c) > MAX_ANSWER_CHARS
            if c.missing_salient or (question.answer_type is not AnswerType.LIST and too_long):
                continue
            if question.answer_type in _STRICT_TYPES and not c.typed:
                continue
            chosen.append(c)
            length += self._length(c)
        return chosen

    def _next_in_paragraph(
        self, candidate: Candidate, candidates: list[Candidate]
    ) -> Candidate | None:
        """The sentence right after this one, when it continues the same paragraph."""
        index = self.index
        sentence = index.sentences[candidate.sentence_id]
        if sentence.id + 1 >= len(index.sentences):
            return None
        following = index.sentences[sentence.id + 1]
        text = index.documents[sentence.doc_id].text
        if following.doc_id != sentence.doc_id or "\n" in text[sentence.end : following.start]:
            return None
        scored = next((c for c in candidates if c.sentence_id == following.id), None)
        # Not retrieved (a long paragraph split into passages): it shares this one's score.
        return scored or replace(candidate, sentence_id=following.id, in_focus=False)

    def _length(self, candidate: Candidate) -> int:
        sentence = self.index.sentences[candidate.sentence_id]
        return sentence.end - sentence.start

    def _render(self, chosen: list[Candidate]) -> str:
        """Template words around verbatim sentences, each followed by its marker."""
        parts = []
        previous_section: tuple[str, str] | None = None
        for n, candidate in enumerate(chosen, 1):
            sentence = self.index.sentences[candidate.sentence_id]
            passage = self.index.passages[sentence.passage_id]
            title = self.index.documents[sentence.doc_id].title
            where = (title, passage.section)
            if where != previous_section:
                parts.append(_lead(title, passage.section, first=n == 1))
            parts.append(f"{self.index.sentence_text(sentence)} [{n}]")
            previous_section = where
        return " ".join(parts)

    def _cite(self, n: int, candidate: Candidate) -> Citation:
        sentence = self.index.sentences[candidate.sentence_id]
        passage = self.index.passages[sentence.passage_id]
        return Citation(
            n=n,
            doc_id=sentence.doc_id,
            title=self.index.documents[sentence.doc_id].title,
            section=passage.section,
            quote=self.index.sentence_text(sentence),
            start=sentence.start,
            end=sentence.end,
            score=round(candidate.score, 4),
        )

    def _decline(self, hits: list[Hit], *, confidence: float) -> Answer:
        citations = []
        for n, hit in enumerate(hits[:3], 1):
            passage = self.index.passages[hit.passage_id]
            citations.append(
                Citation(
                    n=n,
                    doc_id=passage.doc_id,
                    title=self.index.documents[passage.doc_id].title,
                    section=passage.section,
                    quote=self.index.passage_text(passage),
                    start=passage.start,
                    end=passage.end,
                    score=round(hit.score, 4),
                )
            )
        return Answer(DECLINE_TEXT, False, round(confidence, 3), citations)


@lru_cache(maxsize=1 << 16)  # the term sets are the index's own, so hits are frequent
def _has_related(term: str, terms: frozenset[str]) -> bool:
    return any(_related(term, other) for other in terms)


def _related(term: str, other: str) -> bool:
    """Forms of one name: "europ"/"european", "brazil"/"brazilian", "north"/"northern"."""
    if term[:1].isdigit() or len(term) < 4 or len(other) < 4:
        return False
    return term.startswith(other) or other.startswith(term)


def _lead(title: str, section: str, *, first: bool) -> str:
    if section == title:
        return f"According to {title}:" if first else f"{title} also says:"
    if first:
        return f"According to {title} (“{section}”):"
    return f"And under “{section}”:"

"""The evidence for each candidate sentence: how it stands against the question, as numbers.

Every sentence of the retrieved passages is a candidate. Its features say how well its
passage was retrieved, how close it is in meaning, how much of the question it and its
surroundings cover, whether the question's names and numbers are near it, and whether it
holds something of the kind the question asks for. The fitted model (`model.py`)
reads them; nothing here weighs one against another.
"""

import math
import re
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np

from qa.answer.retrieve import Hit
from qa.corpus.blocks import Kind
from qa.corpus.ingest import Sentence
from qa.index.build import Index
from qa.question.conversation import NO_QUOTES, Quotes
from qa.question.measures import states
from qa.question.parse import AnswerType, Question, new_values
from qa.text import content_terms

_NEGATION = re.compile(r"\b(not|no|never|none|nor|without|neither)\b|n[’']t\b", re.I)
# A sentence can answer a negated question with other words of absence or failure.
_NEGATIVE_SENTENCE = re.compile(
    r"\b(not|no|never|none|nor|without|neither|cannot|unable|fail\w*|lack\w*|insufficient\w*|"
    r"absen\w*|refus\w*|reject\w*|den(?:y|ies|ied))\b|n[’']t\b",
    re.I,
)
_CAPITALISED_RUN = re.compile(r"[A-Z][\w’'-]*(?:\s+(?:of\s+|for\s+|and\s+)?[A-Z][\w’'-]*)+")
_TYPES = tuple(AnswerType)

# The features, in the order of the matrix's columns. The fitted model's file names them
# too, and refuses to load when they differ.
FEATURES: tuple[str, ...] = (
    # the passage
    "passage_score",  # fused retrieval score
    "passage_dense",  # its cosine with the question
    "passage_lexical",  # its BM25 score over the best passage's
    "passage_rank",  # 0 for the best passage
    "passage_gap",  # best passage's fused score minus this one's
    "in_focus",  # a follow-up, and the passage the previous answer quoted
    # the sentence, in meaning
    "dense",  # cosine of the sentence (embedded under its heading) and the question
    "dense_gap",  # best candidate's cosine minus this one's
    "dense_rank",  # log(1 + its rank by cosine among the candidates)
    # the sentence, in words: IDF-weighted share of the question's terms
    "coverage",  # in the sentence
    "coverage_context",  # in the section heading or title only
    "coverage_previous",  # in the sentence before only (same passage)
    "coverage_next",  # in the sentence after only (same passage)
    "coverage_passage",  # anywhere in the passage, heading and title
    "coverage_gap",  # best candidate's coverage minus this one's
    "rarest_missing",  # IDF of the rarest question term absent near it, over the largest IDF
    "rarest_missing_passage",  # ... absent from its whole passage, heading and title
    "salient_missing",  # share of the question's names and numbers absent near it
    "salient_missing_passage",  # ... and from its whole passage
    "name_missing",  # a name typed capitalised, or a number, of the question is absent near it
    "name_missing_passage",  # ... and from its whole passage
    "required_missing",  # a name typed in a follow-up is absent from the sentence itself
    "new_terms",  # share of its terms the question does not use (what it adds)
    # the sentence, in kind
    "has_number",  # a number the question did not already give
    "has_date",  # a year or month the question did not give
    "has_name",  # a capitalised word past the first that the question did not give
    "has_reason",  # a word of cause ("because", "due to" ...)
    "type_match",  # it holds what the question's form asks for (number, date, name ...)
    "figure_missing",  # the question asks for a number or date and it holds none
    "measure_missing",  # the question asks for a quantity in a unit (money, speed ...), it has none
    "negated",  # a word of negation, absence or refusal
    "negation_match",  # the question is negated and so is it
    "negation_missing",  # the question is negated ("which ... did not ...") and it is not
    "length",  # log of its length in characters
    "position",  # its place in the passage (0 first)
    # the block it is in (body prose unless one of these)
    "in_table",  # a table row
    "in_code",  # preformatted text
    "in_footnote",  # a footnote or endnote
    # the sentence, in the conversation
    "quoted_before",  # an earlier answer of the chat quoted it
    "after_quoted",  # 1/d when it comes d sentences after the last answer's last quote
    "before_quoted",  # 1/d when it comes d sentences before the last answer's first quote
    # the question
    *(f"asks_{t.value}" for t in _TYPES),
    "question_negated",
    "unknown_terms",  # IDF share of the question's terms the corpus never uses
    "question_terms",  # log(1 + number of content terms)
    "question_salient",  # number of names and numbers
    "follow_up",
)
_COLUMN = {name: i for i, name in enumerate(FEATURES)}
# Features whose larger values can only speak for a candidate, or only against it: the
# ranker is fitted with these directions as monotone constraints, so that what it learns
# from the development sets' quirks can never turn "more of the question's words" or
# "a name of the question missing" around for a corpus it has not seen.
MORE_IS_BETTER = frozenset(
    "passage_score passage_dense passage_lexical in_focus dense coverage coverage_context "
    "coverage_passage type_match negation_match".split()
)
MORE_IS_WORSE = frozenset(
    "passage_rank passage_gap dense_gap dense_rank coverage_gap rarest_missing "
    "rarest_missing_passage salient_missing salient_missing_passage name_missing "
    "name_missing_passage required_missing "
    "figure_missing measure_missing negation_missing".split()
)
# The columns from here on describe the question, the same for every candidate.
_QUESTION_START = _COLUMN[f"asks_{_TYPES[0].value}"]


@dataclass(frozen=True, slots=True)
class Candidates:
    """The candidate sentences of one question, in retrieval order, and their evidence."""

    sentence_ids: list[int]
    features: np.ndarray  # float32, one row per candidate, columns as FEATURES

    def __len__(self) -> int:
        return len(self.sentence_ids)

    def column(self, name: str) -> np.ndarray:
        return self.features[:, _COLUMN[name]]


class EvidenceReader:
    """Computes candidates' features over one index; caches what depends only on the index."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self._max_idf = max(index.term_idf.values(), default=1.0)
        self._context_terms = cache(self._context_terms_uncached)
        self._passage_terms = cache(self._passage_terms_uncached)
        self._initialisms = cache(self._initialisms_uncached)
        self._names_in = cache(self._names_in_uncached)
        self._negative = cache(self._negative_uncached)
        self._kind = cache(self._kind_uncached)

    def candidates(
        self,
        question: Question,
        question_vector: np.ndarray,
        hits: list[Hit],
        *,
        follow_up: bool = False,
        focus: frozenset[int] = frozenset(),
        quotes: Quotes = NO_QUOTES,
    ) -> Candidates:
        """Every sentence of the retrieved passages with its features; `quotes` are the
        sentences the chat's earlier answers quoted."""
        index = self.index
        ids = [sid for hit in hits for sid in index.passages[hit.passage_id].sentence_ids]
        if not ids:
            return Candidates([], np.zeros((0, len(FEATURES)), np.float32))
        by_passage = {hit.passage_id: (rank, hit) for rank, hit in enumerate(hits)}
        best_score = hits[0].score
        dense = index.sentence_vectors[ids] @ question_vector[0]
        dense_order = np.empty(len(ids), dtype=np.int64)
        dense_order[np.argsort(-dense, kind="stable")] = np.arange(len(ids))
        weights = {t: index.term_idf.get(t, self._max_idf) for t in question.terms}
        total = sum(weights.values()) or 1.0
        salient_count = len(question.salient) or 1
        asked = set(question.terms)
        question_negated = bool(_NEGATION.search(question.text))
        strict = question.answer_type in (AnswerType.NUMBER, AnswerType.DATE)
        unknown = sum(self._max_idf for t in question.terms if t not in index.term_idf) / total
        last_first = index.sentences[quotes.last[0]] if quotes.last else None
        last_end = index.sentences[quotes.last[-1]] if quotes.last else None

        rows = np.zeros((len(ids), len(FEATURES)), dtype=np.float32)
        for row, sid in enumerate(ids):
            sentence = index.sentences[sid]
            pid = sentence.passage_id
            rank, hit = by_passage[pid]
            passage = index.passages[pid]
            position = passage.sentence_ids.index(sid)
            terms = index.sentence_terms[sid]
            context = self._context_terms(pid)
            before = index.sentence_terms[sid - 1] if position > 0 else frozenset()
            after = (
                index.sentence_terms[sid + 1]
                if position + 1 < len(passage.sentence_ids)
                else frozenset()
            )
            names_before = self._names_in(sid - 1) if position > 0 else frozenset()
            in_sentence = in_context = in_before = in_after = in_passage = 0.0
            rarest = rarest_passage = 0.0
            passage_terms = self._passage_terms(pid)
            for t, w in weights.items():
                if t in terms:
                    in_sentence += w
                elif t in context:
                    in_context += w
                elif t in before:
                    in_before += w
                elif t in after:
                    in_after += w
                else:
                    rarest = max(rarest, w)
                if t in terms or t in context or t in passage_terms:
                    in_passage += w
                else:
                    rarest_passage = max(rarest_passage, w)
            text = index.sentence_text(sentence)
            values = new_values(text, question.asked)
            typed = values.has(question.answer_type)
            # A name may be "he" or "it" here and spelled out in the sentence before; a
            # number may not; and a name the user just typed in a follow-up must be here.
            missing = self._missing(
                question.salient - question.required, (terms, context, names_before), pid
            ) | self._missing(question.required, (terms,), pid)
            missing_passage = missing - passage_terms
            required_missing = bool(self._missing(question.required, (terms,), pid))
            negative = self._negative(sid)
            rows[row, :_QUESTION_START] = (
                hit.score,
                hit.dense,
                hit.lexical,
                rank,
                best_score - hit.score,
                pid in focus,
                dense[row],
                0.0,  # dense_gap, below
                math.log1p(dense_order[row]),
                in_sentence / total,
                in_context / total,
                in_before / total,
                in_after / total,
                in_passage / total,
                0.0,  # coverage_gap, below
                rarest / self._max_idf,
                rarest_passage / self._max_idf,
                len(missing) / salient_count,
                len(missing_passage) / salient_count,
                bool(missing & question.capitalised),
                bool(missing_passage & question.capitalised),
                required_missing,
                len(terms - asked) / len(terms) if terms else 0.0,
                values.number,
                values.date,
                values.name,
                values.reason,
                typed,
                strict and not typed,
                question.measure is not None and not states(text, question.measure),
                negative,
                negative and question_negated,
                question_negated and not negative,
                math.log(1 + sentence.end - sentence.start),
                position,
                *self._kind(pid),
                sid in quotes.earlier,
                _inverse_distance(last_end, sentence),
                _inverse_distance(sentence, last_first),
            )
        for gap, of in (("dense_gap", "dense"), ("coverage_gap", "coverage")):
            values_of = rows[:, _COLUMN[of]]
            rows[:, _COLUMN[gap]] = values_of.max() - values_of
        rows[:, _QUESTION_START + _TYPES.index(question.answer_type)] = 1.0
        rows[:, _COLUMN["question_negated"]] = question_negated
        rows[:, _COLUMN["unknown_terms"]] = unknown
        rows[:, _COLUMN["question_terms"]] = math.log1p(len(question.terms))
        rows[:, _COLUMN["question_salient"]] = len(question.salient)
        rows[:, _COLUMN["follow_up"]] = follow_up
        return Candidates(ids, rows)

    # --- what depends on the index alone, cached -------------------------------------------

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

    def _kind_uncached(self, passage_id: int) -> tuple[bool, bool, bool]:
        """Whether the passage is a table row, preformatted text or a footnote."""
        passage = self.index.passages[passage_id]
        kind = self.index.documents[passage.doc_id].kind_at(passage.start)
        return kind == Kind.TABLE, kind == Kind.CODE, kind == Kind.FOOTNOTE

    def _negative_uncached(self, sentence_id: int) -> bool:
        text = self.index.sentence_text(self.index.sentences[sentence_id])
        return bool(_NEGATIVE_SENTENCE.search(text))


@lru_cache(maxsize=1 << 16)  # the term sets are the index's own, so hits are frequent
def _inverse_distance(before: Sentence | None, after: Sentence | None) -> float:
    """1/d when `after` comes d >= 1 sentences after `before` in the same document, else 0."""
    if before is None or after is None or before.doc_id != after.doc_id or after.id <= before.id:
        return 0.0
    return 1.0 / (after.id - before.id)


def _has_related(term: str, terms: frozenset[str]) -> bool:
    return any(_related(term, other) for other in terms)


def _related(term: str, other: str) -> bool:
    """Forms of one name: "europ"/"european", "brazil"/"brazilian", "north"/"northern"."""
    if term[:1].isdigit() or len(term) < 4 or len(other) < 4:
        return False
    return term.startswith(other) or other.startswith(term)

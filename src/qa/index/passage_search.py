"""Passage search behind one small interface: the dense and lexical scores of candidates.

Two backends implement it: the embedded index folder (`LocalSearch`: FAISS and bm25s, the
default) and Milvus collections (`qa.index.milvus_store.MilvusSearch`). Both score a passage the
same way, the cosine of its vector to the question's and its BM25 score over the best one
among the passages searched, and `retrieve` fuses the two alike for both, so the answerer
sees the same features whichever backend holds the passages.
"""

from dataclasses import dataclass
from typing import Protocol

import bm25s
import faiss
import numpy as np

from qa.index.vector_index import search


@dataclass(frozen=True, slots=True)
class Scored:
    """Candidate passages with their scores, aligned: `dense[i]` is `ids[i]`'s cosine (0 when
    the passage is not among the nearest searched) and `lexical[i]` its BM25 score divided by
    the best BM25 score among the passages searched (0 without any shared term)."""

    ids: np.ndarray
    dense: np.ndarray
    lexical: np.ndarray


class PassageSearch(Protocol):
    """Where the passages' vectors and lexical index live."""

    backend: str  # "local" or "milvus", as /api/health reports it
    count: int  # passages

    def score(
        self,
        question_vector: np.ndarray,
        terms: list[str],
        depth: int,
        *,
        within: np.ndarray | None = None,
        include: frozenset[int] = frozenset(),
    ) -> Scored:
        """Candidates for the question: at least its `depth` nearest passages and the
        passages richest in its `terms`, and every passage of `include`; only passages of
        `within` (sorted ids) when given."""
        ...


class LocalSearch:
    """FAISS over passage vectors and bm25s over passage terms: every passage is a candidate
    (BM25 scores them all at once), with the dense score of the `depth` nearest."""

    backend = "local"

    def __init__(self, vectors: faiss.Index, bm25: bm25s.BM25, count: int) -> None:
        self.vectors = vectors
        self.bm25 = bm25
        self.count = count
        self._all = np.arange(count)

    def score(
        self,
        question_vector: np.ndarray,
        terms: list[str],
        depth: int,
        *,
        within: np.ndarray | None = None,
        include: frozenset[int] = frozenset(),
    ) -> Scored:
        n = self.count
        dense = np.zeros(n, dtype=np.float32)
        scores, ids = search(self.vectors, question_vector, depth, within=within)
        found = ids[0] >= 0
        dense[ids[0][found]] = scores[0][found]
        lexical = self.bm25_scores(terms)
        if within is None:
            candidates = self._all
        else:
            candidates = np.asarray(within, dtype=np.int64)
            dense, lexical = dense[candidates], lexical[candidates]
        best = lexical.max() if len(lexical) else 0.0
        return Scored(candidates, dense, lexical / best if best > 0 else lexical)

    def bm25_scores(self, terms: list[str]) -> np.ndarray:
        """BM25 score of every passage for the question's terms (zeros when none is known)."""
        known = [t for t in terms if t in self.bm25.vocab_dict]
        if not known:
            return np.zeros(self.count, dtype=np.float32)
        return np.asarray(self.bm25.get_scores(known), dtype=np.float32)

"""Passage retrieval: dense (FAISS) and lexical (BM25) results, fused."""

from dataclasses import dataclass
from typing import Literal

import numpy as np

from qa.index import Index
from qa.vector_index import search

Fusion = Literal["combine", "rrf"]
_RRF_K = 60
# Weight of the dense score in the combination; BM25 takes the rest. Chosen by measuring
# recall@1 on the SQuAD development articles (scripts/measure_retrieval.py).
DENSE_WEIGHT = 0.6
# Added to the score of the passages the previous answer quoted, for follow-up questions.
FOCUS_BOOST = 0.1


@dataclass(frozen=True, slots=True)
class Hit:
    """One retrieved passage with its fused score and the two scores behind it."""

    passage_id: int
    score: float
    dense: float
    lexical: float


def bm25_scores(index: Index, terms: list[str]) -> np.ndarray:
    """BM25 score of every passage for the question's terms (zeros when none is known)."""
    known = [t for t in terms if t in index.passage_bm25.vocab_dict]
    if not known:
        return np.zeros(len(index.passages), dtype=np.float32)
    return np.asarray(index.passage_bm25.get_scores(known), dtype=np.float32)


def retrieve(
    index: Index,
    question_vector: np.ndarray,
    terms: list[str],
    k: int,
    *,
    fusion: Fusion = "combine",
    focus: frozenset[int] = frozenset(),
    within: np.ndarray | None = None,
) -> list[Hit]:
    """The `k` best passages, best first; passages in `focus` (a follow-up's) get a boost.
    With `within` (passage ids, sorted), only those passages are candidates."""
    n = len(index.passages)
    allowed = n if within is None else len(within)
    k = min(k, allowed)
    dense = np.zeros(n, dtype=np.float32)
    depth = min(allowed, max(4 * k, 50))
    scores, ids = search(index.passage_vectors, question_vector, depth, within=within)
    dense_rank = [int(i) for i in ids[0] if i >= 0]
    dense[dense_rank] = scores[0][: len(dense_rank)]
    lexical = bm25_scores(index, terms)
    if within is not None:
        outside = np.ones(n, dtype=bool)
        outside[within] = False
        lexical[outside] = 0.0
    lexical_norm = lexical / lexical.max() if lexical.max() > 0 else lexical

    if fusion == "rrf":
        fused = np.zeros(n, dtype=np.float32)
        for rank, pid in enumerate(dense_rank):
            fused[pid] += 1.0 / (_RRF_K + rank + 1)
        lexical_rank = np.argsort(-lexical)[:depth]
        for rank, pid in enumerate(lexical_rank):
            if lexical[pid] > 0:
                fused[pid] += 1.0 / (_RRF_K + rank + 1)
    else:
        fused = DENSE_WEIGHT * np.clip(dense, 0, None) + (1 - DENSE_WEIGHT) * lexical_norm

    if focus:
        fused[list(focus)] += FOCUS_BOOST
    if within is not None:
        fused[outside] = -np.inf
    best = np.argsort(-fused, kind="stable")[:k]
    return [Hit(int(p), float(fused[p]), float(dense[p]), float(lexical_norm[p])) for p in best]

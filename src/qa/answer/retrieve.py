"""Passage retrieval: dense and lexical scores from the index's backend, fused."""

from dataclasses import dataclass
from typing import Literal

import numpy as np

from qa.index.build import Index

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
    allowed = len(index.passages) if within is None else len(within)
    k = min(k, allowed)
    depth = min(allowed, max(4 * k, 50))
    if within is not None and focus:
        focus = focus & frozenset(within.tolist())
    scored = index.passage_search.score(question_vector, terms, depth, within=within, include=focus)
    dense, lexical = scored.dense, scored.lexical
    if fusion == "rrf":
        fused = np.zeros(len(scored.ids), dtype=np.float32)
        for scores in (dense, lexical):
            ranked = [i for i in np.argsort(-scores, kind="stable")[:depth] if scores[i] > 0]
            for rank, i in enumerate(ranked):
                fused[i] += 1.0 / (_RRF_K + rank + 1)
    else:
        fused = DENSE_WEIGHT * np.clip(dense, 0, None) + (1 - DENSE_WEIGHT) * lexical
    if focus:
        # In place, so the boost is added in float32 as the shipped answerer was trained: a
        # float64 sum moves passage scores and gaps by a rounding step, and the ranker with them.
        fused[np.isin(scored.ids, list(focus))] += FOCUS_BOOST
    best = np.argsort(-fused, kind="stable")[:k]
    return [
        Hit(int(scored.ids[i]), float(fused[i]), float(dense[i]), float(lexical[i])) for i in best
    ]

"""Plain baselines for `qa eval --compare`: the top sentence by BM25, or by the dense model.

Both read the same index as the pipeline and always answer: they show what the
pipeline's scoring, templates and abstention add over plain retrieval.
"""

import time
from collections.abc import Callable

import bm25s
import numpy as np

from qa.answer.answerer import Answer, Citation
from qa.pipeline import AskResult, Pipeline
from qa.question.conversation import Turn, resolve_turn
from qa.text import content_terms

Scorer = Callable[[str], np.ndarray]


class TopSentence:
    """Answers with the single best sentence of the whole corpus under one scorer."""

    def __init__(self, pipeline: Pipeline, scorer: Scorer) -> None:
        self.pipeline = pipeline
        self.scorer = scorer

    def ask(
        self, question: str, history: list[Turn], doc_ids: list[str] | None = None
    ) -> AskResult:
        """The best sentence, of the documents `doc_ids` only if given."""
        started = time.perf_counter()
        resolved = resolve_turn(question.strip(), history).text
        scores = self.scores(resolved, doc_ids)
        best = int(np.argmax(scores))
        index = self.pipeline.index
        sentence = index.sentences[best]
        quote = index.sentence_text(sentence)
        citation = Citation(
            n=1,
            doc_id=sentence.doc_id,
            title=index.documents[sentence.doc_id].title,
            section=index.passages[sentence.passage_id].section,
            quote=quote,
            start=sentence.start,
            end=sentence.end,
            score=round(float(scores[best]), 4),
            page=index.documents[sentence.doc_id].page_at(sentence.start),
        )
        answer = Answer(f"{quote} [1]", True, 1.0, [citation])
        took = (time.perf_counter() - started) * 1000
        ranked = self.rank_passages(scores, doc_ids)
        return AskResult(question, resolved, answer, round(took, 2), ranked)

    def scores(self, question: str, doc_ids: list[str] | None) -> np.ndarray:
        """Every sentence's score; -inf outside the documents `doc_ids`, if given."""
        scores = np.asarray(self.scorer(question), dtype=np.float64)
        if doc_ids:
            keep = set(doc_ids)
            outside = [s.doc_id not in keep for s in self.pipeline.index.sentences]
            scores[np.asarray(outside)] = -np.inf
        return scores

    def rank_passages(self, scores: np.ndarray, doc_ids: list[str] | None) -> list[int]:
        """Passages (of the documents `doc_ids`, if given) in the order of their best sentence."""
        index = self.pipeline.index
        order = np.argsort(-scores, kind="stable")
        seen: dict[int, None] = {}
        for sid in order.tolist():
            sentence = index.sentences[sid]
            if not doc_ids or sentence.doc_id in doc_ids:
                seen.setdefault(sentence.passage_id, None)
        return list(seen)


def bm25_top_sentence(pipeline: Pipeline) -> TopSentence:
    """BM25 over the index's sentences (their stored terms)."""
    terms = [sorted(t) or [""] for t in pipeline.index.sentence_terms]
    bm25 = bm25s.BM25()
    bm25.index(terms, show_progress=False)

    def score(question: str) -> np.ndarray:
        known = [t for t in content_terms(question) if t in bm25.vocab_dict]
        if not known:
            return np.zeros(len(terms), dtype=np.float32)
        return np.asarray(bm25.get_scores(known))

    return TopSentence(pipeline, score)


def dense_top_sentence(pipeline: Pipeline) -> TopSentence:
    """Cosine similarity of the question to every stored sentence vector."""

    def score(question: str) -> np.ndarray:
        return pipeline.index.sentence_vectors @ pipeline.embedder.encode_one(question)[0]

    return TopSentence(pipeline, score)

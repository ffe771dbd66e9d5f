"""The one place where the stages meet: question → retrieve → answer, with citations."""

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from qa.answer.answerer import Answer, Answerer
from qa.answer.evidence import Candidates
from qa.answer.model import AnswerModel
from qa.answer.retrieve import Hit, retrieve
from qa.answer.templates import DECLINE_PASSAGES
from qa.config import Settings
from qa.corpus.ingest import Document, DocumentReader, read_each
from qa.embedding.embed import Embedder, load_embedder
from qa.errors import DocumentNotFoundError, IndexCorruptError, IndexMissingError
from qa.index.build import (
    BuildProgress,
    BuildReport,
    Index,
    build_index,
    load_index,
    stale_reasons,
)
from qa.question.clean import Cleaner
from qa.question.conversation import NO_QUOTES, QuoteFinder, Quotes, Turn, resolve_turn
from qa.question.parse import Question, parse_question
from qa.text import content_terms, words

log = logging.getLogger(__name__)

RANKING_DEPTH = 20


@dataclass(frozen=True, slots=True)
class AskResult:
    """An answer to one question, as the API returns it."""

    question: str
    resolved_question: str
    answer: Answer
    took_ms: float
    retrieved: list[int] = field(default_factory=list)  # passage ids, best first
    read_as: str | None = None  # the reading shown to the asker (`Reading.read_as`)


@dataclass(frozen=True, slots=True)
class Reading:
    """A question after every stage before the answer."""

    text: str  # as read: cleaned, and resolved against the chat
    question: Question
    vector: np.ndarray
    hits: list[Hit]  # best first
    follow_up: bool
    focus: frozenset[int]  # passages the previous answer quoted, for a follow-up
    quotes: Quotes  # sentences the earlier answers quoted
    previous: str | None = None  # the previous question, when this one is a follow-up
    # The text as read, for the asker to see: only when reading changed the question's words
    # (a follow-up filled in, or typos corrected beyond doubt); None otherwise.
    read_as: str | None = None


@dataclass(frozen=True, slots=True)
class SearchHit:
    doc_id: str
    title: str
    section: str
    text: str
    start: int
    end: int
    score: float


class Pipeline:
    """A loaded index and model, ready to answer; safe to share between requests."""

    def __init__(self, index: Index, embedder: Embedder, model: AnswerModel | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self.answerer = Answerer(index, model)
        self.cleaner = Cleaner(index.vocabulary)

    @cached_property
    def quote_finder(self) -> QuoteFinder:
        return QuoteFinder(self.index)

    @cached_property
    def _passages_of(self) -> dict[str, list[int]]:
        passages: dict[str, list[int]] = {doc_id: [] for doc_id in self.index.documents}
        for passage in self.index.passages:
            passages[passage.doc_id].append(passage.id)
        return passages

    def scope(self, doc_ids: Sequence[str] | None) -> np.ndarray | None:
        """The passage ids of these documents, sorted; None (the whole corpus) for no ids.
        DocumentNotFoundError names every id that is not a document of the corpus."""
        if not doc_ids:
            return None
        unknown = [d for d in dict.fromkeys(doc_ids) if d not in self._passages_of]
        if unknown:
            names = ", ".join(repr(d) for d in unknown)
            noun = "document" if len(unknown) == 1 else "documents"
            raise DocumentNotFoundError(f"no {noun} {names} in the corpus")
        ids = sorted({p for d in doc_ids for p in self._passages_of[d]})
        return np.asarray(ids, dtype=np.int64)

    # --- construction -------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        model: AnswerModel | None = None,
    ) -> "Pipeline":
        """Load the index as it is (stale or not)."""
        embedder = embedder or load_embedder(settings.question_cache)
        return cls(open_index(settings), embedder, model)

    @classmethod
    def load_or_build(
        cls,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        model: AnswerModel | None = None,
    ) -> "Pipeline":
        """Load the index, building it first when it is missing, damaged or stale."""
        embedder = embedder or load_embedder(settings.question_cache)
        try:
            index = open_index(settings)
            if not settings.corpus.is_dir():
                # A serving replica over a shared store: it has no corpus to build from.
                log.info("no corpus folder %s: serving the index as built", settings.corpus)
                return cls(index, embedder, model)
            reasons = stale_reasons(
                index.manifest, settings.corpus, max_passage_chars=settings.max_passage_chars
            )
        except IndexMissingError:
            reasons = None
        except IndexCorruptError as exc:
            reasons = [str(exc)]
        if reasons is None:
            log.info(
                "no index in %s yet: building it from %s (the first run embeds the whole "
                "corpus; later runs re-embed only what changed)",
                settings.index,
                settings.corpus,
            )
        elif reasons:
            log.info("rebuilding the index: %s", "; ".join(reasons))
        if reasons is None or reasons:
            build(settings, embedder=embedder)
            index = open_index(settings)
        return cls(index, embedder, model)

    def stale_reasons(self, corpus: Path, *, max_passage_chars: int) -> list[str]:
        return stale_reasons(self.index.manifest, corpus, max_passage_chars=max_passage_chars)

    def warm_up(self) -> None:
        """Pay the one-off costs of a first question (the model's first forward pass in its
        worker thread, the first searches, the lookups of a chat's quotes and of documents'
        passages) before a user does; no question or answer is cached."""
        self.cleaner.warm_up()
        question = parse_question("What is this about?")
        vector = self.embedder.encode_one_uncached(question.text)
        hits = retrieve(self.index, vector, question.terms, RANKING_DEPTH)
        if self.answerer.model.policy.read:
            self.answerer.reader  # noqa: B018 (loaded now, exported first on a new machine)
        self.answerer.answer(question, vector, hits)
        self.quote_finder  # noqa: B018 (built now: a chat's first follow-up would pay for it)
        self._passages_of  # noqa: B018 (built now: the first question asked within documents)

    # --- questions ----------------------------------------------------------------------

    def read(
        self,
        question: str,
        *,
        history: Sequence[Turn] = (),
        top_k: int = 5,
        doc_ids: Sequence[str] | None = None,
    ) -> Reading:
        """Every stage before the answer: the question read in its chat, embedded, and the
        passages retrieved (ranked `RANKING_DEPTH` deep, or `top_k` if deeper), from the
        documents `doc_ids` only if given."""
        within = self.scope(doc_ids)
        cleaned = self.cleaner.clean(question.strip())
        typed = cleaned.text or question.strip()
        history = [
            Turn(self.cleaner.clean(t.question).text or t.question, t.answer) for t in history
        ]
        is_name = self.index.vocabulary.is_name
        resolution = resolve_turn(typed, history, is_name)
        as_asked = typed if resolution.follow_up else None
        parsed = parse_question(
            resolution.text, as_asked=as_asked, is_name=is_name, new=resolution.fragment
        )
        query, terms, focus = resolution.text, parsed.terms, frozenset[int]()
        if resolution.previous is not None:
            # A follow-up is read with the previous question, near the previous answer.
            query = f"{resolution.text} {resolution.previous.question}"
            terms = list(dict.fromkeys(terms + content_terms(resolution.previous.question)))
        quotes = self.quote_finder.quotes(history) if history else NO_QUOTES
        if resolution.previous is not None:
            focus = quotes.passages(self.index)
        vector = self.embedder.encode_one(query)
        # Ranking deeper than top_k costs nothing extra (BM25 scores every passage) and
        # lets evaluation measure recall and MRR on the very ranking used.
        depth = max(top_k, RANKING_DEPTH)
        hits = retrieve(self.index, vector, terms, depth, focus=focus, within=within)
        previous = resolution.previous.question if resolution.previous is not None else None
        changed = _words_of(resolution.text) != _words_of(typed)  # a follow-up filled in
        corrected = any(_words_of(a) != _words_of(b) for a, b in cleaned.corrections)
        shown = changed or (corrected and cleaned.sure)
        return Reading(
            resolution.text,
            parsed,
            vector,
            hits,
            resolution.follow_up,
            focus,
            quotes,
            previous,
            read_as=resolution.text if shown else None,
        )

    def candidates(self, reading: Reading, passages: int) -> Candidates:
        """The evidence of every sentence of the reading's `passages` best passages."""
        return self.answerer.evidence.candidates(
            reading.question,
            reading.vector,
            reading.hits[:passages],
            follow_up=reading.follow_up,
            focus=reading.focus,
            quotes=reading.quotes,
        )

    def ask(
        self,
        question: str,
        *,
        history: Sequence[Turn] = (),
        top_k: int = 5,
        doc_ids: Sequence[str] | None = None,
    ) -> AskResult:
        """Answer a question, with the earlier turns of the chat (oldest first), from the
        documents `doc_ids` only if given."""
        started = time.perf_counter()
        reading = self.read(question, history=history, top_k=top_k, doc_ids=doc_ids)
        answer = self.answerer.answer(
            reading.question,
            reading.vector,
            reading.hits,
            follow_up=reading.follow_up,
            focus=reading.focus,
            quotes=reading.quotes,
            listed=min(top_k, DECLINE_PASSAGES),
            previous=reading.previous,
        )
        took = (time.perf_counter() - started) * 1000
        retrieved = [h.passage_id for h in reading.hits]
        return AskResult(question, reading.text, answer, round(took, 2), retrieved, reading.read_as)

    def search(
        self, query: str, k: int = 5, *, doc_ids: Sequence[str] | None = None
    ) -> tuple[list[SearchHit], float]:
        """The `k` passages closest to a query, best first, and the time taken in ms; from the
        documents `doc_ids` only if given."""
        started = time.perf_counter()
        within = self.scope(doc_ids)
        vector = self.embedder.encode_one(query)
        hits = retrieve(self.index, vector, content_terms(query), k, within=within)
        results = []
        for hit in hits:
            passage = self.index.passages[hit.passage_id]
            results.append(
                SearchHit(
                    doc_id=passage.doc_id,
                    title=self.index.documents[passage.doc_id].title,
                    section=passage.section,
                    text=self.index.passage_text(passage),
                    start=passage.start,
                    end=passage.end,
                    score=round(hit.score, 4),
                )
            )
        return results, round((time.perf_counter() - started) * 1000, 2)

    def document(self, doc_id: str) -> Document:
        """A document of the indexed corpus, by its id; nothing else is ever returned."""
        try:
            return self.index.documents[doc_id]
        except KeyError:
            raise DocumentNotFoundError(f"no document {doc_id!r} in the corpus") from None


def open_index(settings: Settings) -> Index:
    """The current build of the configured backend: the index folder, or Milvus."""
    if settings.backend == "milvus":
        from qa.index.milvus_store import MilvusStore

        return MilvusStore.of(settings).load()
    return load_index(settings.index)


def build(
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    ray: str | None = None,
    progress: BuildProgress | None = None,
) -> BuildReport:
    """Build the index from the corpus named in the settings, into its backend; with `ray`
    (`local`, `auto` or a cluster's address), the files are read and the texts embedded on
    Ray. `progress` is told of each file read, the sentences, and the texts embedded."""
    encoder: Embedder = embedder or load_embedder()
    reader: DocumentReader = read_each
    if ray is not None:
        from qa.index.ray_build import RayEmbedder, RayReader, connect

        connect(ray)
        encoder = RayEmbedder(encoder)  # type: ignore[assignment]
        reader = RayReader()
    options = {
        "max_passage_chars": settings.max_passage_chars,
        "reader": reader,
        "progress": progress,
    }
    if settings.backend == "milvus":
        from qa.index.milvus_store import MilvusStore, build_milvus

        return build_milvus(settings.corpus, MilvusStore.of(settings), encoder, **options)
    return build_index(settings.corpus, settings.index, encoder, **options)


def _words_of(text: str) -> list[str]:
    """A text's words as compared for `read_as`: case and punctuation aside."""
    return [w.casefold() for w in words(text)]

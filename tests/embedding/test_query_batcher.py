"""Concurrent questions share forward passes, and each gets its own vector back."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from qa.embedding.embed import Embedder
from qa.embedding.query_batcher import QueryBatcher

QUESTIONS = [f"How many people lived in city number {i} in {1900 + i}?" for i in range(16)]


def wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_texts_queued_while_the_model_is_busy_share_one_batch(embedder: Embedder):
    release = threading.Event()
    seen: list[list[str]] = []

    def encode(texts: list[str]) -> np.ndarray:
        seen.append(texts)
        if len(seen) == 1:
            release.wait(10)  # the model is "busy" with the first question
        return embedder.encode(texts)

    batcher = QueryBatcher(encode)
    with ThreadPoolExecutor(len(QUESTIONS)) as pool:
        first = pool.submit(batcher, QUESTIONS[0])
        wait_until(lambda: len(seen) == 1)
        rest = [pool.submit(batcher, q) for q in QUESTIONS[1:]]
        wait_until(lambda: batcher._queue.qsize() == len(QUESTIONS) - 1)
        release.set()
        vectors = [first.result(10)] + [f.result(10) for f in rest]

    assert [len(b) for b in seen] == [1, len(QUESTIONS) - 1]
    assert (batcher.batches, batcher.texts) == (2, len(QUESTIONS))
    alone = embedder.encode(QUESTIONS, batch_size=1)
    for vector, expected in zip(vectors, alone, strict=True):
        np.testing.assert_allclose(vector, expected, atol=1e-5)


def test_an_error_reaches_every_waiting_caller_and_the_worker_carries_on(embedder: Embedder):
    def encode(texts: list[str]) -> np.ndarray:
        if "boom" in texts:
            raise RuntimeError("model failed")
        return embedder.encode(texts)

    batcher = QueryBatcher(encode)
    with pytest.raises(RuntimeError, match="model failed"):
        batcher("boom")
    np.testing.assert_allclose(batcher("fine"), embedder.encode(["fine"])[0], atol=1e-5)


def test_concurrent_questions_through_the_embedder_equal_questions_asked_alone():
    from qa.embedding.embed import load_embedder

    uncached = load_embedder(0)
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(uncached.encode_one, QUESTIONS * 2))
    alone = uncached.encode(QUESTIONS, batch_size=1)
    for i, vector in enumerate(together):
        assert vector.shape == (1, uncached.dimension) and not vector.flags.writeable
        np.testing.assert_allclose(vector[0], alone[i % len(QUESTIONS)], atol=1e-5)


def test_embedders_of_one_model_share_one_batcher():
    from qa.embedding.embed import load_embedder

    assert load_embedder(0).batcher is load_embedder().batcher is load_embedder(16).batcher

"""Questions that arrive together are embedded together: one forward pass for many requests.

A transformer's cost on a CPU grows far slower than the batch: eight short questions in one
pass cost about twice one. Under concurrent load, requests queue here and one worker thread
embeds whatever has queued while it was busy; alone, a question is embedded at once, with
only a hand-over to the worker thread added (tens of microseconds).

The worker also means only one forward pass runs at a time, so the engine's intra-op threads
(onnxruntime's or torch's) never compete with each other across requests (on two cores that
competition caused stalls of hundreds of milliseconds with torch).

`batched` (Mixedbread) does this too, but its worker polls with `time.sleep(timeout)`: either
a wait added to every lone request or a spinning core. This worker blocks on a queue.
"""

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future

import numpy as np

Encode = Callable[[list[str]], np.ndarray]


class QueryBatcher:
    """Embeds single texts from many threads in shared batches of up to `max_batch`."""

    def __init__(self, encode: Encode, *, max_batch: int = 32) -> None:
        self._encode = encode
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[tuple[str, Future[np.ndarray]]] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.batches = 0  # batches embedded so far, and the texts in them: for the bench
        self.texts = 0

    def __call__(self, text: str) -> np.ndarray:
        """The (dimension,) vector of `text`; blocks until its batch is embedded."""
        future: Future[np.ndarray] = Future()
        self._ensure_worker()
        self._queue.put((text, future))
        return future.result()

    def _ensure_worker(self) -> None:
        if self._worker is not None:
            return
        with self._start_lock:
            if self._worker is None:
                worker = threading.Thread(target=self._run, name="qa-query-batcher", daemon=True)
                worker.start()
                self._worker = worker

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]  # blocks while there is nothing to do
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._embed(batch)

    def _embed(self, batch: list[tuple[str, Future[np.ndarray]]]) -> None:
        try:
            vectors = self._encode([text for text, _ in batch])
        except Exception as exc:  # every waiting request gets the error, and the worker lives
            for _, future in batch:
                future.set_exception(exc)
            return
        self.batches += 1
        self.texts += len(batch)
        for (_, future), vector in zip(batch, vectors, strict=True):
            future.set_result(vector)

"""`qa index --ray ADDRESS`: the corpus files read, and their texts embedded, on a Ray cluster.
The same documents and the same vectors as a local build, on more machines.

Reading: parsing is most of the cost of a large library of PDFs, so each file is a Ray task
(one CPU), sent as its bytes (a cluster's nodes need not see the corpus folder) with no more
files in flight than twice the cluster's CPUs, so the driver's memory holds a window of files,
not the library. The documents come back in corpus order.

Embedding: Ray Data.

One model per actor: a process takes ~3 s and ~200 MB to load the model (measured on 2 cores),
so a pool of actors (a callable class given to `map_batches`) each load it once and then embed
batch after batch, on one engine thread and one CPU each, as many actors as the cluster has
CPUs. The driver's own model has already made this machine's ONNX export, so local actors only
load it. Elsewhere a node's first actors export it at once: safe (an export is published by
renaming its folder and checksummed on every load) but slow (three at once took 80 s, not 10).

Length-sorted batches: the texts are sorted by length before they become a dataset, so each
batch holds texts of similar length and little of a forward pass is padding (what
`embed.token_batches` does within one process). The vectors come back tagged with their row
and are put back in the input order."""

import contextlib
import os
import socket
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from qa.config import Settings
from qa.corpus.ingest import Document, SkippedError, oversize, read_document
from qa.embedding.embed import Embedder, load_model
from qa.errors import QAError

__all__ = ["RayEmbedder", "RayReader", "connect"]

THREADS_PER_ACTOR = 1


def connect(address: str, *, num_cpus: int | None = None) -> None:
    """Start a local Ray on 127.0.0.1 only ("local"), join the running cluster ("auto") or
    connect to a cluster's address (`host:6379`, `ray://host:10001`); nothing if connected."""
    if address == "local":
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        # Without this (read when ray is imported) Ray replaces 127.0.0.1 by the machine's
        # reachable address and its servers listen on every interface.
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    import ray

    if ray.is_initialized():
        return
    options: dict[str, Any]
    if address == "local":
        options = {
            "num_cpus": num_cpus or os.cpu_count(),
            "include_dashboard": False,
            "_node_ip_address": "127.0.0.1",
            "log_to_driver": False,
        }
    else:
        _check_reachable(address)
        options = {"address": address}
    what = "start a local Ray" if address == "local" else f"connect to Ray at {address}"
    for attempt in (1, 2):  # Ray's start-up occasionally times out once
        try:
            ray.init(**options)
            break
        except Exception as exc:
            ray.shutdown()
            if attempt == 2:
                reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise QAError(f"cannot {what}: {reason}") from exc
    if address == "local" and ray.util.get_node_ip_address() != "127.0.0.1":
        ray.shutdown()
        raise QAError(
            "a local Ray would listen beyond 127.0.0.1: set RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0"
            " before ray is imported"
        )


def _check_reachable(address: str) -> None:
    """Fail at once on a closed port: Ray itself retries an unreachable GCS for minutes."""
    parts = urlsplit(address if "://" in address else f"//{address}")
    with contextlib.suppress(ValueError):
        if parts.hostname and parts.port:
            try:
                socket.create_connection((parts.hostname, parts.port), timeout=10).close()
            except OSError as exc:
                raise QAError(f"cannot reach Ray at {address}: {exc}") from None


class _EmbedBatches:
    """One model per actor (Ray Data's callable class), loaded with qa's own loader."""

    def __init__(self) -> None:
        model = load_model(Settings(engine_threads=THREADS_PER_ACTOR))
        self.embedder = Embedder(model, cache_size=0)

    def __call__(self, batch: dict[str, np.ndarray], max_texts: int) -> dict[str, np.ndarray]:
        vectors = self.embedder.encode(batch["text"].tolist(), batch_size=max_texts)
        return {"row": batch["row"], "vector": vectors}


class RayEmbedder:
    """An `Embedder` for `index.embed_reusing` whose `encode` runs on a Ray cluster; its
    name, dimension and max_seq_length are the local embedder's (the same manifest)."""

    def __init__(self, local: Embedder, *, actors: int | None = None, batch_size: int = 64) -> None:
        self.name = local.name
        self.dimension = local.dimension
        self.max_seq_length = local.max_seq_length
        self.actors = actors
        self.batch_size = batch_size

    def encode(
        self,
        texts: list[str],
        *,
        batch_size: int = 64,
        progress: Callable[[int, int], None] | None = None,
    ) -> np.ndarray:
        """Unit float32 rows in the order of `texts`; `batch_size` caps texts per forward
        pass (as `Embedder.encode`), the constructor's caps texts per Ray Data batch.
        `progress` is told after each batch comes back how many are done, of how many."""
        import ray

        distinct = sorted(dict.fromkeys(texts), key=len)
        vectors = np.empty((len(distinct), self.dimension), dtype=np.float32)
        if not distinct:
            return vectors
        cpus = int(ray.cluster_resources().get("CPU", 1))
        actors = self.actors or max(1, cpus // THREADS_PER_ACTOR)
        batches = -(-len(distinct) // self.batch_size)  # no more actors than batches
        dataset = ray.data.from_items([{"row": i, "text": t} for i, t in enumerate(distinct)])
        embedded = dataset.map_batches(
            _EmbedBatches,
            fn_kwargs={"max_texts": batch_size},
            compute=ray.data.ActorPoolStrategy(size=min(actors, batches)),
            batch_size=self.batch_size,
            num_cpus=THREADS_PER_ACTOR,
            batch_format="numpy",
        )
        done = 0
        for batch in embedded.iter_batches(batch_size=None, batch_format="numpy"):
            vectors[batch["row"]] = batch["vector"]
            done += len(batch["row"])
            if progress is not None:
                progress(done, len(distinct))
        row = {text: i for i, text in enumerate(distinct)}
        return vectors[[row[text] for text in texts]]


def _read_on_worker(doc_id: str, data: bytes, max_bytes: int) -> Document | SkippedError:
    """A file's Document, parsed from its bytes in a worker's temporary folder."""
    with tempfile.TemporaryDirectory(prefix="qa-read-") as tmp:
        path = Path(tmp) / Path(doc_id).name  # the same suffix picks the same reader
        path.write_bytes(data)
        try:
            return read_document(doc_id, path, max_bytes=max_bytes)
        except SkippedError as exc:
            return SkippedError(str(exc))  # without its cause: a parser's state may not pickle


class RayReader:
    """An `ingest.DocumentReader` whose files are parsed as Ray tasks, one CPU each."""

    def __init__(self, *, in_flight: int | None = None) -> None:
        self.in_flight = in_flight

    def __call__(
        self, files: list[tuple[str, Path]], max_bytes: int
    ) -> Iterator[Document | SkippedError]:
        import ray

        task = ray.remote(num_cpus=1, max_retries=1)(_read_on_worker)
        limit = self.in_flight or 2 * max(1, int(ray.cluster_resources().get("CPU", 1)))
        pending: deque[Any] = deque()
        for doc_id, path in files:
            too_large = oversize(path, max_bytes)  # not worth sending: it would be refused
            if too_large is not None:
                pending.append(too_large)
            else:
                pending.append(task.remote(doc_id, path.read_bytes(), max_bytes))
            while len(pending) >= limit:
                yield _result(pending.popleft())
        while pending:
            yield _result(pending.popleft())


def _result(item: Any) -> Document | SkippedError:
    import ray

    if isinstance(item, SkippedError):
        return item
    try:
        return ray.get(item)
    except Exception as exc:  # the task died (out of memory, a crashed parser)
        return SkippedError(f"its reading failed on Ray ({type(exc).__name__})")

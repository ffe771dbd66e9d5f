"""The Ray build's embedding step on a local Ray (127.0.0.1 only, 2 CPUs): the same vectors
as the local embedder, in input order. `make test-scale`."""

import os
import time
from collections.abc import Iterator

import numpy as np
import psutil
import pytest

from conftest import CORPUS, REPO
from qa.embedding.embed import Embedder
from qa.errors import QAError
from qa.index.ray_build import RayEmbedder, connect

pytestmark = [pytest.mark.scale]

# Read by ray when it is imported (by the first test's importorskip, before any fixture runs):
# without the first, a local Ray replaces 127.0.0.1 by this machine's address and listens on
# every interface.
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
os.environ["RAY_USAGE_STATS_ENABLED"] = "0"


def corpus_sentences(count: int = 200) -> list[str]:
    """Real sentences of varied lengths: the repo corpus and the gold sets' corpora, split
    crudely (the repo corpus alone has only 28)."""
    files = sorted(CORPUS.glob("*.txt")) + sorted((REPO / "tests/gold/corpora").rglob("*.txt"))
    texts = [s.strip() for f in files for s in f.read_text(encoding="utf-8").split(". ")]
    return [t for t in texts if t][:count]


def test_an_unreachable_address_fails_at_once() -> None:
    ray = pytest.importorskip("ray")
    # First in the file: connect does nothing while the module's local Ray runs.
    assert not ray.is_initialized()
    start = time.monotonic()
    with pytest.raises(QAError, match=r"127\.0\.0\.1:1\b"):
        connect("127.0.0.1:1")
    assert time.monotonic() - start < 30
    assert not ray.is_initialized()


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray = pytest.importorskip("ray")
    connect("local", num_cpus=2)
    yield
    ray.shutdown()


def test_vectors_equal_the_local_embedders_in_input_order(
    local_ray: None, embedder: Embedder
) -> None:
    pytest.importorskip("ray")
    texts = corpus_sentences()
    assert len(texts) == 200 and len({len(t) for t in texts}) > 100
    texts.insert(7, texts[150])  # a duplicate, away from its first place
    ray_embedder = RayEmbedder(embedder)
    vectors = ray_embedder.encode(texts)
    assert vectors.shape == (201, embedder.dimension) and vectors.dtype == np.float32
    np.testing.assert_allclose(vectors, embedder.encode(texts), atol=1e-5, rtol=0)
    np.testing.assert_array_equal(vectors[7], vectors[151])
    # The same manifest as a local build.
    metadata = ("name", "dimension", "max_seq_length")
    assert [getattr(ray_embedder, a) for a in metadata] == [getattr(embedder, a) for a in metadata]


def test_no_texts(local_ray: None, embedder: Embedder) -> None:
    pytest.importorskip("ray")
    vectors = RayEmbedder(embedder).encode([])
    assert vectors.shape == (0, embedder.dimension) and vectors.dtype == np.float32


def _cmdline(process: psutil.Process) -> list[str]:
    """A child's command line; none for one that has exited (a zombie not yet reaped, such
    as a worker Ray has just let go), which listens on nothing."""
    try:
        return process.cmdline()
    except (psutil.ZombieProcess, psutil.NoSuchProcess, psutil.AccessDenied):
        return []


def test_local_ray_listens_on_127_0_0_1_only(local_ray: None) -> None:
    ray = pytest.importorskip("ray")
    assert ray.util.get_node_ip_address() == "127.0.0.1"
    children = psutil.Process().children(recursive=True)
    ray_pids = {p.pid for p in children if "ray" in " ".join(_cmdline(p))} | {os.getpid()}
    listening = [
        c
        for c in psutil.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN and c.pid in ray_pids
    ]
    assert len(listening) >= 3  # the GCS, the raylet and this driver at least
    addresses = {c.laddr.ip for c in listening}
    assert addresses <= {"127.0.0.1", "::ffff:127.0.0.1"}, listening


def test_files_read_on_ray_are_the_documents_read_locally(local_ray: None, tmp_path) -> None:
    """`qa index --ray` reads the files on Ray too: every format of the seed article, a
    damaged PDF and an over-long file give the same documents, and the same skips, in order."""
    pytest.importorskip("ray")
    from qa.corpus.ingest import SkippedError, corpus_files, read_each
    from qa.index.ray_build import RayReader
    from samples import ARTICLE, make_samples

    corpus = tmp_path / "corpus"
    for kind, folder in make_samples(tmp_path / "samples").items():
        (corpus / kind).mkdir(parents=True)
        for path in folder.iterdir():
            (corpus / kind / path.name).write_bytes(path.read_bytes())
    (corpus / "article.txt").write_bytes(ARTICLE.read_bytes())
    (corpus / "damaged.pdf").write_bytes(b"%PDF-1.7\nnot really\n")
    (corpus / "long.txt").write_text("A sentence of a file too long to read. " * 6000)
    files = list(corpus_files(corpus))
    assert len(files) >= 6
    local = list(read_each(files, 200_000))
    on_ray = list(RayReader(in_flight=2)(files, 200_000))
    assert [type(d) for d in on_ray] == [type(d) for d in local]
    skipped = [str(d) for d in on_ray if isinstance(d, SkippedError)]
    assert len(skipped) == 2 and any("200000-byte limit" in s for s in skipped), skipped
    for mine, theirs in zip(local, on_ray, strict=True):
        if not isinstance(mine, SkippedError):
            assert (theirs.doc_id, theirs.text, theirs.paragraphs, theirs.pages, theirs.kinds) == (
                mine.doc_id,
                mine.text,
                mine.paragraphs,
                mine.pages,
                mine.kinds,
            )

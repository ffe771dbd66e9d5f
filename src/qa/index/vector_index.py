"""Vector indexes over unit vectors, of a kind chosen by size: exact, HNSW graph or IVF lists.

Inner product on unit vectors is cosine similarity, so every kind uses the inner-product
metric. Search parameters (HNSW `efSearch`, IVF `nprobe`) are a function of the kind and the
number of vectors: set at build and set again on load, so an index read from disk searches
like the one that was built, whatever the file says. Constants were measured with
`scripts/bench_scale.py` (recall@10 against exact search >= 0.95 at 10k, 100k and 1M).
"""

import math
from pathlib import Path
from typing import Literal

import faiss
import numpy as np

Kind = Literal["flat", "hnsw", "ivf", "ivf-sq8"]
KINDS: tuple[Kind, ...] = ("flat", "hnsw", "ivf", "ivf-sq8")

# Exact search while one query costs <= ~0.4 ms, 5 % of embedding the question (measured
# 0.4 ms at 5k, 0.65-0.85 ms at 10k): below that an approximate index saves little and gives
# up exact results. Above it, IVF with 8-bit codes was as fast as HNSW or faster at 10k, 100k
# and 1M (0.11 / 0.39 / 1.33 ms against 0.15 / 0.41 / 1.91), built 3-4x faster and took a
# quarter of the memory or less, so no size picks HNSW or IVF with float vectors.
FLAT_MAX = 5_000

HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
# efSearch must grow with the graph: measured need ~40 at 30k, ~100 at 100k, ~260 at 300k,
# ~800 at 1M (0.954 with the 794 this rule gives).
HNSW_EF_SEARCH_MIN = 64  # also >= the 50 candidates retrieval asks for
HNSW_EF_SEARCH_AT_100K = 100
HNSW_EF_SEARCH_GROWTH = 0.9

# ~2·√n lists balances the centroid scan (nlist float vectors) against the list scan
# (nprobe·n/nlist codes) for 8-bit codes; 4·√n measured 20 % faster at 300k but trained 3x
# longer. At 100k, 20 or 40 training points a list and 10 or 25 k-means iterations gave the
# same recall; the cheaper settings halve the build.
IVF_LISTS_PER_SQRT_N = 2
IVF_TRAIN_POINTS_PER_LIST = 32
IVF_KMEANS_ITERATIONS = 10
# Recall at a fixed nprobe barely drops as lists grow with √n: 16 gave >= 0.96 up to 300k,
# and 25 (the rule at 1M, 2,000 lists) gave 0.979.
IVF_MIN_PROBES = 16
IVF_PROBE_FRACTION = 1 / 80
_SEED = 1234

# Memory-mapped loading. In faiss 1.15, IO_FLAG_MMAP_IFC maps the vectors of a flat index,
# the graph links and vectors of HNSW, and the lists of IVF (flat or SQ8 codes) in place;
# IO_FLAG_MMAP maps IVF lists only and silently copies flat and HNSW indexes into RAM.
# A mapped index is read-only: adding to it aborts the process (a faiss assertion).
_MMAP_FLAGS = faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY


def choose_kind(n: int) -> Kind:
    """The index kind for `n` vectors: exact while it is cheap, IVF lists of 8-bit codes after."""
    return "flat" if n <= FLAT_MAX else "ivf-sq8"


def build_vector_index(vectors: np.ndarray, kind: Kind | None = None) -> faiss.Index:
    """An inner-product index over `vectors` (unit rows), with its search parameters set."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dimension = vectors.shape
    kind = kind or choose_kind(n)
    if kind == "flat":
        index = faiss.IndexFlatIP(dimension)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    elif kind in ("ivf", "ivf-sq8"):
        index = _trained_ivf(vectors, sq8=kind == "ivf-sq8")
    else:
        raise ValueError(f"unknown index kind {kind!r}: use one of {', '.join(KINDS)}")
    index.add(vectors)
    set_search_parameters(index)
    return index


def _trained_ivf(vectors: np.ndarray, *, sq8: bool) -> faiss.IndexIVF:
    n, dimension = vectors.shape
    nlist = ivf_lists(n)
    quantizer = faiss.IndexFlatIP(dimension)
    metric = faiss.METRIC_INNER_PRODUCT
    if sq8:
        qtype = faiss.ScalarQuantizer.QT_8bit
        index = faiss.IndexIVFScalarQuantizer(quantizer, dimension, nlist, qtype, metric)
    else:
        index = faiss.IndexIVFFlat(quantizer, dimension, nlist, metric)
    index.cp.niter = IVF_KMEANS_ITERATIONS
    index.cp.min_points_per_centroid = IVF_TRAIN_POINTS_PER_LIST // 2  # warn below this only
    # k-means costs n_train·nlist per iteration: a sample keeps training at 1M to seconds.
    n_train = min(n, nlist * IVF_TRAIN_POINTS_PER_LIST)
    sample = np.random.default_rng(_SEED).choice(n, size=n_train, replace=False)
    index.train(vectors[np.sort(sample)])
    return index


def ivf_lists(n: int) -> int:
    """Number of IVF lists for `n` vectors."""
    return max(1, min(n, round(IVF_LISTS_PER_SQRT_N * math.sqrt(n))))


def ivf_probes(nlist: int) -> int:
    """Lists an IVF search visits."""
    return min(nlist, max(IVF_MIN_PROBES, round(nlist * IVF_PROBE_FRACTION)))


def hnsw_ef_search(n: int) -> int:
    """Candidates an HNSW search keeps, for a graph of `n` vectors."""
    scaled = HNSW_EF_SEARCH_AT_100K * (n / 100_000) ** HNSW_EF_SEARCH_GROWTH
    return max(HNSW_EF_SEARCH_MIN, round(scaled))


def index_kind(index: faiss.Index) -> Kind:
    """The kind of a built or loaded index; ValueError for a kind this module never builds."""
    index = faiss.downcast_index(index)
    if isinstance(index, faiss.IndexHNSWFlat):
        return "hnsw"
    if isinstance(index, faiss.IndexIVFScalarQuantizer):
        return "ivf-sq8"
    if isinstance(index, faiss.IndexIVFFlat):
        return "ivf"
    if isinstance(index, faiss.IndexFlat):
        return "flat"
    raise ValueError(f"{type(index).__name__} is not an index kind this version builds")


def set_search_parameters(index: faiss.Index) -> None:
    """Set `efSearch` / `nprobe` to the values this version uses for the index's kind and size."""
    index = faiss.downcast_index(index)
    if isinstance(index, faiss.IndexHNSW):
        index.hnsw.efSearch = hnsw_ef_search(index.ntotal)
    elif isinstance(index, faiss.IndexIVF):
        index.nprobe = ivf_probes(index.nlist)


def write_vector_index(index: faiss.Index, path: Path) -> None:
    faiss.write_index(index, str(path))


def load_vector_index(path: Path, *, mmap: bool = False) -> faiss.Index:
    """Read an index written by `write_vector_index`, with its search parameters re-applied.

    With `mmap`, the vectors (and the graph or lists) stay in the file, in the page cache,
    shared by every process that maps it; such an index is read-only.
    """
    index = faiss.read_index(str(path), _MMAP_FLAGS if mmap else 0)
    index_kind(index)
    set_search_parameters(index)
    return index


def search(
    index: faiss.Index, queries: np.ndarray, k: int, *, within: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Scores and ids of the `k` best rows for each query (one row or many); ids -1 past the end.
    With `within` (row ids), only those rows are searched.

    The search runs on one OpenMP thread: for one query a second thread was never faster and
    up to 43 % slower, and it would compete with the model for the cores. The setting is the
    calling thread's (OpenMP settings are per thread) and is restored afterwards, because
    torch (the fallback engine) shares the OpenMP runtime: left at one, this thread's next
    forward pass (a build, say) would run on one core too.
    """
    queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, index.d)
    if within is not None and isinstance(faiss.downcast_index(index), faiss.IndexHNSW):
        return _exact_within(index, queries, k, within)
    params = None if within is None else _within(index, within)
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        return index.search(queries, k, params=params)
    finally:
        faiss.omp_set_num_threads(threads)


def _within(index: faiss.Index, ids: np.ndarray) -> faiss.SearchParameters:
    """Search parameters that keep only the rows `ids`. An IVF search then visits every list
    (the selector skips the other rows before any distance is computed), so that a few rows
    of a large index are not missed by the lists a probe leaves out."""
    selector = faiss.IDSelectorBatch(np.ascontiguousarray(ids, dtype=np.int64))
    inner = faiss.downcast_index(index)
    if isinstance(inner, faiss.IndexIVF):
        params: faiss.SearchParameters = faiss.SearchParametersIVF(sel=selector, nprobe=inner.nlist)
    else:
        params = faiss.SearchParameters(sel=selector)
    params.keep_alive = selector  # the parameters hold a raw pointer to it
    return params


def _exact_within(
    index: faiss.Index, queries: np.ndarray, k: int, ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The `k` best of the rows `ids`, scored exactly from their stored vectors: a filtered
    walk of an HNSW graph loses rows the filter cuts off from the entry point."""
    ids = np.asarray(ids, dtype=np.int64)
    scores = queries @ index.reconstruct_batch(ids).T
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    found = np.full((len(queries), k), -1, dtype=np.int64)
    best = np.full((len(queries), k), -np.inf, dtype=np.float32)
    found[:, : order.shape[1]] = ids[order]
    best[:, : order.shape[1]] = np.take_along_axis(scores, order, axis=1)
    return best, found

"""Vector indexes: recall of every kind against exact search, save/load, mmap, kind by size."""

from pathlib import Path

import faiss
import numpy as np
import pytest

from qa.index.vector_index import (
    FLAT_MAX,
    KINDS,
    build_vector_index,
    choose_kind,
    hnsw_ef_search,
    index_kind,
    ivf_probes,
    load_vector_index,
    search,
    write_vector_index,
)

N = 3000
DIMENSION = 384
K = 10


def clustered(n: int, rng: np.random.Generator, centres: np.ndarray) -> np.ndarray:
    """Unit vectors scattered around random centres, as sentence embeddings cluster by topic."""
    picked = centres[rng.integers(len(centres), size=n)]
    noisy = picked + rng.normal(scale=0.6 / np.sqrt(DIMENSION), size=picked.shape)
    return (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(60, DIMENSION))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    return clustered(N, rng, centres), clustered(200, rng, centres)


@pytest.fixture(scope="module")
def indexes(data) -> dict[str, faiss.Index]:
    vectors, _ = data
    return {kind: build_vector_index(vectors, kind) for kind in KINDS}


def recall_at_k(index: faiss.Index, exact: faiss.Index, queries: np.ndarray) -> float:
    _, found = search(index, queries, K)
    _, truth = search(exact, queries, K)
    return sum(len(set(f) & set(t)) for f, t in zip(found, truth, strict=True)) / truth.size


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_finds_95_percent_of_the_exact_top_10(indexes, data, kind):
    _, queries = data
    assert recall_at_k(indexes[kind], indexes["flat"], queries) >= 0.95


@pytest.mark.parametrize("kind", KINDS)
def test_built_index_is_of_the_kind_asked_for(indexes, kind):
    assert index_kind(indexes[kind]) == kind


def test_search_parameters_are_set_at_build(indexes):
    assert indexes["hnsw"].hnsw.efSearch == hnsw_ef_search(N)
    for kind in ("ivf", "ivf-sq8"):
        assert indexes[kind].nprobe == ivf_probes(indexes[kind].nlist) > 1


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mmap", [False, True])
def test_round_trip_searches_like_the_built_index(indexes, data, kind, mmap, tmp_path):
    _, queries = data
    path = tmp_path / "vectors.faiss"
    write_vector_index(indexes[kind], path)
    loaded = load_vector_index(path, mmap=mmap)
    assert index_kind(loaded) == kind
    assert loaded.ntotal == N
    assert np.array_equal(search(loaded, queries, K)[1], search(indexes[kind], queries, K)[1])


@pytest.mark.parametrize("kind", ["hnsw", "ivf", "ivf-sq8"])
def test_load_reapplies_search_parameters_the_file_lost(data, kind, tmp_path):
    vectors, _ = data
    index = build_vector_index(vectors, kind)
    if kind == "hnsw":
        index.hnsw.efSearch = 1
    else:
        index.nprobe = 1
    path = tmp_path / "vectors.faiss"
    write_vector_index(index, path)
    loaded = load_vector_index(path)
    if kind == "hnsw":
        assert loaded.hnsw.efSearch == hnsw_ef_search(N)
    else:
        assert loaded.nprobe == ivf_probes(loaded.nlist)


def mapped_files() -> str:
    return Path("/proc/self/maps").read_text()


@pytest.mark.parametrize("kind", KINDS)
def test_mmap_load_maps_the_file_instead_of_reading_it(indexes, kind, tmp_path):
    read, mapped = tmp_path / "read.faiss", tmp_path / "mapped.faiss"
    write_vector_index(indexes[kind], read)
    write_vector_index(indexes[kind], mapped)
    kept = [load_vector_index(read), load_vector_index(mapped, mmap=True)]
    maps = mapped_files()
    assert str(mapped) in maps
    assert str(read) not in maps
    del kept


def test_load_refuses_an_index_kind_it_never_builds(data, tmp_path):
    vectors, _ = data
    foreign = faiss.IndexPQ(DIMENSION, 8, 8, faiss.METRIC_INNER_PRODUCT)
    foreign.train(vectors)
    path = tmp_path / "foreign.faiss"
    faiss.write_index(foreign, str(path))
    with pytest.raises(ValueError, match="IndexPQ"):
        load_vector_index(path)


def test_unknown_kind_is_refused_with_the_known_ones(data):
    vectors, _ = data
    with pytest.raises(ValueError, match="flat, hnsw, ivf, ivf-sq8"):
        build_vector_index(vectors, "lsh")  # type: ignore[arg-type]


def test_exact_search_up_to_the_flat_threshold():
    assert choose_kind(1) == "flat"
    assert choose_kind(FLAT_MAX) == "flat"


def test_ivf_with_8_bit_codes_beyond_the_flat_threshold():
    assert choose_kind(FLAT_MAX + 1) == "ivf-sq8"
    assert choose_kind(1_000_000) == "ivf-sq8"


def test_kind_defaults_to_the_one_chosen_for_the_size(data):
    vectors, _ = data
    assert index_kind(build_vector_index(vectors)) == choose_kind(N)


def test_one_query_row_is_searched_as_a_batch_of_one(indexes, data):
    _, queries = data
    scores, ids = search(indexes["flat"], queries[0], K)
    assert scores.shape == ids.shape == (1, K)
    assert np.isclose(scores[0, 0], float(indexes["flat"].reconstruct(int(ids[0, 0])) @ queries[0]))


@pytest.mark.parametrize("kind", KINDS)
def test_search_within_rows_finds_exactly_the_best_of_those_rows(indexes, data, kind):
    vectors, queries = data
    rng = np.random.default_rng(7)
    rows = np.sort(rng.choice(len(vectors), size=25, replace=False))
    _scores, ids = search(indexes[kind], queries[:3], K, within=rows)
    for q in range(3):
        exact = rows[np.argsort(-(vectors[rows] @ queries[q]), kind="stable")][:K]
        assert set(ids[q].tolist()) <= set(rows.tolist())
        assert ids[q].tolist() == exact.tolist()

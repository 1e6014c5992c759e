"""Clustering passages into topics: UMAP then HDBSCAN on the stored embeddings.

The same two steps BERTopic runs (reduce with UMAP, cluster with HDBSCAN), called
directly: topic terms, labels and areas are computed elsewhere (nlp/terms.py with
BERTopic's c-TF-IDF formula, nlp/areas.py), so BERTopic itself added nothing but
its imports (sentence-transformers, torch: ~350 MB resident and 20 s of import).
UMAP's neighbour graph is computed exactly by matrix products in blocks
(`exact_neighbours`) instead of with pynndescent: the fit sample is bounded by
`max_fit_passages`, so the exact graph is cheap, reproducible whatever tiny float
differences the embedder leaves, and numba does not compile pynndescent in the
process (docs/performance.md). UMAP imports numba (10-45 s), so it is imported
inside `fit_clusters` only. UMAP's compiled functions are kept on disk
(`cache_umap_compilations`): numba compiled them again in every process, ~4.5 s of each
fit. Topic identity: nlp/identity.py.
"""

from __future__ import annotations

import functools
import json
import logging
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

SEED = 42


@dataclass
class FitResult:
    """Cluster labels per passage (-1 = outlier), the fitted model and its parameters."""

    labels: np.ndarray
    model: object | None
    parameters: dict = field(default_factory=dict)
    seconds: float = 0.0


# UMAP's modules whose numba functions a fit compiles.
_UMAP_MODULES = ("umap.layouts", "umap.umap_", "umap.utils", "umap.distances", "umap.spectral")


def cache_umap_compilations() -> int:
    """Keep what numba compiles for UMAP on disk, as `@njit(cache=True)` would; returns how
    many functions. UMAP declares none cacheable, so every process compiled its layout
    optimiser and graph functions again: ~4.5 s of a 6,234-passage fit that takes 6.2 s
    once compiled (docs/performance.md). The cache is numba's own (beside UMAP's sources,
    or `NUMBA_CACHE_DIR`), keyed by the source files and the CPU; the code and the
    coordinates are the same (tested)."""
    import importlib

    from numba.core.registry import CPUDispatcher

    enabled = 0
    for name in _UMAP_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        for value in vars(module).values():
            if isinstance(value, CPUDispatcher):
                # Compiled code of plain arrays: it can run without the GIL, so spaCy's thread
                # runs beside a fit (nlp/pipeline.py). Set before it compiles; a function
                # compiled already in this process keeps what it has.
                value.targetoptions["nogil"] = True
                try:
                    value._cache = _nogil_cache()(value.py_func)
                except Exception as exc:  # a function numba cannot cache: compiled as before
                    log.debug("numba cannot cache %s: %s", value, exc)
                    continue
                enabled += 1
    return enabled


@functools.cache
def _nogil_cache():
    """numba's function cache under file names of its own ("...-nogil.nbi"): numba keys a
    cached function by its signature and source, not by its options, so a cache written by
    code compiled holding the GIL (an older radar, or UMAP's own users) would be loaded for a
    function that must release it."""
    from numba.core.caching import FunctionCache, IndexDataCacheFile

    class NogilFunctionCache(FunctionCache):
        def __init__(self, py_func):
            super().__init__(py_func)
            self._cache_file = IndexDataCacheFile(
                cache_path=self._cache_path, filename_base=f"{self._impl.filename_base}-nogil",
                source_stamp=self._impl.locator.get_source_stamp())

    return NogilFunctionCache


def make_reducer(kind: str, n: int, knn: tuple | None = None):
    """UMAP (5-d, cosine); "pca" only when asked for.

    PCA is 5x faster but HDBSCAN finds almost no structure in a linear 10-d
    projection (2 topics instead of ~300 at 10k passages, docs/performance.md);
    the cheaper equivalent that works is UMAP on a bounded sample
    (`max_fit_passages`) with the rest assigned to centroids.
    """
    if kind == "auto":
        kind = "umap"
    if kind == "pca":
        from sklearn.decomposition import PCA

        return "pca", PCA(n_components=10, random_state=SEED)
    from umap import UMAP

    cache_umap_compilations()
    neighbours = max(2, min(15, n - 1))
    return "umap", UMAP(n_neighbors=neighbours, n_components=5, min_dist=0.0, metric="cosine",
                        random_state=SEED, low_memory=True, precomputed_knn=knn)


def exact_neighbours(vectors: np.ndarray, k: int, block: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest neighbours of every row by cosine (itself first), with cosine distances.

    Blocks of `block` rows against all rows: memory is block x n floats, time n^2 x d,
    a few seconds for the 20,000-passage fit sample on 2 cores."""
    n = len(vectors)
    k = min(k, n)
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    unit = unit.astype(np.float32, copy=False)
    indices = np.empty((n, k), dtype=np.int64)
    distances = np.empty((n, k), dtype=np.float32)
    for start in range(0, n, block):
        sims = unit[start:start + block] @ unit.T
        rows = np.arange(len(sims))
        sims[rows, start + rows] = np.inf  # itself first, even among exact duplicates
        part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        top = np.take_along_axis(sims, part, axis=1)
        order = np.argsort(-top, axis=1, kind="stable")
        indices[start:start + block] = np.take_along_axis(part, order, axis=1)
        top = np.take_along_axis(top, order, axis=1)
        top[:, 0] = 1.0
        distances[start:start + block] = np.clip(1.0 - top, 0.0, 2.0)
    return indices, distances


def make_clusterer(min_topic_size: int):
    """HDBSCAN with leaf-free EOM clusters; small min_samples keeps fewer passages as noise."""
    from hdbscan import HDBSCAN

    return HDBSCAN(min_cluster_size=min_topic_size, min_samples=max(2, min_topic_size // 2),
                   metric="euclidean", cluster_selection_method="eom", prediction_data=False,
                   core_dist_n_jobs=1)


def fit_clusters(
    embeddings: np.ndarray,
    terms: Sequence[str] | None = None,
    *,
    min_topic_size: int = 10,
    reducer: str = "auto",
    stop_words: Sequence[str] = (),
) -> FitResult:
    """A cluster label per passage (-1: noise) from UMAP + HDBSCAN on precomputed embeddings.

    `terms` and `stop_words` are accepted for the callers' sake; clusters depend on the
    vectors only (topic terms are computed from all of a topic's passages afterwards)."""
    started = time.perf_counter()
    n = len(embeddings)
    if n < max(2 * min_topic_size, 5):
        return FitResult(np.full(n, -1, dtype=np.int64), None, {"reason": "too few passages"})
    x = np.asarray(embeddings, dtype=np.float32)
    knn = None
    neighbours = max(2, min(15, n - 1))
    if reducer != "pca":  # UMAP's own exact search covers small inputs; above that, ours
        indices, distances = exact_neighbours(x, neighbours)
        knn = (indices, distances, None)
    kind, reduce_model = make_reducer(reducer, n, knn=knn)
    with warnings.catch_warnings():
        # UMAP: "n_jobs overridden by random_state"; "no search index with precomputed_knn"
        warnings.simplefilter("ignore")
        reduced = reduce_model.fit_transform(x)
    clusterer = make_clusterer(min_topic_size)
    labels = np.asarray(clusterer.fit(reduced).labels_, dtype=np.int64)
    params = {"reducer": kind, "min_topic_size": min_topic_size, "n": n, "neighbours": neighbours,
              "knn": "exact" if knn is not None else None,
              "clusterer": "hdbscan", "min_samples": max(2, min_topic_size // 2)}
    model = {"reduced": reduced.astype(np.float32), "labels": labels}
    return FitResult(labels, model, params, time.perf_counter() - started)


def save_model(model, folder: Path, embedding_model: str) -> None:
    """Save what a fit produced (the UMAP coordinates and HDBSCAN labels of the fitted passages,
    in fit order) with safetensors (no pickles), and the embedding model's name."""
    from safetensors.numpy import save_file

    folder.mkdir(parents=True, exist_ok=True)
    save_file({"reduced": np.ascontiguousarray(model["reduced"]),
               "labels": np.ascontiguousarray(model["labels"])}, str(folder / "fit.safetensors"))
    (folder / "config.json").write_text(json.dumps({"embedding_model": embedding_model}),
                                        encoding="utf-8")

"""Clustering passages into topics with BERTopic on stored embeddings.

BERTopic is assembled from pluggable sub-models: a reducer (UMAP, or PCA for
large fits), a clusterer (HDBSCAN) and a c-TF-IDF vectoriser over the lemma
`terms` of each passage. BERTopic and UMAP import numba (10-45 s), so they are
imported inside `fit_clusters` only. Topic identity, labels and areas are not
BERTopic's job here: see nlp/identity.py, nlp/terms.py and nlp/areas.py.
"""

from __future__ import annotations

import logging
import time
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


def make_reducer(kind: str, n: int):
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

    neighbours = max(2, min(15, n - 1))
    return "umap", UMAP(n_neighbors=neighbours, n_components=5, min_dist=0.0, metric="cosine",
                        random_state=SEED, low_memory=True)


def make_clusterer(min_topic_size: int):
    """HDBSCAN with leaf-free EOM clusters; small min_samples keeps fewer passages as noise."""
    from hdbscan import HDBSCAN

    return HDBSCAN(min_cluster_size=min_topic_size, min_samples=max(2, min_topic_size // 2),
                   metric="euclidean", cluster_selection_method="eom", prediction_data=False,
                   core_dist_n_jobs=1)


def make_vectorizer(n_docs: int, stop_words: Sequence[str]):
    """Unigrams and bigrams of lemmas; rare terms (one passage) dropped once the corpus is large."""
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(ngram_range=(1, 2), min_df=2 if n_docs >= 200 else 1, max_df=1.0,
                           stop_words=list(stop_words) or None)


def fit_clusters(
    embeddings: np.ndarray,
    terms: Sequence[str],
    *,
    min_topic_size: int = 10,
    reducer: str = "auto",
    stop_words: Sequence[str] = (),
) -> FitResult:
    """Fit BERTopic on precomputed embeddings; returns a label per passage."""
    started = time.perf_counter()
    n = len(embeddings)
    if n < max(2 * min_topic_size, 5):
        return FitResult(np.full(n, -1, dtype=np.int64), None, {"reason": "too few passages"})
    from bertopic import BERTopic
    from bertopic.vectorizers import ClassTfidfTransformer

    kind, reduce_model = make_reducer(reducer, n)
    model = BERTopic(
        embedding_model=None,
        umap_model=reduce_model,
        hdbscan_model=make_clusterer(min_topic_size),
        vectorizer_model=make_vectorizer(n, stop_words),
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
        min_topic_size=min_topic_size,
        calculate_probabilities=False,
        verbose=False,
    )
    docs = [t if t.strip() else "_" for t in terms]
    labels, _ = model.fit_transform(docs, embeddings)
    params = {"reducer": kind, "min_topic_size": min_topic_size, "n": n,
              "clusterer": "hdbscan", "min_samples": max(2, min_topic_size // 2)}
    return FitResult(np.asarray(labels, dtype=np.int64), model, params, time.perf_counter() - started)


def save_model(model, folder: Path, embedding_model: str) -> None:
    """Save a fitted BERTopic model with safetensors (no pickles), pointing at the embedder by name."""
    folder.mkdir(parents=True, exist_ok=True)
    model.save(str(folder), serialization="safetensors", save_ctfidf=True,
               save_embedding_model=embedding_model)

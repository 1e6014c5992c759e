"""Topic identity across runs: assign new passages, map refitted clusters to old topic ids.

Pure functions over numpy arrays (no database, no model), so the policy is
testable on its own. The policy (docs/nlp.md):

- assign: a passage joins the topic whose centroid is most similar (cosine),
  if that similarity is at least `assign_threshold`; otherwise it is an
  outlier (-1) and waits for discovery or the next refit;
- map: after a refit (or a discovery fit on outliers), each new cluster keeps
  the id of the old topic it matches best, matching greedily by score, one to
  one; a pair matches when their centroids' cosine is >= `match_threshold` or
  when at least half of the new cluster's passages were in the old topic, or
  half of the old topic's passages are in the new cluster;
- a new cluster that matches no old topic is a new topic (new id); an old topic
  whose best partner was taken is merged into that partner's topic; an old
  topic with no partner at all is retired (inactive).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

OVERLAP_MATCH = 0.5


def normalise(m: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    m = np.asarray(m, dtype=np.float32)
    norms = np.linalg.norm(m, axis=-1, keepdims=True)
    return m / np.maximum(norms, 1e-12)


def assign(
    vectors: np.ndarray, topic_ids: np.ndarray, centroids: np.ndarray, threshold: float,
    chunk: int = 8192, rows: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(topic id or -1, cosine to that topic's centroid) for each vector, or for the `rows`
    of `vectors` given (read a chunk at a time, not copied out first)."""
    n = len(vectors) if rows is None else len(rows)
    ids = np.full(n, -1, dtype=np.int64)
    sims = np.zeros(n, dtype=np.float64)
    if n == 0 or len(topic_ids) == 0:
        return ids, sims
    c = normalise(centroids)
    for s in range(0, n, chunk):  # bounded memory: chunk x topics at a time
        part = vectors[s : s + chunk] if rows is None else vectors[rows[s : s + chunk]]
        block = normalise(part) @ c.T
        best = block.argmax(axis=1)
        top = block[np.arange(len(best)), best]
        sims[s : s + chunk] = top
        ids[s : s + chunk] = np.where(top >= threshold, np.asarray(topic_ids)[best], -1)
    return ids, sims


def cluster_means(vectors: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cluster labels >= 0, mean vector of each, size of each)."""
    labels = np.asarray(labels)
    keys = np.array(sorted(set(labels[labels >= 0].tolist())), dtype=np.int64)
    if len(keys) == 0:
        return keys, np.zeros((0, vectors.shape[1]), dtype=np.float32), np.zeros(0, dtype=np.int64)
    means = np.stack([vectors[labels == k].mean(axis=0) for k in keys]).astype(np.float32)
    sizes = np.array([(labels == k).sum() for k in keys], dtype=np.int64)
    return keys, means, sizes


def update_means(means: np.ndarray, sizes: np.ndarray, vectors: np.ndarray, idx: np.ndarray) -> None:
    """Fold new member vectors into running means, in place (idx: row of the topic for each vector)."""
    for row in np.unique(idx):
        add = vectors[idx == row]
        total = sizes[row] + len(add)
        means[row] = (means[row] * sizes[row] + add.sum(axis=0)) / total
        sizes[row] = total


@dataclass
class Mapping:
    """How new clusters relate to old topics after a refit."""

    topic_of_cluster: dict[int, int]              # new cluster label -> topic id (old or new)
    new_topics: list[int] = field(default_factory=list)      # ids created
    merged: dict[int, int] = field(default_factory=dict)     # old id -> id it merged into
    retired: list[int] = field(default_factory=list)         # old ids with no successor
    scores: dict[int, float] = field(default_factory=dict)   # cluster -> match score


def map_clusters(
    cluster_keys: np.ndarray,
    cluster_means_: np.ndarray,
    old_ids: np.ndarray,
    old_means: np.ndarray,
    overlap: np.ndarray,
    cluster_sizes: np.ndarray,
    *,
    match_threshold: float,
    next_id: int,
    comparable: bool = True,
    old_sizes: np.ndarray | None = None,
) -> Mapping:
    """Map new clusters to old topic ids; `overlap[i, j]` = passages of cluster i that were in old j.

    `comparable` is False when the embedding model changed: centroids then live
    in different spaces and only passage overlap counts. Overlap counts from
    either side: half of the new cluster came from the old topic, or half of
    the old topic's passages went to the new cluster (`old_sizes`, default: the
    old topic's passages found in any cluster).
    """
    k, m = len(cluster_keys), len(old_ids)
    cos = normalise(cluster_means_) @ normalise(old_means).T if (k and m and comparable) else np.zeros((k, m))
    share = np.zeros((k, m))
    if k and m:
        olds = overlap.sum(axis=0) if old_sizes is None else np.asarray(old_sizes, dtype=np.float64)
        share = np.maximum(overlap / np.maximum(np.asarray(cluster_sizes, dtype=np.float64)[:, None], 1),
                           overlap / np.maximum(olds[None, :], 1))
    ok = (cos >= match_threshold) | (share >= OVERLAP_MATCH)
    score = np.where(ok, cos + share, -np.inf)
    mapping = Mapping({})
    used_old: set[int] = set()
    pairs = sorted(((score[i, j], i, j) for i in range(k) for j in range(m) if ok[i, j]), reverse=True)
    for s, i, j in pairs:
        key = int(cluster_keys[i])
        if key in mapping.topic_of_cluster or j in used_old:
            continue
        mapping.topic_of_cluster[key] = int(old_ids[j])
        mapping.scores[key] = float(s)
        used_old.add(j)
    for i in range(k):
        key = int(cluster_keys[i])
        if key not in mapping.topic_of_cluster:
            mapping.topic_of_cluster[key] = next_id
            mapping.new_topics.append(next_id)
            next_id += 1
    for j in range(m):
        if j in used_old:
            continue
        partners = [i for i in range(k) if ok[i, j]]
        if partners:
            best = max(partners, key=lambda i: score[i, j])
            mapping.merged[int(old_ids[j])] = mapping.topic_of_cluster[int(cluster_keys[best])]
        else:
            mapping.retired.append(int(old_ids[j]))
    return mapping


def overlap_matrix(
    cluster_labels: np.ndarray, old_topic_of_passage: np.ndarray, cluster_keys: np.ndarray,
    old_ids: np.ndarray,
) -> np.ndarray:
    """Count of passages in (new cluster i, old topic j), for passages labelled in both."""
    out = np.zeros((len(cluster_keys), len(old_ids)), dtype=np.float64)
    if not len(cluster_keys) or not len(old_ids):
        return out
    ci = {int(k): i for i, k in enumerate(cluster_keys)}
    oj = {int(t): j for j, t in enumerate(old_ids)}
    for c, o in zip(cluster_labels.tolist(), old_topic_of_passage.tolist(), strict=True):
        if c >= 0 and o in oj:
            out[ci[c], oj[o]] += 1
    return out


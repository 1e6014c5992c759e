"""The topic step of `radar analyze`: fit, refit, assign or discover, keeping topic ids stable.

When to do what (docs/nlp.md, "Topic identity"):
- no topics yet and at least 2 x min_topic_size embedded passages -> fit;
- passages grew by `refit_growth` since the last fit, the embedding model
  changed, or `--refit` -> refit, old ids mapped onto the new clusters;
- otherwise new passages are assigned to the nearest topic (cosine to the
  centroid >= assign_threshold); if at least min_topic_size of them stay
  outliers, the outlier pool is clustered (discover) and clusters unlike every
  existing topic become new topics, like BERTopic's merge_models.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from nlp import identity, tables
from nlp.topics import FitResult, fit_clusters, save_model
from radar.core.config import Config
from radar.core.progress import report

log = logging.getLogger(__name__)


@dataclass
class TopicOutcome:
    """What the topic step did."""

    action: str = "none"
    version: str | None = None
    assigned: int = 0
    outliers: int = 0
    new_topics: list[int] = field(default_factory=list)
    active_topics: int = 0
    last_settings: str | None = None
    last_period: str | None = None


def new_version(kind: str) -> str:
    """A sortable, unique model version."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{kind}"


def models_dir(cfg: Config) -> Path:
    """Where fitted models are saved: a folder beside the warehouse."""
    wp = cfg.warehouse_path
    return wp.parent / f"{wp.stem}.models"


def fit_kind(state: tables.TopicState, a, n: int, force_refit: bool = False) -> str | None:
    """"fit" or "refit" when the topic step fits `n` embedded passages in this state (with
    the analysis settings `a`), None when it assigns or waits (pure)."""
    if not state.has_model:
        return "fit" if n >= max(2 * a.min_topic_size, 5) else None
    model_changed = state.last_fit_model not in (None, a.vector_model)
    if force_refit or model_changed or n >= state.last_fit_n * (1 + a.refit_growth):
        return "refit"
    return None


def run_topic_step(cfg: Config, force_refit: bool = False, progress=None,
                   prefit: PreFit | None = None) -> TopicOutcome:
    """Decide between fit, refit, assign (+ discover) and do it. `prefit`: a fit computed
    beforehand (nlp/pipeline.py runs it beside spaCy), used when it was made on the very
    sample this fit would take."""
    path, a = cfg.warehouse_path, cfg.analysis
    state = tables.load_topic_state(path, a.vector_model)
    out = TopicOutcome(last_settings=state.last_settings, last_period=state.last_period,
                       active_topics=len(state.ids))
    kind = fit_kind(state, a, state.embedded, force_refit)
    if kind is not None:  # a refit to another model's vectors cannot map the old topics
        return _fit(cfg, state, kind, out, progress, prefit=prefit,
                    comparable=kind == "fit" or state.last_fit_model in (None, a.vector_model))
    if not state.has_model:
        return out
    return _assign(cfg, state, out)


@dataclass
class PreFit:
    """A fit made before the topic step, on the passages `ids` (the sample, in order)."""

    ids: np.ndarray
    fit: FitResult


def fit_sample(n: int, max_fit_passages: int) -> np.ndarray:
    """Positions of the passages a fit of `n` passages (ordered by id) is made on: all, or
    a fixed random `max_fit_passages` of them."""
    if n <= max_fit_passages:
        return np.arange(n)
    return np.sort(np.random.default_rng(42).choice(n, max_fit_passages, replace=False))


def fit_on(vectors: np.ndarray, a) -> FitResult:
    """The clustering a fit makes of these (sample) vectors with the settings `a`."""
    return fit_clusters(vectors, min_topic_size=a.min_topic_size, reducer=a.reducer,
                        stop_words=a.stop_words)


def _fit(cfg: Config, state: tables.TopicState, kind: str, out: TopicOutcome, progress,
         comparable: bool = True, prefit: PreFit | None = None) -> TopicOutcome:
    path, a = cfg.warehouse_path, cfg.analysis
    corpus = tables.load_corpus(path, a.vector_model)
    n = len(corpus.ids)
    if progress:
        report(progress, 0, None, f"fitting topics on {n} passages")
    sample = fit_sample(n, a.max_fit_passages)
    if prefit is not None and np.array_equal(corpus.ids[sample], prefit.ids):
        fit = prefit.fit
    else:
        fit = fit_on(corpus.vectors[sample], a)
    labels = np.full(n, -1, dtype=np.int64)
    labels[sample] = fit.labels
    keys, means, _ = identity.cluster_means(corpus.vectors, labels)
    rest = np.flatnonzero(labels < 0)
    # Passages outside the sample, and HDBSCAN's noise, join a cluster when close enough.
    got, _ = identity.assign(corpus.vectors, keys, means, a.assign_threshold, rows=rest)
    labels[rest] = got
    keys, means, sizes = identity.cluster_means(corpus.vectors, labels)
    overlap = identity.overlap_matrix(labels, corpus.topic, keys, state.ids)
    mapping = identity.map_clusters(keys, means, state.ids, state.means, overlap, sizes,
                                    old_sizes=state.sizes,
                                    match_threshold=a.match_threshold, next_id=state.next_id,
                                    comparable=comparable and state.means.shape[1:] == means.shape[1:])
    version = new_version(kind)
    topic_of = np.array([mapping.topic_of_cluster.get(int(k), -1) if k >= 0 else -1 for k in labels])
    probs = _similarity_to_own(corpus.vectors, labels, keys, means)
    tables.write_assignments(path, corpus.ids, topic_of, probs, version, replace_all=True)
    rows = [{"topic_id": mapping.topic_of_cluster[int(k)], "size": int(s), "active": True,
             "centroid": m} for k, m, s in zip(keys, means, sizes, strict=True)]
    rows += [{"topic_id": old, "size": 0, "active": False, "merged_into": new}
             for old, new in mapping.merged.items()]
    rows += [{"topic_id": old, "size": 0, "active": False} for old in mapping.retired]
    tables.write_topics(path, rows, version)
    folder = models_dir(cfg) / version
    _save(fit, folder, a.vector_model, [r["topic_id"] for r in rows[: len(keys)]], means, save_model)
    params = {**fit.parameters, "embedding_model": a.vector_model, "sample": len(sample),
              "assign_threshold": a.assign_threshold, "match_threshold": a.match_threshold,
              "kept": len(keys) - len(mapping.new_topics), "new": mapping.new_topics,
              "merged": mapping.merged, "retired": mapping.retired, "fit_seconds": fit.seconds}
    tables.record_model(path, version, kind, n, len(keys), folder, params)
    out.action, out.version, out.new_topics = kind, version, mapping.new_topics
    out.assigned, out.outliers = int((topic_of >= 0).sum()), int((topic_of < 0).sum())
    out.active_topics = len(keys)
    return out


def _assign(cfg: Config, state: tables.TopicState, out: TopicOutcome) -> TopicOutcome:
    path, a = cfg.warehouse_path, cfg.analysis
    corpus = tables.load_corpus(path, a.vector_model, where="pt.passage_id IS NULL")
    if len(corpus.ids) == 0:
        return out
    topic_of, sims = identity.assign(corpus.vectors, state.ids, state.means, a.assign_threshold)
    rows_of = {int(t): i for i, t in enumerate(state.ids)}
    idx = np.array([rows_of[int(t)] for t in topic_of[topic_of >= 0]], dtype=np.int64)
    means, sizes = state.means.copy(), state.sizes.copy()
    identity.update_means(means, sizes, corpus.vectors[topic_of >= 0], idx)
    version = new_version("assign")
    touched = sorted(set(idx.tolist()))
    topic_rows = [{"topic_id": int(state.ids[i]), "size": int(sizes[i]), "active": True,
                   "centroid": means[i]} for i in touched]
    out.action, out.version = "assign", version
    out.assigned, out.outliers = int((topic_of >= 0).sum()), int((topic_of < 0).sum())
    params = {"assign_threshold": a.assign_threshold, "assigned": out.assigned,
              "outliers": out.outliers}
    folder = models_dir(cfg) / version
    if out.outliers < a.min_topic_size:  # nothing to discover: one transaction
        _save(None, folder, a.vector_model, list(state.ids), means, None)
        tables.write_assigned(path, corpus.ids, topic_of, sims, topic_rows, version, len(state.ids),
                              folder, params)
        return out
    tables.write_assignments(path, corpus.ids, topic_of, sims, version)
    tables.write_topics(path, topic_rows, version)
    state.means, state.sizes = means, sizes
    _discover(cfg, state, out)  # reads the outliers just written; records its own model
    if out.action == "assign":  # nothing discovered: the outliers stand as counted above
        _save(None, folder, a.vector_model, list(state.ids), means, None)
        tables.record_model(path, version, "assign", len(corpus.ids), len(state.ids), folder, params)
    return out


def _discover(cfg: Config, state: tables.TopicState, out: TopicOutcome) -> None:
    """Cluster the outlier pool; clusters unlike every topic become new topics."""
    path, a = cfg.warehouse_path, cfg.analysis
    pool = tables.load_corpus(path, a.vector_model, where="pt.topic_id = -1")
    fit = fit_on(pool.vectors, a)
    keys, means, sizes = identity.cluster_means(pool.vectors, fit.labels)
    if len(keys) == 0:
        return
    sims = identity.normalise(means) @ identity.normalise(state.means).T if len(state.ids) else None
    version = new_version("discover")
    topic_of_cluster, new = {}, []
    next_id = state.next_id
    for i, k in enumerate(keys):
        if sims is not None and sims[i].max() >= a.match_threshold:
            topic_of_cluster[int(k)] = int(state.ids[sims[i].argmax()])
        else:
            topic_of_cluster[int(k)] = next_id
            new.append(next_id)
            next_id += 1
    members = fit.labels >= 0
    topic_of = np.array([topic_of_cluster[int(k)] for k in fit.labels[members]])
    probs = _similarity_to_own(pool.vectors, fit.labels, keys, means)[members]
    tables.write_assignments(path, pool.ids[members], topic_of, probs, version)
    rows = [{"topic_id": topic_of_cluster[int(k)], "size": int(s), "active": True, "centroid": m}
            for k, m, s in zip(keys, means, sizes, strict=True) if topic_of_cluster[int(k)] in new]
    # Clusters folded into an existing topic: its centroid absorbs them.
    ids = list(state.ids)
    for k, m, s in zip(keys, means, sizes, strict=True):
        tid = topic_of_cluster[int(k)]
        if tid not in new:
            r = ids.index(tid)
            total = state.sizes[r] + s
            state.means[r] = (state.means[r] * state.sizes[r] + m * s) / total
            state.sizes[r] = total
            rows.append({"topic_id": tid, "size": int(total), "active": True, "centroid": state.means[r]})
    tables.write_topics(path, rows, version)
    all_ids = ids + [r["topic_id"] for r in rows if r["topic_id"] in new]
    # No topic yet (a first fit that found no cluster): the known means are (0, 0).
    known = state.means if len(ids) else np.zeros((0, means.shape[1]), dtype=means.dtype)
    all_means = np.vstack([known] + [r["centroid"][None, :] for r in rows if r["topic_id"] in new])
    folder = models_dir(cfg) / version
    _save(fit, folder, a.vector_model, all_ids, all_means, save_model)
    tables.record_model(path, version, "discover", len(pool.ids), len(keys), folder,
                       {**fit.parameters, "embedding_model": a.vector_model, "new": new,
                        "pool": len(pool.ids), "match_threshold": a.match_threshold})
    out.action, out.version, out.new_topics = "discover", version, new
    out.outliers = max(0, out.outliers - int(members.sum()))


def _similarity_to_own(vectors, labels, keys, means, chunk: int = 8192) -> np.ndarray:
    """Cosine of each passage to its own cluster's centroid (0 for outliers)."""
    out = np.zeros(len(vectors))
    if len(keys) == 0:
        return out
    row = {int(k): i for i, k in enumerate(keys)}
    c = identity.normalise(means)
    for s in range(0, len(vectors), chunk):  # a normalised copy of a chunk at a time
        v = identity.normalise(vectors[s:s + chunk])
        for i, k in enumerate(labels[s:s + chunk]):
            if k >= 0:
                out[s + i] = float(v[i] @ c[row[int(k)]])
    return out


def _save(fit, folder: Path, embedding_model: str, topic_ids, means, save_model) -> None:
    """The fit (UMAP coordinates and cluster labels, if any) and the topic centroids, as safetensors."""
    from safetensors.numpy import save_file

    folder.mkdir(parents=True, exist_ok=True)
    if fit is not None and fit.model is not None and save_model is not None:
        try:
            save_model(fit.model, folder / "fit", embedding_model)
        except Exception as exc:  # a model we cannot save must not lose the run's topics
            log.warning("could not save the fitted clusters to %s: %s", folder, exc)
    if len(topic_ids):
        save_file({"topic_ids": np.asarray(topic_ids, dtype=np.int64),
                   "centroids": np.asarray(means, dtype=np.float32)}, str(folder / "centroids.safetensors"))

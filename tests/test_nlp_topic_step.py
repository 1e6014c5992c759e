"""The topic step's bookkeeping, with the clustering replaced by a fixed answer (no UMAP)."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pyarrow as pa

from nlp import topic_step
from nlp.embeddings import vectors_to_arrow
from nlp.topics import FitResult
from radar.app.init_project import init_project
from radar.core import warehouse
from radar.core.config import load_config


def _passages(cfg, vectors: np.ndarray, prefix: str = "d", day: datetime = datetime(2024, 3, 1)) -> list[str]:
    """Documents with one embedded passage each, not yet assigned to a topic."""
    ids = [f"{prefix}{i}:0" for i in range(len(vectors))]
    docs = pa.table({  # noqa: F841 (used by SQL)
        "doc_id": [i.split(":")[0] for i in ids], "text": [f"text {i}" for i in ids],
        "fetched_at": [day] * len(ids), "source": ["s"] * len(ids),
        "channel": ["news"] * len(ids), "content_hash": ids})
    rows = pa.table({  # noqa: F841 (used by SQL)
        "passage_id": ids, "doc_id": [i.split(":")[0] for i in ids], "seq": [0] * len(ids),
        "text": [f"text {i}" for i in ids], "n_words": [2] * len(ids)})
    emb = pa.table({"passage_id": ids, "model": [cfg.analysis.vector_model] * len(ids),  # noqa: F841
                    "vector": vectors_to_arrow(vectors)})
    with warehouse.write(cfg.warehouse_path) as con:
        con.execute("INSERT INTO documents BY NAME SELECT * FROM docs")
        con.execute("INSERT INTO passages BY NAME SELECT * FROM rows")
        con.execute("INSERT INTO passage_embeddings BY NAME SELECT * FROM emb")
    return ids


def test_discovery_makes_the_first_topics_after_a_fit_that_found_none(tmp_path, monkeypatch):
    """A first fit can find no cluster at all (a small or scattered corpus): every passage is
    an outlier and no topic exists. When the outliers later form a cluster, the discovery
    makes it the first topic (it failed on the empty set of known centroids before)."""
    cfg_path = tmp_path / "radar.toml"
    cfg_path.write_text("[analysis]\nmin_topic_size = 3\n", encoding="utf-8")
    init_project(cfg_path)
    cfg = load_config(cfg_path)
    rng = np.random.default_rng(1)
    scattered = rng.normal(size=(20, 8)).astype(np.float32)
    _passages(cfg, scattered / np.linalg.norm(scattered, axis=1, keepdims=True))

    none = lambda vectors, a: FitResult(np.full(len(vectors), -1), None)  # noqa: E731
    monkeypatch.setattr(topic_step, "fit_on", none)
    first = topic_step.run_topic_step(cfg)
    assert first.action == "fit" and first.active_topics == 0
    assert warehouse.query(cfg.warehouse_path, "SELECT count(*) FROM topics")[0][0] == 0

    close = np.tile(np.eye(8, dtype=np.float32)[0], (5, 1)) + rng.normal(0, 0.01, (5, 8)).astype(np.float32)
    new_ids = _passages(cfg, close / np.linalg.norm(close, axis=1, keepdims=True), "n",
                       datetime(2024, 4, 1))
    # The pool of outliers: the 20 scattered passages and the five new ones; the five cluster.
    def five(vectors, a):
        return FitResult(np.where(np.abs(vectors[:, 0]) > 0.9, 0, -1), None)
    monkeypatch.setattr(topic_step, "fit_on", five)
    out = topic_step.run_topic_step(cfg)
    assert out.action == "discover" and out.new_topics == [0]
    assigned = dict(warehouse.query(cfg.warehouse_path,
                                    "SELECT passage_id, topic_id FROM passage_topics"))
    assert {p: assigned[p] for p in new_ids} == dict.fromkeys(new_ids, 0)
    assert sum(t == -1 for t in assigned.values()) == 20
    size, centroid = warehouse.query(cfg.warehouse_path,
                                     "SELECT size, centroid FROM topics WHERE topic_id = 0")[0]
    assert size == 5 and float(np.asarray(centroid)[0]) > 0.9
    saved = topic_step.models_dir(cfg) / out.version / "centroids.safetensors"
    assert saved.exists()


def test_the_corpus_is_read_in_id_order_with_each_vector_on_its_own_row(tmp_path, monkeypatch):
    """`load_corpus` sorts the ids alone and streams the vectors in storage order into their
    rows: each row's vector is its own passage's, across several batches, for another
    model's vectors too, and with a condition on the assignment."""
    from nlp import tables

    init_project(tmp_path / "radar.toml")
    cfg = load_config(tmp_path / "radar.toml")
    rng = np.random.default_rng(4)
    vectors = rng.normal(size=(23, 8)).astype(np.float32)
    order = rng.permutation(23)  # stored in another order than the ids sort in
    ids = _passages(cfg, vectors[order], prefix="x")
    want = {pid: vectors[order][i] for i, pid in enumerate(ids)}
    with warehouse.write(cfg.warehouse_path) as con:
        other = pa.table({"passage_id": ids[:5], "model": ["other"] * 5,  # noqa: F841 (SQL)
                          "vector": vectors_to_arrow(np.zeros((5, 8), np.float32))})
        con.execute("DELETE FROM passage_embeddings WHERE passage_id IN (SELECT passage_id FROM other)")
        con.execute("INSERT INTO passage_embeddings BY NAME SELECT * FROM other")
        con.execute("INSERT INTO passage_topics (passage_id, topic_id, probability, model_version) "
                    "SELECT passage_id, 7, 1.0, 'v' FROM passages WHERE passage_id > 'x2'")
    monkeypatch.setattr(tables, "CORPUS_BATCH", 4)
    corpus = tables.load_corpus(cfg.warehouse_path, cfg.analysis.vector_model)
    assert list(corpus.ids) == sorted(set(ids) - set(ids[:5]))
    assert all(np.array_equal(corpus.vectors[i], want[pid]) for i, pid in enumerate(corpus.ids))
    assert list(corpus.topic) == [7 if pid > "x2" else -2 for pid in corpus.ids]
    assigned = tables.load_corpus(cfg.warehouse_path, cfg.analysis.vector_model, where="pt.topic_id = 7")
    assert list(assigned.ids) == [p for p in corpus.ids if p > "x2"]
    assert all(np.array_equal(assigned.vectors[i], want[pid]) for i, pid in enumerate(assigned.ids))
    none = tables.load_corpus(cfg.warehouse_path, "no such model")
    assert none.ids.size == 0 and none.vectors.shape == (0, 0)

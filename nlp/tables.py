"""Warehouse reads and writes of the NLP stage, in short batches.

Every write is one `radar.core.warehouse.write` transaction of a bounded batch (a
few thousand rows), so the dashboard and other readers are never blocked for
long. Reads page through with keyset pagination (ORDER BY id, id > last).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from nlp.embeddings import vectors_from_arrow, vectors_to_arrow
from radar.core import warehouse

PASSAGE_COLUMNS = ("passage_id", "doc_id", "seq", "text", "n_words", "is_expectation",
                   "expectation_phrase", "language", "terms", "doc_content_hash")


# A document needs (re-)splitting when no passage carries its current text's hash: it is new,
# or its text changed since it was split (migration 0012). Passages written without a hash
# (by tools that insert passages directly) count as current.
_PENDING = ("FROM documents d WHERE NOT EXISTS (SELECT 1 FROM passages p WHERE p.doc_id = d.doc_id "
            "AND coalesce(p.doc_content_hash, d.content_hash) = d.content_hash)")


def pending_documents(path, batch: int) -> Iterator[list[tuple]]:
    """Batches of (doc_id, title, text, language, content_hash, url) of documents that have no
    passages yet or whose text changed since they were split.

    The pending ids are found once (one anti-join), then read in batches by id, so
    a large backlog costs one scan, not one per batch; only the ids are held."""
    with warehouse.read(path) as con:
        ids = con.execute(f"SELECT d.doc_id {_PENDING} ORDER BY d.doc_id").to_arrow_table()["doc_id"]
        # A small backlog (an incremental run) is read in the same connection.
        whole = _documents(con, ids) if 0 < len(ids) <= batch else None
    if whole is not None:
        if whole:
            yield whole
        return
    for start in range(0, len(ids), batch):
        with warehouse.read(path) as con:
            rows = _documents(con, ids.slice(start, batch))
        if rows:
            yield rows


def _documents(con, ids: pa.Array) -> list[tuple]:
    """(doc_id, title, text, language, content_hash, url) of the documents `ids`, by id."""
    chunk = pa.table({"doc_id": ids})  # noqa: F841 (used by SQL)
    return con.execute(
        "SELECT d.doc_id, d.title, d.text, d.language, d.content_hash, d.url FROM documents d "
        "JOIN chunk USING (doc_id) ORDER BY d.doc_id").fetchall()


def count_pending_documents(path) -> int:
    """Documents without passages, or whose text changed since they were split."""
    return warehouse.query(path, f"SELECT count(*) {_PENDING}")[0][0]


# DuckDB's memory for a batch of passages and vectors written (and the checkpoint after it).
# Within DuckDB's default (most of the machine's memory) a batch of 6,000 passages written
# into the 100k cost-curve warehouse raised the process by 519 MB, within 100 MB by 90 MB,
# in 3.4 s instead of 4.1 (scratch measurement, 2026-12-07).
WRITE_MEMORY = 128 * 10**6  # bytes


def write_passages(path, rows: list[dict], doc_ids: list[str] | None = None,
                   vectors: np.ndarray | None = None, model: str | None = None) -> None:
    """Insert passage rows, and their embeddings from `model` if given (one transaction).

    `doc_ids`: the documents these rows were split from. Their earlier passages (a text
    that changed), with those passages' embeddings and topic assignments, are removed in
    the same transaction, so a reader sees either the old passages or the new ones.
    """
    schema = pa.schema([
        ("passage_id", pa.string()), ("doc_id", pa.string()), ("seq", pa.int32()),
        ("text", pa.string()), ("n_words", pa.int32()), ("is_expectation", pa.bool_()),
        ("expectation_phrase", pa.string()), ("language", pa.string()), ("terms", pa.string()),
        ("doc_content_hash", pa.string())])
    arrow_tbl = pa.Table.from_pylist(rows, schema=schema)
    docs = pa.table({"doc_id": pa.array(sorted(set(doc_ids or [])), pa.string())})
    cols = ", ".join(PASSAGE_COLUMNS)

    def work(con) -> None:
        if doc_ids:
            con.register("docs", docs)
            old = "SELECT passage_id FROM passages WHERE doc_id IN (SELECT doc_id FROM docs)"
            con.execute(f"DELETE FROM passage_topics WHERE passage_id IN ({old})")
            con.execute(f"DELETE FROM passage_embeddings WHERE passage_id IN ({old})")
            con.execute("DELETE FROM passages WHERE doc_id IN (SELECT doc_id FROM docs)")
            con.unregister("docs")
        if rows:
            warehouse.upsert(con, "passages", PASSAGE_COLUMNS, ("passage_id",),
                             f"SELECT {cols} FROM arrow_tbl", data={"arrow_tbl": arrow_tbl})
        if rows and vectors is not None:
            _insert_embeddings(con, [r["passage_id"] for r in rows], vectors, model)

    warehouse.write_within_memory(path, WRITE_MEMORY, work, "writing passages")


def count_unembedded(path, model: str) -> int:
    """Passages with no embedding from `model`."""
    return warehouse.query(path, "SELECT count(*) FROM passages p WHERE NOT EXISTS (SELECT 1 FROM "
                                 "passage_embeddings e WHERE e.passage_id = p.passage_id AND e.model = ?)",
                           [model])[0][0]


def unembedded(path, model: str, batch: int) -> Iterator[tuple[list[str], list[str]]]:
    """Batches of (passage ids, texts) still to embed with `model`."""
    last = ""
    while True:
        with warehouse.read(path) as con:
            rows = con.execute(
                "SELECT p.passage_id, p.text FROM passages p WHERE p.passage_id > ? AND NOT EXISTS "
                "(SELECT 1 FROM passage_embeddings e WHERE e.passage_id = p.passage_id AND e.model = ?) "
                "ORDER BY p.passage_id LIMIT ?", [last, model, batch]).fetchall()
        if not rows:
            return
        last = rows[-1][0]
        yield [r[0] for r in rows], [r[1] for r in rows]


def write_embeddings(path, ids: list[str], vectors: np.ndarray, model: str) -> None:
    """Store vectors (replacing another model's vector for the same passage)."""
    warehouse.write_within_memory(path, WRITE_MEMORY, lambda con: _insert_embeddings(
        con, ids, vectors, model), "writing vectors")


def _insert_embeddings(con, ids: list[str], vectors: np.ndarray, model: str) -> None:
    arrow_tbl = pa.table({"passage_id": pa.array(ids, pa.string()),
                          "model": pa.array([model] * len(ids), pa.string()),
                          "vector": vectors_to_arrow(vectors)})
    warehouse.upsert(con, "passage_embeddings", ("passage_id", "model", "vector"), ("passage_id",),
                     "SELECT passage_id, model, vector FROM arrow_tbl",
                     update="model = excluded.model, vector = excluded.vector",
                     data={"arrow_tbl": arrow_tbl})


@dataclass
class Corpus:
    """Embedded passages loaded for fitting or assignment (aligned arrays)."""

    ids: np.ndarray
    vectors: np.ndarray
    topic: np.ndarray  # current topic id (-1 outlier, -2 never assigned)


# Rows of vectors read at a time by `load_corpus`.
CORPUS_BATCH = 65_536
# DuckDB's memory while the corpus is read (its cache of the file's blocks would otherwise
# hold the vectors a second time): a base and a little per embedded passage, for the sorted
# keys. bench/corpus_load.py, 1M passages: 2,446 MB peak within DuckDB's default 500 MB
# here, 2,074 MB within 100 MB and faster; 50 MB ran out of memory.
CORPUS_MEMORY_BASE = 64 * 10**6  # bytes
CORPUS_MEMORY_PER_ROW = 64  # bytes


def corpus_memory(rows: int) -> int:
    """DuckDB's memory limit for reading a corpus of `rows` embedded passages (bytes)."""
    return CORPUS_MEMORY_BASE + CORPUS_MEMORY_PER_ROW * rows


def load_corpus(path, model: str, where: str = "true") -> Corpus:
    """Embedded passages (with their current topic) matching an SQL condition on p/pt.

    The passages are sorted without their vectors; the vectors then stream in batches
    straight into one array (1M passages: 1.5 GB held once; sorting them with the rows
    held 6.4 GB), with DuckDB's memory lowered to `corpus_memory`."""
    with warehouse.read(path) as con:
        rows = con.execute("SELECT count(*) FROM passage_embeddings WHERE model = ?",
                           [model]).fetchone()[0]
        return warehouse.within_memory(con, corpus_memory(rows),
                                       lambda: _read_corpus(con, model, where), "reading the corpus")


def _read_corpus(con, model: str, where: str) -> Corpus:
    keys = con.execute(
        "SELECT p.passage_id, coalesce(pt.topic_id, -2) AS topic FROM passages p "
        "JOIN passage_embeddings e ON e.passage_id = p.passage_id AND e.model = ? "
        f"LEFT JOIN passage_topics pt ON pt.passage_id = p.passage_id WHERE {where} "
        "ORDER BY p.passage_id", [model]).to_arrow_table()
    ids = np.asarray(keys["passage_id"].to_pylist(), dtype=object)
    topic = keys["topic"].to_numpy().astype(np.int64)
    vectors = np.zeros((0, 0), dtype=np.float32)
    # Each row's place in the sorted order, joined in DuckDB (no dictionary of the ids here).
    con.register("corpus_keys", pa.table({
        "passage_id": keys["passage_id"], "pos": pa.array(np.arange(len(ids), dtype=np.int64))}))
    try:
        reader = con.execute(
            "SELECT k.pos, e.vector FROM passage_embeddings e JOIN corpus_keys k "
            "ON k.passage_id = e.passage_id WHERE e.model = ?",
            [model]).fetch_record_batch(CORPUS_BATCH)
        for batch in reader:
            block = vectors_from_arrow(batch.column(1))
            if vectors.shape[0] != len(ids):
                vectors = np.zeros((len(ids), block.shape[1]), dtype=np.float32)
            vectors[batch.column(0).to_numpy()] = block
    finally:
        con.unregister("corpus_keys")
    return Corpus(ids=ids, vectors=vectors, topic=topic)


@dataclass
class TopicState:
    """Active topics and facts about the last full fit."""

    ids: np.ndarray
    means: np.ndarray
    sizes: np.ndarray
    next_id: int
    last_fit_n: int
    last_fit_model: str | None
    last_settings: str | None
    last_period: str | None = None
    embedded: int = 0             # passages embedded with the configured model

    @property
    def has_model(self) -> bool:
        """Whether a fit has happened."""
        return self.last_fit_n > 0


def load_topic_state(path, model: str) -> TopicState:
    """Active topics with centroids, the next free id, the last fit's size and model, and the
    passages embedded with `model`."""
    with warehouse.read(path) as con:
        embedded = con.execute("SELECT count(*) FROM passage_embeddings WHERE model = ?",
                               [model]).fetchone()[0]
        tbl = con.execute("SELECT topic_id, centroid, size FROM topics WHERE active AND centroid "
                          "IS NOT NULL ORDER BY topic_id").to_arrow_table()
        next_id = con.execute("SELECT coalesce(max(topic_id), -1) + 1 FROM topics").fetchone()[0]
        fit = con.execute("SELECT n_passages, parameters FROM topic_models WHERE kind IN ('fit', 'refit') "
                          "ORDER BY created_at DESC, model_version DESC LIMIT 1").fetchone()
        run = con.execute("SELECT settings_hash, period FROM nlp_runs WHERE finished_at IS NOT NULL "
                          "ORDER BY run_id DESC LIMIT 1").fetchone()
    params = json.loads(fit[1]) if fit and fit[1] else {}
    return TopicState(
        ids=tbl["topic_id"].to_numpy().astype(np.int64),
        means=vectors_from_arrow(tbl["centroid"]) if tbl.num_rows else np.zeros((0, 0), np.float32),
        sizes=tbl["size"].to_numpy().astype(np.int64),
        next_id=int(next_id),
        last_fit_n=int(fit[0]) if fit else 0,
        last_fit_model=params.get("embedding_model"),
        last_settings=run[0] if run else None,
        last_period=run[1] if run else None,
        embedded=int(embedded),
    )


def write_assignments(path, ids, topics, probs, version: str, replace_all: bool = False,
                      chunk: int = 50_000) -> None:
    """Upsert passage_topics rows; `replace_all` first empties the table (a full fit).

    A full replacement is one transaction, so readers never see a half-assigned corpus.
    """
    if replace_all:
        chunk = max(len(ids), 1)
    for start in range(0, max(len(ids), 1), chunk):
        arrow_tbl = _assignments_table(ids[start:start + chunk], topics[start:start + chunk],
                                       probs[start:start + chunk])

        def work(con, arrow_tbl=arrow_tbl, first=start == 0) -> None:
            if replace_all and first:
                con.execute("DELETE FROM passage_topics")
            _upsert_assignments(con, arrow_tbl, version)

        warehouse.write_within_memory(path, WRITE_MEMORY, work, "writing topic assignments")


def _assignments_table(ids, topics, probs) -> pa.Table:
    return pa.table({
        "passage_id": pa.array(list(ids), pa.string()),
        "topic_id": pa.array(np.asarray(topics, dtype=np.int32)),
        "probability": pa.array(np.asarray(probs, dtype=np.float64)),
    })


def _upsert_assignments(con, arrow_tbl: pa.Table, version: str) -> None:
    warehouse.upsert(
        con, "passage_topics", ("passage_id", "topic_id", "probability", "model_version"),
        ("passage_id",), "SELECT passage_id, topic_id, probability, ? AS model_version "
        "FROM arrow_tbl", [version], data={"arrow_tbl": arrow_tbl},
        update="topic_id = excluded.topic_id, probability = excluded.probability, "
        "model_version = excluded.model_version")


def write_assigned(path, ids, topics, probs, topic_rows: list[dict], version: str, n_topics: int,
                   folder, params: dict) -> None:
    """An incremental assignment in one transaction: the passages' topics, the topics'
    new sizes and centroids, and the model's row (`write_assignments`, `write_topics` and
    `record_model` together: a reader never sees passages assigned to a topic whose size
    does not count them yet)."""
    def work(con) -> None:
        _upsert_assignments(con, _assignments_table(ids, topics, probs), version)
        _upsert_topics(con, topic_rows, version)
        _insert_model(con, version, "assign", len(ids), n_topics, folder, params)

    warehouse.write_within_memory(path, WRITE_MEMORY, work, "writing topic assignments")


def write_topics(path, rows: list[dict], version: str) -> None:
    """Upsert topics' identity columns (centroid, size, active, merged_into); labels come later."""
    if not rows:
        return
    with warehouse.write(path) as con:
        _upsert_topics(con, rows, version)


def _upsert_topics(con, rows: list[dict], version: str) -> None:
    if not rows:
        return
    arrow_tbl = pa.table({
        "topic_id": pa.array([r["topic_id"] for r in rows], pa.int32()),
        "size": pa.array([int(r["size"]) for r in rows], pa.int32()),
        "active": pa.array([bool(r["active"]) for r in rows], pa.bool_()),
        "merged_into": pa.array([r.get("merged_into") for r in rows], pa.int32()),
        "centroid": pa.array([None if r.get("centroid") is None else
                              np.asarray(r["centroid"], np.float32).tolist() for r in rows],
                             pa.list_(pa.float32())),
    })
    warehouse.upsert(
        con, "topics", ("topic_id", "label", "top_terms", "service_area", "size", "model_version",
                        "active", "merged_into", "centroid"), ("topic_id",),
        "SELECT topic_id, '' AS label, []::VARCHAR[] AS top_terms, 'other' AS service_area, size, "
        "? AS model_version, active, merged_into, centroid FROM arrow_tbl", [version],
        data={"arrow_tbl": arrow_tbl},
        update="size = excluded.size, active = excluded.active, merged_into = excluded.merged_into, "
        "centroid = coalesce(excluded.centroid, topics.centroid), "
        "model_version = excluded.model_version, updated_at = CAST(now() AS TIMESTAMP)")


def record_model(path, version: str, kind: str, n_passages: int, n_topics: int, folder, params) -> None:
    """A row in topic_models."""
    with warehouse.write(path) as con:
        _insert_model(con, version, kind, n_passages, n_topics, folder, params)


def _insert_model(con, version: str, kind: str, n_passages: int, n_topics: int, folder, params) -> None:
    con.execute("INSERT INTO topic_models (model_version, kind, n_passages, n_topics, path, parameters) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [version, kind, n_passages, n_topics, str(folder) if folder else None,
                 json.dumps(params)])

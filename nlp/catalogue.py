"""Embeddings of the service catalogue and the watch list, for matching (docs/decisions.md).

Each active service and watch item is embedded with the passage model from its
name, description and keywords (`radar.core.catalogue.embedding_text`) into
`catalogue_vectors`. Only items whose text or model changed are embedded, so an
unchanged catalogue loads no model. The decisions stage compares these vectors
with topic centroids and passage embeddings; it never loads a model itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pyarrow as pa

from nlp.embeddings import Embedder, vectors_to_arrow
from radar.core import warehouse
from radar.core.catalogue import embedding_text
from radar.core.config import Config


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def pending(path) -> list[tuple[str, int, str, str]]:
    """(kind, item_id, text, hash) of every active item whose stored vector is missing or stale."""
    with warehouse.read(path) as con:
        return _pending(con)


def _pending(con) -> list[tuple[str, int, str, str]]:
    items = con.execute(
        "SELECT 'service', service_id, name, description, keywords FROM services WHERE active "
        "UNION ALL SELECT 'watch', watch_id, name, description, keywords FROM watch_items "
        "WHERE active").fetchall()
    stored = {(k, i): (h, m) for k, i, h, m in con.execute(
        "SELECT kind, item_id, text_hash, model FROM catalogue_vectors").fetchall()}
    out = []
    for kind, item_id, name, description, keywords in items:
        text = embedding_text(name, description or "", list(keywords or []))
        out.append((kind, item_id, text, _hash(text)))
    return [(k, i, t, h) for k, i, t, h in out if stored.get((k, i), (None, None))[0] != h]


def embed_catalogue(cfg: Config, embedder: Callable[[], Embedder]) -> int:
    """Embed new or changed services and watch items; returns how many were embedded.

    `embedder` is called only when something needs embedding. Items whose model
    differs from the configured one are embedded again too.
    """
    path = cfg.warehouse_path
    model = cfg.analysis.vector_model
    with warehouse.read(path) as con:
        todo = _pending(con)
        stale = con.execute("SELECT kind, item_id FROM catalogue_vectors WHERE model <> ?",
                            [model]).fetchall()
    if stale:
        have = {(k, i) for k, i, _, _ in todo}
        with warehouse.read(path) as con:
            rows = con.execute(
                "SELECT 'service', service_id, name, description, keywords FROM services "
                "UNION ALL SELECT 'watch', watch_id, name, description, keywords FROM watch_items"
            ).fetchall()
        texts = {(k, i): embedding_text(n, d or "", list(kw or [])) for k, i, n, d, kw in rows}
        for key in stale:
            if key not in have and key in texts:
                todo.append((*key, texts[key], _hash(texts[key])))
    if not todo:
        return 0
    vectors = embedder().encode([t for _, _, t, _ in todo])
    tbl = pa.table({  # noqa: F841 (used by SQL)
        "kind": [k for k, _, _, _ in todo],
        "item_id": pa.array([i for _, i, _, _ in todo], pa.int64()),
        "text_hash": [h for _, _, _, h in todo],
        "model": [model] * len(todo),
        "vector": vectors_to_arrow(vectors),
    })
    with warehouse.write(path) as con:
        con.execute("DELETE FROM catalogue_vectors WHERE (kind, item_id) IN "
                    "(SELECT (kind, item_id) FROM tbl)")
        con.execute("INSERT INTO catalogue_vectors SELECT kind, item_id, text_hash, model, vector "
                    "FROM tbl")
    return len(todo)

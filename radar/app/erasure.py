"""Erasure and salt rotation: `radar forget` and `radar salt --rotate`.

Erasing a person (by pseudonym) or a document (by URL) removes the documents with
their versions, sources, fingerprints, thread rows, passages, embeddings and topic
assignments; quotes of the person in other posts are cut out of those posts (whose
passages are then derived again by the next `radar analyze`), and the person's
pseudonym in mentions becomes a bare <USER>. The erased ids are kept so an import
or crawl does not bring them back. Topic sizes, time series, labels and the radar
are recomputed at once. The privacy log records counts, never the erased content.

Rotating the salt adds a key: every stored pseudonym (authors, mentions, quotes)
is carried over with `rehash`, and new documents hash through the chain of keys,
so the same person keeps one pseudonym while the old key alone no longer matches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa

from nlp.refresh import refresh_labels, refresh_stats
from radar.core import privacy_log, warehouse
from radar.core.config import Config
from radar.core.documents import canonical_url
from radar.core.privacy import USER_TOKEN, finish_rotation, rehash, rotate_salt_file
from radar.scoring.score import score

_HASH = re.compile(r"^(?:<USER:)?([0-9a-f]{16,64})>?$")
#: Text columns that may hold pseudonyms in <USER:...> tokens: (table, key columns, text columns).
TEXT_COLUMNS = (
    ("documents", ("doc_id",), ("text", "title")),
    ("document_versions", ("doc_id", "version"), ("text", "title")),
    ("passages", ("passage_id",), ("text", "expectation_phrase")),
    ("forum_posts", ("doc_id",), ("thread_title",)),
)


class ErasureError(ValueError):
    """A request that names nothing to erase, or names it badly."""


@dataclass
class Erasure:
    """What an erasure removed (counts only)."""

    documents: int = 0
    passages: int = 0
    quotes: int = 0
    quoting_documents: int = 0


def parse_pseudonym(value: str) -> str:
    """The author hash in `1a2b...` or `<USER:1a2b...>` form, or ErasureError."""
    m = _HASH.match(value.strip())
    if not m:
        raise ErasureError(f"{value!r} is not a pseudonym (20 hex characters, as in <USER:...>)")
    return m.group(1)


def _ids(con, sql: str, params: list) -> list[str]:
    return [r[0] for r in con.execute(sql, params).fetchall()]


def _delete(con, doc_ids: list[str]) -> int:
    """Remove documents and everything derived from them; returns passages removed."""
    con.register("erase_ids", pa.table({"doc_id": pa.array(doc_ids, pa.string())}))
    n_pass = con.execute("SELECT count(*) FROM passages WHERE doc_id IN (SELECT doc_id FROM erase_ids)"
                         ).fetchone()[0]
    sub = "(SELECT passage_id FROM passages WHERE doc_id IN (SELECT doc_id FROM erase_ids))"
    con.execute(f"DELETE FROM passage_embeddings WHERE passage_id IN {sub}")
    con.execute(f"DELETE FROM passage_topics WHERE passage_id IN {sub}")
    for table in ("passages", "document_versions", "document_sources", "document_fingerprints",
                  "forum_posts", "documents"):
        con.execute(f"DELETE FROM {table} WHERE doc_id IN (SELECT doc_id FROM erase_ids)")
    con.execute("UPDATE crawl_state SET content_hash = NULL WHERE doc_id IN (SELECT doc_id FROM erase_ids)")
    warehouse.upsert(con, "erased_documents", ("doc_id",), ("doc_id",), "SELECT doc_id FROM erase_ids")
    con.unregister("erase_ids")
    return n_pass


def _cut_quotes(con, author: str) -> tuple[int, int]:
    """Cut the person's quotes out of other documents; returns (quotes, documents changed)."""
    token = f"<USER:{author}>"
    quote = re.compile(r"\[quote=\"?" + re.escape(token) + r"[^\]]*\].*?(?:\[/quote\]|$)", re.S)
    quotes = changed = 0
    rows = con.execute("SELECT doc_id, text, title FROM documents WHERE text LIKE ? OR title LIKE ?",
                       [f"%{token}%", f"%{token}%"]).fetchall()
    for doc_id, text, title in rows:
        new_text, n = quote.subn("[quote removed]", text)
        new_text = new_text.replace(token, "<USER>")
        new_title = (title or "").replace(token, "<USER>") or title
        quotes += n
        changed += 1
        con.execute("UPDATE documents SET text = ?, title = ? WHERE doc_id = ?",
                    [new_text, new_title, doc_id])
        con.execute("DELETE FROM document_versions WHERE doc_id = ?", [doc_id])
        # Its passages held the quoted words: derive them again from the cut text.
        sub = "(SELECT passage_id FROM passages WHERE doc_id = ?)"
        con.execute(f"DELETE FROM passage_embeddings WHERE passage_id IN {sub}", [doc_id])
        con.execute(f"DELETE FROM passage_topics WHERE passage_id IN {sub}", [doc_id])
        con.execute("DELETE FROM passages WHERE doc_id = ?", [doc_id])
    return quotes, changed


def erase(cfg: Config, *, pseudonym: str | None = None, url: str | None = None,
          actor: str | None = None) -> Erasure:
    """Erase a person's documents (by pseudonym) or one document (by URL); see module doc."""
    if bool(pseudonym) == bool(url):
        raise ErasureError("give either a pseudonym or a URL")
    path, result = cfg.warehouse_path, Erasure()
    with warehouse.write(path) as con:
        if pseudonym:
            author = parse_pseudonym(pseudonym)
            ids = _ids(con, "SELECT doc_id FROM documents WHERE author_hash = ?", [author])
        else:
            ids = _ids(con, "SELECT doc_id FROM documents WHERE url = ? OR canonical_url = ? UNION "
                            "SELECT doc_id FROM document_sources WHERE url = ?",
                       [url, canonical_url(url), url])
        if ids:
            result.documents = len(ids)
            result.passages = _delete(con, ids)
        if pseudonym:
            result.quotes, result.quoting_documents = _cut_quotes(con, author)
        how = "by pseudonym" if pseudonym else "by URL"
        privacy_log.record(con, "erase", f"{result.documents} documents, {result.passages} passages, "
                                         f"{result.quotes} quotes in {result.quoting_documents} other "
                                         f"documents erased ({how})", actor)
    if result.documents or result.quoting_documents:
        a = cfg.analysis
        refresh_stats(path, a.period, a.representative_passages)
        refresh_labels(path, a.stop_words, a.period, steady=False)  # erased texts may spell a label
        score(cfg, force=True)
    return result


def rotate_salt(cfg: Config, *, actor: str | None = None) -> int:
    """Re-pseudonymise the warehouse with a new salt key; returns the pseudonyms carried over."""
    path = cfg.warehouse_path
    _, key = rotate_salt_file(path)

    def carry(text: str | None) -> str | None:
        return USER_TOKEN.sub(lambda m: f"<USER:{rehash(m.group(1), key)}>", text) if text else text

    with warehouse.write(path) as con:
        authors = _ids(con, "SELECT DISTINCT author_hash FROM documents WHERE author_hash IS NOT NULL", [])
        mapping = pa.table({"old": pa.array(authors, pa.string()),
                            "new": pa.array([rehash(a, key) for a in authors], pa.string())})
        con.register("rotation", mapping)
        con.execute("UPDATE documents SET author_hash = r.new FROM rotation r WHERE author_hash = r.old")
        con.unregister("rotation")
        for table, keys, cols in TEXT_COLUMNS:
            where = " OR ".join(f"{c} LIKE '%<USER:%'" for c in cols)
            for row in con.execute(f"SELECT {', '.join(keys + cols)} FROM {table} WHERE {where}").fetchall():
                kv, texts = row[:len(keys)], row[len(keys):]
                sets = ", ".join(f"{c} = ?" for c in cols)
                cond = " AND ".join(f"{k} = ?" for k in keys)
                con.execute(f"UPDATE {table} SET {sets} WHERE {cond}", [carry(t) for t in texts] + list(kv))
        privacy_log.record(con, "salt_rotation", f"{len(authors)} author pseudonyms carried over", actor)
    finish_rotation(path)
    return len(authors)

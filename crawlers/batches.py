"""Writing a crawl to the warehouse: runs, batches of documents, state and errors.

Every function here is one short write transaction through `radar.core.warehouse.write`,
with rows handed to DuckDB as Arrow tables (never row-by-row inserts).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from radar.core import warehouse
from radar.core.config import SourceConfig
from radar.core.documents import utcnow

DOC_COLUMNS = (
    "doc_id", "url", "canonical_url", "title", "text", "published_at", "fetched_at",
    "source", "channel", "language", "author_hash", "content_hash",
)
STATE_COLUMNS = (
    "url", "source", "kind", "etag", "last_modified", "marker", "content_hash", "doc_id",
    "complete", "first_seen", "last_fetched", "last_changed",
)
_TS = pa.timestamp("us")
_TYPES = {
    "published_at": _TS, "fetched_at": _TS, "first_seen": _TS, "last_fetched": _TS,
    "last_changed": _TS, "replaced_at": _TS, "complete": pa.bool_(), "simhash": pa.int64(),
    "n_words": pa.int32(), "post_number": pa.int32(), "reply_to": pa.int32(), "run_id": pa.int64(),
    "failures": pa.int32(), "first_failed": _TS, "last_failed": _TS, "retry_after": _TS,
    "gave_up": pa.bool_(),
}


def _table(rows: list[dict], columns: tuple[str, ...]) -> pa.Table:
    schema = pa.schema([(c, _TYPES.get(c, pa.string())) for c in columns])
    return pa.Table.from_pylist(rows, schema=schema)


@dataclass
class Batch:
    """Rows waiting to be written in one transaction."""

    new: list[dict] = field(default_factory=list)          # documents rows
    updates: list[dict] = field(default_factory=list)      # documents rows replacing older text
    carriers: list[dict] = field(default_factory=list)     # document_sources rows
    fingerprints: list[dict] = field(default_factory=list)
    posts: list[dict] = field(default_factory=list)        # forum_posts rows
    state: dict[str, dict] = field(default_factory=dict)   # crawl_state rows by url
    errors: list[dict] = field(default_factory=list)       # fetch_errors rows
    broken: dict[str, dict] = field(default_factory=dict)  # broken_urls rows by url
    fixed: list[str] = field(default_factory=list)         # broken_urls rows to delete

    def __len__(self) -> int:
        return (len(self.new) + len(self.updates) + len(self.carriers) + len(self.state)
                + len(self.errors) + len(self.broken) + len(self.fixed))


def start_run(path: Path, source: SourceConfig, started: datetime) -> int:
    """Register the source and open its crawl_runs row; returns the run id."""
    with warehouse.write(path) as con:
        _register(con, source)
        return _open_run(con, source.name, started)


def start_runs(path: Path, sources: list[SourceConfig], started: datetime) -> dict[str, int]:
    """Register the sources and open one crawl_runs row each, in one transaction."""
    ids = {}
    with warehouse.write(path) as con:
        for source in sources:
            _register(con, source)
            ids[source.name] = _open_run(con, source.name, started)
    return ids


def _open_run(con, source: str, started: datetime) -> int:
    run_id = warehouse.next_id(con, "crawl_run_seq")
    con.execute("INSERT INTO crawl_runs (run_id, source, started_at, status) "
                "VALUES (?, ?, ?, 'running')", [run_id, source, started])
    return run_id


def _register(con, source: SourceConfig) -> None:
    warehouse.upsert(
        con, "sources", ("name", "type", "url", "channel"), ("name",),
        "SELECT ? AS name, ? AS type, ? AS url, ? AS channel",
        [source.name, source.type, source.url, source.channel],
        update="type = excluded.type, url = excluded.url, channel = excluded.channel")


def flush(path: Path, batch: Batch, finished: list[dict] | None = None,
          reconcile=None) -> None:
    """Write one batch (and close the runs in `finished`) in one transaction.

    `reconcile` (a `crawlers.reconcile.Reconciler`, distributed crawls) first turns the
    batch's "new" documents that another process stored meanwhile into carriers."""
    if not len(batch) and not finished:
        return
    now = utcnow()
    pending: Counter = Counter()   # demoted "new" rows by source, over every attempt
    runs: list[dict] = []

    # A DuckLake commit that loses to another writer is run again in a new transaction.
    # Rows demoted in an earlier attempt stay carriers (the other process's document is
    # committed), so the counts add up over the attempts.
    def work(con) -> None:
        nonlocal runs
        runs = [dict(r) for r in finished or []]
        if reconcile is not None:
            pending.update(reconcile.apply(con, batch))
            reconcile.adjust(runs, pending)
        for run in runs:
            con.execute(
                "UPDATE crawl_runs SET finished_at = ?, pages = ?, new_documents = ?, "
                "errors = ?, status = ? WHERE run_id = ?",
                [run["finished_at"], run["pages"], run["new_documents"], run["errors"],
                 run["status"], run["run_id"]])
        if batch.new:
            cols = ", ".join(DOC_COLUMNS)
            warehouse.upsert(con, "documents", DOC_COLUMNS, ("doc_id",),
                             f"SELECT {cols} FROM new_docs",
                             data={"new_docs": _table(batch.new, DOC_COLUMNS)})
        if batch.updates:
            _apply_updates(con, batch.updates, now)
        sources = [
            {"doc_id": d["doc_id"], "source": d["source"], "url": d["url"]} for d in batch.new
        ] + batch.carriers
        if sources:
            warehouse.upsert(
                con, "document_sources", ("doc_id", "source", "url"), ("doc_id", "source"),
                "SELECT DISTINCT ON (doc_id, source) doc_id, source, url FROM carried",
                data={"carried": _table(sources, ("doc_id", "source", "url"))})
        if batch.fingerprints:
            warehouse.upsert(
                con, "document_fingerprints", ("doc_id", "simhash", "n_words"), ("doc_id",),
                "SELECT doc_id, simhash, n_words FROM fps",
                update="simhash = excluded.simhash, n_words = excluded.n_words",
                data={"fps": _table(batch.fingerprints, ("doc_id", "simhash", "n_words"))})
        if batch.posts:
            cols = ("doc_id", "source", "thread_url", "thread_title", "post_number", "reply_to")
            warehouse.upsert(con, "forum_posts", cols, ("doc_id",),
                             f"SELECT {', '.join(cols)} FROM posts",
                             data={"posts": _table(batch.posts, cols)})
        if batch.state:
            _upsert_state(con, list(batch.state.values()))
        if batch.broken:
            _upsert_broken(con, list(batch.broken.values()))
        if batch.fixed:
            con.execute("DELETE FROM broken_urls WHERE url IN (SELECT unnest(?))",
                        [batch.fixed])
        if batch.errors:
            con.register("errs", _table(batch.errors, ("run_id", "source", "url", "reason")))
            con.execute("INSERT INTO fetch_errors (run_id, source, url, reason) "
                        "SELECT run_id, source, url, reason FROM errs")
            con.unregister("errs")

    warehouse.write_retrying(path, work)
    for original, written in zip(finished or [], runs, strict=False):
        original.update(written)
    if reconcile is not None:
        reconcile.committed(pending)


def _apply_updates(con, updates: list[dict], now: datetime) -> None:
    """Keep the current text as a version, then replace it with the new one.

    `fetched_at` and `published_at` stay as first stored, so a corrected page
    does not move to another period of the topic time series.
    """
    upd = _table(updates, DOC_COLUMNS)  # noqa: F841 (read by SQL)
    con.execute(
        "INSERT INTO document_versions "
        "SELECT d.doc_id, coalesce(v.n, 0) + 1, d.title, d.text, d.content_hash, "
        "coalesce(v.last, d.fetched_at), ? "
        "FROM documents d JOIN upd u USING (doc_id) "
        "LEFT JOIN (SELECT doc_id, max(version) AS n, max(replaced_at) AS last "
        "FROM document_versions GROUP BY doc_id) v USING (doc_id) "
        "WHERE d.content_hash <> u.content_hash",
        [now],
    )
    con.execute(
        "UPDATE documents SET title = u.title, text = u.text, content_hash = u.content_hash, "
        "language = u.language, published_at = coalesce(documents.published_at, u.published_at) "
        "FROM upd u WHERE documents.doc_id = u.doc_id"
    )


BROKEN_COLUMNS = ("url", "source", "failures", "reason", "marker", "first_failed",
                  "last_failed", "retry_after", "gave_up")


def _upsert_broken(con, rows: list[dict]) -> None:
    cols = ", ".join(BROKEN_COLUMNS)
    warehouse.upsert(
        con, "broken_urls", BROKEN_COLUMNS, ("url",), f"SELECT {cols} FROM broken",
        update="source = excluded.source, failures = excluded.failures, "
        "reason = excluded.reason, marker = excluded.marker, last_failed = excluded.last_failed, "
        "retry_after = excluded.retry_after, gave_up = excluded.gave_up",
        data={"broken": _table(rows, BROKEN_COLUMNS)})


def _upsert_state(con, rows: list[dict]) -> None:
    cols = ", ".join(STATE_COLUMNS)
    warehouse.upsert(
        con, "crawl_state", STATE_COLUMNS, ("url",), f"SELECT {cols} FROM state",
        data={"state": _table(rows, STATE_COLUMNS)},
        update="source = excluded.source, kind = excluded.kind, "
        "etag = coalesce(excluded.etag, crawl_state.etag), "
        "last_modified = coalesce(excluded.last_modified, crawl_state.last_modified), "
        "marker = coalesce(excluded.marker, crawl_state.marker), "
        "content_hash = coalesce(excluded.content_hash, crawl_state.content_hash), "
        "doc_id = coalesce(excluded.doc_id, crawl_state.doc_id), "
        "complete = excluded.complete, last_fetched = excluded.last_fetched, "
        "last_changed = CASE WHEN excluded.content_hash IS NOT NULL "
        "AND crawl_state.content_hash IS NOT NULL "
        "AND excluded.content_hash <> crawl_state.content_hash "
        "THEN excluded.last_fetched ELSE crawl_state.last_changed END")

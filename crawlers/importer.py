"""`radar import`: backfill archives and bring your own corpus.

Reads JSON Lines, CSV or Parquet with the columns url, title, text,
published_at, source, channel and (optionally) author and id. Every row read is
accounted for, exactly once:

    rows read = stored + already present + duplicates in the file + rejected

- A row is the same document as another only when it has the same canonical URL
  *and* the same text, or the same `id` (within its source). Paragraphs of one
  speech at `...#p1`, `...#p2` are distinct documents.
- A rejected row keeps its line number and reason (`fetch_errors`, url
  `FILE:LINE`); the good rows around it are stored. Any bad value rejects only
  its row: a lone surrogate in a title, a date outside the `[ingest]` window
  (default 1900-01-01 to one day ahead), a value of the wrong kind.
- The counts are printed, returned and stored in `import_runs`.

Authors are pseudonymised and citizen texts redacted before anything reaches the
warehouse. Rows are inserted in bulk through Arrow; re-importing a file adds
nothing (every row is already present).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from crawlers.import_files import BadRow, parse_date, read_rows
from crawlers.seen_keys import SeenKeys
from radar.core import warehouse
from radar.core.config import CHANNELS
from radar.core.documents import canonical_url, content_hash, detect_language, doc_id, utcnow
from radar.core.privacy import author_hash, load_salt, redact_many

log = logging.getLogger(__name__)

BATCH_ROWS = 50_000
REDACT_ROWS = 256     # rows built (citizen texts redacted) together
DOCUMENT_COLUMNS = (
    "doc_id", "url", "canonical_url", "title", "text", "published_at", "fetched_at",
    "source", "channel", "language", "author_hash", "content_hash",
)
_COLS = ", ".join(DOCUMENT_COLUMNS)


@dataclass
class ImportResult:
    """What an import did: rows == new_documents + skipped_existing + duplicates + rejected."""

    rows: int = 0
    new_documents: int = 0       # stored
    skipped_existing: int = 0    # already present in the warehouse
    duplicates: int = 0          # the same document earlier in the file
    bad_rows: list[BadRow] = field(default_factory=list)
    run_id: int | None = None

    @property
    def rejected(self) -> int:
        return len(self.bad_rows)

    def summary(self) -> str:
        """The one-line account of every row."""
        return (f"{self.rows} rows read, {self.new_documents} new documents, "
                f"{self.skipped_existing} already present, {self.duplicates} duplicates in the "
                f"file, {self.rejected} rejected")


@dataclass(frozen=True)
class DateWindow:
    """published_at must lie in [earliest, latest]; outside it the row is rejected."""

    earliest: datetime
    latest: datetime

    @classmethod
    def from_config(cls, ingest=None, now: datetime | None = None) -> DateWindow:
        from datetime import date, timedelta

        earliest = date.fromisoformat(ingest.earliest if ingest else "1900-01-01")
        ahead = ingest.days_ahead if ingest else 1.0
        return cls(datetime(earliest.year, earliest.month, earliest.day),
                   (now or utcnow()) + timedelta(days=ahead))


def build_document(
    row: dict[str, Any],
    *,
    salt: bytes,
    fetched_at: datetime,
    source: str | None = None,
    channel: str | None = None,
    window: DateWindow | None = None,
) -> dict[str, Any]:
    """Turn one input row into a `documents` row; raises ValueError with the reason."""
    (doc,) = build_documents([row], salt=salt, fetched_at=fetched_at, source=source,
                             channel=channel, window=window)
    if isinstance(doc, Exception):
        raise doc
    return doc


def build_documents(
    rows: list[dict[str, Any]],
    *,
    salt: bytes,
    fetched_at: datetime,
    source: str | None = None,
    channel: str | None = None,
    window: DateWindow | None = None,
) -> list[dict[str, Any] | Exception]:
    """`build_document` for several rows: a documents row, or the exception rejecting it.

    Citizen texts and titles are redacted together, in one spaCy pass (several times
    faster than one row at a time); if that pass fails, each row is redacted alone so a
    bad value rejects only its own row.
    """
    window = window or DateWindow.from_config()
    prepared: list[dict[str, Any] | Exception] = []
    for row in rows:
        try:
            prepared.append(_prepare(row, source, channel, window))
        except Exception as exc:  # any bad value rejects its row only
            prepared.append(exc)
    citizen = [i for i, p in enumerate(prepared) if isinstance(p, dict) and p["channel"] == "citizen"]
    try:
        flat = redact_many([x for i in citizen for x in (prepared[i]["text"], prepared[i]["title"])],
                           salt=salt)
        for k, i in enumerate(citizen):
            prepared[i]["text"], prepared[i]["title"] = flat[2 * k], flat[2 * k + 1]
    except Exception:
        log.warning("redacting %d citizen rows together failed; one at a time", len(citizen))
        for i in citizen:
            try:
                prepared[i]["text"], prepared[i]["title"] = redact_many(
                    [prepared[i]["text"], prepared[i]["title"]], salt=salt)
            except Exception as exc:
                prepared[i] = exc
    return [p if isinstance(p, Exception) else _finish(p, salt, fetched_at) for p in prepared]


def _prepare(row: dict[str, Any], source: str | None, channel: str | None,
             window: DateWindow) -> dict[str, Any]:
    """A row's values, checked (ValueError with the reason), before redaction."""
    text = _string(row, "text")
    if text is None or not text.strip():
        raise ValueError("no text")
    src = source or (_string(row, "source") or "").strip()
    if not src:
        raise ValueError("no source (give the column or --source)")
    chan = (channel or _string(row, "channel") or "").strip().lower()
    if chan not in CHANNELS:
        raise ValueError(f"unknown channel {chan!r} (expected one of {', '.join(CHANNELS)})")
    published = parse_date(row.get("published_at"))
    if published is not None and not window.earliest <= published <= window.latest:
        raise ValueError(
            f"published_at {published:%Y-%m-%d %H:%M} is outside {window.earliest:%Y-%m-%d} .. "
            f"{window.latest:%Y-%m-%d %H:%M} (the [ingest] window)")
    return {"text": text, "title": _string(row, "title") or None, "source": src,
            "channel": chan, "published_at": published,
            "url": (_string(row, "url") or "").strip() or None,
            "ident": (_string(row, "id") or "").strip() or None,
            "author": _string(row, "author")}


def _finish(p: dict[str, Any], salt: bytes, fetched_at: datetime) -> dict[str, Any]:
    """The documents row of a prepared (and, for citizens, redacted) row."""
    url, text = p["url"], p["text"]
    canon = canonical_url(url)
    fragment = _fragment(url)
    chash = content_hash(text)
    ahash = author_hash(p["author"], salt)
    return {
        "doc_id": import_doc_id(p["source"], p["channel"], canon and canon + fragment, chash,
                                ahash, p["ident"]),
        "url": url,
        "canonical_url": canon,
        "title": p["title"],
        "text": text,
        "published_at": p["published_at"],
        "fetched_at": fetched_at,
        "source": p["source"],
        "channel": p["channel"],
        "language": None,  # detected in _flush, only for documents not yet stored
        "author_hash": ahash,
        "content_hash": chash,
        "fragment": fragment,
    }


def _fragment(url: str | None) -> str:
    """A URL's fragment with its '#' ("" when none). In an archive it names a part of the
    page (a speech's paragraph #p12), so it is part of the row's identity."""
    if not url or "#" not in url:
        return ""
    return "#" + url.split("#", 1)[1]


def import_doc_id(source: str, channel: str, canon: str | None, chash: str,
                  ahash: str | None, ident: str | None) -> str:
    """An imported document's id: its `id` within the source; else its canonical URL (with
    the fragment, `canon` here) *and* text: paragraphs at url#p1, url#p2 are distinct; else
    source and text (and, for citizens, author: two people writing "I agree" are two voices)."""
    import hashlib

    if ident:
        key = f"import-id\x00{source}\x00{ident}"
    elif canon:
        key = f"url+text\x00{canon}\x00{chash}"
    elif channel == "citizen" and ahash:
        key = f"{source}\x00{chash}\x00{ahash}"
    else:
        return doc_id(None, source, chash)  # as before: re-imports of older files match
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]


def _string(row: dict[str, Any], name: str) -> str | None:
    """A column's value as text; rejects values of the wrong kind and invalid Unicode."""
    value = row.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, (dict, list)):
        raise ValueError(f"{name}: expected text, got a JSON {type(value).__name__}")
    text = value if isinstance(value, str) else str(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"{name}: not valid Unicode (a lone surrogate at character "
                         f"{exc.start})") from None
    if "\x00" in text:
        raise ValueError(f"{name}: contains a NUL character")
    return text


def import_file(
    path: str | Path,
    warehouse_path: Path,
    *,
    source: str | None = None,
    channel: str | None = None,
    progress: Callable[[int], None] | None = None,
    window: DateWindow | None = None,
) -> ImportResult:
    """Import a file into the warehouse; returns the account of every row (ImportResult)."""
    path = Path(path)
    salt = load_salt(warehouse_path)
    now = utcnow()
    window = window or DateWindow.from_config(now=now)
    result = ImportResult()
    batch: list[dict] = []
    seen = SeenKeys()  # ids and (URL, text) pairs of the rows kept so far, 8 bytes each
    run_source = source or f"import:{path.name}"
    result.run_id = _start_run(warehouse_path, run_source, path.name, now)
    sources: dict[str, str] = {}
    try:
        chunk: list[tuple[int, dict[str, Any]]] = []

        def take(chunk: list[tuple[int, dict[str, Any]]]) -> None:
            nonlocal batch
            docs = build_documents([r for _, r in chunk], salt=salt, fetched_at=now,
                                   source=source, channel=channel, window=window)
            good = []
            for (lineno, _), doc in zip(chunk, docs, strict=True):
                if isinstance(doc, Exception):
                    reason = str(doc) if isinstance(doc, ValueError) else f"{type(doc).__name__}: {doc}"
                    result.bad_rows.append(BadRow(lineno, reason[:500]))
                else:
                    good.append(doc)
            for doc, first in zip(good, seen.first_seen([_keys(d) for d in good]), strict=True):
                if not first:  # the same id, or URL and text, as an earlier row of the file
                    result.duplicates += 1
                    continue
                sources.setdefault(doc["source"], doc["channel"])
                batch.append(doc)
            if len(batch) >= BATCH_ROWS:
                _flush(warehouse_path, batch, sources, result)
                batch = []

        for lineno, row in read_rows(path):
            result.rows += 1
            if isinstance(row, BadRow):
                result.bad_rows.append(row)
                continue
            chunk.append((lineno, row))
            if len(chunk) >= REDACT_ROWS:
                take(chunk)
                chunk = []
            if progress and result.rows % 1000 == 0:
                progress(result.rows)
        take(chunk)
        _flush(warehouse_path, batch, sources, result)
    except BaseException as exc:
        _finish_run(warehouse_path, result, run_source, path.name, "failed",
                    reason=str(exc) or type(exc).__name__)
        raise
    status = "partial" if result.bad_rows else "ok"
    _finish_run(warehouse_path, result, run_source, path.name, status)
    if progress:
        progress(result.rows)
    return result


def _keys(doc: dict[str, Any]) -> tuple[str, ...]:
    """What makes a row the same document as an earlier row of the file: its id, or its
    canonical URL (with the fragment) and text."""
    key = "id\x00" + doc["doc_id"]
    if not doc["canonical_url"]:
        return (key,)
    return key, f"url+text\x00{doc['canonical_url']}{doc['fragment']}\x00{doc['content_hash']}"


def _start_run(warehouse_path: Path, source: str, filename: str, started: datetime) -> int:
    with warehouse.write(warehouse_path) as con:
        run_id = warehouse.insert_with_id(con, "crawl_runs", "run_id", "crawl_run_seq",
                                          ("source", "started_at", "status"), [source, started, "running"])
        con.execute("INSERT INTO import_runs (run_id, file, source, started_at, status) "
                    "VALUES (?, ?, ?, ?, 'running')", [run_id, filename, source, started])
        return run_id


# Documents of the batch that the warehouse already holds (same id; same canonical URL,
# fragment and text; or, without a URL, same source, text and author), with their stored id.
_PRESENT = """
SELECT i.doc_id AS new_id, min(d.doc_id) AS doc_id FROM incoming i JOIN documents d ON (
    d.doc_id = i.doc_id
    OR (i.canonical_url IS NOT NULL AND d.canonical_url = i.canonical_url
        AND d.content_hash = i.content_hash
        AND coalesce(regexp_extract(d.url, '#.*$'), '') = i.fragment)
    OR (i.canonical_url IS NULL AND d.canonical_url IS NULL AND d.source = i.source
        AND d.content_hash = i.content_hash
        AND d.author_hash IS NOT DISTINCT FROM i.author_hash))
GROUP BY i.doc_id
"""


def _flush(warehouse_path: Path, batch: list[dict], sources: dict[str, str],
           result: ImportResult) -> None:
    """Store the batch's new documents; count them and those already present."""
    if not batch:
        return
    keys = pa.Table.from_pylist(
        [{c: d[c] for c in ("doc_id", "canonical_url", "fragment", "content_hash", "source",
                            "author_hash")} for d in batch])
    # Language detection is the costly step: skip it for documents already stored,
    # so re-importing a file is cheap as well as harmless.
    with warehouse.read(warehouse_path) as con:
        con.register("incoming", keys)
        known = {r[0] for r in con.execute(_PRESENT).fetchall()}
    for d in batch:
        if d["doc_id"] not in known:
            d["language"] = detect_language(d["text"])
    incoming = pa.Table.from_pylist(
        batch, schema=_arrow_schema().append(pa.field("fragment", pa.string())))
    def work(con) -> int:  # run again in a new transaction if a DuckLake commit loses
        con.register("incoming", incoming)
        for name, chan in sources.items():
            warehouse.upsert(con, "sources", ("name", "type", "url", "channel"), ("name",), "SELECT "
                             "? AS name, 'import' AS type, NULL AS url, ? AS channel", [name, chan])
        con.execute(f"CREATE TEMP TABLE present AS {_PRESENT}")
        stored = con.execute(
            f"INSERT INTO documents ({_COLS}) SELECT {_COLS} FROM incoming "
            "WHERE doc_id NOT IN (SELECT new_id FROM present) "  # erased (radar forget): never back
            "AND doc_id NOT IN (SELECT doc_id FROM erased_documents)").fetchone()[0]
        # Every source that carries a document: new ones, and those already stored.
        warehouse.upsert(
            con, "document_sources", ("doc_id", "source", "url"), ("doc_id", "source"),
            "SELECT DISTINCT ON (doc_id, source) doc_id, source, url FROM ("
            "SELECT coalesce(p.doc_id, i.doc_id) AS doc_id, i.source, i.url "
            "FROM incoming i LEFT JOIN present p ON p.new_id = i.doc_id "
            "WHERE i.doc_id NOT IN (SELECT doc_id FROM erased_documents))")
        con.execute("DROP TABLE present")
        return stored

    result.new_documents += (stored := warehouse.write_retrying(warehouse_path, work))
    result.skipped_existing += len(batch) - stored


def _finish_run(
    warehouse_path: Path,
    result: ImportResult,
    source: str,
    filename: str,
    status: str,
    reason: str = "",
) -> None:
    errors = [
        {"run_id": result.run_id, "source": source, "url": f"{filename}:{b.line}", "reason": b.reason}
        for b in result.bad_rows
    ]
    if reason:
        errors.append({"run_id": result.run_id, "source": source, "url": filename, "reason": reason})
    error_table = pa.Table.from_pylist(
        errors,
        schema=pa.schema([("run_id", pa.int64()), ("source", pa.string()), ("url", pa.string()),
                          ("reason", pa.string())]),
    )
    now = utcnow()
    with warehouse.write(warehouse_path) as con:
        con.execute(
            "UPDATE crawl_runs SET finished_at = ?, pages = ?, new_documents = ?, errors = ?, "
            "status = ? WHERE run_id = ?",
            [now, result.rows, result.new_documents, len(errors), status, result.run_id],
        )
        con.execute(
            "UPDATE import_runs SET finished_at = ?, status = ?, rows_read = ?, stored = ?, "
            "already_present = ?, duplicates = ?, rejected = ?, message = ? WHERE run_id = ?",
            [now, status, result.rows, result.new_documents, result.skipped_existing,
             result.duplicates, result.rejected, reason or None, result.run_id])
        if errors:
            con.register("error_table", error_table)
            con.execute(
                "INSERT INTO fetch_errors (run_id, source, url, reason) "
                "SELECT run_id, source, url, reason FROM error_table"
            )


def _arrow_schema() -> pa.Schema:
    ts = pa.timestamp("us")
    types = {"published_at": ts, "fetched_at": ts}
    return pa.schema([(c, types.get(c, pa.string())) for c in DOCUMENT_COLUMNS])

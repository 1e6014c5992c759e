"""`radar import`: backfill archives and bring your own corpus.

Reads JSON Lines, CSV or Parquet with the columns url, title, text,
published_at, source, channel and (optionally) author. Each row is validated on
its own: a bad row is reported with its line number and reason (and recorded in
`fetch_errors`) while every good row is stored. Authors are pseudonymised and
citizen texts redacted before anything reaches the warehouse. Rows are inserted
in bulk through Arrow; a document already present (same id) is skipped, so
re-importing a file adds nothing.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
from dateutil import parser as dateparser

from radar.core import warehouse
from radar.core.config import CHANNELS
from radar.core.documents import canonical_url, content_hash, detect_language, doc_id, to_utc_naive, utcnow
from radar.core.privacy import author_hash, load_salt, redact

log = logging.getLogger(__name__)

BATCH_ROWS = 50_000
DOCUMENT_COLUMNS = (
    "doc_id", "url", "canonical_url", "title", "text", "published_at", "fetched_at",
    "source", "channel", "language", "author_hash", "content_hash",
)


class ImportFileError(ValueError):
    """The file as a whole cannot be read (unknown format, missing, not a table)."""


@dataclass
class BadRow:
    """A row that was not imported, and why."""

    line: int
    reason: str


@dataclass
class ImportResult:
    """What an import did."""

    rows: int = 0
    new_documents: int = 0
    skipped_existing: int = 0
    bad_rows: list[BadRow] = field(default_factory=list)
    run_id: int | None = None


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
    """Yield (line number, row) from a JSONL, CSV or Parquet file; unreadable rows as BadRow."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise ImportFileError(f"{path}: file not found")
    if suffix in (".jsonl", ".ndjson", ".json"):
        yield from _read_jsonl(path)
    elif suffix in (".csv", ".tsv"):
        yield from _read_csv(path, "\t" if suffix == ".tsv" else ",")
    elif suffix == ".parquet":
        yield from _read_parquet(path)
    else:
        raise ImportFileError(f"{path}: unknown format {suffix!r} (use .jsonl, .csv or .parquet)")


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict | BadRow]]:
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                yield lineno, BadRow(lineno, f"not valid JSON: {exc.msg}")
                continue
            if not isinstance(row, dict):
                yield lineno, BadRow(lineno, "not a JSON object")
                continue
            yield lineno, row


def _read_csv(path: Path, delimiter: str) -> Iterator[tuple[int, dict | BadRow]]:
    csv.field_size_limit(50_000_000)
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as fh:
        reader = csv.DictReader(fh, delimiter=delimiter)
        if not reader.fieldnames or "text" not in reader.fieldnames:
            raise ImportFileError(f"{path}: no header with a 'text' column")
        start = reader.line_num + 1
        for row in reader:
            if None in row:
                yield start, BadRow(start, f"{len(row[None])} more fields than the header has")
            else:
                yield start, row
            start = reader.line_num + 1


def _read_parquet(path: Path) -> Iterator[tuple[int, dict | BadRow]]:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    n = 0
    for batch in pf.iter_batches(batch_size=10_000):
        for row in batch.to_pylist():
            n += 1
            yield n, row


def _parse_date(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return to_utc_naive(value)
    if isinstance(value, (int, float)):
        # Epoch seconds, or milliseconds when implausibly large.
        return datetime.utcfromtimestamp(value / 1000 if value > 1e11 else value)
    text = str(value).strip()
    try:
        return to_utc_naive(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        pass
    try:
        return to_utc_naive(dateparser.parse(text))
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"unparseable published_at {text[:40]!r}") from exc


def build_document(
    row: dict[str, Any],
    *,
    salt: bytes,
    fetched_at: datetime,
    source: str | None = None,
    channel: str | None = None,
) -> dict[str, Any]:
    """Turn one input row into a `documents` row; raises ValueError with the reason."""
    text = row.get("text")
    if text is None or not str(text).strip():
        raise ValueError("no text")
    src = source or (str(row.get("source") or "").strip())
    if not src:
        raise ValueError("no source (give the column or --source)")
    chan = (channel or str(row.get("channel") or "")).strip().lower()
    if chan not in CHANNELS:
        raise ValueError(f"unknown channel {chan!r} (expected one of {', '.join(CHANNELS)})")
    published = _parse_date(row.get("published_at"))
    text = str(text)
    title = str(row["title"]) if row.get("title") not in (None, "") else None
    if chan == "citizen":
        text, title = redact(text), redact(title)
    url = str(row["url"]).strip() if row.get("url") not in (None, "") else None
    canon = canonical_url(url)
    chash = content_hash(text)
    return {
        "doc_id": doc_id(canon, src, chash),
        "url": url,
        "canonical_url": canon,
        "title": title,
        "text": text,
        "published_at": published,
        "fetched_at": fetched_at,
        "source": src,
        "channel": chan,
        "language": None,  # detected in _flush, only for documents not yet stored
        "author_hash": author_hash(row.get("author"), salt),
        "content_hash": chash,
    }


def import_file(
    path: str | Path,
    warehouse_path: Path,
    *,
    source: str | None = None,
    channel: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Import a file into the warehouse; returns counts and the bad rows with reasons."""
    path = Path(path)
    salt = load_salt(warehouse_path)
    now = utcnow()
    result = ImportResult()
    batch: list[dict] = []
    seen: set[str] = set()
    run_source = source or f"import:{path.name}"
    result.run_id = _start_run(warehouse_path, run_source, now)
    sources: dict[str, str] = {}
    try:
        for lineno, row in read_rows(path):
            result.rows += 1
            if isinstance(row, BadRow):
                result.bad_rows.append(row)
                continue
            try:
                doc = build_document(row, salt=salt, fetched_at=now, source=source, channel=channel)
            except ValueError as exc:
                result.bad_rows.append(BadRow(lineno, str(exc)))
                continue
            if doc["doc_id"] in seen:
                result.skipped_existing += 1
                continue
            seen.add(doc["doc_id"])
            sources.setdefault(doc["source"], doc["channel"])
            batch.append(doc)
            if len(batch) >= BATCH_ROWS:
                result.new_documents += _flush(warehouse_path, batch, sources)
                batch = []
            if progress and result.rows % 1000 == 0:
                progress(result.rows)
        result.new_documents += _flush(warehouse_path, batch, sources)
    except Exception as exc:
        _finish_run(warehouse_path, result, run_source, path.name, "failed", reason=str(exc))
        raise
    result.skipped_existing = len(seen) - result.new_documents
    status = "partial" if result.bad_rows else "ok"
    _finish_run(warehouse_path, result, run_source, path.name, status)
    if progress:
        progress(result.rows)
    return result


def _start_run(warehouse_path: Path, source: str, started: datetime) -> int:
    with warehouse.write(warehouse_path) as con:
        return con.execute(
            "INSERT INTO crawl_runs (source, started_at, status) VALUES (?, ?, 'running') RETURNING run_id",
            [source, started],
        ).fetchone()[0]


def _flush(warehouse_path: Path, batch: list[dict], sources: dict[str, str]) -> int:
    if not batch:
        return 0
    # Language detection is the costly step: skip it for documents already stored,
    # so re-importing a file is cheap as well as harmless.
    carriers = pa.table({
        "doc_id": [d["doc_id"] for d in batch],
        "source": [d["source"] for d in batch],
        "url": [d["url"] for d in batch],
    })
    ids = carriers.select(["doc_id"])
    with warehouse.read(warehouse_path) as con:
        con.register("ids", ids)
        known = {r[0] for r in con.execute(
            "SELECT doc_id FROM documents WHERE doc_id IN (SELECT doc_id FROM ids)").fetchall()}
    batch = [d for d in batch if d["doc_id"] not in known]
    for d in batch:
        d["language"] = detect_language(d["text"])
    incoming = pa.Table.from_pylist(batch, schema=_arrow_schema())
    with warehouse.write(warehouse_path) as con:
        con.register("incoming", incoming)
        con.register("carriers", carriers)
        for name, chan in sources.items():
            con.execute(
                "INSERT INTO sources (name, type, url, channel) VALUES (?, 'import', NULL, ?) "
                "ON CONFLICT DO NOTHING",
                [name, chan],
            )
        before = con.execute("SELECT count(*) FROM documents").fetchone()[0]
        cols = ", ".join(DOCUMENT_COLUMNS)
        con.execute(f"INSERT INTO documents ({cols}) SELECT {cols} FROM incoming ON CONFLICT DO NOTHING")
        after = con.execute("SELECT count(*) FROM documents").fetchone()[0]
        con.execute(
            "INSERT INTO document_sources (doc_id, source, url) "
            "SELECT doc_id, source, url FROM carriers ON CONFLICT DO NOTHING"
        )
    return after - before


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
    with warehouse.write(warehouse_path) as con:
        con.execute(
            "UPDATE crawl_runs SET finished_at = ?, pages = ?, new_documents = ?, errors = ?, "
            "status = ? WHERE run_id = ?",
            [utcnow(), result.rows, result.new_documents, len(errors), status, result.run_id],
        )
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

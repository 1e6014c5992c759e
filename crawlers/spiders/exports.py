"""`export` sources: CSV, JSON or JSON Lines open-data exports at a URL.

Civic participation platforms (Decidim, Polis, CONSUL) publish comments and
proposals this way. The source's `fields` table maps document fields to the
export's columns:

    fields = { text = "comment-body", id = "comment-id", published_at = "timestamp",
               author = "author-id", title = "", url = "", moderated = "moderated" }

`text` is required; `id` gives each row a stable identity (else its content
does); a `moderated` column with a negative value (rejected by moderators, as
Polis marks them) excludes the row. A JSON export may be a list of records or an
object holding one (`fields.records` names its key when there are several).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json

from scrapy import Request

from crawlers.items import DocumentItem
from crawlers.spiders.base import SourceSpider, describe_failure
from radar.core.config import ConfigError

FIELDS = ("text", "id", "title", "url", "published_at", "author", "moderated", "records")


class ExportSpider(SourceSpider):
    """One open-data export file; every row a document."""

    name = "export"
    source_type = "export"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        src = self.source_cfg
        unknown = sorted(set(src.fields) - set(FIELDS))
        if unknown:
            raise ConfigError(f"source {src.name!r}: unknown fields {', '.join(unknown)} "
                              f"(expected: {', '.join(FIELDS)})")
        self.fields = {"text": "text", **src.fields}

    async def start(self):
        yield Request(self.source_cfg.url, callback=self.parse_export, errback=self.root_failed,
                      meta={"conditional": True}, dont_filter=True)

    def root_failed(self, failure):
        self.run.fatal = f"export unavailable: {describe_failure(failure, self.settings)}"
        yield self.error(failure.request.url, self.run.fatal)

    def parse_export(self, response):
        self.fetched(response)
        if response.status == 304:
            return
        try:
            rows = list(self.read_rows(response))
        except ValueError as exc:
            self.run.fatal = f"unreadable export: {exc}"
            yield self.error(response.url, self.run.fatal)
            return
        yield self.index_state(response)
        for number, row in rows:
            item = self.row_item(response, number, row)
            if item is not None:
                yield item

    def export_format(self, response) -> str:
        """csv, json or jsonl: from the source's `format`, else the content type or extension."""
        fmt = self.source_cfg.format.lower()
        if fmt:
            return fmt
        ctype = (response.headers.get(b"Content-Type") or b"").decode("latin-1").lower()
        path = response.url.lower().split("?")[0]
        if "ndjson" in ctype or path.endswith((".jsonl", ".ndjson")):
            return "jsonl"
        if "json" in ctype or path.endswith(".json"):
            return "json"
        return "csv"

    def read_rows(self, response):
        """(row number, record) pairs; raises ValueError when the file is unreadable."""
        text = _decode(response.body)
        fmt = self.export_format(response)
        if fmt == "csv":
            csv.field_size_limit(50_000_000)
            reader = csv.DictReader(io.StringIO(text, newline=""))
            if not reader.fieldnames or self.fields["text"] not in reader.fieldnames:
                raise ValueError(f"CSV has no {self.fields['text']!r} column")
            for row in reader:
                yield reader.line_num, row
        elif fmt == "jsonl":
            for number, line in enumerate(text.splitlines(), start=1):
                if line.strip():
                    try:
                        yield number, json.loads(line)
                    except ValueError as exc:
                        yield number, ValueError(f"not valid JSON: {exc}")
        elif fmt == "json":
            try:
                data = json.loads(text)
            except ValueError as exc:
                raise ValueError(f"not valid JSON: {exc}") from exc
            records = _records(data, self.fields.get("records"))
            yield from enumerate(records, start=1)
        else:
            raise ValueError(f"unknown export format {fmt!r} (csv, json or jsonl)")

    def row_item(self, response, number: int, row):
        """A DocumentItem for a row, or an ErrorItem saying what is wrong with it."""
        where = f"{response.url}#row={number}"
        if isinstance(row, Exception) or not isinstance(row, dict):
            return self.error(where, str(row) if isinstance(row, Exception) else "not a record")
        f = self.fields
        text = str(row.get(f["text"]) or "").strip()
        if not text:
            return self.error(where, f"row has no text in {f['text']!r}")
        if f.get("moderated") and _rejected(row.get(f["moderated"])):
            return None
        row_id = str(row.get(f["id"]) or "").strip() if f.get("id") else ""
        if not row_id:
            row_id = "h" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
        url = str(row.get(f["url"]) or "").strip() if f.get("url") else ""
        return DocumentItem(
            source=self.source_cfg.name, channel=self.source_cfg.channel,
            url=url or response.url, key="" if url else row_id, text=text,
            title=(str(row.get(f["title"]) or "").strip() or None) if f.get("title") else None,
            published_at=row.get(f["published_at"]) if f.get("published_at") else None,
            author=(str(row.get(f["author"])) if row.get(f["author"]) not in (None, "") else None)
            if f.get("author") else None,
        )


def _rejected(value) -> bool:
    try:
        return float(value) < 0
    except (TypeError, ValueError):
        return str(value).strip().lower() in ("rejected", "hidden")


def _records(data, key: str | None) -> list:
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        if key:
            if not isinstance(data.get(key), list):
                raise ValueError(f"JSON has no list under {key!r}")
            return data[key]
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) == 1:
            return lists[0]
        raise ValueError("JSON object holds no single list of records; set fields.records")
    raise ValueError("JSON is neither a list nor an object of records")


def _decode(body: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return body.decode(encoding)
        except UnicodeDecodeError:
            continue
    return body.decode("latin-1")

"""Item pipelines, one concern each, in this order (see settings.ITEM_PIPELINES):

1. PreparePipeline  - text present, dates to UTC, canonical URL, language
2. PrivacyPipeline  - citizen texts redacted, every author replaced by a keyed hash
3. DedupPipeline    - document id, content hash, SimHash; new, changed, copy or unchanged
4. StorePipeline    - batches to the warehouse; crawl_runs row; fetch_errors

A pipeline that rejects a document returns an ErrorItem in its place, so the
reason reaches fetch_errors through the same store as everything else.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from functools import partial

from crawlers import batches
from crawlers.dedup import MIN_WORDS_NEAR, content_key, simhash, story_words, to_signed, words
from crawlers.extract import ExtractionError
from crawlers.items import CarriedItem, DocumentItem, ErrorItem, PageStateItem
from crawlers.known import Broken, UrlState, state_key
from crawlers.writer import SharedWriter
from radar.core.documents import canonical_url, content_hash, detect_language, doc_id, utcnow
from radar.core.privacy import author_hash, load_redactor, redact_many

log = logging.getLogger(__name__)


class _Pipeline:
    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    @property
    def run(self):
        return self.crawler.spider.run


def parse_date(value) -> datetime | None:
    """A date from a feed, page, API or export as naive UTC; None when unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value  # epoch milliseconds or seconds
        dt = datetime.fromtimestamp(seconds, UTC)
    elif hasattr(value, "tm_year"):  # feedparser's time.struct_time (UTC)
        dt = datetime(*value[:6])
    else:
        text = str(value).strip()
        if text.isdigit():
            return parse_date(int(text))
        from dateutil import parser as dateparser

        try:
            dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            try:
                dt = dateparser.parse(text)
            except (ValueError, OverflowError):
                return None
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    if dt.year < 1990 or dt > utcnow() + timedelta(days=2):
        return None  # placeholder or clock-skewed dates mislead the time series
    return dt


class PreparePipeline(_Pipeline):
    """Text present and trimmed, dates to naive UTC, canonical URL and language."""

    def process_item(self, item):
        if not isinstance(item, DocumentItem):
            return item
        item.text = (item.text or "").strip()
        if not item.text:
            return ErrorItem(item.source, item.url, "document has no text")
        item.published_at = parse_date(item.published_at)
        item.canonical_url = canonical_url(item.url)
        item.state_key = state_key(item.requested_url or item.url, item.key)
        # Spiders pass the language detected at extraction (in a worker process);
        # texts from feeds, APIs and exports are detected here.
        item.language = item.language or detect_language(item.text)
        return item


class PrivacyPipeline(_Pipeline):
    """Citizen texts lose e-mails, phones and IDs; every author name becomes a keyed hash.

    The redaction (spaCy and Presidio, the crawl's costliest step on a forum) runs in
    the extraction workers when there are any, so it neither stalls downloads nor
    holds one core; a worker loads its models before its first post (under the
    start-up limit, not the post's). A text whose redaction fails or overruns
    `extract_timeout` is not stored, and the reason is recorded.
    """

    async def process_item(self, item):
        if not isinstance(item, DocumentItem):
            return item
        if item.channel == "citizen":
            texts = [item.text, item.title, item.thread_title]
            pool = getattr(self.crawler.spider, "extractors", None)
            try:
                if pool is not None:
                    texts = await pool.run(partial(redact_many, salt=self.run.salt), texts,
                                           needs=(load_redactor,))
                else:
                    texts = redact_many(texts, salt=self.run.salt)
            except ExtractionError as exc:
                return ErrorItem(item.source, item.url,
                                 f"citizen post not stored: its redaction failed: {exc}")
            item.text, item.title, item.thread_title = texts
        item.author_hash = author_hash(item.author, self.run.salt)
        item.author = None  # the name goes no further than this line
        return item


class DedupPipeline(_Pipeline):
    """Decide: a new story, a changed page, a copy of a stored story, or nothing new."""

    def process_item(self, item):
        if not isinstance(item, DocumentItem):
            return item
        run = self.run
        index = run.known.index
        item.content_hash = content_hash(item.text)
        key = item.canonical_url
        if key and item.key:
            key = f"{key}#{item.key}"
        item.doc_id = doc_id(key, item.source, item.content_hash)
        tokens = words(item.text)
        item.n_words = len(tokens)
        if item.n_words >= MIN_WORDS_NEAR and item.channel != "citizen":
            item.simhash = simhash(story_words(item.text, item.title))
        ckey = content_key(item.content_hash, item.channel, item.author_hash)
        stored_hash = index.hashes.get(item.doc_id)
        if stored_hash is not None:
            item.action = "unchanged" if stored_hash == item.content_hash else "update"
            if item.action == "update":
                index.update_hash(item.doc_id, item.content_hash, ckey)
            return item
        other = index.same_content(ckey) if ckey else None
        if other is None and item.simhash is not None:
            other = index.near(item.simhash)
        if other is not None:
            item.doc_id, item.action = other, "carrier"
            return item
        item.action = "new"
        index.add(item.doc_id, item.content_hash, ckey, item.simhash)
        return item


class StorePipeline(_Pipeline):
    """Hand rows to the process's shared writer; one crawl_runs row per source per run."""

    def open_spider(self):
        run = self.run
        path = run.cfg.warehouse_path
        self.writer = getattr(self.crawler.spider, "writer", None)
        self.owned = self.writer is None  # `scrapy crawl` on its own: a writer of our own
        if self.owned:
            self.writer = SharedWriter(path, run.cfg.crawl.batch_size)
        if run.run_id is None:
            run.run_id = batches.start_runs(path, [run.source], run.started_at)[run.source.name]
        self.writer.run_ids[run.source.name] = run.run_id

    def process_item(self, item):
        run, batch = self.run, self.writer.batch
        if isinstance(item, ErrorItem):
            run.errors += 1
            batch.errors.append(
                {"run_id": run.run_id, "source": item.source, "url": item.url, "reason": item.reason}
            )
            log.info("%s: %s: %s", item.source, item.url, item.reason)
            if item.broken_key:
                self._note_broken(item, batch)
        elif isinstance(item, PageStateItem) and item.with_documents:
            # Same batch as (or a later one than) the page's posts; dropped by the writer if
            # a batch of this source failed.
            batch.state[item.url] = _index_row(item, utcnow())
        elif isinstance(item, PageStateItem):
            run.index_pages.append(item)
        elif isinstance(item, CarriedItem):  # stored and unchanged: only its carrier is new
            batch.carriers.append({"doc_id": item.doc_id, "source": item.source, "url": item.url})
        elif isinstance(item, DocumentItem):
            run.documents_seen += 1
            self._add_document(item, batch)
        self.writer.maybe_flush()
        run.report()
        return _summary_of(item)

    def _note_broken(self, item: ErrorItem, batch: batches.Batch) -> None:
        """Count a document URL's failure: back off (doubling), give up after N in a row."""
        run, now, crawl = self.run, utcnow(), self.run.cfg.crawl
        counted = self.__dict__.setdefault("_failed_this_run", set())
        if item.broken_key in counted:
            return  # one failure per URL per run (a page can fail with several reasons)
        counted.add(item.broken_key)
        prev = run.known.broken.get(item.broken_key)
        failures = (prev.failures if prev else 0) + 1
        gave_up = failures >= crawl.give_up_after
        # The first failure is tried again next run (most failures are passing); from the
        # second in a row, wait broken_retry_hours, doubling each time.
        retry = None if gave_up else now + timedelta(
            hours=0 if failures == 1 else crawl.broken_retry_hours * 2 ** (failures - 2))
        first = prev.first_failed if prev else now
        run.known.broken[item.broken_key] = Broken(failures, first, retry, gave_up, item.marker)
        batch.broken[item.broken_key] = {
            "url": item.broken_key, "source": item.source, "failures": failures,
            "reason": item.reason[:500], "marker": item.marker, "first_failed": first,
            "last_failed": now, "retry_after": retry, "gave_up": gave_up}
        if gave_up and not (prev and prev.gave_up):
            run.errors += 1
            batch.errors.append({
                "run_id": run.run_id, "source": item.source, "url": item.url,
                "reason": f"gave up after {failures} failed fetches in a row (last: "
                          f"{item.reason[:200]}); not fetched again unless its index entry "
                          "changes"})

    def _add_document(self, item: DocumentItem, batch: batches.Batch) -> None:
        run, now = self.run, utcnow()
        row = {
            "doc_id": item.doc_id, "url": item.url, "canonical_url": item.canonical_url,
            "title": item.title, "text": item.text, "published_at": item.published_at,
            "fetched_at": now, "source": item.source, "channel": item.channel,
            "language": item.language, "author_hash": item.author_hash,
            "content_hash": item.content_hash,
        }
        if item.action == "new":
            run.new_documents += 1
            batch.new.append(row)
            if item.simhash is not None:
                batch.fingerprints.append({"doc_id": item.doc_id,
                                           "simhash": to_signed(item.simhash),
                                           "n_words": item.n_words})
            if item.thread_url:
                batch.posts.append({
                    "doc_id": item.doc_id, "source": item.source, "thread_url": item.thread_url,
                    "thread_title": item.thread_title, "post_number": item.post_number,
                    "reply_to": item.reply_to,
                })
        elif item.action == "update":
            run.updated += 1
            batch.updates.append(row)
        else:
            if item.action == "carrier":
                run.carried += 1
            else:
                run.unchanged += 1
            batch.carriers.append({"doc_id": item.doc_id, "source": item.source, "url": item.url})
        if item.complete and item.state_key in run.known.broken:  # it works again
            del run.known.broken[item.state_key]
            batch.fixed.append(item.state_key)
        if item.state_key:
            batch.state[item.state_key] = {
                "url": item.state_key, "source": item.source, "kind": "document",
                "etag": item.etag, "last_modified": item.last_modified, "marker": item.marker,
                "content_hash": item.content_hash, "doc_id": item.doc_id,
                "complete": item.complete, "first_seen": now, "last_fetched": now,
                "last_changed": None,
            }
            run.known.urls[item.state_key] = UrlState(
                item.etag, item.last_modified, item.marker, item.content_hash, item.doc_id,
                item.complete)

    def close_spider(self):
        run, now = self.run, utcnow()
        # Index pages (feeds, sitemaps, listings) remember their ETag only after a clean,
        # complete run: a 304 next time must not hide entries whose pages failed this
        # time or were left for later by max_pages.
        # (The writer also drops them if an earlier batch of this source failed to commit.)
        # In a distributed crawl the entries are fetched by other processes too, and one that
        # dies loses its requests: only the next round can fetch them, so nothing may say
        # "unchanged since" (crawlers/distributed.py).
        clean = (not run.errors and not run.truncated
                 and not getattr(self.crawler.spider, "queue_mode", None))
        if clean and run.source.name not in self.writer.failed_sources:
            for page in run.index_pages:
                self.writer.batch.state[page.url] = _index_row(page, now)
        self.writer.finished.append({
            "run_id": run.run_id, "source": run.source.name, "finished_at": now, "pages": run.pages,
            "new_documents": run.new_documents, "errors": run.errors, "status": run.status,
        })
        if self.owned:
            self.writer.close()
        else:
            self.writer.flush()
        if self.writer.failure:
            run.fatal = run.fatal or f"could not write to the warehouse: {self.writer.failure}"
        run.report(force=True)


def _index_row(page: PageStateItem, now) -> dict:
    return {"url": page.url, "source": page.source, "kind": "index", "etag": page.etag,
            "last_modified": page.last_modified, "marker": page.marker, "content_hash": None,
            "doc_id": None, "complete": True, "first_seen": now, "last_fetched": now,
            "last_changed": None}


def _summary_of(item):
    """What Scrapy logs as 'scraped': no text, no author, only what identifies the row."""
    if isinstance(item, DocumentItem):
        return {"doc_id": item.doc_id, "url": item.url, "action": item.action}
    if isinstance(item, ErrorItem):
        return {"error": item.reason, "url": item.url}
    return {"index": getattr(item, "url", None)}

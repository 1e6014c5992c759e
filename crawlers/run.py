"""`crawl_sources`: crawl the configured sources into the warehouse.

Scrapy runs on Twisted, whose reactor cannot be started twice in one process.
So by default the crawl runs in a fresh child process (`python -m crawlers.run`),
which reports progress and the per-source summaries back on its stdout: the
caller (the CLI, `radar run`, `radar serve` on its schedule, tests) can crawl
as often as it likes. All sources of one call share one CrawlerProcess, one
reactor and one view of what the warehouse already holds.
"""

from __future__ import annotations

import json
import logging
import pickle
import subprocess
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict

from crawlers import distributed
from crawlers.batches import Batch, flush, start_runs
from crawlers.context import SourceSummary
from crawlers.extract import ExtractorPool
from crawlers.known import known_for
from crawlers.reconcile import Reconciler
from crawlers.settings import project_settings, source_settings
from crawlers.writer import SharedWriter
from radar.core import readcopy
from radar.core.config import Config, ConfigError, SourceConfig
from radar.core.documents import detect_language, utcnow
from radar.core.privacy import load_salt

log = logging.getLogger(__name__)

__all__ = ["SourceSummary", "crawl_sources", "select_sources"]


def spider_classes() -> dict[str, type]:
    """The spider class for each source type."""
    # Spiders import Scrapy (and so Twisted's reactor): only inside the crawl process,
    # after run_crawl has chosen the reactor; the parent `radar crawl` never imports them.
    from crawlers.spiders.exports import ExportSpider
    from crawlers.spiders.feeds import FeedSpider
    from crawlers.spiders.forums import ForumSpider
    from crawlers.spiders.sitemaps import ListingSpider, SitemapSpider

    return {"feed": FeedSpider, "sitemap": SitemapSpider, "listing": ListingSpider,
            "forum": ForumSpider, "export": ExportSpider}


def select_sources(cfg: Config, names: Sequence[str] | None = None) -> list[SourceConfig]:
    """The sources to crawl: all, or those named (unknown names raise ConfigError)."""
    if not names:
        return list(cfg.sources)
    return [cfg.source(n) for n in dict.fromkeys(names)]


def crawl_sources(
    cfg: Config,
    names: Sequence[str] | None = None,
    progress: Callable | None = None,
    *,
    log_level: str | None = None,
    in_process: bool = False,
    queue_mode: str | None = None,
) -> list[SourceSummary]:
    """Crawl the sources (all, or `names`) and return one summary per source.

    `progress`, when given, is called as `progress(pages, description=...)` while
    the crawl runs (a `radar.core.progress.Progress.update` fits). `in_process=True`
    runs Scrapy in this process (once per process only: benchmarks, `scrapy`).
    `queue_mode` ("seed" or "worker", with `[crawl] queue` set) shares the request
    queue with other crawl processes (`crawlers.distributed`).
    """
    sources = select_sources(cfg, names)
    if not sources:
        return []
    load_salt(cfg.warehouse_path)  # no salt: stop before crawling anything
    level = log_level or logging.getLevelName(logging.getLogger().getEffectiveLevel())
    report = _Reporter(progress, [s.name for s in sources])
    if queue_mode and not cfg.crawl.queue:
        raise ConfigError(f"{cfg.path}: a distributed crawl needs [crawl] queue = "
                          '"redis://host:port/db"')
    if queue_mode == distributed.SEED:
        distributed.announce_seeding(distributed.connect(cfg.crawl), sources)
    if in_process:
        return run_crawl(cfg, [s.name for s in sources], report.update, level, queue_mode)
    result, failure = _crawl_in_child(cfg, [s.name for s in sources], level, report.update,
                                      queue_mode)
    if result is None:
        log.error("crawl failed: %s", failure)
        result = [SourceSummary(s.name, status="failed", message=failure) for s in sources]
    report.finish()
    return result


_MARK = "\x1eradar-crawl "


def _crawl_in_child(cfg: Config, names: list[str], level: str,
                    update: Callable[[SourceSummary], None], queue_mode: str | None = None):
    """Run the crawl in `python -m crawlers.run`; relay its progress; return its summaries."""
    child = subprocess.Popen(
        [sys.executable, "-m", "crawlers.run"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )
    child.stdin.write(pickle.dumps((cfg, names, level, queue_mode)))
    child.stdin.close()
    result, failure = None, ""
    try:
        for raw in child.stdout:
            line = raw.decode("utf-8", "replace")
            if not line.startswith(_MARK):
                sys.stderr.write(line)  # something printed by a library: pass it on
                continue
            kind, payload = json.loads(line[len(_MARK):])
            if kind == "progress":
                update(SourceSummary(**payload))
            elif kind == "done":
                result = [SourceSummary(**p) for p in payload]
            elif kind == "error":
                failure = payload
    except BaseException:
        child.terminate()  # interrupted: stop the crawl too; stored batches stay stored
        child.wait()
        raise
    code = child.wait()
    if result is None and not failure:
        failure = f"crawler process exited with code {code}"
    return result, failure


def _die_with_parent() -> None:
    """End this crawl process when its parent is gone (killed with -9, say): the next
    `radar crawl` holds the writer lock then, and must not meet an orphan still writing."""
    import os
    import threading
    import time

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(70)  # committed batches stay; the runs left running are settled next start

    threading.Thread(target=watch, name="radar-parent-watch", daemon=True).start()


def _child_main() -> int:
    """Entry point of the crawl child process (`python -m crawlers.run`)."""
    cfg, names, level, queue_mode = pickle.loads(sys.stdin.buffer.read())
    out = sys.stdout
    _die_with_parent()

    def send(kind: str, payload) -> None:
        out.write(_MARK + json.dumps([kind, payload], default=str) + "\n")
        out.flush()

    sys.stdout = sys.stderr  # stray prints must not corrupt the message stream
    try:
        summaries = run_crawl(cfg, names, lambda s: send("progress", asdict(s)), level,
                              queue_mode)
    except Exception as exc:
        send("error", f"{type(exc).__name__}: {exc}")
        raise
    send("done", [asdict(s) for s in summaries])
    return 0


def run_crawl(cfg: Config, names: list[str], reporter: Callable[[SourceSummary], None] | None,
              log_level: str = "WARNING", queue_mode: str | None = None) -> list[SourceSummary]:
    """Run the named sources in one CrawlerProcess in this process (once per process);
    with `queue_mode`, their requests go through the shared Redis queue."""
    from scrapy.crawler import Crawler, CrawlerProcess


    readcopy.configure(cfg.warehouse_path, cfg.warehouse.reader_copy_every)
    if queue_mode:
        # scrapy-redis 0.9.1 still uses APIs Scrapy 2.19 deprecates (harmless, not ours).
        warnings.filterwarnings("ignore", module=r"scrapy_redis\.")
    spiders = spider_classes()
    _warm_up()
    # A failed robots.txt fetch is logged by Scrapy with a full traceback; the
    # request it guarded is recorded with its reason anyway, so keep one line.
    logging.getLogger("scrapy.downloadermiddlewares.robotstxt").addFilter(_NoTraceback())
    # The process's own settings are merged into every crawler and would override the
    # per-source ones: give it only what is process-wide.
    shared = {k: v for k, v in project_settings().items()
              if k in ("TWISTED_REACTOR", "BOT_NAME", "TELNETCONSOLE_ENABLED",
                       "REMOTE_CONTROL_ENABLED")}
    process = CrawlerProcess({**shared, "LOG_LEVEL": log_level})
    known = known_for(cfg.warehouse_path, cfg.crawl.near_duplicate_bits)
    sources = [cfg.source(n) for n in names]
    run_ids = start_runs(cfg.warehouse_path, sources, utcnow())
    reconcile = Reconciler(utcnow(), cfg.crawl.near_duplicate_bits) if queue_mode else None
    writer = SharedWriter(cfg.warehouse_path, cfg.crawl.batch_size, reconcile=reconcile)
    extractors = (ExtractorPool(cfg.crawl.extract_processes, cfg.crawl.extract_timeout)
                  if cfg.crawl.extract_processes else None)
    crawlers: list[tuple[str, Crawler]] = []
    failures: dict[str, str] = {}
    for i, src in enumerate(sources):
        # The first crawler installs the reactor (asyncio); the others share it.
        settings = source_settings(cfg, src, log_level)
        if queue_mode:
            settings.update(distributed.scrapy_settings(cfg, src, queue_mode))
        crawler = Crawler(spiders[src.type], settings, init_reactor=i == 0)
        deferred = process.crawl(crawler, source=src.name, radar_config=cfg, known=known,
                                 reporter=reporter, writer=writer, run_id=run_ids[src.name],
                                 extractors=extractors, queue_mode=queue_mode)
        deferred.addErrback(_record_failure, failures, src.name)
        crawlers.append((src.name, crawler))
    try:
        process.start()
    finally:
        writer.close()
        if extractors:
            extractors.close()
    summaries, unstarted = [], Batch()
    closed = []
    for name, crawler in crawlers:
        run = getattr(crawler.spider, "run", None)
        if run is None:  # the spider could not even start (bad selector, bad config)
            message = failures.get(name, "the crawler did not start")
            summaries.append(SourceSummary(name, errors=1, status="failed", message=message))
            unstarted.errors.append({"run_id": run_ids[name], "source": name,
                                     "url": cfg.source(name).url, "reason": message})
            closed.append({"run_id": run_ids[name], "finished_at": utcnow(), "pages": 0,
                           "new_documents": 0, "errors": 1, "status": "failed"})
            continue
        summary = run.summary()
        if reconcile is not None and reconcile.demoted.get(name):  # stored by another process
            gone = reconcile.demoted[name]
            summary.new_documents, summary.carried = (max(0, summary.new_documents - gone),
                                                      summary.carried + gone)
        if name in failures:
            summary.status, summary.message = "failed", failures[name]
        elif name in writer.failed_sources:  # known only once the writer has finished
            summary.errors += 1
            summary.status = "partial" if summary.status == "ok" else summary.status
            summary.message = summary.message or (
                f"could not write to the warehouse: {writer.failure}")
        summaries.append(summary)
    if closed:
        flush(cfg.warehouse_path, unstarted, closed)
    return summaries


def _warm_up() -> None:
    """Load the extractor and the language model before the reactor runs: a 2-second
    first-use load inside a callback would stall every download (and time some out)."""
    import feedparser  # noqa: F401
    import trafilatura  # noqa: F401


    detect_language("warming up the language model before crawling")


class _NoTraceback(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info, record.exc_text = None, None
        return True


def _record_failure(failure, failures: dict[str, str], name: str) -> None:
    failures[name] = f"{type(failure.value).__name__}: {failure.value}"
    log.error("source %s failed: %s", name, failures[name])


class _Reporter:
    """Sums the per-source progress into one line for the caller's progress callable."""

    def __init__(self, progress: Callable | None, names: list[str]):
        self.progress = progress
        self.latest: dict[str, SourceSummary] = {n: SourceSummary(n) for n in names}

    def update(self, summary: SourceSummary) -> None:
        self.latest[summary.source] = summary
        if self.progress is None:
            return
        rows = self.latest.values()
        pages = sum(s.pages for s in rows)
        text = (f"crawling {len(self.latest)} sources: {pages} pages, "
                f"{sum(s.new_documents for s in rows)} new, {sum(s.errors for s in rows)} errors")
        try:
            self.progress(pages, description=text)
        except TypeError:  # a plain one-argument callable
            self.progress(pages)

    def finish(self) -> None:
        if self.latest:
            self.update(next(iter(self.latest.values())))


if __name__ == "__main__":
    sys.exit(_child_main())

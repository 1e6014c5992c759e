"""Distributed crawling: crawler processes share one request queue through Redis (scrapy-redis).

With `[crawl] queue = "redis://host:port/db"` every crawl process uses scrapy-redis's
scheduler: the requests of source S wait in the Redis sorted set `radar:S:requests`,
and `radar:S:dupefilter` holds the fingerprints of the requests enqueued this round,
so no URL is fetched twice however many processes pop from the queue.

- A seeding crawl (`radar crawl`) starts a round: it clears its sources' queues and
  duplicate filters, fetches the start URLs (feed, sitemap, forum index ...) and works
  like any worker until the queue has been idle for `queue_idle` seconds.
- A worker (`radar crawl --worker`) seeds nothing: it takes requests from the shared
  queues until they have been idle (empty, nothing in flight here) for `queue_idle`.

The warehouse stays the record of what is done. A request a worker popped and did not
finish (killed with SIGKILL, machine lost) is gone from the queue and stays in the
duplicate filter for the rest of the round; the next seeding round clears the filter,
and everything not committed (no crawl_state row) is requested again. Because a
feed's validators would let the next round skip such entries, index pages' validators
are not saved by distributed rounds (see `pipelines.StorePipeline.close_spider`).
Two processes can still meet the same story from different sources or URLs at
once: the writer reconciles every batch with the warehouse inside its write
transaction (`crawlers.reconcile`), so a story is stored once.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from radar.core.config import ConfigError, CrawlConfig

log = logging.getLogger(__name__)

KEY_PREFIX = "radar"
SEED, WORKER = "seed", "worker"


class QueueUnavailable(RuntimeError):
    """The configured Redis queue cannot be reached (a clear message, not a traceback)."""


def queue_url(crawl: CrawlConfig) -> str:
    """The queue URL with the password from `queue_password_env` (never from radar.toml)."""
    parts = urlsplit(crawl.queue)
    password = os.environ.get(crawl.queue_password_env or "", "")
    if not password or parts.scheme == "unix":
        return crawl.queue
    user = quote(parts.username or "", safe="")
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{user}:{quote(password, safe='')}@{host}"))


def shown(crawl: CrawlConfig) -> str:
    """The queue URL as printed in messages (it never holds the password)."""
    return crawl.queue


def connect(crawl: CrawlConfig, timeout: float = 5.0):
    """A Redis client for the queue, checked with a PING; raises QueueUnavailable."""
    import redis

    try:
        client = redis.Redis.from_url(queue_url(crawl), socket_connect_timeout=timeout,
                                      socket_timeout=timeout)
        client.ping()
    except (redis.RedisError, OSError, ValueError) as exc:
        raise QueueUnavailable(
            f"cannot reach the crawl queue {shown(crawl)} ([crawl] queue): "
            f"{type(exc).__name__}: {exc}") from None
    return client


def queue_key(source: str) -> str:
    return f"{KEY_PREFIX}:{source}:requests"


def dupefilter_key(source: str) -> str:
    return f"{KEY_PREFIX}:{source}:dupefilter"


def pending(client, source: str) -> int:
    """Requests of a source waiting in the shared queue."""
    return int(client.zcard(queue_key(source)))


def scrapy_settings(cfg, source, mode: str) -> dict[str, Any]:
    """The scrapy-redis settings for one source's crawler in `mode` (seed or worker)."""
    if mode not in (SEED, WORKER):
        raise ConfigError(f"unknown crawl mode {mode!r}")
    escaped = source.name.replace("%", "%%")  # the keys are %-formatted by scrapy-redis
    return {
        "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
        "SCHEDULER_QUEUE_KEY": queue_key(escaped),
        "SCHEDULER_DUPEFILTER_KEY": dupefilter_key(escaped),
        # Never flush on close: other processes still work on the queue.
        "SCHEDULER_PERSIST": True,
        # A seeding crawl starts a new round: clear what a previous round left behind.
        "SCHEDULER_FLUSH_ON_START": mode == SEED,
        "SCHEDULER_IDLE_BEFORE_CLOSE": 0,
        "REDIS_URL": queue_url(cfg.crawl),
        "REDIS_PARAMS": {"socket_timeout": 30, "socket_connect_timeout": 10,
                         "retry_on_timeout": True},
        # Scrapy pulls up to CONCURRENT_REQUESTS from the scheduler and parks the ones over the
        # per-domain limit in its own downloader slot: in a shared queue that would hoard
        # work the other processes could do now (and lose more of it with the process).
        "CONCURRENT_REQUESTS": hoard_limit(cfg.crawl),
        "RADAR_QUEUE_MODE": mode,
        "RADAR_QUEUE_IDLE": cfg.crawl.queue_idle,
        "EXTENSIONS": {"crawlers.distributed.IdleClose": 500},
        "SPIDER_MIDDLEWARES": {"crawlers.distributed.WorkerStart": 10} if mode == WORKER else {},
    }


def hoard_limit(crawl: CrawlConfig) -> int:
    """Requests of one source a process holds at a time in a distributed crawl."""
    return max(crawl.concurrency_per_domain, crawl.concurrency // 4, 1)


class WorkerStart:
    """A worker seeds nothing: its spiders' start requests are dropped (the seeding
    crawl enqueued them), and everything it fetches comes from the shared queue."""

    @classmethod
    def from_crawler(cls, crawler):
        return cls()

    async def process_start(self, start):
        return
        yield  # an async generator that yields nothing


class IdleClose:
    """Keep a spider open while its source's round may still get work; close it once its
    shared queue has been empty, nothing was in flight here, and no other process was
    busy on the source, for `queue_idle` seconds.

    Other processes add requests while they parse pages, so an empty queue is not the
    end of the round: every process working on a source says so in Redis
    (`radar:SOURCE:busy:HOST:PID`, expiring 3 s after its last sign of life; a seeding
    crawl's parent says so while its crawler starts). An idle spider polls every second.
    """

    def __init__(self, crawler):
        from scrapy import signals

        self.crawler = crawler
        self.idle = crawler.settings.getfloat("RADAR_QUEUE_IDLE", 10.0)
        self.mode = crawler.settings.get("RADAR_QUEUE_MODE")
        self.since: float | None = None
        self.client = None
        self.source = ""
        self.loop = None
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)
        crawler.signals.connect(self.busy, signal=signals.response_received)
        crawler.signals.connect(self.busy, signal=signals.request_scheduled)
        crawler.signals.connect(self.idling, signal=signals.spider_idle)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def opened(self, spider) -> None:
        from twisted.internet.task import LoopingCall

        # The engine checks an idle spider's scheduler every 5 s by default; poll faster.
        engine = self.crawler.engine
        if hasattr(engine, "_SLOT_HEARTBEAT_INTERVAL"):
            engine._SLOT_HEARTBEAT_INTERVAL = 1.0
        self.source = spider.source_cfg.name
        self.client = _client(self.crawler.settings)
        self.since = time.monotonic()
        if self.mode == SEED:  # this crawler now speaks for itself (parent, or in-process)
            self.client.delete(busy_key(self.source, seeding_token(os.getppid())),
                               busy_key(self.source, seeding_token(os.getpid())))
        self.loop = LoopingCall(self.beat)
        self.loop.start(1.0)

    def closed(self, spider) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.client is not None:
            self.client.delete(busy_key(self.source, own_token()))

    def beat(self) -> None:
        """Tell the other processes this one is working on the source (every second)."""
        if self.since is None:
            try:
                self.client.set(busy_key(self.source, own_token()), "1", px=3000)
            except Exception as exc:  # the queue itself reports a lost Redis
                log.warning("could not reach the crawl queue: %s", exc)

    def busy(self, *args, **kwargs) -> None:
        self.since = None

    def idling(self, spider) -> None:
        from scrapy.exceptions import DontCloseSpider

        now = time.monotonic()
        if self.since is None:
            self.since = now
            self.client.delete(busy_key(self.source, own_token()))
        if others_busy(self.client, self.source):
            self.since = now  # another process may still add requests
        if now - self.since < self.idle:
            raise DontCloseSpider
        log.info("%s: the shared queue was idle for %.0f s; this process stops",
                 self.source, self.idle)


def _client(settings):
    from scrapy_redis.connection import get_redis_from_settings

    return get_redis_from_settings(settings)


def busy_key(source: str, token: str) -> str:
    return f"{KEY_PREFIX}:{source}:busy:{token}"


def own_token() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def seeding_token(pid: int) -> str:
    """The mark a seeding `radar crawl` (process `pid`) sets while its crawler starts."""
    return f"{socket.gethostname()}:{pid}:seeding"


def others_busy(client, source: str) -> bool:
    """Whether any other process works on the source (or a seeding crawl is starting)."""
    mine = busy_key(source, own_token()).encode()
    return any(key != mine for key in client.scan_iter(match=busy_key(source, "*"), count=100))


def announce_seeding(client, sources, seconds: float = 120.0) -> None:
    """A seeding crawl is starting: workers wait for it (until its crawler takes over, or
    `seconds` pass, if it dies before)."""
    for src in sources:
        client.set(busy_key(src.name, seeding_token(os.getpid())), "1", px=int(seconds * 1000))

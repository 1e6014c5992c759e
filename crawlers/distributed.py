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

This module is what the parent `radar crawl` needs (settings, the queue check, the
keys) and imports no Scrapy; the Scrapy components are in `crawlers.shared_queue`.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from radar.core.config import ConfigError, CrawlConfig

log = logging.getLogger(__name__)

KEY_PREFIX = "radar"
SEED, WORKER = "seed", "worker"
BUSY_FOR = 3.0  # seconds a process's "busy" mark lasts without a new sign of life


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


def connect(crawl: CrawlConfig, timeout: float = 5.0):
    """A Redis client for the queue, checked with a PING; raises QueueUnavailable."""
    import redis

    try:
        client = redis.Redis.from_url(queue_url(crawl), socket_connect_timeout=timeout,
                                      socket_timeout=timeout)
        client.ping()
    except (redis.RedisError, OSError, ValueError) as exc:
        raise QueueUnavailable(
            f"cannot reach the crawl queue {crawl.queue} ([crawl] queue): "
            f"{type(exc).__name__}: {exc}") from None
    return client


def queue_key(source: str) -> str:
    return f"{KEY_PREFIX}:{source}:requests"


def dupefilter_key(source: str) -> str:
    return f"{KEY_PREFIX}:{source}:dupefilter"


def scrapy_settings(cfg, source, mode: str) -> dict[str, Any]:
    """The scrapy-redis settings for one source's crawler in `mode` (seed or worker)."""
    if mode not in (SEED, WORKER):
        raise ConfigError(f"unknown crawl mode {mode!r}")
    escaped = source.name.replace("%", "%%")  # the keys are %-formatted by scrapy-redis
    return {
        "SCHEDULER": "crawlers.shared_queue.Scheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
        "SCHEDULER_SERIALIZER": "crawlers.shared_queue",  # JSON, not pickle
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
        "EXTENSIONS": {"crawlers.shared_queue.IdleClose": 500},
        "SPIDER_MIDDLEWARES": {"crawlers.shared_queue.WorkerStart": 10} if mode == WORKER else {},
    }


def hoard_limit(crawl: CrawlConfig) -> int:
    """Requests of one source a process holds at a time in a distributed crawl."""
    return max(crawl.concurrency_per_domain, crawl.concurrency // 4, 1)


def busy_key(source: str) -> str:
    """The sorted set of the processes busy on a source (member: token, score: until when,
    in Redis's own clock, ms)."""
    return f"{KEY_PREFIX}:{source}:busy"


def own_token() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def seeding_token(pid: int) -> str:
    """The mark a seeding `radar crawl` (process `pid`) sets while its crawler starts."""
    return f"{socket.gethostname()}:{pid}:seeding"


def _now_ms(client) -> int:
    seconds, micros = client.time()  # the server's clock: machines' clocks may differ
    return seconds * 1000 + micros // 1000


def mark_busy(client, source: str, token: str, seconds: float = BUSY_FOR) -> None:
    """Say that `token` works on the source for the next `seconds`."""
    client.zadd(busy_key(source), {token: _now_ms(client) + int(seconds * 1000)})


def mark_idle(client, source: str, *tokens: str) -> None:
    client.zrem(busy_key(source), *tokens)


def others_busy(client, source: str) -> bool:
    """Whether any other process works on the source (or a seeding crawl is starting)."""
    key, now = busy_key(source), _now_ms(client)
    client.zremrangebyscore(key, "-inf", now)  # marks of processes that are gone
    mine = own_token().encode()
    return any(token != mine for token in client.zrangebyscore(key, now, "+inf"))


def announce_seeding(client, sources, seconds: float = 120.0) -> None:
    """A seeding crawl is starting: workers wait for it (until its crawler takes over, or
    `seconds` pass, if it dies before)."""
    for src in sources:
        mark_busy(client, src.name, seeding_token(os.getpid()), seconds)

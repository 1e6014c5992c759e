"""Scrapy components of a distributed crawl: guarded scheduler, worker start, idle stop.

The scrapy-redis scheduler as the crawl processes use it (a lost Redis ends the
source's crawl with its reason), the worker's empty start, stopping when a round
is done, and the requests' format in Redis: JSON (this module's `dumps`/`loads`,
SCHEDULER_SERIALIZER), not scrapy-redis's default pickle, so whoever can write to
the Redis cannot make the crawl processes run code.

Loaded by Scrapy in the crawl process only (settings name these classes, see
`crawlers.distributed.scrapy_settings`); what the parent `radar crawl` needs (the
queue URL, its check, the keys) is in `crawlers.distributed`, free of Scrapy.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import time
from datetime import datetime

import redis
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.defer import deferred_from_coro
from scrapy_redis.connection import get_redis_from_settings
from scrapy_redis.scheduler import Scheduler as RedisScheduler
from twisted.internet.task import LoopingCall

from crawlers.distributed import SEED, mark_busy, mark_idle, others_busy, own_token, seeding_token

log = logging.getLogger(__name__)


def lose_queue(crawler, exc: Exception) -> None:
    """Redis went away mid-round: end this source's crawl with the reason, once (what was
    committed stays; the next round fetches the rest)."""
    spider = crawler.spider
    run = getattr(spider, "run", None)
    if run is None or getattr(spider, "queue_lost", False):
        return
    spider.queue_lost = True
    reason = f"lost the crawl queue ({type(exc).__name__}: {exc}); the next round goes on"
    log.error("%s: %s", run.source.name, reason)
    run.fatal, run.errors = reason, run.errors + 1
    writer = getattr(spider, "writer", None)
    if writer is not None:  # recorded in fetch_errors like any other failure
        writer.batch.errors.append({"run_id": run.run_id, "source": run.source.name,
                                    "url": None, "reason": reason})
    deferred_from_coro(crawler.engine.close_spider_async(reason="queue_lost"))


class Scheduler(RedisScheduler):
    """scrapy-redis's scheduler, ending the source's crawl with a reason (instead of
    retrying forever) when Redis cannot be reached."""

    @classmethod
    def from_crawler(cls, crawler):
        instance = super().from_crawler(crawler)
        instance.crawler = crawler
        return instance

    def enqueue_request(self, request):
        try:
            return super().enqueue_request(request)
        except (redis.RedisError, OSError) as exc:
            lose_queue(self.crawler, exc)
            return False
        except (TypeError, ValueError) as exc:  # not expressible in the queue's JSON
            log.error("%s: not queued: %s", request.url, exc)
            return False

    def next_request(self):
        try:
            return super().next_request()
        except (redis.RedisError, OSError) as exc:
            lose_queue(self.crawler, exc)
            return None
        except (TypeError, ValueError) as exc:  # an entry this radar did not write: dropped
            log.error("dropped an unreadable entry of the shared queue: %s", exc)
            return None

    def has_pending_requests(self):
        try:
            return super().has_pending_requests()
        except (redis.RedisError, OSError) as exc:
            lose_queue(self.crawler, exc)
            return False


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
    (`radar:SOURCE:busy`, a mark expiring 3 s after its last sign of life; a seeding
    crawl's parent says so while its crawler starts). An idle spider polls every second.
    """

    def __init__(self, crawler):
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
        # The engine checks an idle spider's scheduler every 5 s by default; poll faster.
        engine = self.crawler.engine
        if hasattr(engine, "_SLOT_HEARTBEAT_INTERVAL"):
            engine._SLOT_HEARTBEAT_INTERVAL = 1.0
        self.source = spider.source_cfg.name
        self.client = _client(self.crawler.settings)
        self.since = time.monotonic()
        if self.mode == SEED:  # this crawler now speaks for itself (parent, or in-process)
            mark_idle(self.client, self.source, seeding_token(os.getppid()),
                      seeding_token(os.getpid()))
        self.loop = LoopingCall(self.beat)
        self.loop.start(1.0)

    def closed(self, spider) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.client is not None and not getattr(spider, "queue_lost", False):
            mark_idle(self.client, self.source, own_token())

    def beat(self) -> None:
        """Tell the other processes this one is working on the source (every second)."""
        if self.since is None:
            try:
                mark_busy(self.client, self.source, own_token())
            except Exception as exc:
                lose_queue(self.crawler, exc)

    def busy(self, *args, **kwargs) -> None:
        self.since = None

    def idling(self, spider) -> None:
        now = time.monotonic()
        writer = getattr(spider, "writer", None)
        if writer is not None and writer.pending():
            # What this process fetched is not in the warehouse yet: it is still busy on the
            # round (a coordinator that saw it idle would end the round, and `radar run`
            # would analyse without these documents). Commit now; idle once written.
            writer.flush()
            self.since = None
            raise DontCloseSpider
        try:
            if self.since is None:
                self.since = now
                mark_idle(self.client, self.source, own_token())
            if others_busy(self.client, self.source):
                self.since = now  # another process may still add requests
        except Exception as exc:
            lose_queue(self.crawler, exc)
            return
        if now - self.since < self.idle:
            raise DontCloseSpider
        log.info("%s: the shared queue was idle for %.0f s; this process stops",
                 self.source, self.idle)


def _client(settings):
    return get_redis_from_settings(settings)


# -- the requests' format in Redis -------------------------------------------------------

_REQUEST_CLASSES = ("scrapy.http.", "scrapy.Request", "scrapy.FormRequest")


def dumps(obj) -> bytes:
    """A request dict (Request.to_dict) as JSON; bytes, tuples, struct_time, datetimes and
    dicts with non-string keys (headers) are tagged so `loads` gives them back."""
    return json.dumps(_encode(obj), separators=(",", ":")).encode("utf-8")


def loads(data: bytes):
    """The request dict `dumps` wrote; refuses a request class that is not Scrapy's."""
    obj = json.loads(data, object_hook=_decode)
    cls = obj.get("_class") if isinstance(obj, dict) else None
    if cls is not None and not str(cls).startswith(_REQUEST_CLASSES):
        raise ValueError(f"refused a queued request of class {cls!r}")
    return obj


def _encode(o):
    if o is None or isinstance(o, (bool, int, float, str)):
        return o
    if isinstance(o, time.struct_time):
        return {"__st": list(o)}
    if isinstance(o, (bytes, bytearray)):
        return {"__b": base64.b64encode(bytes(o)).decode("ascii")}
    if isinstance(o, datetime):
        return {"__dt": o.isoformat()}
    if isinstance(o, tuple):
        return {"__tu": [_encode(v) for v in o]}
    if isinstance(o, list):
        return [_encode(v) for v in o]
    if isinstance(o, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in o):
            return {k: _encode(v) for k, v in o.items()}
        return {"__d": [[_encode(k), _encode(v)] for k, v in o.items()]}
    raise TypeError(f"a {type(o).__name__} cannot go into the shared crawl queue")


def _decode(d: dict):
    if len(d) == 1:
        (key, value), = d.items()
        if key == "__st":
            return time.struct_time(value)
        if key == "__b":
            return base64.b64decode(value)
        if key == "__dt":
            return datetime.fromisoformat(value)
        if key == "__tu":
            return tuple(value)
        if key == "__d":
            return {_hashable(k): v for k, v in value}
    return d


def _hashable(key):
    return tuple(key) if isinstance(key, list) else key


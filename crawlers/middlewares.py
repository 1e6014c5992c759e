"""Downloader middlewares: the network policy, conditional GET from the crawl state,
retries with backoff."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest

from crawlers.known import state_key
from radar.core.netpolicy import decide, parse_networks, refusal

log = logging.getLogger(__name__)


class NetworkRefused(IgnoreRequest):
    """A request whose host resolves to an address the network policy refuses."""


class NetworkPolicyMiddleware:
    """Refuse requests to loopback, private, link-local ... addresses (radar.core.netpolicy).

    Runs first for every request the crawler makes: start URLs, followed links,
    robots.txt, and every redirect hop (a redirect comes back through the
    downloader middlewares as a new request). The host is resolved with the
    crawler's own caching resolver, so the connection that follows uses the very
    address that was checked (no second lookup that could answer differently).
    A refused request reaches the spider's errback and is recorded as that URL's
    fetch error; the crawl goes on.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self._allow: tuple | None = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def allow(self) -> tuple:
        """The opened ranges: the radar config's [crawl] allow_networks, else the setting."""
        if self._allow is None:
            run = getattr(self.crawler.spider, "run", None)
            values = (run.cfg.crawl.allow_networks if run is not None
                      else self.crawler.settings.getlist("NETWORK_ALLOW"))
            self._allow = parse_networks(values)
        return self._allow

    async def process_request(self, request: Request):
        parts = urlsplit(request.url)
        if parts.scheme not in ("http", "https"):
            raise NetworkRefused(f"refused by the network policy: {parts.scheme or 'no'} scheme "
                                 "(only http and https are fetched)")
        host = parts.hostname or ""
        address = host if _is_ip(host) else await _resolve(host)
        decision = decide(address, self.allow())
        if not decision.allowed:
            if address != host:
                decision = type(decision)(False, decision.address,
                                          f"{host} resolves to {address}; {decision.reason}")
            raise NetworkRefused(refusal(request.url, decision))
        return None


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


async def _resolve(host: str) -> str:
    """The host's address through the reactor's resolver (Scrapy's DNS cache)."""
    from scrapy.utils.defer import maybe_deferred_to_future
    from twisted.internet import reactor

    return await maybe_deferred_to_future(reactor.resolve(host))


class ConditionalGetMiddleware:
    """Send If-None-Match / If-Modified-Since for URLs fetched before (meta `conditional`).

    The spider sees a 304 response and knows the page is unchanged; nothing is
    downloaded again and no document is touched.
    """

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request: Request):
        if not request.meta.get("conditional"):
            return None
        run = getattr(self.crawler.spider, "run", None)
        st = run.known.urls.get(state_key(request.url) or "") if run else None
        if st is None or not st.complete:
            return None
        if st.etag:
            request.headers.setdefault(b"If-None-Match", st.etag.encode("latin-1", "replace"))
        if st.last_modified:
            request.headers.setdefault(
                b"If-Modified-Since", st.last_modified.encode("latin-1", "replace"))
        return None


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retries on 429/5xx and network errors, waiting longer before each new try.

    The wait is the server's Retry-After when it gives one, else
    RETRY_BACKOFF * 2**(try - 1) seconds, never more than RETRY_BACKOFF_MAX.
    """

    def __init__(self, settings):
        super().__init__(settings)
        self.backoff = settings.getfloat("RETRY_BACKOFF", 1.0)
        self.backoff_max = settings.getfloat("RETRY_BACKOFF_MAX", 60.0)

    async def process_response(self, request, response):
        result = super().process_response(request, response)
        if isinstance(result, Request):
            await asyncio.sleep(self._delay(result, response.headers.get(b"Retry-After")))
        return result

    async def process_exception(self, request, exception):
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            await asyncio.sleep(self._delay(result, None))
        return result

    def _delay(self, retry: Request, retry_after: bytes | None) -> float:
        if retry_after:
            try:
                return min(float(retry_after.decode("ascii").strip()), self.backoff_max)
            except ValueError:
                pass  # an HTTP date: fall back to our own schedule
        tries = retry.meta.get("retry_times", 1)
        return min(self.backoff * 2 ** (tries - 1), self.backoff_max)

"""Downloader middlewares: conditional GET from the crawl state, retries with backoff."""

from __future__ import annotations

import asyncio
import logging

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware

from crawlers.known import state_key

log = logging.getLogger(__name__)


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

"""`sitemap` and `listing` sources: policy-paper sites, HTML and PDF.

A sitemap source reads sitemap.xml (gzipped or not, and sitemap indexes; a
robots.txt URL is read for its `Sitemap:` lines). A listing source reads a page
of links and keeps those matching the source's `link_selector` (CSS) and/or
`link_pattern` (regular expression), following "next page" links up to
`max_depth` hops. Both stay on the source's hosts and fetch each document once
(again only when the sitemap's lastmod changes).
"""

from __future__ import annotations

import re

from scrapy import Request
from scrapy.http import TextResponse
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

from crawlers.spiders.base import DocumentPagesMixin, SourceSpider, describe_failure
from radar.core.config import ConfigError


class SitemapSpider(DocumentPagesMixin, SourceSpider):
    """Documents listed in a sitemap (or sitemap index)."""

    name = "sitemap"
    source_type = "sitemap"

    async def start(self):
        yield Request(self.source_cfg.url, callback=self.parse_sitemap, errback=self.root_failed,
                      meta={"conditional": True, "root": True}, dont_filter=True)

    def root_failed(self, failure):
        reason = describe_failure(failure, self.settings)
        self.run.fatal = f"sitemap unavailable: {reason}"
        yield self.error(failure.request.url, self.run.fatal)

    def parse_sitemap(self, response):
        self.fetched(response)
        if response.status == 304:
            return
        root = response.meta.get("root", False)
        if response.url.endswith("/robots.txt"):
            for url in sitemap_urls_from_robots(response.text, base_url=response.url):
                if self.allowed(url):
                    yield Request(url, callback=self.parse_sitemap, errback=self.root_failed,
                                  meta={"conditional": True, "root": True})
            return
        body = response.body
        if body[:2] == b"\x1f\x8b":
            try:
                body = gunzip(body, max_size=self.settings.getint("DOWNLOAD_MAXSIZE"))
            except Exception as exc:  # truncated or oversized archives
                yield self._bad(response.url, f"unreadable gzip sitemap: {exc}", root)
                return
        try:
            sitemap = Sitemap(body)
        except Exception as exc:  # lxml refuses some junk outright
            yield self._bad(response.url, f"not a sitemap: {type(exc).__name__}: {exc}", root)
            return
        if sitemap.type not in ("sitemapindex", "urlset"):
            yield self._bad(response.url, f"not a sitemap (root element {sitemap.type!r})", root)
            return
        yield self.index_state(response)
        for entry in sitemap:
            url = (entry.get("loc") or "").strip()
            if not url or not self.allowed(url):
                continue
            if sitemap.type == "sitemapindex":
                yield Request(url, callback=self.parse_sitemap, errback=self.failed,
                              meta={"conditional": True})
            else:
                found = self.document_request(url, marker=(entry.get("lastmod") or None))
                if found is not None:
                    yield found

    def _bad(self, url: str, reason: str, root: bool):
        if root:
            self.run.fatal = reason
        return self.error(url, reason)


class ListingSpider(DocumentPagesMixin, SourceSpider):
    """Documents linked from a listing page (and its next pages, up to max_depth hops)."""

    name = "listing"
    source_type = "listing"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        src = self.source_cfg
        if not (src.link_selector or src.link_pattern):
            raise ConfigError(f"source {src.name!r}: a listing needs link_selector or link_pattern")
        try:
            self.pattern = re.compile(src.link_pattern) if src.link_pattern else None
        except re.error as exc:
            raise ConfigError(f"source {src.name!r}: link_pattern is not a valid regular "
                              f"expression: {exc}") from exc

    async def start(self):
        yield Request(self.source_cfg.url, callback=self.parse_listing, errback=self.root_failed,
                      meta={"conditional": True, "hops": 0}, dont_filter=True)

    def root_failed(self, failure):
        reason = describe_failure(failure, self.settings)
        self.run.fatal = f"listing unavailable: {reason}"
        yield self.error(failure.request.url, self.run.fatal)

    def parse_listing(self, response):
        self.fetched(response)
        if response.status == 304:
            return
        if not isinstance(response, TextResponse):
            yield self.error(response.url, "listing page is not HTML")
            return
        yield self.index_state(response)
        for url in self.document_links(response):
            found = self.document_request(url)
            if found is not None:
                yield found
        hops = response.meta.get("hops", 0)
        if hops < self.max_depth:
            next_css = self.source_cfg.selectors.get("next") or "a[rel~=next], link[rel~=next]"
            for href in response.css(next_css).xpath("@href").getall()[:1]:
                url = response.urljoin(href)
                if self.allowed(url):
                    yield Request(url, callback=self.parse_listing, errback=self.failed,
                                  meta={"conditional": True, "hops": hops + 1})

    def document_links(self, response) -> list[str]:
        """Absolute URLs of the documents a listing page links to, in page order."""
        src = self.source_cfg
        if src.link_selector:
            hrefs = []
            for node in response.css(src.link_selector):
                hrefs.extend(node.xpath("@href").getall() or node.css("a::attr(href)").getall())
        else:
            hrefs = response.css("a::attr(href)").getall()
        urls = []
        for href in hrefs:
            url = response.urljoin(href.strip())
            if self.pattern and not self.pattern.search(url):
                continue
            if self.allowed(url) and url not in urls:
                urls.append(url)
        return urls

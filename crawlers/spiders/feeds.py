"""`feed` sources: RSS 0.9x/1.0/2.0 and Atom feeds, each entry followed to its article.

The article page gives the main text (trafilatura); when the page fails or has no
main text, the feed's own content or summary is stored instead and the reason is
recorded; such documents are fetched again next run. Dates come from the feed,
else from the page. Entries may point to any host (feeds syndicate).
"""

from __future__ import annotations

import time
from urllib.parse import urljoin

from scrapy import Request

from crawlers.extract import ExtractionError, html_to_text
from crawlers.items import DocumentItem
from crawlers.pipelines import state_key
from crawlers.spiders.base import SourceSpider, describe_failure, validators


class FeedSpider(SourceSpider):
    """One RSS/Atom feed and the articles behind its entries."""

    name = "feed"
    source_type = "feed"
    bounded = False

    async def start(self):
        yield Request(self.source_cfg.url, callback=self.parse_feed, errback=self.feed_failed,
                      meta={"conditional": True}, dont_filter=True)

    def feed_failed(self, failure):
        reason = describe_failure(failure, self.settings)
        self.run.fatal = f"feed unavailable: {reason}"
        yield self.error(failure.request.url, f"feed unavailable: {reason}")

    def parse_feed(self, response):
        import feedparser

        self.fetched(response)
        if response.status == 304:
            return  # unchanged since the last run: nothing new to follow
        headers = {"content-location": response.url}
        ctype = response.headers.get(b"Content-Type")
        if ctype:
            headers["content-type"] = ctype.decode("latin-1")
        parsed = feedparser.parse(response.body, response_headers=headers)
        if not parsed.entries:
            if parsed.bozo:
                exc = parsed.get("bozo_exception")
                reason = f"malformed feed: {type(exc).__name__}: {exc}"[:400]
                self.run.fatal = reason
                yield self.error(response.url, reason)
                return
            if not parsed.version:
                self.run.fatal = "not an RSS or Atom feed"
                yield self.error(response.url, "not an RSS or Atom feed")
                return
        yield self.index_state(response)
        for entry in parsed.entries:
            yield from self.follow(response, entry)

    def follow(self, response, entry):
        """Request an entry's article, or store the feed's own text when there is no link."""
        data = _entry_data(entry, response.url)
        link = data["link"]
        if not link:
            if data["text"]:
                yield self._feed_document(data, None, complete=True)
            else:
                yield self.error(response.url, f"feed entry {data['title']!r} has no link and no text")
            return
        key = state_key(link)
        if self.run.known.is_done(key, data["marker"]) or not self.take_page():
            return
        yield Request(link, callback=self.parse_article, errback=self.article_failed,
                      cb_kwargs={"entry": data}, meta={"conditional": key in self.run.known.urls})

    def parse_article(self, response, entry):
        self.fetched(response)
        if response.status == 304:
            return
        try:
            page = self.read_document(response)
        except ExtractionError as exc:
            yield from self._fallback(entry, response.url, str(exc))
            return
        yield DocumentItem(
            source=self.source_cfg.name, channel=self.source_cfg.channel, url=response.url,
            requested_url=entry["link"], text=page.text, title=entry["title"] or page.title,
            published_at=entry["published"] or page.published,
            author=entry["author"] or page.author, marker=entry["marker"],
            **validators(response),
        )

    def article_failed(self, failure):
        entry = failure.request.cb_kwargs["entry"]
        yield from self._fallback(entry, failure.request.url,
                                  describe_failure(failure, self.settings))

    def _fallback(self, entry, url, reason):
        if entry["text"]:
            yield self.error(url, f"{reason}; stored the feed's own text instead")
            yield self._feed_document(entry, url, complete=False)
        else:
            yield self.error(url, f"{reason}; the feed has no text for this entry either")

    def _feed_document(self, entry, url, complete: bool) -> DocumentItem:
        return DocumentItem(
            source=self.source_cfg.name, channel=self.source_cfg.channel,
            url=url or entry["link"], requested_url=entry["link"], text=entry["text"],
            title=entry["title"], published_at=entry["published"], author=entry["author"],
            marker=entry["marker"], complete=complete,
            key="" if (url or entry["link"]) else (entry["id"] or ""),
        )


def _entry_data(entry, feed_url: str) -> dict:
    """What the feed says about an entry, as plain values."""
    link = entry.get("link") or ""
    if not link:
        for candidate in entry.get("links", []):
            if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
                link = candidate["href"]
                break
    link = urljoin(feed_url, link.strip()) if link else ""
    if not link.startswith(("http://", "https://")):
        link = ""
    content = entry.get("content") or []
    body = max((c.get("value", "") for c in content), key=len, default="")
    text = html_to_text(body) if len(body) > len(entry.get("summary", "")) else ""
    text = text or html_to_text(entry.get("summary", ""))
    published = entry.get("published_parsed") or entry.get("updated_parsed")
    updated = entry.get("updated_parsed")
    return {
        "link": link,
        "id": entry.get("id"),
        "title": html_to_text(entry.get("title", "")) or None,
        "text": text,
        "published": published,
        "author": entry.get("author") or None,
        "marker": time.strftime("%Y-%m-%dT%H:%M:%S", updated) if updated else None,
    }

"""`feed` sources: RSS 0.9x/1.0/2.0 and Atom feeds, each entry followed to its article.

The article page gives the main text (trafilatura); when the page fails or has no
main text, the feed's own content or summary is stored instead and the reason is
recorded; such documents are fetched again next run. Dates come from the feed,
else from the page. Entries may point to any host (feeds syndicate).
"""

from __future__ import annotations

import codecs
import io
import re
import time
from urllib.parse import urljoin

from scrapy import Request

from crawlers.extract import ExtractionError, html_to_text
from crawlers.items import DocumentItem
from crawlers.known import state_key
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
        self.fetched(response)
        if response.status == 304:
            return  # unchanged since the last run: nothing new to follow
        ctype = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
        parsed, note = parse_feed_bytes(response.body, ctype, response.url)
        if not parsed.entries and (parsed.bozo or not parsed.version):
            reason = note or "not an RSS or Atom feed"
            self.run.fatal = reason
            yield self.error(response.url, reason)
            return
        if note:  # read leniently: say so, and store what could be read
            yield self.error(response.url, note)
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
                name = data["title"] or data["id"] or "(untitled)"
                yield self.error(response.url, f"feed entry {name!r} has no link and no text")
            return
        key = state_key(link)
        carried = self.carried(key, link, data["marker"])
        if carried is not None:
            yield carried
            return
        if self.held_back(key, data["marker"]) or not self.take_page():
            return
        yield Request(link, callback=self.parse_article, errback=self.article_failed,
                      cb_kwargs={"entry": data}, meta={"conditional": key in self.run.known.urls})

    async def parse_article(self, response, entry):
        self.fetched(response)
        if response.status == 304:
            for item in self.not_modified(state_key(entry["link"]), response.url):
                yield item
            return
        try:
            page = await self.read_document(response)
        except ExtractionError as exc:
            for item in self._fallback(entry, response.url, str(exc)):
                yield item
            return
        if page.note:
            yield self.error(response.url, page.note)
        yield DocumentItem(
            source=self.source_cfg.name, channel=self.source_cfg.channel, url=response.url,
            requested_url=entry["link"], text=page.text, title=entry["title"] or page.title,
            published_at=entry["published"] or page.published,
            author=entry["author"] or page.author, marker=entry["marker"],
            language=page.language, **validators(response),
        )

    def article_failed(self, failure):
        entry = failure.request.cb_kwargs["entry"]
        yield from self._fallback(entry, failure.request.url,
                                  describe_failure(failure, self.settings))

    def _fallback(self, entry, url, reason):
        key, marker = state_key(entry["link"]), entry["marker"]
        if entry["text"]:
            yield self.error(url, f"{reason}; stored the feed's own text instead", key, marker)
            yield self._feed_document(entry, url, complete=False)
        else:
            yield self.error(url, f"{reason}; the feed has no text for this entry either",
                             key, marker)

    def _feed_document(self, entry, url, complete: bool) -> DocumentItem:
        return DocumentItem(
            source=self.source_cfg.name, channel=self.source_cfg.channel,
            url=url or entry["link"], requested_url=entry["link"], text=entry["text"],
            title=entry["title"], published_at=entry["published"], author=entry["author"],
            marker=entry["marker"], complete=complete,
            key="" if (url or entry["link"]) else (entry["id"] or ""),
        )


_LATIN = {codecs.lookup(n).name for n in (
    "cp1250", "cp1252", "latin_1", "iso8859_2", "iso8859_15", "cp1254", "cp1257", "iso8859_9",
    "mac_roman", "cp850", "cp1125",
)}
_XML_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding=", re.I)


def parse_feed_bytes(body: bytes, content_type: str, url: str):
    """Parse a feed; returns (parsed, problem) where problem says what was wrong, or "".

    A feed that names no charset (neither HTTP nor XML declaration) and is not
    UTF-8 is decoded with the detected charset rather than read as mojibake.

    feedparser is only ever handed a stream of the body's bytes: given a string (or
    bytes) it would treat a body such as "/etc/passwd" or "http://10.0.0.1/" as a
    file name or URL and read it.
    """
    import feedparser

    if not isinstance(body, bytes | bytearray):
        raise TypeError(f"a feed body is bytes, not {type(body).__name__}")
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(io.BytesIO(body), response_headers=headers)
    if not parsed.bozo:
        return parsed, ""
    exc = parsed.get("bozo_exception")
    if (isinstance(exc, feedparser.CharacterEncodingOverride)
            and "charset=" not in content_type.lower() and not _XML_ENCODING.match(body[:300])):
        from charset_normalizer import from_bytes

        best = from_bytes(body[:200_000]).best()
        encoding = best.encoding if best is not None else None
        # Detection cannot tell the Latin code pages apart on short texts (cp1250 vs
        # cp1252 flips "não" to "nă"); for those, windows-1252 is the web's default.
        if encoding and codecs.lookup(encoding).name in _LATIN:
            encoding = "cp1252"
        if encoding:
            utf8 = body.decode(encoding, "replace").encode("utf-8")
            again = feedparser.parse(io.BytesIO(utf8), response_headers={
                "content-location": url, "content-type": "application/xml; charset=utf-8"})
            if len(again.entries) >= len(parsed.entries):
                return again, f"feed names no charset and is not UTF-8; decoded as {encoding}"
    if isinstance(exc, feedparser.CharacterEncodingOverride):
        return parsed, f"feed charset is wrong or missing: {exc}"[:400]
    kind = "malformed feed" if parsed.entries else "malformed feed, nothing readable"
    return parsed, f"{kind}: {type(exc).__name__}: {exc}"[:400]


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

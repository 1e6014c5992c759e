"""What every source spider shares: config, limits, host bounds, errors with reasons."""

from __future__ import annotations

import codecs
import logging
from urllib.parse import urlsplit

import scrapy
from scrapy.http import TextResponse

from crawlers.context import SourceRun
from crawlers.extract import (
    LATIN_CODEPAGES,
    Extracted,
    ExtractionError,
    extract_html,
    extract_pdf,
    is_pdf,
    load_html_extractor,
    load_pdf_extractor,
    redecode,
)
from crawlers.items import CarriedItem, DocumentItem, ErrorItem, PageStateItem
from crawlers.known import known_for, state_key
from crawlers.middlewares import NetworkRefused
from radar.core.config import ConfigError, load_config
from radar.core.documents import utcnow
from radar.core.privacy import load_salt

log = logging.getLogger(__name__)


class SourceSpider(scrapy.Spider):
    """Base of the source spiders; `scrapy crawl TYPE -a source=NAME [-a config=PATH]`."""

    source_type = ""
    # Listing, sitemap and forum crawls stay on the source's hosts; feeds follow entries anywhere.
    bounded = True

    def __init__(self, source: str | None = None, config: str | None = None, *,
                 radar_config=None, known=None, reporter=None, writer=None,
                 run_id: int | None = None, extractors=None, queue_mode: str | None = None,
                 **kwargs):
        if not source:
            raise ConfigError(f"give the source: scrapy crawl {self.name} -a source=NAME")
        cfg = radar_config or load_config(config)
        src = cfg.source(source)
        if src.type not in self.handles():
            raise ConfigError(f"source {src.name!r} is of type {src.type}, not {self.name}")
        super().__init__(name=self.name, **kwargs)
        known = known or known_for(cfg.warehouse_path, cfg.crawl.near_duplicate_bits)
        self.run = SourceRun(cfg, src, known, load_salt(cfg.warehouse_path), reporter=reporter,
                             run_id=run_id)
        self.writer = writer  # the crawl process's shared writer (None: the pipeline makes one)
        self.extractors = extractors  # the crawl process's extractor pool (None: extract inline)
        self.queue_mode = queue_mode  # "seed" / "worker": requests go through the shared queue
        self.source_cfg = src
        self.max_pages = src.max_pages if src.max_pages is not None else cfg.crawl.max_pages
        self.max_depth = src.max_depth if src.max_depth is not None else cfg.crawl.max_depth
        self.requested = 0
        self.hosts = {h.lower() for h in src.allowed_hosts} or {_host(src.url)}
        if self.bounded:
            self.allowed_domains = sorted({h.split(":")[0] for h in self.hosts})

    @classmethod
    def handles(cls) -> tuple[str, ...]:
        """The source types this spider crawls."""
        return (cls.source_type,)

    # -- limits ---------------------------------------------------------------------------

    def allowed(self, url: str) -> bool:
        """Whether a link may be followed (on the source's hosts, for bounded spiders)."""
        if not url.startswith(("http://", "https://")):
            return False
        return not self.bounded or _host(url) in self.hosts

    def take_page(self) -> bool:
        """Count one document request against max_pages; False once the budget is spent."""
        if self.requested >= self.max_pages:
            if not self.run.truncated:
                log.info("%s: max_pages (%d) reached; the rest waits for the next run",
                         self.source_cfg.name, self.max_pages)
                self.run.truncated = True
            return False
        self.requested += 1
        return True

    # -- responses ------------------------------------------------------------------------

    def fetched(self, response) -> None:
        """Count a page that came back."""
        self.run.pages += 1

    def error(self, url: str | None, reason: str, broken_key: str | None = None,
              marker: str | None = None) -> ErrorItem:
        """A failure to record in fetch_errors (a document URL's also in broken_urls)."""
        return ErrorItem(self.source_cfg.name, url, reason, broken_key, marker)

    def failed(self, failure):
        """Errback: every failed request becomes a fetch error with its reason."""
        request = failure.request
        yield self.error(request.url, describe_failure(failure, self.settings),
                         request.meta.get("doc_key"), request.meta.get("doc_marker"))

    def held_back(self, key: str | None, marker: str | None) -> bool:
        """Whether a document URL that keeps failing waits this run (it is counted)."""
        why = self.run.known.held_back(key, marker, utcnow())
        if why:
            self.run.held_back += 1
            log.debug("%s: %s not fetched: %s", self.source_cfg.name, key, why)
        return bool(why)

    def carried(self, key: str | None, url: str, marker: str | None = None) -> CarriedItem | None:
        """This source as a carrier of a stored, unchanged document (None: fetch it, or skip)."""
        known = self.run.known
        if not key or not known.is_done(key, marker):
            return None
        return CarriedItem(self.source_cfg.name, known.urls[key].doc_id, url)

    def not_modified(self, key: str | None, url: str):
        """A 304 for a document page: this source carries the stored document (if any)."""
        state = self.run.known.urls.get(key or "")
        if state is not None and state.doc_id:
            yield CarriedItem(self.source_cfg.name, state.doc_id, url)

    def index_state(self, response) -> PageStateItem:
        """The HTTP validators of an index page, stored after a clean run."""
        return PageStateItem(
            self.source_cfg.name, state_key(response.url) or response.url,
            etag=_header(response, b"ETag"), last_modified=_header(response, b"Last-Modified"))

    async def read_document(self, response) -> Extracted:
        """Main text of an HTML page or PDF; raises ExtractionError with the reason.

        The extraction itself runs in the process's extractor pool when there is one.
        """
        body = response.body or b""
        if not body.strip():
            raise ExtractionError("empty page")
        ctype = _header(response, b"Content-Type") or ""
        pool = getattr(self, "extractors", None)
        if is_pdf(ctype, response.url, body):
            pages = self.run.cfg.crawl.max_pdf_pages
            return (await pool.run(extract_pdf, body, pages, needs=(load_pdf_extractor,))
                    if pool else extract_pdf(body, pages))
        if not isinstance(response, TextResponse):
            raise ExtractionError(f"not a text or PDF document (content type {ctype or 'none'!r})")
        if _looks_binary(body):
            raise ExtractionError(f"binary content, not text (content type {ctype or 'none'!r})")
        html, note = _decoded(response, body, ctype)
        if pool:
            doc = await pool.run(extract_html, html, response.url, needs=(load_html_extractor,))
        else:
            doc = extract_html(html, response.url)
        doc.note = note
        return doc


class DocumentPagesMixin:
    """Following links to documents (HTML or PDF papers) and reading them."""

    def document_request(self, url: str, marker: str | None = None):
        """A request for a document page; a CarriedItem when it is stored and unchanged; None
        when it waits out a backoff or the page budget is spent."""
        key = state_key(url)
        carried = self.carried(key, url, marker)
        if carried is not None:
            return carried
        if self.held_back(key, marker) or not self.take_page():
            return None
        return scrapy.Request(url, callback=self.parse_document, errback=self.failed,
                              cb_kwargs={"marker": marker},
                              meta={"conditional": key in self.run.known.urls,
                                    "doc_key": key, "doc_marker": marker})

    async def parse_document(self, response, marker: str | None = None):
        self.fetched(response)
        if response.status == 304:
            for item in self.not_modified(response.meta.get("doc_key"), response.url):
                yield item
            return
        try:
            doc = await self.read_document(response)
        except ExtractionError as exc:
            yield self.error(response.url, str(exc), response.meta.get("doc_key"), marker)
            return
        if doc.note:
            yield self.error(response.url, doc.note)
        yield DocumentItem(
            source=self.source_cfg.name, channel=self.source_cfg.channel, url=response.url,
            requested_url=response.request.url, text=doc.text, title=doc.title,
            # The paper's own date (page metadata, PDF creation date). A sitemap lastmod
            # is when it was last edited, not published: it is only the change marker.
            published_at=doc.published, author=doc.author, marker=marker,
            language=doc.language, **validators(response),
        )


def validators(response) -> dict[str, str | None]:
    """ETag and Last-Modified of a response (for the next conditional GET)."""
    return {"etag": _header(response, b"ETag"),
            "last_modified": _header(response, b"Last-Modified")}


def _header(response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1").strip() if value else None


def _host(url: str) -> str:
    parts = urlsplit(url)
    return (parts.netloc or "").lower()


def _decoded(response, body: bytes, ctype: str) -> tuple[str, str]:
    """The page's text, and a note when its charset was wrong or missing."""
    from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding

    html = response.text
    declared = http_content_type_encoding(ctype) or html_body_declared_encoding(body)
    if declared:
        if "\ufffd" in html:  # declared, but wrong
            fixed = redecode(body, declared)
            if fixed:
                return fixed
        return html, ""
    try:
        return body.decode("utf-8"), ""
    except UnicodeDecodeError:
        pass
    # No charset anywhere and not UTF-8: guessing among the Latin code pages is
    # unreliable on short texts, and windows-1252 is the web's default for them.
    encoding = response.encoding
    if codecs.lookup(encoding).name in LATIN_CODEPAGES:
        encoding = "cp1252"
    return (body.decode(encoding, "replace"),
            f"page names no charset and is not UTF-8; decoded as {encoding}")


def _looks_binary(body: bytes) -> bool:
    head = body[:4096]
    return b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff"))


def describe_failure(failure, settings) -> str:
    """A failed request's reason in words."""
    from scrapy.exceptions import (
        CannotResolveHostError,
        DownloadCancelledError,
        DownloadConnectionRefusedError,
        DownloadTimeoutError,
        IgnoreRequest,
    )
    from scrapy.spidermiddlewares.httperror import HttpError
    from twisted.internet.error import ConnectionRefusedError, DNSLookupError, TimeoutError

    exc = failure.value
    text = str(exc)
    if isinstance(exc, NetworkRefused):
        hops = (getattr(failure, "request", None) and failure.request.meta.get("redirect_urls"))
        return f"{text}; reached by a redirect from {hops[0]}" if hops else text
    if isinstance(exc, HttpError):
        return f"HTTP {exc.response.status}"
    if isinstance(exc, IgnoreRequest):
        if "robots.txt" in text:
            return "disallowed by robots.txt"
        return f"request dropped: {text or type(exc).__name__}"
    if isinstance(exc, (DownloadTimeoutError, TimeoutError)) or "took longer than" in text:
        return f"timed out after {settings.getint('DOWNLOAD_TIMEOUT')}s"
    if isinstance(exc, DownloadCancelledError) or "larger than download max size" in text:
        return f"page larger than max_page_bytes ({settings.getint('DOWNLOAD_MAXSIZE')} bytes)"
    if isinstance(exc, (CannotResolveHostError, DNSLookupError)):
        return "host not found (DNS)"
    if isinstance(exc, (DownloadConnectionRefusedError, ConnectionRefusedError)):
        return "connection refused"
    return f"{type(exc).__name__}: {text}"[:500]

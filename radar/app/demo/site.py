"""The local demo web: news outlets, policy-paper sites and a Discourse forum on 127.0.0.1.

Each site runs its own `ThreadingHTTPServer` on a free port in a daemon thread,
so each is a distinct host for the crawler, as on the real web. Pages are
rendered on request from the corpus (PDFs cached once made). Responses carry
an ETag, and a matching `If-None-Match` gets a 304, so a second crawl sees
unchanged pages as unchanged.

    with DemoWeb(generate()) as web:
        print(web.urls["riverton-gazette"])
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from radar.app.demo import pages
from radar.app.demo.corpus import FORUM, NEWS_OUTLETS, POLICY_SITES, Corpus

log = logging.getLogger(__name__)

Response = tuple[int, str, bytes]
CT = {
    "html": "text/html; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
    "xml": "application/xml; charset=utf-8",
    "json": "application/json; charset=utf-8",
    "pdf": "application/pdf",
    "text": "text/plain; charset=utf-8",
}
NOT_FOUND: Response = (404, CT["html"], b"<html><body><h1>Not found</h1></body></html>")


class _Handler(BaseHTTPRequestHandler):
    """Serves one site through its routing function (set on a subclass)."""

    route: Callable[[str, dict[str, list[str]]], Response]
    latency: float = 0.0
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self.latency:
            time.sleep(self.latency)  # a real site's think time
        parts = urlsplit(self.path)
        try:
            status, ctype, body = self.route(parts.path, parse_qs(parts.query))
        except Exception:  # a bug in a page must not kill the server thread
            log.exception("demo site failed on %s", self.path)
            status, ctype, body = 500, CT["text"], b"internal error"
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        if status == 200 and self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if status == 200:
            self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        log.debug("demo web %s: " + format, self.server.server_address[1], *args)


class DemoWeb:
    """All demo sites, started together; `urls` maps each site name to its base URL."""

    def __init__(self, corpus: Corpus, host: str = "127.0.0.1",
                 ports: dict[str, int] | None = None, latency: float = 0.0) -> None:
        self.corpus = corpus
        self.host = host
        self.latency = latency  # seconds every response waits, as on a real site
        self.ports = ports or {}  # preferred ports per site (0 or missing: any free port)
        self.urls: dict[str, str] = {}
        self._servers: list[ThreadingHTTPServer] = []
        self._pdf_cache: dict[str, bytes] = {}
        self._pdf_lock = threading.Lock()

    def start(self) -> DemoWeb:
        """Bind every site to a free port and serve in background threads."""
        routes = {name: self._news_route(name) for name in NEWS_OUTLETS}
        routes.update({name: self._policy_route(name) for name in POLICY_SITES})
        routes[FORUM] = self._forum_route()
        for name, route in routes.items():
            handler = type(f"Handler_{name}", (_Handler,),
                           {"route": staticmethod(route), "latency": self.latency})
            try:
                server = ThreadingHTTPServer((self.host, self.ports.get(name, 0)), handler)
            except OSError:
                self.stop()
                raise
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, name=f"demo-{name}", daemon=True).start()
            self._servers.append(server)
            self.urls[name] = f"http://{self.host}:{server.server_address[1]}"
        return self

    def stop(self) -> None:
        """Stop every server and free the ports."""
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self._servers.clear()

    def __enter__(self) -> DemoWeb:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- news outlets
    def _news_route(self, outlet: str):
        stories = [a for a in self.corpus.articles if a.outlet == outlet or outlet in a.also_in]
        by_path = {pages.article_path(a): a for a in stories}

        def route(path: str, query: dict) -> Response:
            base = self.urls[outlet]
            if path == "/robots.txt":
                return 200, CT["text"], pages.ROBOTS.encode()
            if path in ("/feed.xml", "/rss"):
                return 200, CT["rss"], pages.rss(stories, outlet, base)
            if path == "/":
                return 200, CT["html"], pages.outlet_home(stories, outlet)
            if path in by_path:
                return 200, CT["html"], pages.article_html(by_path[path], outlet, base)
            return NOT_FOUND

        return route

    # --- policy-paper sites
    def _policy_route(self, site: str):
        papers = [p for p in self.corpus.papers if p.site == site]
        by_path = {pages.paper_path(p): p for p in papers}
        by_year: dict[int, list] = defaultdict(list)
        for p in papers:
            by_year[p.published.year].append(p)
        # The department publishes a sitemap index of yearly sitemaps, the council one urlset.
        indexed = site == "communities-department"

        def route(path: str, query: dict) -> Response:
            base = self.urls[site]
            if path == "/robots.txt":
                text = pages.ROBOTS + f"Sitemap: {base}/sitemap.xml\n"
                return 200, CT["text"], text.encode()
            if path == "/sitemap.xml":
                body = (pages.sitemap_index(sorted(by_year), base) if indexed
                        else pages.urlset(papers, base))
                return 200, CT["xml"], body
            if path.startswith("/sitemaps/") and path.endswith(".xml"):
                year = path.removeprefix("/sitemaps/").removesuffix(".xml")
                if indexed and year.isdigit() and int(year) in by_year:
                    return 200, CT["xml"], pages.urlset(by_year[int(year)], base)
                return NOT_FOUND
            if path == "/":
                return 200, CT["html"], pages.papers_home(papers, site)
            paper = by_path.get(path)
            if paper is None:
                return NOT_FOUND
            if paper.fmt == "html":
                return 200, CT["html"], pages.paper_html(paper)
            return 200, CT["pdf"], self._pdf(paper)

        return route

    def _pdf(self, paper) -> bytes:
        with self._pdf_lock:
            if paper.slug not in self._pdf_cache:
                self._pdf_cache[paper.slug] = pages.paper_pdf(paper)
            return self._pdf_cache[paper.slug]

    # --- the Discourse forum
    def _forum_route(self):
        threads = {t.topic_id: t for t in self.corpus.threads}

        def route(path: str, query: dict) -> Response:
            if path == "/robots.txt":
                return 200, CT["text"], pages.ROBOTS.encode()
            if path in ("/latest.json", "/latest"):
                page = _int(query.get("page", ["0"])[0])
                if page is None or page < 0:
                    return 400, CT["json"], b'{"errors":["invalid page"]}'
                return 200, CT["json"], pages.latest_json(list(threads.values()), page)
            parts = [p for p in path.split("/") if p]
            if len(parts) >= 2 and parts[0] == "t":
                last = parts[-1]
                if last == "posts.json" and len(parts) >= 3:
                    topic = threads.get(_int(parts[-2]) or -1)
                    ids = [_int(v) for v in query.get("post_ids[]", [])]
                    if topic is None:
                        return NOT_FOUND
                    return 200, CT["json"], pages.posts_json(topic, [i for i in ids if i])
                if last.endswith(".json"):
                    topic = threads.get(_int(last.removesuffix(".json")) or -1)
                    if topic is not None:
                        return 200, CT["json"], pages.topic_json(topic)
            return NOT_FOUND

        return route


def _int(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None

"""A real local web for the crawler tests: an HTTP server on 127.0.0.1 and site builders.

`LocalWeb` serves registered resources with ETag/Last-Modified (answering
conditional requests with 304), optional delays, failures before success and
custom headers, and logs every request so tests can assert what was fetched.
The builders lay out the sites the tests crawl: the real-world feeds with an
article page behind every entry link, the ill-formed and encoded feeds, a
policy site with a sitemap of HTML and PDF papers, and a Discourse-compatible
forum API.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import re
import threading
import time
import zlib
from dataclasses import dataclass, field
from email.utils import formatdate
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urljoin, urlsplit

FIXTURES = Path(__file__).parent / "fixtures"
FEEDS = FIXTURES / "feeds"

WORDS = (
    "council library transport housing budget residents service plan street park water energy "
    "school health care community bus station bridge museum grant climate heat pump scooter "
    "parking digital identity youth safety police fire market tax jobs wage rent planning permit "
    "green recycling waste air quality noise festival sport pool reading makerspace opening hours "
    "volunteer neighbourhood district mayor election vote consultation survey data privacy app "
    "broadband accessibility elderly childcare teacher hospital doctor nurse clinic ambulance"
).split()


@dataclass
class Resource:
    """One URL's response."""

    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    etag: str | None = "auto"
    last_modified: str | None = "auto"
    delay: float = 0.0
    fail_times: int = 0          # answer 503 this many times first
    fail_status: int = 503
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        if self.etag == "auto":
            self.etag = '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'
        if self.last_modified == "auto":
            self.last_modified = formatdate(1_700_000_000, usegmt=True)


@dataclass
class Hit:
    """A logged request."""

    path: str
    headers: dict[str, str]
    status: int


class _QuietServer(ThreadingHTTPServer):
    # A crawl of 100 sources opens ~100 connections at once (each source's robots.txt): with
    # socketserver's backlog of 5, the kernel drops the connections beyond it and the
    # crawler's retries wait out TCP's 1, 2, 4 ... s (a 25 s crawl instead of a few seconds).
    request_queue_size = 128

    def handle_error(self, request, client_address):
        pass  # crawlers hang up on keep-alive connections and oversized pages; that is fine


class LocalWeb:
    """A threaded HTTP server on a free loopback port serving registered resources."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.resources: dict[str, Resource] = {}
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        self.server = _QuietServer((host, 0), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LocalWeb:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, body: bytes | str, content_type: str = "text/html; charset=utf-8",
            **kwargs) -> str:
        """Serve `body` at `path`; returns the absolute URL."""
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.resources[path] = Resource(body, content_type, **kwargs)
        return self.url(path)

    def requests_for(self, path: str) -> list[Hit]:
        """Every logged request for a path (with query)."""
        with self._lock:
            return [h for h in self.hits if h.path == path]

    def fetched(self, path: str) -> bool:
        return bool(self.requests_for(path))

    def clear_log(self) -> None:
        with self._lock:
            self.hits.clear()

    def _handler(self):
        web = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                res = web.resources.get(self.path) or web.resources.get(self.path.split("?")[0])
                status, body, headers = self._answer(res)
                with web._lock:
                    web.hits.append(Hit(self.path, dict(self.headers.items()), status))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the crawler gave up on a page that was too large

            def _answer(self, res: Resource | None):
                if res is None:
                    return 404, b"<html><body>not found</body></html>", {
                        "Content-Type": "text/html"}
                if res.delay:
                    time.sleep(res.delay)
                if res.fail_times > 0:
                    res.fail_times -= 1
                    return res.fail_status, b"busy", {"Content-Type": "text/plain",
                                                       "Retry-After": "0"}
                headers = {"Content-Type": res.content_type, **res.headers}
                if res.etag:
                    headers["ETag"] = res.etag
                if res.last_modified:
                    headers["Last-Modified"] = res.last_modified
                inm = self.headers.get("If-None-Match")
                ims = self.headers.get("If-Modified-Since")
                if (res.etag and inm == res.etag) or (
                    not inm and res.last_modified and ims == res.last_modified
                ):
                    return 304, b"", {k: v for k, v in headers.items() if k != "Content-Type"}
                return res.status, res.body, headers

        return Handler


# -- content ------------------------------------------------------------------------------


def paragraphs(seed: str, n: int = 3, words: int = 60) -> list[str]:
    """Deterministic filler paragraphs, different for every seed."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        ws = [rng.choice(WORDS) for _ in range(words)]
        out.append(" ".join(ws).capitalize() + ".")
    return out


def article_html(title: str, paras: list[str], date: str | None = None,
                 author: str | None = None) -> str:
    """An article page with site chrome around the story, as news sites have."""
    meta = ""
    if date:
        meta += f'<meta property="article:published_time" content="{escape(date)}">'
    if author:
        meta += f'<meta name="author" content="{escape(author)}">'
    body = "".join(f"<p>{escape(p)}</p>" for p in paras)
    return (
        f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{escape(title)} | Example News</title>{meta}</head><body>"
        "<header><nav><a href=\"/\">Home</a> <a href=\"/about\">About us</a> "
        "<a href=\"/contact\">Contact</a></nav></header>"
        f"<main><article><h1>{escape(title)}</h1>{body}</article></main>"
        "<footer><p>Copyright Example News. All rights reserved.</p>"
        "<ul><li><a href=\"/privacy\">Privacy</a></li><li><a href=\"/terms\">Terms</a></li></ul>"
        "</footer></body></html>"
    )


def make_pdf(title: str, lines: list[str]) -> bytes:
    """A small, valid PDF with a real text layer (Helvetica), one page."""

    def esc(s: str) -> str:
        return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    ops = ["BT", "/F1 16 Tf", "50 780 Td", f"({esc(title)}) Tj", "/F1 10 Tf", "0 -24 Td"]
    for line in lines:
        ops += [f"({esc(line)}) Tj", "0 -14 Td"]
    ops.append("ET")
    content = zlib.compress("\n".join(ops).encode("latin-1"))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content) + content
        + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Title (" + esc(title).encode("latin-1") + b") /CreationDate (D:20250301120000Z) >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def wrap(text: str, width: int = 90) -> list[str]:
    lines, line = [], ""
    for w in text.split():
        if len(line) + len(w) + 1 > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    if line:
        lines.append(line)
    return lines


# -- sites --------------------------------------------------------------------------------


@dataclass
class FeedSite:
    """What the real-world feed site holds: feed URLs and the article behind each link."""

    feeds: dict[str, str] = field(default_factory=dict)          # feed file -> URL
    entries: dict[str, list[dict]] = field(default_factory=dict)  # feed file -> entries
    articles: dict[str, str] = field(default_factory=dict)       # local URL -> title


def feed_content_type(name: str) -> str:
    return "application/atom+xml" if name.endswith(".atom") else "application/rss+xml"


def build_realworld_feeds(web: LocalWeb) -> FeedSite:
    """Serve the 31 real feeds with entry links rewritten to local article pages.

    Absolute links become `/articles/<hash>.html` with the original query string
    kept (tracking parameters included); relative links resolve against the feed
    URL on this server. The same original link in two feeds is one article page.
    """
    import feedparser

    site = FeedSite()
    for path in sorted((FEEDS / "realworld").iterdir()):
        if path.name == "LICENSE":
            continue
        raw = path.read_bytes()
        feed_url = web.url(f"/feeds/{path.name}")
        parsed = feedparser.parse(raw, response_headers={"content-location": feed_url})
        replacements: dict[str, str] = {}
        entries = []
        for entry in parsed.entries:
            link = (entry.get("link") or "").strip()
            if not link.startswith(("http://", "https://")):
                entries.append({"link": None, "title": entry.get("title")})
                continue
            parts = urlsplit(link)
            if parts.netloc == f"127.0.0.1:{web.port}":
                local = link  # a relative link resolved against our feed URL
            else:
                digest = hashlib.sha1(f"{parts.netloc}{parts.path}".encode()).hexdigest()[:12]
                local = web.url(f"/articles/{digest}.html") + (f"?{parts.query}" if parts.query else "")
                replacements[link] = local
            title = entry.get("title") or "Untitled"
            page_path = urlsplit(local).path
            if page_path not in web.resources:
                summary = re.sub(r"<[^>]+>", " ", entry.get("summary", ""))[:600]
                paras = ([summary] if summary.strip() else []) + paragraphs(page_path)
                web.add(page_path, article_html(title, paras))
                site.articles[local.split("?")[0]] = title
            entries.append({"link": local, "title": title, "published": entry.get("published_parsed")})
        for original in sorted(replacements, key=len, reverse=True):
            for form in (original, original.replace("&", "&amp;")):
                try:
                    raw = raw.replace(form.encode("ascii"), replacements[original].encode("ascii"))
                except UnicodeEncodeError:
                    pass
        web.add(f"/feeds/{path.name}", raw, feed_content_type(path.name))
        site.feeds[path.name] = feed_url
        site.entries[path.name] = entries
    return site


def illformed_feeds(web: LocalWeb) -> dict[str, str]:
    """Serve every ill-formed and encoded feed with the Content-Type its comment names."""
    urls = {}
    base = FEEDS / "illformed"
    for path in sorted(base.rglob("*.xml")):
        raw = path.read_bytes()
        m = re.search(rb"Header:\s*Content-type:\s*([^\r\n]+)", raw, re.I)
        ctype = m.group(1).decode("latin-1").strip() if m else "application/xml"
        # Entry links point at real sites: send them to this server (they 404, and the
        # crawler falls back to the feed's text) so nothing leaves the machine.
        raw = re.sub(rb"https?://(?!127\.0\.0\.1)[A-Za-z0-9.-]+", web.base.encode(), raw)
        rel = path.relative_to(base).as_posix()
        urls[rel] = web.add(f"/illformed/{rel}", raw, ctype)
    return urls


def build_policy_site(web: LocalWeb, n_html: int = 6, n_pdf: int = 3) -> dict:
    """A policy-paper site: robots.txt, a sitemap index, HTML papers, PDF papers, traps."""
    papers = {}
    for i in range(n_html):
        title = f"Policy paper {i}: {random.Random(i).choice(WORDS)} strategy"
        paras = paragraphs(f"paper-{i}", n=4)
        path = f"/papers/paper-{i}.html"
        web.add(path, article_html(title, paras, date=f"2025-0{1 + i % 9}-15T09:00:00+00:00"))
        papers[web.url(path)] = {"title": title, "text": paras[0], "kind": "html"}
    for i in range(n_pdf):
        title = f"White paper {i} on public service futures"
        text = " ".join(paragraphs(f"pdf-{i}", n=2))
        path = f"/papers/white-{i}.pdf"
        web.add(path, make_pdf(title, wrap(text)), "application/pdf")
        papers[web.url(path)] = {"title": title, "text": text.split(".")[0], "kind": "pdf"}
    # Traps: a scanned PDF without text, binary junk, a private paper behind robots.txt.
    web.add("/papers/scanned.pdf", make_pdf("", []),
            "application/pdf")
    web.add("/papers/junk.pdf", bytes(random.Random(7).getrandbits(8) for _ in range(3000)),
            "application/pdf")
    web.add("/private/secret-paper.html", article_html("Secret", paragraphs("secret")))
    web.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", "text/plain")
    urls = list(papers) + [web.url(p) for p in
                           ("/papers/scanned.pdf", "/papers/junk.pdf", "/private/secret-paper.html")]
    sm1 = _urlset(urls[: n_html])
    sm2 = _urlset(urls[n_html:] + ["https://elsewhere.example/offsite.html"])
    web.add("/sitemap-html.xml", sm1, "application/xml")
    web.add("/sitemap-pdf.xml.gz", gzip.compress(sm2.encode()), "application/x-gzip")
    index = ('<?xml version="1.0" encoding="UTF-8"?>'
             '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
             f'<sitemap><loc>{web.url("/sitemap-html.xml")}</loc></sitemap>'
             f'<sitemap><loc>{web.url("/sitemap-pdf.xml.gz")}</loc></sitemap>'
             '</sitemapindex>')
    web.add("/sitemap.xml", index, "application/xml")
    return papers


def _urlset(urls: list[str], lastmod: str = "2025-03-01") -> str:
    items = "".join(f"<url><loc>{escape(u)}</loc><lastmod>{lastmod}</lastmod></url>" for u in urls)
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</urlset>')


def set_sitemap_lastmod(web: LocalWeb, path: str, urls: list[str], lastmod: str) -> None:
    """Re-publish a sitemap with a new lastmod (as a CMS does after an edit)."""
    web.add(path, _urlset(urls, lastmod), "application/xml")


PLANTED_EMAIL = "jane.doe@example.org"
PLANTED_PHONE = "+44 20 7946 0958"
PLANTED_AUTHOR = "Zebedee Quarrington"


def build_discourse(web: LocalWeb, prefix: str = "/forum", topics: int = 5,
                    long_topic_posts: int = 27) -> dict:
    """A Discourse-compatible API: paged /latest.json, /t/{id}.json, /t/{id}/posts.json."""
    all_topics = []
    expected_posts = 0
    for t in range(1, topics + 1):
        n_posts = long_topic_posts if t == 1 else 3
        slug = f"topic-{t}"
        title = f"Citizens discuss {WORDS[t * 3]} and {WORDS[t * 5]}"
        posts = []
        for n in range(1, n_posts + 1):
            text = " ".join(paragraphs(f"post-{t}-{n}", n=1, words=25))
            if t == 2 and n == 1:
                text += f" Write to me at {PLANTED_EMAIL} or call {PLANTED_PHONE} any evening."
            posts.append({
                "id": t * 1000 + n, "post_number": n, "post_type": 1,
                "username": PLANTED_AUTHOR if (t == 2 and n == 1) else f"user{(t * n) % 7}",
                "name": PLANTED_AUTHOR if (t == 2 and n == 1) else None,
                "created_at": f"2025-0{t}-1{n % 10}T10:00:00.000Z",
                "updated_at": f"2025-0{t}-1{n % 10}T10:00:00.000Z",
                "cooked": f"<p>{escape(text)}</p>",
                "reply_to_post_number": None if n == 1 else 1,
            })
        # A moderator action is not a citizen voice.
        posts.append({"id": t * 1000 + 999, "post_number": n_posts + 1, "post_type": 3,
                      "username": "system", "created_at": "2025-06-01T00:00:00.000Z",
                      "cooked": "<p>closed this topic</p>"})
        expected_posts += n_posts
        all_topics.append({"id": t, "slug": slug, "title": title, "posts": posts})
        _publish_topic(web, prefix, all_topics[-1])
    _publish_latest(web, prefix, all_topics)
    return {"topics": all_topics, "expected_posts": expected_posts}


def _publish_topic(web: LocalWeb, prefix: str, topic: dict) -> None:
    posts = topic["posts"]
    first = posts[:20]
    web.add(f"{prefix}/t/{topic['id']}.json", json.dumps({
        "id": topic["id"], "slug": topic["slug"], "title": topic["title"],
        "posts_count": len(posts),
        "post_stream": {"posts": first, "stream": [p["id"] for p in posts]},
    }), "application/json")
    rest = posts[20:]
    for i in range(0, len(rest), 20):
        chunk = rest[i : i + 20]
        query = "&".join(f"post_ids%5B%5D={p['id']}" for p in chunk)
        web.add(f"{prefix}/t/{topic['id']}/posts.json?{query}",
                json.dumps({"post_stream": {"posts": chunk}}), "application/json")


def _publish_latest(web: LocalWeb, prefix: str, topics: list[dict], per_page: int = 3) -> None:
    pages = [topics[i : i + per_page] for i in range(0, len(topics), per_page)]
    for n, page in enumerate(pages):
        listing = {"topic_list": {"topics": [
            {"id": t["id"], "slug": t["slug"], "title": t["title"],
             "posts_count": len(t["posts"]),
             "last_posted_at": max(p["created_at"] for p in t["posts"])} for t in page]}}
        if n + 1 < len(pages):
            listing["topic_list"]["more_topics_url"] = f"{prefix}/latest?no_definitions=true&page={n + 1}"
        path = f"{prefix}/latest.json" if n == 0 else f"{prefix}/latest.json?no_definitions=true&page={n}"
        web.add(path, json.dumps(listing), "application/json")


def add_discourse_reply(web: LocalWeb, prefix: str, forum: dict, topic_index: int,
                        text: str) -> None:
    """A new reply in a topic: the topic list and the topic change, as on a live forum."""
    topic = forum["topics"][topic_index]
    n = len(topic["posts"]) + 1
    topic["posts"].append({
        "id": topic["id"] * 1000 + 500 + n, "post_number": n, "post_type": 1,
        "username": "latecomer", "created_at": "2025-09-01T08:00:00.000Z",
        "updated_at": "2025-09-01T08:00:00.000Z", "cooked": f"<p>{escape(text)}</p>",
        "reply_to_post_number": 1,
    })
    _publish_topic(web, prefix, topic)
    _publish_latest(web, prefix, forum["topics"])


def absolute(web: LocalWeb, path: str) -> str:
    return urljoin(web.base, path)


# -- projects -----------------------------------------------------------------------------

FAST_CRAWL = {
    "download_delay": 0, "autothrottle": False, "concurrency_per_domain": 8,
    "download_timeout": 20, "retry_times": 2, "retry_backoff": 0.05,
    "max_page_bytes": 5_000_000, "contact": "radar-tests@example.org",
    # The test web serves on 127.0.0.1 (a loopback address, refused unless opened).
    "allow_networks": ["127.0.0.1/32"],
}


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f'"{k}" = {_toml_value(v)}' for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value))


def source(name: str, type: str, url: str, channel: str, **extra) -> dict:
    """A [[sources]] entry."""
    return {"name": name, "type": type, "url": url, "channel": channel, **extra}


def offline_env(mp) -> None:
    """Environment for crawl child processes: a salt, and every non-loopback request sent
    to a dead local proxy, so a stray link can never reach the internet."""
    mp.setenv("RADAR_PSEUDONYM_SALT", "crawl-test-salt")
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        mp.setenv(var, "http://127.0.0.1:9")
    for var in ("no_proxy", "NO_PROXY"):
        # 127.0.0.2 is reachable (not proxied): only the network policy keeps the crawler out.
        mp.setenv(var, "127.0.0.1,127.0.0.2,localhost")


def make_project(folder: Path, sources: list[dict], **crawl):
    """Write radar.toml (fast, polite-enough crawl settings), create the warehouse; return Config."""
    from radar.app.init_project import init_project
    from radar.core.config import load_config

    folder.mkdir(parents=True, exist_ok=True)
    lines = ["[crawl]"] + [f"{k} = {_toml_value(v)}" for k, v in {**FAST_CRAWL, **crawl}.items()]
    for s in sources:
        lines += ["", "[[sources]]"] + [f"{k} = {_toml_value(v)}" for k, v in s.items()]
    path = folder / "radar.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    init_project(path)
    return load_config(path)


def rows(cfg, sql: str, params=None) -> list[tuple]:
    """Query the project's warehouse."""
    from radar.core import warehouse

    return warehouse.query(cfg.warehouse_path, sql, params)


def by_source(summaries) -> dict:
    return {s.source: s for s in summaries}

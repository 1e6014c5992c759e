"""Hostile input: feed bodies that look like paths or carry external entities, documents over
the page and time limits, markup that would make a regex backtrack."""

from __future__ import annotations

import io
import time

import pytest
from crawl_web import (
    LocalWeb,
    article_html,
    make_pdf,
    make_project,
    offline_env,
    paragraphs,
    rows,
    source,
    wrap,
)
from slow_work import spin

from crawlers.extract import ExtractionError, ExtractorPool, extract_html, extract_pdf, html_to_text
from crawlers.spiders.feeds import parse_feed_bytes

RSS = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Secret</title>'
       "<item><title>Read from the file system</title><link>http://x/a</link></item>"
       "</channel></rss>")


def test_a_feed_body_that_is_a_path_is_never_opened(tmp_path):
    secret = tmp_path / "secret.rss"
    secret.write_text(RSS, encoding="utf-8")
    parsed, note = parse_feed_bytes(str(secret).encode(), "application/rss+xml", "http://x/f")
    assert parsed.entries == []
    assert note  # recorded as not a feed
    # The same file given as its content parses: the path was really a feed.
    parsed, _ = parse_feed_bytes(secret.read_bytes(), "application/rss+xml", "http://x/f")
    assert parsed.entries[0].title == "Read from the file system"


def test_a_feed_body_that_is_a_url_is_never_fetched():
    with LocalWeb() as web:
        web.add("/real.rss", RSS, "application/rss+xml")
        parsed, _ = parse_feed_bytes(web.url("/real.rss").encode(), "text/plain", "http://x/f")
        assert parsed.entries == []
        assert web.hits == []


def test_a_feed_body_must_be_bytes():
    with pytest.raises(TypeError, match="bytes"):
        parse_feed_bytes(RSS, "application/rss+xml", "http://x/f")


def test_external_entities_in_a_feed_are_not_resolved(tmp_path):
    secret = tmp_path / "passwd"
    secret.write_text("root-secret-line", encoding="utf-8")
    body = (f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>'
            '<rss version="2.0"><channel><title>t</title><item><title>x &xxe; y</title>'
            "<link>http://x/a</link></item></channel></rss>").encode()
    parsed, _ = parse_feed_bytes(body, "application/rss+xml", "http://x/f")
    assert "root-secret" not in repr(parsed)


def test_undeclared_charset_is_still_detected_from_bytes():
    rss = ('<rss version="2.0"><channel><item><title>Как пережить новогоднюю ночь</title>'
           "<description>Наверное, единственное, во что сегодня можно верить.</description>"
           "</item></channel></rss>").encode("koi8-r")
    parsed, note = parse_feed_bytes(rss, "application/xml", "http://x/feed")
    assert parsed.entries[0].title == "Как пережить новогоднюю ночь"


def _long_pdf(pages: int) -> bytes:
    from pypdf import PdfReader, PdfWriter

    text = " ".join(paragraphs("long-pdf", n=2))
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(make_pdf("A long report", wrap(text, 40)))))
    for _ in range(pages - 1):
        writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_pdfs_over_max_pdf_pages_are_refused_with_the_count():
    data = _long_pdf(12)
    with pytest.raises(ExtractionError, match=r"PDF has 12 pages, more than max_pdf_pages \(10\)"):
        extract_pdf(data, max_pages=10)
    assert extract_pdf(data, max_pages=12).title == "A long report"


def test_the_pool_abandons_a_slow_document_and_keeps_working():
    import asyncio

    pool = ExtractorPool(1, timeout=2.0)
    try:
        started = time.monotonic()
        with pytest.raises(ExtractionError, match=r"longer than extract_timeout \(2s\)"):
            asyncio.run(pool.run(spin, 30))
        assert time.monotonic() - started < 15
        # The stuck worker was killed and replaced: the next document is read.
        doc = asyncio.run(pool.run(extract_html, article_html("After", paragraphs("after")),
                                   "http://x/a"))
        assert "After" in (doc.title or "")
        assert asyncio.run(pool.run(spin, 0.01)) == "done"
    finally:
        pool.close()
    assert all(not w.is_alive() for w in pool._workers)


def test_the_pool_starts_a_second_worker_only_under_a_backlog():
    import asyncio

    async def together(n, seconds):
        return await asyncio.gather(*(pool.run(spin, seconds) for _ in range(n)))

    pool = ExtractorPool(2, timeout=30, grow_after=3)
    try:
        # Two documents at once before any has been extracted: they share the first worker.
        assert asyncio.run(together(2, 0.2)) == ["done", "done"]
        assert pool.started == 1
        asyncio.run(pool.run(spin, 0.01))
        assert pool.started == 1  # one at a time never needs a second worker
        # Past grow_after, a backlog starts the second worker, and never a third.
        assert asyncio.run(together(6, 0.5)) == ["done"] * 6
        assert pool.started == 2
        assert len({w.pid for w in pool._workers}) == 2
    finally:
        pool.close()
    assert all(not w.is_alive() for w in pool._workers)


def test_worker_errors_come_back_as_extraction_errors():
    import asyncio

    pool = ExtractorPool(1, timeout=30)
    try:
        with pytest.raises(ExtractionError, match="empty page"):
            asyncio.run(pool.run(extract_html, "   ", None))
        with pytest.raises(ExtractionError, match="ZeroDivisionError"):
            asyncio.run(pool.run(divmod, 1, 0))
    finally:
        pool.close()


@pytest.mark.timeout(30)
@pytest.mark.parametrize("junk", ["<p" * 200_000, "<" * 500_000, "<div " + "a" * 500_000])
def test_html_snippets_never_make_the_tag_regexes_backtrack(junk):
    html_to_text(junk + "<b>end</b>")  # quadratic patterns took minutes on these


def test_documents_over_the_limits_are_recorded_and_the_crawl_goes_on(tmp_path, monkeypatch):
    # ~6.8 MB of article: 1.2-1.6 s to extract on a quiet machine, well past the 0.5 s
    # timeout (6,000 paragraphs took 0.47-0.64 s and sometimes finished in time).
    big = "".join(f"<p>{p}</p>" for p in paragraphs("huge", n=15000, words=60))
    with LocalWeb() as web:
        offline_env(monkeypatch)
        web.add("/good.html", article_html("Fine", paragraphs("fine", n=3)))
        web.add("/long.pdf", _long_pdf(8), "application/pdf")
        web.add("/slow.html", f"<html><body><article>{big}</article></body></html>")
        urls = "".join(f"<url><loc>{web.url(p)}</loc></url>"
                       for p in ("/good.html", "/long.pdf", "/slow.html"))
        web.add("/sitemap.xml", '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"{urls}</urlset>", "application/xml")
        cfg = make_project(tmp_path, [source("site", "sitemap", web.url("/sitemap.xml"), "policy")],
                           max_pdf_pages=5, extract_timeout=0.5, max_page_bytes=20_000_000)
        from crawlers.run import crawl_sources

        summary = crawl_sources(cfg)[0]
    reasons = dict(rows(cfg, "SELECT url, reason FROM fetch_errors"))
    assert reasons[web.url("/long.pdf")] == "PDF has 8 pages, more than max_pdf_pages (5)"
    assert "longer than extract_timeout (0.5s)" in reasons[web.url("/slow.html")]
    assert rows(cfg, "SELECT title FROM documents") == [("Fine",)]
    assert summary.status == "partial"


# A guard against hangs, not a speed goal. Phone-number matching is linear but slow on
# digit-heavy text (about 0.1 ms a character), so the digit runs are 40-60 KB: a quadratic
# pattern there would still take many minutes, a linear one takes seconds.
@pytest.mark.timeout(180)
@pytest.mark.parametrize("junk", ["a" * 300_000, "a." * 150_000, "1 " * 20_000 + "x",
                                  "a@" * 100_000, "AB12 " * 12_000])
def test_redaction_never_backtracks_on_long_runs(junk):
    from radar.core.privacy import redact

    # The e-mail pattern was quadratic on one long word (a 300,000-letter word: minutes).
    assert "jo@city.fi" not in redact(junk + " mail jo@city.fi")

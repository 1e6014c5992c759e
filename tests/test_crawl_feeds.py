"""Feed crawls against a real local web: the 31 real-world feeds with article pages behind
every entry, the ill-formed and encoded feeds, and a feed whose articles fail in every way."""

from __future__ import annotations

from datetime import UTC
from email.utils import parsedate_to_datetime

import pytest
from crawl_web import (
    FEEDS,
    LocalWeb,
    article_html,
    by_source,
    illformed_feeds,
    make_project,
    offline_env,
    paragraphs,
    rows,
    source,
)
from crawl_web import build_realworld_feeds as build_feeds

from crawlers.run import crawl_sources

MAX_PAGES = 60
LONG_FEED = "giantbomb-podcast.rss"  # 730 entries


@pytest.fixture(scope="module")
def realworld(tmp_path_factory):
    """All 31 real-world feeds crawled once, then crawled again (incremental)."""
    with pytest.MonkeyPatch.context() as mp, LocalWeb() as web:
        offline_env(mp)
        site = build_feeds(web)
        sources = [source(name, "feed", url, "news",
                          **({"max_pages": MAX_PAGES} if name == LONG_FEED else {}))
                   for name, url in site.feeds.items()]
        cfg = make_project(tmp_path_factory.mktemp("feeds"), sources)
        first = by_source(crawl_sources(cfg))
        first_hits = list(web.hits)
        web.clear_log()
        second = by_source(crawl_sources(cfg))
        yield {"cfg": cfg, "site": site, "web": web, "first": first, "second": second,
               "first_hits": first_hits, "second_hits": list(web.hits)}


pytestmark_slow = pytest.mark.slow


@pytestmark_slow
def test_every_feed_gets_a_run_and_the_broken_one_fails_with_its_reason(realworld):
    cfg, first = realworld["cfg"], realworld["first"]
    assert set(first) == set(realworld["site"].feeds)
    runs = rows(cfg, "SELECT source, status, pages, new_documents FROM crawl_runs ORDER BY run_id")
    assert len(runs) == 2 * len(realworld["site"].feeds)  # one row per source per run
    assert first["unrecognized.rss"].status == "failed"
    errors = rows(cfg, "SELECT reason FROM fetch_errors WHERE source = 'unrecognized.rss'")
    assert errors and "malformed feed" in errors[0][0]
    # Feeds that are not well-formed or name no charset are read leniently and say so.
    lenient = {
        "uolNoticias.rss": "feed names no charset and is not UTF-8; decoded as cp1252",
        "itunes-keywords-array.rss": "malformed feed: SAXParseException",
        "itunes-keywords-astext.rss": "malformed feed: SAXParseException",
        "itunes-missing-image.rss": "malformed feed: SAXParseException",
        "missing-fields.atom": "has no link and no text",
        "incomplete-fields.atom": "has no link and no text",
    }
    for name, reason in lenient.items():
        assert first[name].status == "partial", name
        reasons = [r for (r,) in rows(cfg, "SELECT reason FROM fetch_errors WHERE source = ?",
                                      [name])]
        assert any(reason in r for r in reasons), (name, reasons)
    others = set(first) - set(lenient) - {"unrecognized.rss"}
    assert {n: first[n].status for n in others} == {n: "ok" for n in others}


@pytestmark_slow
def test_undeclared_cp1252_feed_is_decoded_without_mojibake(realworld):
    titles = [t for (t,) in rows(realworld["cfg"],
                                 "SELECT title FROM documents WHERE source = 'uolNoticias.rss'")]
    assert "Ibope: Bolsonaro perde de Haddad, Ciro e Alckmin em simulações de 2º turno" in titles


@pytestmark_slow
def test_guardian_entries_become_documents_with_titles_and_feed_dates(realworld):
    import feedparser

    cfg = realworld["cfg"]
    parsed = feedparser.parse((FEEDS / "realworld" / "guardian.rss").read_bytes())
    docs = rows(cfg, "SELECT d.title, d.published_at, d.text, d.channel, d.language "
                     "FROM documents d JOIN document_sources s USING (doc_id) "
                     "WHERE s.source = 'guardian.rss'")
    assert len(docs) == len(parsed.entries) == 55
    by_title = {d[0]: d for d in docs}
    for entry in parsed.entries[:10]:
        doc = by_title[entry.title]
        expected = parsedate_to_datetime(entry.published).astimezone(UTC).replace(tzinfo=None)
        assert doc[1] == expected
        assert doc[3] == "news" and doc[4] == "en"
        # Main text from the article page, not the site chrome around it.
        assert "All rights reserved" not in doc[2] and "About us" not in doc[2]
        assert len(doc[2].split()) > 100


@pytestmark_slow
def test_article_text_comes_from_the_page_behind_the_link(realworld):
    cfg, web = realworld["cfg"], realworld["web"]
    url, text = rows(cfg, "SELECT url, text FROM documents WHERE source = 'heise.atom' LIMIT 1")[0]
    path = url.split(f"127.0.0.1:{web.port}")[1].split("?")[0]
    filler = paragraphs(path)[0]
    assert filler[:80] in text


@pytestmark_slow
def test_tracking_parameters_are_stripped_from_canonical_urls(realworld):
    urls = rows(realworld["cfg"], "SELECT url, canonical_url, language FROM documents "
                                  "WHERE source = 'heise.atom'")
    assert len(urls) == 15
    for url, canonical, language in urls:
        assert "wt_mc=" in url and "wt_mc" not in canonical
        assert language == "de"


@pytestmark_slow
def test_declared_latin1_feed_is_decoded(realworld):
    titles = [t for (t,) in rows(realworld["cfg"],
                                 "SELECT title FROM documents WHERE source = 'encoding.rss'")]
    assert len(titles) == 40
    assert any(c in "".join(titles) for c in "ãçéõá")
    assert not any("Ã" in t for t in titles)  # no mojibake


@pytestmark_slow
def test_same_article_in_two_feeds_is_one_document_with_two_sources(realworld):
    cfg = realworld["cfg"]
    shared = rows(cfg, "SELECT doc_id, count(DISTINCT source) FROM document_sources "
                       "WHERE source IN ('rss-1.rss', 'xml2js-options.rss') GROUP BY doc_id")
    assert len(shared) == 69  # both feeds list the same 69 articles
    assert all(n == 2 for _, n in shared)
    (docs,) = rows(cfg, "SELECT count(*) FROM documents WHERE doc_id IN (SELECT doc_id FROM "
                        "document_sources WHERE source IN ('rss-1.rss', 'xml2js-options.rss'))")[0]
    assert docs == 69


@pytestmark_slow
def test_max_pages_bounds_a_long_feed_and_the_rest_comes_next_run(realworld):
    assert realworld["first"][LONG_FEED].new_documents == MAX_PAGES
    assert realworld["second"][LONG_FEED].new_documents == MAX_PAGES
    (n,) = rows(realworld["cfg"], "SELECT count(*) FROM document_sources WHERE source = ?",
                [LONG_FEED])[0]
    assert n == 2 * MAX_PAGES


@pytestmark_slow
def test_relative_entry_links_resolve_against_the_feed(realworld):
    urls = [u for (u,) in rows(realworld["cfg"],
                               "SELECT url FROM documents WHERE source = 'gulp-atom.atom'")]
    assert len(urls) == 10
    assert all("/gulpjs/gulp/releases/tag/" in u for u in urls)


@pytestmark_slow
def test_user_agent_names_the_contact_and_robots_txt_is_read(realworld):
    hits = realworld["first_hits"]
    agents = {h.headers.get("User-Agent") for h in hits}
    assert agents == {"HorizonRadar/0.1 (+https://github.com/horizon-radar) "
                      "(radar-tests@example.org)"}
    assert any(h.path == "/robots.txt" for h in hits)


@pytestmark_slow
def test_second_crawl_adds_nothing_and_sends_conditional_requests(realworld):
    cfg, first, second = realworld["cfg"], realworld["first"], realworld["second"]
    assert {n: s.new_documents for n, s in second.items() if s.new_documents} == {
        LONG_FEED: MAX_PAGES}  # only the entries max_pages left for later
    assert sum(s.updated for s in second.values()) == 0
    hits = realworld["second_hits"]
    feed_hits = {h.path.rsplit("/", 1)[1]: h for h in hits if h.path.startswith("/feeds/")}
    assert set(feed_hits) == set(realworld["site"].feeds)
    # Every feed that was read completely and cleanly is asked conditionally: 304.
    clean = {n for n, s in first.items() if s.status == "ok"} - {LONG_FEED}
    assert {n for n, h in feed_hits.items() if h.status == 304} == clean
    assert all("If-None-Match" in feed_hits[n].headers for n in clean)
    # No article page was downloaded again. (An article shared by entries with different
    # dates is re-checked, conditionally: 304, nothing transferred.)
    articles = [h for h in hits if h.path.startswith(("/articles/", "/gulpjs/"))
                and "giantbomb" not in h.headers.get("Referer", "")]
    assert all(h.status == 304 and "If-None-Match" in h.headers for h in articles), articles
    (total,) = rows(cfg, "SELECT count(*) FROM documents")[0]
    (stored,) = rows(cfg, "SELECT sum(new_documents) FROM crawl_runs")[0]
    assert total == stored


@pytest.fixture(scope="module")
def illformed(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp, LocalWeb() as web:
        offline_env(mp)
        urls = illformed_feeds(web)
        sources = [source(rel.replace("/", "_"), "feed", url, "news") for rel, url in urls.items()]
        cfg = make_project(tmp_path_factory.mktemp("illformed"), sources)
        yield {"cfg": cfg, "summaries": by_source(crawl_sources(cfg)), "urls": urls}


@pytest.mark.slow
def test_illformed_and_encoded_feeds_never_stop_the_crawl(illformed):
    cfg, summaries = illformed["cfg"], illformed["summaries"]
    assert len(summaries) == len(illformed["urls"]) > 80
    (runs,) = rows(cfg, "SELECT count(*) FROM crawl_runs WHERE status <> 'running'")[0]
    assert runs == len(summaries)  # every source finished and recorded its run
    for name in ("illformed_aaa_illformed.xml", "illformed_rss_empty_document.xml",
                 "illformed_undeclared_namespace.xml"):
        assert summaries[name].status == "failed", name
        reason = rows(cfg, "SELECT reason FROM fetch_errors WHERE source = ?", [name])[0][0]
        assert "malformed feed" in reason


@pytest.mark.slow
def test_feeds_without_a_charset_are_decoded_by_detection(illformed):
    cfg = illformed["cfg"]
    titles = dict(rows(cfg, "SELECT source, title FROM documents WHERE source LIKE "
                            "'illformed_chardet_%'"))
    assert titles["illformed_chardet_koi8r.xml"] == "Как пережить новогоднюю ночь"
    assert titles["illformed_chardet_eucjp.xml"] == "ゲーム三昧な正月"
    assert titles["illformed_chardet_euckr.xml"].startswith("EUC-KR 에서 TypeKey")
    reasons = rows(cfg, "SELECT reason FROM fetch_errors WHERE source = "
                        "'illformed_chardet_koi8r.xml'")
    assert reasons and "decoded as koi8" in reasons[0][0]


@pytest.mark.slow
def test_http_charset_and_entities_give_the_right_text(illformed):
    cfg = illformed["cfg"]
    (text,) = rows(cfg, "SELECT d.text FROM documents d JOIN document_sources s USING (doc_id) "
                        "WHERE s.source = 'encoding_http_text_xml_charset_2.xml'")[0]
    assert text.startswith("This is a £“test.”")
    # demoronize-1 and -2 carry the same text: one document, two carriers.
    carried = rows(cfg, "SELECT d.text, count(*) FROM documents d JOIN document_sources s "
                        "USING (doc_id) WHERE s.source IN ('encoding_demoronize-1.xml', "
                        "'encoding_demoronize-2.xml') GROUP BY d.text")
    assert carried == [("don’t", 2)]


# -- a feed whose articles fail in every way ------------------------------------------------

def _rss(web: LocalWeb, items: list[tuple[str, str, str]]) -> bytes:
    body = "".join(
        f"<item><title>{t}</title><link>{web.url(p)}</link><description>{d}</description>"
        f"<pubDate>Mon, 03 Mar 2025 10:00:00 +0100</pubDate></item>" for t, p, d in items)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Troubles</title>{body}</channel></rss>").encode()


@pytest.fixture(scope="module")
def troubles(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp, LocalWeb() as web:
        offline_env(mp)
        good = paragraphs("good", n=4)
        web.add("/a/good.html", article_html("Good", good))
        web.add("/a/flaky.html", article_html("Flaky", paragraphs("flaky", n=4)), fail_times=1)
        web.add("/a/slow.html", article_html("Slow", paragraphs("slow")), delay=6)
        web.add("/a/huge.html", article_html("Huge", ["word " * 400_000]))
        web.add("/a/empty.html", b"")
        web.add("/a/binary.html", bytes(range(256)) * 40, "application/octet-stream")
        web.add("/a/nomain.html", "<html><body><nav><a href='/'>Home</a></nav></body></html>")
        latin = "Les bibliothèques publiques ouvrent des fablabs et des espaces de création. " * 8
        # Declared UTF-8 (meta and header), written in windows-1252: a wrong charset.
        web.add("/a/latin1.html", article_html("Latin", [latin]).encode("cp1252"))
        # No charset anywhere: the body itself has to tell.
        other = "Les mairies testent des parkings pour trottinettes près des gares. " * 8
        web.add("/a/nocharset.html", article_html("NoCharset", [other]).replace(
            '<meta charset="utf-8">', "").encode("cp1252"), "text/html")
        items = [
            ("Good", "/a/good.html", "good summary"),
            ("Flaky", "/a/flaky.html", "flaky summary"),
            ("Slow", "/a/slow.html", "The slow page summary text here."),
            ("Huge", "/a/huge.html", "The huge page summary text here."),
            ("Empty", "/a/empty.html", ""),
            ("Binary", "/a/binary.html", "Binary page summary words."),
            ("NoMain", "/a/nomain.html", "A summary stands in for the page."),
            ("Missing", "/a/missing.html", "A missing page summary."),
            ("Latin", "/a/latin1.html", "latin"),
            ("NoCharset", "/a/nocharset.html", "nocharset"),
        ]
        web.add("/troubles.rss", _rss(web, items), "application/rss+xml")
        cfg = make_project(tmp_path_factory.mktemp("troubles"),
                           [source("troubles", "feed", web.url("/troubles.rss"), "news")],
                           download_timeout=2, retry_times=1, max_page_bytes=1_000_000)
        summary = crawl_sources(cfg)[0]
        web.clear_log()
        again = crawl_sources(cfg)[0]
        yield {"cfg": cfg, "summary": summary, "again": again, "web": web,
               "hits": list(web.hits)}


def _reasons(cfg, run: int = 1) -> dict[str, str]:
    return {url.rsplit("/", 1)[1]: reason for url, reason in rows(
        cfg, "SELECT url, reason FROM fetch_errors WHERE run_id = "
             "(SELECT min(run_id) FROM crawl_runs)")}


def test_failures_are_recorded_with_reasons_and_the_crawl_goes_on(troubles):
    cfg, summary = troubles["cfg"], troubles["summary"]
    assert summary.status == "partial"
    reasons = _reasons(cfg)
    assert "timed out after 2s" in reasons["slow.html"]
    assert "larger than max_page_bytes" in reasons["huge.html"]
    assert "empty page" in reasons["empty.html"]
    assert "binary content, not text" in reasons["binary.html"]
    assert "no main text" in reasons["nomain.html"]
    assert "HTTP 404" in reasons["missing.html"]
    assert "page declares charset utf-8 but is not; decoded as cp1252" in reasons["latin1.html"]
    assert "page names no charset and is not UTF-8; decoded as cp1252" in reasons[
        "nocharset.html"]
    assert "flaky.html" not in reasons  # retried with backoff, then fetched
    assert summary.errors == len(reasons) == 8


def test_failed_pages_fall_back_to_the_feed_text(troubles):
    cfg = troubles["cfg"]
    docs = dict(rows(cfg, "SELECT title, text FROM documents"))
    assert set(docs) == {"Good", "Flaky", "Slow", "Huge", "Binary", "NoMain", "Missing", "Latin",
                         "NoCharset"}
    assert docs["Slow"] == "The slow page summary text here."
    assert docs["Missing"] == "A missing page summary."
    assert paragraphs("good", n=4)[1][:60] in docs["Good"]
    assert "bibliothèques" in docs["Latin"] and "\ufffd" not in docs["Latin"]
    assert "près des gares" in docs["NoCharset"] and "\ufffd" not in docs["NoCharset"]
    reasons = _reasons(cfg)
    assert "stored the feed's own text instead" in reasons["slow.html"]
    assert "no text for this entry either" in reasons["empty.html"]


def test_fallback_documents_are_fetched_again_next_run(troubles):
    fetched = {h.path for h in troubles["hits"]}
    # Pages stored from the feed's summary are tried again; complete ones are not.
    assert "/a/slow.html" in fetched and "/a/missing.html" in fetched
    assert "/a/good.html" not in fetched and "/a/flaky.html" not in fetched
    assert troubles["again"].new_documents == 0


def _outcomes(cfg) -> dict[str, tuple[str, list[str]]]:
    """Each source's first run: its status and the reasons recorded for it."""
    runs = rows(cfg, "SELECT source, run_id, status FROM crawl_runs WHERE run_id IN "
                     "(SELECT min(run_id) FROM crawl_runs GROUP BY source)")
    return {source: (status, [r for (r,) in rows(
        cfg, "SELECT reason FROM fetch_errors WHERE run_id = ?", [run_id])])
        for source, run_id, status in runs}


@pytest.mark.slow
def test_every_realworld_feed_has_a_recorded_outcome(realworld):
    outcomes = _outcomes(realworld["cfg"])
    assert set(outcomes) == set(realworld["site"].feeds)
    for name, (status, reasons) in outcomes.items():
        assert status in ("ok", "partial", "failed"), name
        assert (status == "ok") == (not reasons), (name, status, reasons)


@pytest.mark.slow
def test_every_illformed_feed_has_a_recorded_outcome(illformed):
    outcomes = _outcomes(illformed["cfg"])
    assert set(outcomes) == set(illformed["summaries"]) and len(outcomes) > 80
    for name, (status, reasons) in outcomes.items():
        assert status in ("ok", "partial", "failed"), name
        assert (status == "ok") == (not reasons), (name, status, reasons)
        assert all(r.strip() for r in reasons)


# -- a second feed listing stories another feed already brought -------------------------------

def test_a_feed_listing_stored_articles_becomes_their_carrier_whenever_it_is_read(
        tmp_path, monkeypatch):
    """Whichever feed is read first, a story listed by two feeds ends with both as sources.

    The second feed here is added after the first was crawled (the same thing happens within
    one crawl when one feed's articles are stored before the other feed is parsed): one entry
    has the same date (no fetch at all), the other a newer date (fetched conditionally: 304).
    """
    offline_env(monkeypatch)
    with LocalWeb() as web:
        for name in ("one", "two", "three"):
            web.add(f"/a/{name}.html", article_html(name.title(), paragraphs(name, n=4)))
        first = [("One", "/a/one.html", "one"), ("Two", "/a/two.html", "two")]
        web.add("/first.rss", _rss(web, first), "application/rss+xml")
        later = _rss(web, first + [("Three", "/a/three.html", "three")]).replace(
            b"two</description><pubDate>Mon, 03 Mar", b"two</description><pubDate>Tue, 04 Mar")
        web.add("/later.rss", later, "application/rss+xml")
        feeds = [source("first", "feed", web.url("/first.rss"), "news")]
        cfg = make_project(tmp_path / "p", feeds)
        crawl_sources(cfg)
        web.clear_log()
        cfg = make_project(tmp_path / "p", feeds + [
            source("later", "feed", web.url("/later.rss"), "news")])
        (summary,) = [s for s in crawl_sources(cfg) if s.source == "later"]
        assert summary.new_documents == 1  # "three"; "one" and "two" were stored already
        fetched = {h.path: h.status for h in web.hits if h.path.startswith("/a/")}
        assert fetched == {"/a/three.html": 200, "/a/two.html": 304}  # "one": no request
        carriers = rows(cfg, "SELECT d.title, list(s.source ORDER BY s.source) FROM documents d "
                             "JOIN document_sources s USING (doc_id) GROUP BY d.title ORDER BY 1")
        assert carriers == [("One", ["first", "later"]), ("Three", ["later"]),
                            ("Two", ["first", "later"])]
        (n,) = rows(cfg, "SELECT count(*) FROM documents")[0]
        assert n == 3

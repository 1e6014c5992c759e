"""Policy-paper crawls: a sitemap index of HTML and PDF papers behind robots.txt, a listing
page with pagination, and a paper that changes between crawls."""

from __future__ import annotations

from datetime import datetime

import pytest
from crawl_web import (
    LocalWeb,
    article_html,
    build_policy_site,
    by_source,
    make_project,
    offline_env,
    paragraphs,
    rows,
    set_sitemap_lastmod,
    source,
)

from crawlers.run import crawl_sources


def _listing(web: LocalWeb, page: int, items: range, has_next: bool) -> str:
    links = "".join(f'<li><a href="/library/items/{i}.html">Item {i}</a></li>' for i in items)
    nav = f'<a rel="next" href="/library/news-{page + 1}.html">Next</a>' if has_next else ""
    return (f"<html><body><nav><a href='/library/about.html'>About</a></nav>"
            f"<ul class='news'>{links}</ul>{nav}</body></html>")


@pytest.fixture(scope="module")
def policy(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp, LocalWeb() as web:
        offline_env(mp)
        papers = build_policy_site(web)
        for page, items in enumerate((range(1, 4), range(4, 7), range(7, 10)), start=1):
            path = "/library/news.html" if page == 1 else f"/library/news-{page}.html"
            web.add(path, _listing(web, page, items, has_next=page < 3))
        for i in range(1, 10):
            web.add(f"/library/items/{i}.html",
                    article_html(f"Library news {i}", paragraphs(f"lib-{i}", n=3)))
        web.add("/library/about.html", article_html("About", paragraphs("about")))
        cfg = make_project(tmp_path_factory.mktemp("policy"), [
            source("papers", "sitemap", web.url("/sitemap.xml"), "policy"),
            source("library-news", "listing", web.url("/library/news.html"), "news",
                   link_pattern=r"/items/\d+\.html$", link_selector="ul.news a", max_depth=1),
        ])
        first = by_source(crawl_sources(cfg))
        first_hits = list(web.hits)
        # A paper is revised: new text, and the sitemap says so with a new lastmod.
        paper0 = web.url("/papers/paper-0.html")
        web.add("/papers/paper-0.html", article_html(
            papers[paper0]["title"], ["Revised: " + p for p in paragraphs("paper-0", n=4)]))
        html_urls = [u for u, p in papers.items() if p["kind"] == "html"]
        set_sitemap_lastmod(web, "/sitemap-html.xml", html_urls, "2025-06-01")
        web.clear_log()
        second = by_source(crawl_sources(cfg))
        yield {"cfg": cfg, "web": web, "papers": papers, "first": first, "second": second,
               "first_hits": first_hits, "second_hits": list(web.hits)}


def test_html_and_pdf_papers_from_the_sitemap_index(policy):
    cfg, papers = policy["cfg"], policy["papers"]
    docs = {url: (title, text, published, channel) for url, title, text, published, channel
            in rows(cfg, "SELECT url, title, text, published_at, channel FROM documents "
                         "WHERE source = 'papers'")}
    assert set(docs) == set(papers)
    for url, paper in papers.items():
        title, text, published, channel = docs[url]
        assert channel == "policy"
        assert paper["text"][:60] in text
        if paper["kind"] == "pdf":
            assert title == paper["title"]            # from the PDF's metadata
            assert published == datetime(2025, 3, 1, 12, 0)
        else:
            assert title.startswith(paper["title"])    # from the page
            assert published.day == 15  # the page's date (trafilatura keeps the day)


def test_robots_txt_is_obeyed_and_recorded(policy):
    fetched = {h.path for h in policy["first_hits"]}
    assert "/robots.txt" in fetched
    assert "/private/secret-paper.html" not in fetched
    reasons = dict(rows(policy["cfg"], "SELECT url, reason FROM fetch_errors WHERE run_id = "
                                       "(SELECT min(run_id) FROM crawl_runs WHERE source = 'papers')"))
    assert reasons[policy["web"].url("/private/secret-paper.html")] == "disallowed by robots.txt"


def test_pdf_without_text_and_binary_junk_are_recorded(policy):
    web = policy["web"]
    reasons = dict(rows(policy["cfg"], "SELECT url, reason FROM fetch_errors WHERE run_id = "
                                       "(SELECT min(run_id) FROM crawl_runs WHERE source = 'papers')"))
    assert reasons[web.url("/papers/scanned.pdf")].startswith("PDF has no extractable text")
    assert reasons[web.url("/papers/junk.pdf")] == "not a PDF file (no %PDF header)"
    assert len(reasons) == 3
    assert policy["first"]["papers"].status == "partial"


def test_sitemap_crawl_stays_on_the_source_host(policy):
    # The gzipped sitemap lists a paper on another host: not followed, not an error.
    hosts = {h.headers.get("Host") for h in policy["first_hits"]}
    assert hosts == {f"127.0.0.1:{policy['web'].port}"}
    (n,) = rows(policy["cfg"], "SELECT count(*) FROM fetch_errors WHERE url LIKE '%elsewhere%'")[0]
    assert n == 0


def test_listing_follows_matching_links_and_next_pages_up_to_max_depth(policy):
    titles = sorted(t for (t,) in rows(policy["cfg"], "SELECT title FROM documents "
                                                      "WHERE source = 'library-news'"))
    assert titles == [f"Library news {i}" for i in range(1, 7)]  # pages 1 and 2, not 3
    fetched = {h.path for h in policy["first_hits"]}
    assert "/library/news-3.html" not in fetched
    assert "/library/about.html" not in fetched  # not matching the link pattern


def test_changed_paper_updates_its_document_and_keeps_the_old_version(policy):
    cfg, second = policy["cfg"], policy["second"]
    assert second["papers"].updated == 1
    assert second["papers"].new_documents == 0
    assert second["library-news"].new_documents == 0
    url = policy["web"].url("/papers/paper-0.html")
    (doc_id, text, n) = rows(cfg, "SELECT doc_id, text, (SELECT count(*) FROM documents "
                                  "WHERE url = ?) FROM documents WHERE url = ?", [url, url])[0]
    assert n == 1 and "Revised:" in text
    versions = rows(cfg, "SELECT version, text FROM document_versions WHERE doc_id = ?", [doc_id])
    assert len(versions) == 1 and versions[0][0] == 1 and "Revised:" not in versions[0][1]
    (changed,) = rows(cfg, "SELECT last_changed FROM crawl_state WHERE doc_id = ?", [doc_id])[0]
    (fetched, published) = rows(cfg, "SELECT fetched_at, published_at FROM documents "
                                     "WHERE doc_id = ?", [doc_id])[0]
    # The document keeps its first fetch and its date: it stays in the same period.
    assert changed is not None and fetched < changed
    assert published.date().isoformat() == "2025-01-15"


def test_second_crawl_downloads_only_the_changed_paper(policy):
    hits = [h for h in policy["second_hits"] if h.path.startswith(("/papers/", "/library/items/"))]
    downloaded = sorted(h.path for h in hits if h.status == 200)
    # The revised paper, plus the two traps that never stored anything (tried again).
    assert downloaded == ["/papers/junk.pdf", "/papers/paper-0.html", "/papers/scanned.pdf"]
    # The sitemap's new lastmod made the other HTML papers worth a check: conditional, 304.
    rechecked = [h for h in hits if h.status == 304]
    assert sorted(h.path for h in rechecked) == [f"/papers/paper-{i}.html" for i in range(1, 6)]
    assert all("If-None-Match" in h.headers for h in rechecked)
    # PDFs (unchanged lastmod) and listing items (known) were not requested at all.
    assert not [h for h in hits if h.path.startswith(("/papers/white", "/library/items/"))]

"""The network policy in real crawls: the test web on 127.0.0.1 (opened in the test config)
links to a server bound on 127.0.0.2 (a loopback address that is not opened). Nothing on
127.0.0.2 is ever fetched, and every refusal is recorded as that URL's error.

Private, link-local and public addresses are covered by tests/test_netpolicy.py through the
decision function alone; no test sends traffic outside 127.0.0.0/8.
"""

from __future__ import annotations

import pytest
from crawl_web import (
    LocalWeb,
    Resource,
    article_html,
    by_source,
    make_project,
    offline_env,
    paragraphs,
    rows,
    source,
)

from crawlers.run import crawl_sources


def _rss(items: list[tuple[str, str]]) -> str:
    entries = "".join(f"<item><title>{t}</title><link>{link}</link></item>" for t, link in items)
    return f'<rss version="2.0"><channel><title>News</title>{entries}</channel></rss>'


def _urlset(urls: list[str]) -> str:
    locs = "".join(f"<url><loc>{u}</loc></url>" for u in urls)
    return f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>'


@pytest.fixture(scope="module")
def ssrf(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp, LocalWeb() as web, LocalWeb("127.0.0.2") as inner:
        offline_env(mp)
        for name in ("secret", "hop-target", "paper"):
            inner.add(f"/{name}.html", article_html(f"Internal {name}", paragraphs(name, n=3)))
        inner.add("/feed.rss", _rss([("Internal", inner.url("/secret.html"))]),
                  "application/rss+xml")
        web.add("/a/good.html", article_html("Good news", paragraphs("good", n=3)))
        web.add("/a/named.html", article_html("Named host", paragraphs("named", n=3)))
        web.resources["/r/hop"] = Resource(b"", status=302, etag=None, last_modified=None,
                                           headers={"Location": inner.url("/hop-target.html")})
        local = f"http://localhost:{web.port}"
        web.add("/feed.rss", _rss([
            ("Good", web.url("/a/good.html")),
            ("Direct", inner.url("/secret.html")),
            ("Redirected", web.url("/r/hop")),
            ("By name", local + "/a/named.html"),   # resolves to 127.0.0.1: allowed
        ]), "application/rss+xml")
        web.add("/a/paper.html", article_html("Public paper", paragraphs("paper-pub", n=3)))
        web.add("/sitemap.xml", _urlset([web.url("/a/paper.html"), inner.url("/paper.html")]),
                "application/xml")
        cfg = make_project(tmp_path_factory.mktemp("ssrf"), [
            source("news", "feed", web.url("/feed.rss"), "news"),
            source("papers", "sitemap", web.url("/sitemap.xml"), "policy",
                   allowed_hosts=[f"127.0.0.1:{web.port}", f"127.0.0.2:{inner.port}"]),
            source("intranet", "feed", inner.url("/feed.rss"), "news"),
        ])
        summaries = by_source(crawl_sources(cfg))
        yield {"cfg": cfg, "web": web, "inner": inner, "summaries": summaries,
               "inner_hits": list(inner.hits)}


def _errors(cfg) -> dict[str, str]:
    return dict(rows(cfg, "SELECT url, reason FROM fetch_errors"))


def test_nothing_on_the_unopened_address_is_ever_fetched(ssrf):
    assert ssrf["inner_hits"] == []
    titles = {t for (t,) in rows(ssrf["cfg"], "SELECT title FROM documents")}
    assert not any(t.startswith("Internal") for t in titles)


def test_the_crawl_goes_on_around_refused_links(ssrf):
    titles = {t for (t,) in rows(ssrf["cfg"], "SELECT title FROM documents")}
    # Good and Named come from the feed; the public paper from the sitemap.
    assert titles == {"Good", "By name", "Public paper"}
    assert ssrf["summaries"]["news"].status == "partial"
    assert ssrf["summaries"]["papers"].status == "partial"


def test_a_linked_address_is_refused_with_its_reason(ssrf):
    errors = _errors(ssrf["cfg"])
    reason = errors[ssrf["inner"].url("/secret.html")]
    assert reason.startswith("refused by the network policy: 127.0.0.2 is a loopback address")
    assert "allow_networks" in reason
    assert "refused by the network policy" in errors[ssrf["inner"].url("/paper.html")]


def test_a_redirect_hop_to_an_unopened_address_is_refused(ssrf):
    web, inner = ssrf["web"], ssrf["inner"]
    assert web.fetched("/r/hop")              # the first hop is public to the policy
    reason = _errors(ssrf["cfg"])[inner.url("/hop-target.html")]
    assert "127.0.0.2 is a loopback address" in reason
    assert f"redirect from {web.url('/r/hop')}" in reason


def test_a_source_on_an_unopened_address_fails_with_the_refusal(ssrf):
    summary = ssrf["summaries"]["intranet"]
    assert summary.status == "failed"
    assert "refused by the network policy" in summary.message
    status = rows(ssrf["cfg"], "SELECT status FROM crawl_runs WHERE source = 'intranet'")
    assert status == [("failed",)]


def test_host_names_are_judged_by_the_address_they_resolve_to(tmp_path, monkeypatch):
    """`localhost` is not matched as a name: it resolves to 127.0.0.1, which this config
    does not open (allow_networks lists only 127.0.0.3)."""
    with LocalWeb() as web:
        offline_env(monkeypatch)
        web.add("/feed.rss", _rss([("A", web.url("/a.html"))]), "application/rss+xml")
        cfg = make_project(tmp_path, [
            source("by-name", "feed", f"http://localhost:{web.port}/feed.rss", "news"),
        ], allow_networks=["127.0.0.3/32"])
        summary = crawl_sources(cfg)[0]
        assert web.hits == []
    assert summary.status == "failed"
    assert ("localhost resolves to 127.0.0.1; 127.0.0.1 is a loopback address"
            in summary.message)

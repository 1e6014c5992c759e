"""A permanently broken page is not fetched every run: it waits out a doubling backoff, the
crawler gives up after [crawl] give_up_after failures and says so, and a changed index
entry (or a page that works again) brings it back."""

from __future__ import annotations

from crawl_web import LocalWeb, article_html, make_project, offline_env, paragraphs, rows, source

from crawlers.run import crawl_sources


def _feed(web: LocalWeb, updated: str) -> None:
    items = (f"<item><title>Good</title><link>{web.url('/good.html')}</link></item>"
             f"<item><title>Gone</title><link>{web.url('/gone.html')}</link>"
             f"<pubDate>{updated}</pubDate></item>")
    web.add("/feed.rss", f'<rss version="2.0"><channel><title>F</title>{items}</channel></rss>',
            "application/rss+xml")


def test_a_broken_page_backs_off_then_is_given_up_and_comes_back_when_it_changes(
        tmp_path, monkeypatch):
    with LocalWeb() as web:
        offline_env(monkeypatch)
        web.add("/good.html", article_html("Good", paragraphs("good", n=3)))
        _feed(web, "Tue, 04 Mar 2025 08:00:00 GMT")
        cfg = make_project(tmp_path, [source("news", "feed", web.url("/feed.rss"), "news")],
                           give_up_after=2, broken_retry_hours=0.0, retry_times=0)
        fetched = []
        for _ in range(3):
            web.clear_log()
            summary = crawl_sources(cfg)[0]
            fetched.append((len(web.requests_for("/gone.html")), summary.held_back))
        # Run 1 and 2 try it (no wait with broken_retry_hours = 0); run 3 has given up.
        assert fetched == [(1, 0), (1, 0), (0, 1)]
        state = rows(cfg, "SELECT failures, gave_up, reason FROM broken_urls")
        assert state == [(2, True, "HTTP 404; the feed has no text for this entry either")]
        reasons = [r for (r,) in rows(cfg, "SELECT reason FROM fetch_errors")]
        assert sum("gave up after 2 failed fetches in a row (last: HTTP 404" in r
                   for r in reasons) == 1

        # The feed says the entry changed: it is tried again, and now it works.
        _feed(web, "Wed, 05 Mar 2025 08:00:00 GMT")
        web.add("/gone.html", article_html("Back again", paragraphs("back", n=3)))
        web.clear_log()
        crawl_sources(cfg)
        assert len(web.requests_for("/gone.html")) == 1
    assert rows(cfg, "SELECT count(*) FROM broken_urls") == [(0,)]
    assert {t for (t,) in rows(cfg, "SELECT title FROM documents")} == {"Good", "Gone"}


def test_a_failing_page_waits_out_its_backoff(tmp_path, monkeypatch):
    with LocalWeb() as web:
        offline_env(monkeypatch)
        web.add("/good.html", article_html("Good", paragraphs("good", n=3)))
        _feed(web, "Tue, 04 Mar 2025 08:00:00 GMT")
        cfg = make_project(tmp_path, [source("news", "feed", web.url("/feed.rss"), "news")],
                           broken_retry_hours=24.0, retry_times=0)
        tried = []
        for _ in range(3):
            web.clear_log()
            summary = crawl_sources(cfg)[0]
            tried.append((web.fetched("/gone.html"), summary.held_back))
        # Failed once: tried again next run. Failed twice: it waits 24 hours.
        assert tried == [(True, 0), (True, 0), (False, 1)]
    (retry, failures), = rows(cfg, "SELECT retry_after - last_failed, failures FROM broken_urls")
    assert failures == 2 and 23.9 < retry.total_seconds() / 3600 <= 24

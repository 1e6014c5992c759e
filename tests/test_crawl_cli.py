"""`radar crawl` and `scrapy crawl` as a user runs them: real processes, a real local web."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from crawl_web import (
    PLANTED_AUTHOR,
    LocalWeb,
    article_html,
    build_discourse,
    make_project,
    offline_env,
    paragraphs,
    rows,
    source,
)

ROOT = Path(__file__).resolve().parents[1]


def _wire_feed(web: LocalWeb, site: str, story: list[str], byline: str) -> str:
    """A news site carrying the same wire story (its own byline and footer) plus its own news."""
    web.add(f"/{site}/wire.html", article_html("Heat pump grants double from April",
                                               [byline] + story + [f"Copyright {site} news."]))
    web.add(f"/{site}/own.html", article_html(f"{site} local news", paragraphs(site, n=3)))
    items = "".join(
        f"<item><title>{t}</title><link>{web.url(f'/{site}/{p}.html')}</link>"
        f"<author>desk@{site}.example (News Desk)</author>"
        f"<pubDate>Tue, 04 Mar 2025 08:00:00 GMT</pubDate></item>"
        for t, p in (("Heat pump grants double from April", "wire"), (f"{site} news", "own")))
    return web.add(f"/{site}/feed.rss", f'<?xml version="1.0"?><rss version="2.0"><channel>'
                   f"<title>{site}</title>{items}</channel></rss>", "application/rss+xml")


def _radar(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "radar.app.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, env=os.environ.copy())


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp, LocalWeb() as web:
        offline_env(mp)
        story = paragraphs("wire-story", n=5, words=70)
        feeds = {site: _wire_feed(web, site, story, f"By {who}, Press Association")
                 for site, who in (("northgazette", "Ann Reporter"), ("southherald", "Ben Writer"),
                                   ("eastpost", "Cy Editor"))}
        build_discourse(web, "/forum", topics=2, long_topic_posts=3)
        folder = tmp_path_factory.mktemp("cli")
        cfg = make_project(folder, [source(s, "feed", u, "news") for s, u in feeds.items()] + [
            source("forum", "forum", web.url("/forum"), "citizen"),
            source("gone", "feed", "http://127.0.0.1:9/feed.rss", "news"),
        ], retry_times=0)
        result = _radar("--log-level", "debug", "crawl", "--config", str(folder / "radar.toml"),
                        cwd=folder)
        yield {"cfg": cfg, "result": result, "folder": folder, "web": web}


def test_crawl_prints_a_summary_and_exits_0_when_some_sources_fail(cli_run):
    result = cli_run["result"]
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    for name in ("northgazette", "southherald", "eastpost", "forum", "gone"):
        assert name in out
    assert "failed" in out and "connection refused" in out
    assert "new documents" in out


def test_syndicated_wire_story_is_one_document_carried_by_three_sources(cli_run):
    cfg = cli_run["cfg"]
    (doc_id, n_docs) = rows(cfg, "SELECT min(doc_id), count(*) FROM documents "
                                 "WHERE title = 'Heat pump grants double from April'")[0]
    assert n_docs == 1
    carriers = rows(cfg, "SELECT source FROM document_sources WHERE doc_id = ? ORDER BY 1",
                    [doc_id])
    assert [c for (c,) in carriers] == ["eastpost", "northgazette", "southherald"]
    (own,) = rows(cfg, "SELECT count(*) FROM documents WHERE title LIKE '% news'")[0]
    assert own == 3  # each site's own story stays its own document


def test_no_raw_author_name_in_the_logs_even_at_debug_level(cli_run):
    result = cli_run["result"]
    assert "DEBUG" in result.stderr  # the crawl really logged at debug level
    assert PLANTED_AUTHOR not in result.stderr and PLANTED_AUTHOR not in result.stdout
    assert "News Desk" not in result.stderr


def test_a_run_where_every_source_fails_exits_1(tmp_path, monkeypatch):
    offline_env(monkeypatch)
    make_project(tmp_path, [source("gone", "feed", "http://127.0.0.1:9/feed.rss", "news")],
                 retry_times=0)
    result = _radar("crawl", "--config", str(tmp_path / "radar.toml"), cwd=tmp_path)
    assert result.returncode == 1
    assert "gone" in result.stdout and "failed" in result.stdout
    (status, errors) = rows(__import__("radar.core.config", fromlist=["load_config"]).load_config(
        tmp_path / "radar.toml"), "SELECT status, errors FROM crawl_runs")[0]
    assert status == "failed" and errors == 1


def test_unknown_source_name_is_a_clear_error(tmp_path, monkeypatch):
    offline_env(monkeypatch)
    make_project(tmp_path, [source("a", "feed", "http://127.0.0.1:9/feed.rss", "news")])
    result = _radar("crawl", "--source", "nope", "--config", str(tmp_path / "radar.toml"),
                    cwd=tmp_path)
    assert result.returncode == 2
    assert "no source named 'nope'" in result.stderr and "known: a" in result.stderr


def test_scrapy_crawl_runs_one_source(tmp_path, monkeypatch):
    offline_env(monkeypatch)
    with LocalWeb() as web:
        web.add("/a.html", article_html("Scrapy command", paragraphs("scrapy-cmd", n=3)))
        feed = web.add("/feed.rss", '<?xml version="1.0"?><rss version="2.0"><channel><item>'
                       f'<title>Scrapy command</title><link>{web.url("/a.html")}</link></item>'
                       "</channel></rss>", "application/rss+xml")
        cfg = make_project(tmp_path, [source("news", "feed", feed, "news")])
        result = subprocess.run(
            [sys.executable, "-m", "scrapy", "crawl", "feed", "-a", "source=news", "-a",
             f"config={tmp_path / 'radar.toml'}", "-s", "LOG_LEVEL=WARNING"],
            cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
    assert rows(cfg, "SELECT title, source FROM documents") == [("Scrapy command", "news")]
    assert rows(cfg, "SELECT status, new_documents FROM crawl_runs") == [("ok", 1)]


def test_a_misconfigured_source_fails_alone_with_its_reason(tmp_path, monkeypatch):
    offline_env(monkeypatch)
    with LocalWeb() as web:
        web.add("/a.html", article_html("Still crawled", paragraphs("still", n=3)))
        feed = web.add("/feed.rss", '<?xml version="1.0"?><rss version="2.0"><channel><item>'
                       f'<title>Still crawled</title><link>{web.url("/a.html")}</link></item>'
                       "</channel></rss>", "application/rss+xml")
        cfg = make_project(tmp_path, [
            source("news", "feed", feed, "news"),
            source("papers", "listing", web.url("/papers.html"), "policy"),  # no link rule
        ])
        result = _radar("crawl", "--config", str(tmp_path / "radar.toml"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    runs = dict(rows(cfg, "SELECT source, status FROM crawl_runs"))
    assert runs == {"news": "ok", "papers": "failed"}
    (reason,) = rows(cfg, "SELECT reason FROM fetch_errors WHERE source = 'papers'")[0]
    assert "a listing needs link_selector or link_pattern" in reason
    assert rows(cfg, "SELECT title FROM documents") == [("Still crawled",)]

"""A batch that fails to commit leaves no crawl state behind: the feed's ETag is not saved, the
lost entries are fetched again by the next crawl, and the run says what happened."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from crawl_web import (
    LocalWeb,
    article_html,
    make_project,
    offline_env,
    paragraphs,
    rows,
    source,
)

from crawlers.batches import Batch
from crawlers.run import crawl_sources
from crawlers.writer import SharedWriter

# Runs one crawl in a fresh process whose first write of documents fails (a disk full, a
# killed connection), as the real crawl child does: same run_crawl, same writer.
FAILING_CRAWL = textwrap.dedent("""
    import sys
    from crawlers import batches as store
    from crawlers.run import run_crawl
    from radar.core.config import load_config

    real = store.flush
    state = {"failed": False}

    def flaky(path, batch, finished=None):
        if batch.new and not state["failed"]:
            state["failed"] = True
            raise OSError("No space left on device")
        return real(path, batch, finished)

    store.flush = flaky
    cfg = load_config(sys.argv[1])
    summary = run_crawl(cfg, [s.name for s in cfg.sources], None)[0]
    print(summary.status, summary.new_documents)
""")


def test_a_failed_batch_is_fetched_again_and_the_feed_etag_is_not_saved(tmp_path, monkeypatch):
    with LocalWeb() as web:
        offline_env(monkeypatch)
        items = ""
        for i in range(3):
            web.add(f"/a/{i}.html", article_html(f"Story {i}", paragraphs(f"fb-{i}", n=3)))
            items += f"<item><title>Story {i}</title><link>{web.url(f'/a/{i}.html')}</link></item>"
        web.add("/feed.rss", f'<rss version="2.0"><channel><title>F</title>{items}</channel></rss>',
                "application/rss+xml")
        # batch_size 1: every document is its own transaction, so only the first is lost.
        cfg = make_project(tmp_path, [source("news", "feed", web.url("/feed.rss"), "news")],
                           batch_size=1, extract_processes=0)
        out = subprocess.run([sys.executable, "-c", FAILING_CRAWL, str(cfg.path)],
                             capture_output=True, text=True, timeout=300, check=True)
        assert out.stdout.split()[0] == "partial"
        stored = rows(cfg, "SELECT count(*) FROM documents")[0][0]
        assert stored == 2
        assert rows(cfg, "SELECT count(*) FROM crawl_state WHERE kind = 'index'") == [(0,)]
        run = rows(cfg, "SELECT status, finished_at IS NOT NULL FROM crawl_runs")
        assert run == [("partial", True)]
        reasons = [r for (r,) in rows(cfg, "SELECT reason FROM fetch_errors")]
        assert any("could not write 1 documents" in r and "No space left" in r for r in reasons)

        web.clear_log()
        again = crawl_sources(cfg)[0]
        # The feed was asked without validators (none saved), the lost story came back.
        assert "If-None-Match" not in web.requests_for("/feed.rss")[0].headers
        assert again.new_documents == 1
        titles = sorted(t for (t,) in rows(cfg, "SELECT title FROM documents"))
        assert titles == ["Story 0", "Story 1", "Story 2"]
        # A clean run saves the feed's validators: the third crawl gets a 304.
        assert rows(cfg, "SELECT count(*) FROM crawl_state WHERE kind = 'index'") == [(1,)]


def test_the_writer_drops_index_state_of_a_source_that_lost_rows(warehouse_path):
    from radar.core import warehouse
    from radar.core.documents import utcnow

    now = utcnow()
    writer = SharedWriter(warehouse_path, batch_size=100)
    writer.run_ids["s"] = 1
    bad = Batch(new=[{"doc_id": None, "url": "http://x/a", "source": "s", "channel": "news",
                      "text": "t", "content_hash": "h", "fetched_at": None}])
    writer.batch = bad
    writer.flush()
    writer.batch.state["http://x/feed"] = row = {
        "url": "http://x/feed", "source": "s", "kind": "index", "etag": '"e"',
        "last_modified": None, "marker": None, "content_hash": None, "doc_id": None,
        "complete": True, "first_seen": now, "last_fetched": now, "last_changed": None}
    writer.close()
    assert writer.failure
    assert writer.failed_sources == {"s"}
    assert warehouse.query(warehouse_path, "SELECT count(*) FROM crawl_state") == [(0,)]
    # The same index row from a source that lost nothing is saved.
    writer = SharedWriter(warehouse_path, batch_size=100)
    writer.batch.state["http://x/feed"] = {**row, "source": "t"}
    writer.close()
    assert warehouse.query(warehouse_path, "SELECT source FROM crawl_state") == [("t",)]

"""Past one machine, all at once: on DuckLake + a real PostgreSQL, a crawl round shared by
a coordinator and two `radar crawl --worker` processes through a real Redis, and a
`radar analyze` of documents imported before, all writing at the same time while the
dashboard's own queries read the warehouse. Nothing is lost, nothing stored twice, every
process ends cleanly and every read sees a consistent, growing warehouse."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time

import pytest
from crawl_web import LocalWeb, article_html, offline_env, paragraphs
from demo_helpers import fast_crawl
from test_crawl_distributed import _finish, _logged_worker, _wait_until_polling, _worker_pages

from crawlers.importer import import_file
from dashboard import queries
from radar.app.init_project import config_template, init_project
from radar.core import warehouse
from radar.core.config import load_config
from tests.conftest import FIXTURES, use_lake

N_ARTICLES = 20


def _comments(limit: int) -> list[str]:
    texts = []
    for name in ("scoop-hivemind.biodiversity", "scoop-hivemind.taxes", "15-per-hour-seattle"):
        with open(FIXTURES / "polis" / f"{name}.csv", encoding="utf-8") as fh:
            texts += [r["comment-body"] for r in csv.DictReader(fh) if r["comment-body"].strip()]
    return texts[:limit]


def _radar(args: list[str], cwd) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "from radar.app.cli import main; main()", *args],
                            cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=os.environ.copy())


@pytest.mark.slow
def test_two_crawl_workers_and_an_analysis_write_at_once_while_the_dashboard_reads(
        tmp_path, salt, monkeypatch, lake_catalog, redis_proc, redisdb):
    monkeypatch.chdir(tmp_path)
    offline_env(monkeypatch)
    project = tmp_path / "radar.toml"
    project.write_text(config_template(), encoding="utf-8")
    use_lake(project, lake_catalog)
    init_project(project)
    cfg = load_config(project)
    # Documents for the analysis, imported before the crawl starts.
    rows = tmp_path / "earlier.jsonl"
    rows.write_text("".join(json.dumps({
        "text": t, "source": "consultation", "channel": "news",
        "url": f"https://city.example/c/{i}", "published_at": f"2026-0{1 + i % 6}-12"}) + "\n"
        for i, t in enumerate(_comments(160))), encoding="utf-8")
    imported = import_file(rows, cfg.warehouse_path).new_documents
    assert imported > 100
    with LocalWeb() as web:
        links = [web.add(f"/a/{i}.html", article_html(f"Story {i}", paragraphs(f"scale-{i}", 3)),
                         delay=0.5) for i in range(N_ARTICLES)]
        items = "".join(f"<item><title>Story {i}</title><link>{link}</link></item>"
                        for i, link in enumerate(links))
        feed = web.add("/feed.rss", f'<rss version="2.0"><channel><title>F</title>{items}'
                                    "</channel></rss>", "application/rss+xml")
        queue = f"redis://{redis_proc.host}:{redis_proc.port}/0"
        text = fast_crawl(project.read_text(encoding="utf-8"))
        text = text.replace('queue = ""', f'queue = "{queue}"', 1)
        text += (f'\n[[sources]]\nname = "news"\ntype = "feed"\nurl = "{feed}"\n'
                 'channel = "news"\n')
        project.write_text(text, encoding="utf-8")
        cfg = load_config(project)
        assert cfg.crawl.queue == queue and cfg.crawl.allow_networks
        args = ["crawl", "--config", str(project)]
        workers = [_logged_worker([*args, "--worker", "--idle", "8"], tmp_path / f"w{i}.err")
                   for i in range(2)]
        _wait_until_polling(workers)
        coordinator = _radar([*args, "--idle", "3"], tmp_path)
        analysis = _radar(["analyze", "--config", str(project)], tmp_path)
        # The dashboard's own queries, throughout.
        seen = []
        while coordinator.poll() is None or analysis.poll() is None:
            s = queries.summary(str(cfg.warehouse_path))
            seen.append((s["documents"], s["passages"]))
            time.sleep(0.5)
        results = _finish([w for w, _ in workers] + [coordinator, analysis], timeout=300)
    results[:2] = [(code, out, log.read_text())
                   for (code, out, _), (_, log) in zip(results, workers, strict=False)]
    for code, out, err in results:
        assert code == 0, (out, err)
        assert "Traceback" not in err
    assert all(p > 0 for p in _worker_pages(results)), results
    assert "passages" in results[3][1]  # the analysis ran to its summary line
    # Every article once, beside the imported documents; the analysis saw what was there.
    docs = warehouse.query(cfg.warehouse_path,
                           "SELECT source, count(*), count(DISTINCT canonical_url) FROM documents "
                           "GROUP BY source ORDER BY source")
    assert docs == [("consultation", imported, imported), ("news", N_ARTICLES, N_ARTICLES)]
    (passages,) = warehouse.query(cfg.warehouse_path, "SELECT count(*) FROM passages")[0]
    assert passages >= imported
    # The reads overlapped the writes and never went backwards.
    assert len(seen) >= 3
    documents, passages_seen = [d for d, _ in seen], [p for _, p in seen]
    assert documents == sorted(documents) and passages_seen == sorted(passages_seen)
    assert documents[0] >= imported
    assert any(d < imported + N_ARTICLES for d, _ in seen)  # read while the crawl wrote

"""Distributed crawling: real `radar crawl` and `radar crawl --worker` processes share one
request queue in a real Redis (pytest-redis starts /usr/bin/redis-server) and crawl
loopback web servers into one warehouse.

Every article lands exactly once and both workers do work; the network policy still
refuses 127.0.0.2 and records it; a worker killed with SIGKILL mid-crawl loses nothing
(the next round fetches what it had popped); a bad queue URL or a Redis that is down is
one clear line and an exit code, not a traceback.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from crawl_web import LocalWeb, article_html, make_project, offline_env, paragraphs, rows, source

from radar.app.cli import cli


def _radar(args: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "from radar.app.cli import main; main()", *args],
                            cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=os.environ.copy())


def _feed(web: LocalWeb, path: str, links: list[str]) -> str:
    items = "".join(f"<item><title>Story {link.rsplit('/', 1)[-1]}</title><link>{link}</link>"
                    "</item>" for link in links)
    return web.add(path, f'<rss version="2.0"><channel><title>F</title>{items}</channel></rss>',
                   "application/rss+xml")


def _articles(web: LocalWeb, n: int, delay: float, tag: str) -> list[str]:
    return [web.add(f"/a/{i}.html", article_html(f"Story {i}.html", paragraphs(f"{tag}-{i}", 3)),
                    delay=delay) for i in range(n)]


@pytest.fixture
def queue(redis_proc, redisdb) -> str:
    """The URL of a fresh Redis database (pytest-redis empties it after each test)."""
    return f"redis://{redis_proc.host}:{redis_proc.port}/0"


def _finish(procs: list[subprocess.Popen], timeout: float = 120) -> list[tuple[int, str, str]]:
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=timeout)
        out.append((p.returncode, stdout, stderr))
    return out


@pytest.mark.slow
def test_two_workers_share_the_queue_every_article_once_refusal_recorded(
        tmp_path, monkeypatch, queue):
    n = 24
    with LocalWeb() as web, LocalWeb("127.0.0.2") as private:
        offline_env(monkeypatch)
        links = _articles(web, n, delay=0.6, tag="two")
        secret = private.add("/internal.html", article_html("Internal", paragraphs("in", 3)))
        _feed(web, "/feed.rss", [*links, secret])
        # A second feed carries five of the same articles: the race for one story.
        _feed(web, "/wire.rss", links[:5])
        cfg = make_project(tmp_path, [source("news", "feed", web.url("/feed.rss"), "news"),
                                      source("wire", "feed", web.url("/wire.rss"), "news")],
                           queue=queue, concurrency_per_domain=2, concurrency=8, batch_size=50)
        # The workers wait for the seeding crawl (it says so in Redis while it starts); all
        # stop once the queue is drained and nobody has been busy for a few seconds. The
        # seeding crawl starts once both workers poll the queue, so both can take work.
        args = ["crawl", "--config", str(cfg.path)]
        workers = [_logged_worker([*args, "--worker", "--idle", "8"], tmp_path / f"w{i}.err")
                   for i in range(2)]
        _wait_until_polling(workers)
        seeding = _finish([_radar([*args, "--idle", "3"], tmp_path)])
        # The round ends with every fetched document committed, the workers' too (they hold
        # up to 50 rows in their batch): `radar run` analyses right after its crawl.
        at_round_end = rows(cfg, "SELECT count(*) FROM documents")[0][0]
        results = _finish([w for w, _ in workers]) + seeding
        results[:2] = [(code, out, log.read_text())
                       for (code, out, _), (_, log) in zip(results, workers, strict=False)]
        assert not private.hits, "127.0.0.2 must never be fetched"
    for code, _out, err in results:
        assert code == 0, err
        assert "Traceback" not in err
    assert rows(cfg, "SELECT count(*), count(DISTINCT canonical_url) FROM documents") == [(n, n)]
    assert at_round_end == n
    carriers = dict(rows(cfg, "SELECT source, count(*) FROM document_sources GROUP BY source"))
    assert carriers == {"news": n, "wire": 5}
    refused = rows(cfg, "SELECT reason FROM fetch_errors WHERE url = ?", [secret])
    assert len(refused) == 1 and "network policy" in refused[0][0]
    runs = rows(cfg, "SELECT source, status, pages, new_documents FROM crawl_runs "
                     "ORDER BY run_id")
    assert len(runs) == 6 and {s for _, s, _, _ in runs} <= {"ok", "partial"}
    # Each process opened one run per source.
    pages = {}
    for src, _, n_pages, _ in runs:
        pages[src] = pages.get(src, 0) + n_pages
    # The feed and each article once (the refused link is no page); the wire feed, and the
    # articles its process had not stored itself.
    assert pages["news"] == n + 1 and 1 <= pages["wire"] <= 6
    news_new = sum(new for src, _, _, new in runs if src == "news")
    wire_new = sum(new for src, _, _, new in runs if src == "wire")
    assert news_new + wire_new == n  # counted once, by whichever process stored it
    worker_pages = _worker_pages(results)
    assert all(p > 0 for p in worker_pages), (worker_pages, results)


def _worker_pages(results) -> list[int]:
    """Pages each `--worker` process fetched, from its summary line on stdout."""
    return [int(out.split("pages fetched: ")[1].split()[0]) for _, out, _ in results[:2]]


def _logged_worker(args: list[str], log: Path) -> tuple[subprocess.Popen, Path]:
    """A `radar crawl --worker` whose log (info level) goes to `log`; stdout is piped."""
    with log.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from radar.app.cli import main; main()", "--log-level",
             "info", *args], cwd=log.parent, stdout=subprocess.PIPE, stderr=err, text=True,
            env=os.environ.copy())
    return proc, log


def _wait_until_polling(workers, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not all("Spider opened" in log.read_text() for _, log in workers):
        assert time.monotonic() < deadline, "the workers did not start"
        assert all(p.poll() is None for p, _ in workers), "a worker ended early"
        time.sleep(0.1)


@pytest.mark.slow
def test_a_worker_killed_mid_crawl_loses_nothing_after_the_next_round(
        tmp_path, monkeypatch, queue):
    import redis

    n = 30
    with LocalWeb() as web:
        offline_env(monkeypatch)
        links = _articles(web, n, delay=1.0, tag="kill")
        _feed(web, "/feed.rss", links)
        # Each process holds two requests at a time, each a second long.
        cfg = make_project(tmp_path, [source("news", "feed", web.url("/feed.rss"), "news")],
                           queue=queue, concurrency_per_domain=2, concurrency=8, batch_size=1)
        # The victim runs the same radar under its own contact, so its requests are known.
        victim_toml = tmp_path / "victim.toml"
        victim_toml.write_text(cfg.path.read_text().replace("radar-tests@", "victim@"))
        args = ["crawl", "--config", str(cfg.path)]
        seeder = _radar([*args, "--idle", "3"], tmp_path)
        client = redis.Redis.from_url(queue)
        # The victim starts once the queue holds work: started first, a slow start of the
        # seeder (a loaded machine) could leave it idle past --idle and gone.
        deadline = time.monotonic() + 120
        while client.zcard("radar:news:requests") == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        victim = _radar(["crawl", "--config", str(victim_toml), "--worker", "--idle", "3"],
                        tmp_path)
        while time.monotonic() < deadline:
            with web._lock:
                taken = sum("victim@" in h.headers.get("User-Agent", "") for h in web.hits)
            if taken >= 2:  # it works the queue, two requests at a time
                break
            time.sleep(0.05)
        assert client.zcard("radar:news:requests") > 0, "kill it while work is left"
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        [(code, _, err)] = _finish([seeder])
        assert code == 0, err
        before = rows(cfg, "SELECT count(*) FROM documents")[0][0]
        assert before < n, "the killed worker's requests are lost for this round"
        assert ("running",) in rows(cfg, "SELECT status FROM crawl_runs")

        rerun = _radar([*args, "--idle", "2"], tmp_path)
        out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    assert "marked interrupted" in err
    assert rows(cfg, "SELECT count(*), count(DISTINCT canonical_url) FROM documents") == [(n, n)]
    assert rows(cfg, "SELECT count(*) FROM document_sources") == [(n,)]
    statuses = sorted(s for (s,) in rows(cfg, "SELECT status FROM crawl_runs"))
    assert statuses == ["interrupted", "ok", "ok"]
    assert int(out.split("pages fetched: ")[1].split()[0]) == 1 + n - before


@pytest.mark.slow
def test_redis_lost_mid_round_ends_the_crawl_with_its_reason(tmp_path, monkeypatch):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(["/usr/bin/redis-server", "--port", str(port), "--bind", "127.0.0.1",
                               "--save", "", "--appendonly", "no"], cwd=tmp_path,
                              stdout=subprocess.DEVNULL)
    try:
        with LocalWeb() as web:
            offline_env(monkeypatch)
            _feed(web, "/feed.rss", _articles(web, 12, delay=1.0, tag="lost"))
            cfg = make_project(tmp_path, [source("news", "feed", web.url("/feed.rss"), "news")],
                               queue=f"redis://127.0.0.1:{port}/0", concurrency_per_domain=2,
                               concurrency=8, batch_size=1)
            crawl = _radar(["crawl", "--config", str(cfg.path), "--idle", "3"], tmp_path)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not rows(cfg, "SELECT count(*) FROM documents"
                                                             )[0][0]:
                time.sleep(0.1)
            server.kill()
            out, err = crawl.communicate(timeout=60)  # it does not wait for Redis forever
    finally:
        server.kill()
        server.wait()
    assert crawl.returncode == 0, err  # what it stored is stored: a partial run
    assert "lost the crawl queue" in out and "Traceback" not in err
    [(status, done)] = rows(cfg, "SELECT status, finished_at IS NOT NULL FROM crawl_runs")
    assert (status, done) == ("partial", True)
    reasons = [r for (r,) in rows(cfg, "SELECT reason FROM fetch_errors")]
    assert any(r.startswith("lost the crawl queue (ConnectionError") for r in reasons), reasons


def _project_with_queue(tmp_path, url: str):
    cfg = make_project(tmp_path, [source("news", "feed", "http://127.0.0.1:9/feed.rss", "news")],
                       queue="redis://127.0.0.1:9/0")
    text = cfg.path.read_text().replace('"redis://127.0.0.1:9/0"', f'"{url}"')
    cfg.path.write_text(text)
    return cfg.path


def test_redis_down_is_one_clear_line_and_exit_4(tmp_path, monkeypatch):
    offline_env(monkeypatch)
    path = _project_with_queue(tmp_path, "redis://127.0.0.1:9/0")  # nothing listens on 9
    for extra in ([], ["--worker"]):
        result = CliRunner().invoke(cli, ["crawl", "--config", str(path), *extra])
        assert result.exit_code == 4, result.output
        assert "cannot reach the crawl queue redis://127.0.0.1:9/0" in result.output
        assert "Traceback" not in result.output
    assert rows_of(path, "SELECT count(*) FROM crawl_runs") == [(0,)]


@pytest.mark.parametrize("url, says", [
    ("http://127.0.0.1:6379/0", "expected a redis://, rediss:// or unix:// URL"),
    ("redis://:s3cret@127.0.0.1:6379/0", "do not put the password in radar.toml"),
    ("redis://127.0.0.1:6379/zero", "the database after the host must be a number"),
    ("redis://127.0.0.1:99999/0", "not a valid URL"),
])
def test_a_bad_queue_url_is_a_config_error_naming_the_key(tmp_path, monkeypatch, url, says):
    offline_env(monkeypatch)
    path = _project_with_queue(tmp_path, url)
    result = CliRunner().invoke(cli, ["crawl", "--config", str(path), "--worker"])
    assert result.exit_code == 2, result.output
    assert "crawl.queue" in result.output and says in result.output
    assert "s3cret" not in result.output and "Traceback" not in result.output


def test_worker_without_a_queue_says_what_to_configure(tmp_path, monkeypatch):
    offline_env(monkeypatch)
    cfg = make_project(tmp_path, [source("news", "feed", "http://127.0.0.1:9/f.rss", "news")])
    for extra in (["--worker"], ["--idle", "5"]):
        result = CliRunner().invoke(cli, ["crawl", "--config", str(cfg.path), *extra])
        assert result.exit_code == 2, result.output
        assert "[crawl] queue" in result.output


def test_the_queue_password_comes_from_the_environment(monkeypatch):
    from crawlers.distributed import queue_url
    from radar.core.config import CrawlConfig

    crawl = CrawlConfig(queue="redis://radar@10.0.0.5:6379/2")
    monkeypatch.delenv("RADAR_QUEUE_PASSWORD", raising=False)
    assert queue_url(crawl) == "redis://radar@10.0.0.5:6379/2"
    monkeypatch.setenv("RADAR_QUEUE_PASSWORD", "p@ss/word")
    assert queue_url(crawl) == "redis://radar:p%40ss%2Fword@10.0.0.5:6379/2"
    monkeypatch.setenv("OTHER", "x")
    assert queue_url(CrawlConfig(queue="redis://h/0", queue_password_env="OTHER")) == \
        "redis://:x@h/0"


def rows_of(config_path: Path, sql: str):
    from radar.core import warehouse
    from radar.core.config import load_config

    return warehouse.query(load_config(config_path).warehouse_path, sql)


def _doc(doc_id: str, url: str, chash: str, source: str = "news", channel: str = "news",
         author: str | None = None) -> dict:
    from radar.core.documents import utcnow

    return {"doc_id": doc_id, "url": url, "canonical_url": url, "title": "t", "text": "x",
            "published_at": None, "fetched_at": utcnow(), "source": source, "channel": channel,
            "language": "en", "author_hash": author, "content_hash": chash}


def _state(url: str, doc_id: str, source: str) -> dict:
    from radar.core.documents import utcnow

    now = utcnow()
    return {"url": url, "source": source, "kind": "document", "etag": None,
            "last_modified": None, "marker": None, "content_hash": "h", "doc_id": doc_id,
            "complete": True, "first_seen": now, "last_fetched": now, "last_changed": None}


def test_a_story_another_process_stored_meanwhile_becomes_a_carrier(warehouse_path):
    """The write-time reconciliation: same id, same content, near-duplicate fingerprint,
    and a citizen post with the same words by another author (a different voice: kept)."""
    from crawlers.batches import Batch, flush
    from crawlers.dedup import to_signed
    from crawlers.reconcile import Reconciler
    from radar.core import warehouse
    from radar.core.documents import utcnow

    fp = (1 << 63) | 0b1011  # a fingerprint with the top bit set (negative as BIGINT)
    since = utcnow()
    # Process A stores three stories.
    flush(warehouse_path, Batch(
        new=[_doc("a1", "http://x/1", "h1"), _doc("a2", "http://x/2", "h2"),
             _doc("c1", "http://f/t/1", "hc", "forum", "citizen", "alice")],
        fingerprints=[{"doc_id": "a2", "simhash": to_signed(fp), "n_words": 300}]))
    # Process B met the same stories under its own decisions, without knowing A's rows.
    b = Reconciler(since, near_bits=3)
    batch = Batch(
        new=[_doc("a1", "http://x/1", "h1", "wire"),              # same URL: same id
             _doc("b2", "http://y/copy", "h1", "wire"),           # same text, other URL
             _doc("b3", "http://y/near", "h3", "wire"),           # 2 bits from a2's fingerprint
             _doc("b4", "http://y/own", "h4", "wire"),            # a story of its own
             _doc("c2", "http://f/t/2", "hc", "forum", "citizen", "bob")],
        fingerprints=[{"doc_id": "b3", "simhash": to_signed(fp ^ 0b11), "n_words": 300},
                      {"doc_id": "b4", "simhash": to_signed(fp ^ 0xFFFF0000), "n_words": 300}],
        state={"http://y/copy": _state("http://y/copy", "b2", "wire")})
    with warehouse.write(warehouse_path) as con:
        run = con.execute("INSERT INTO crawl_runs (source, started_at, status) "
                          "VALUES ('wire', now(), 'running') RETURNING run_id").fetchone()[0]
    finished = [{"run_id": run, "source": "wire", "finished_at": utcnow(), "pages": 5,
                 "new_documents": 4, "errors": 0, "status": "ok"}]
    flush(warehouse_path, batch, finished, reconcile=b)
    docs = {d for (d,) in warehouse.query(warehouse_path, "SELECT doc_id FROM documents")}
    assert docs == {"a1", "a2", "c1", "b4", "c2"}
    carried = set(warehouse.query(warehouse_path, "SELECT doc_id FROM document_sources "
                                                  "WHERE source = 'wire'"))
    assert carried == {("a1",), ("a2",), ("b4",)}  # one row per story and source
    assert warehouse.query(warehouse_path, "SELECT doc_id FROM crawl_state "
                                           "WHERE url = 'http://y/copy'") == [("a1",)]
    assert b.demoted == {"wire": 3}
    assert warehouse.query(warehouse_path, "SELECT new_documents FROM crawl_runs "
                                           "WHERE source = 'wire'") == [(1,)]
    # B's later rows about its own id for the copy point at the stored story.
    flush(warehouse_path, Batch(carriers=[{"doc_id": "b2", "source": "mirror",
                                           "url": "http://z/copy"}]), reconcile=b)
    assert warehouse.query(warehouse_path, "SELECT doc_id FROM document_sources "
                                           "WHERE source = 'mirror'") == [("a1",)]


def test_crawl_processes_share_the_writer_lock_other_writers_wait(tmp_path):
    """Crawl processes of one round hold the writer lock together; the first one settles
    what dead ones left; a command that needs the warehouse alone is refused meanwhile, and
    a crawl process is refused while such a command runs."""
    from radar.core.locks import WriterLocked, shared_writer_lock, writer_lock

    path = tmp_path / "radar.duckdb"
    settled = []
    with shared_writer_lock(path, "radar crawl", lambda: settled.append(1) or ["1 row"]) as a:
        with shared_writer_lock(path, "radar crawl --worker", lambda: settled.append(2)) as b:
            assert (a, b, settled) == (["1 row"], None, [1])
            with pytest.raises(WriterLocked, match="shared by the crawl processes"):
                with writer_lock(path, "radar analyze"):
                    pass
    with writer_lock(path, "radar analyze"):
        with pytest.raises(WriterLocked, match="radar analyze"):
            with shared_writer_lock(path, "radar crawl --worker", lambda: None, wait=0.5):
                pass
    with shared_writer_lock(path, "radar crawl", lambda: "settled again") as c:
        assert c == "settled again"


def test_the_scheduled_crawl_starts_a_round_in_the_shared_queue(tmp_path, monkeypatch):
    """`radar run` / `radar serve` crawl through the queue when one is configured (here
    one that is down: the crawl stage says so, the other stages go on)."""
    from crawlers.distributed import QueueUnavailable
    from radar.app.pipeline import crawl_stage
    from radar.core.config import load_config

    offline_env(monkeypatch)
    path = _project_with_queue(tmp_path, "redis://127.0.0.1:9/0")
    with pytest.raises(QueueUnavailable, match="cannot reach the crawl queue"):
        crawl_stage(load_config(path))


def test_requests_travel_through_redis_as_json_not_pickle():
    """What the feed spider queues (a feed entry with its struct_time date, headers, a
    body) comes back equal; a request naming a class that is not Scrapy's is refused."""
    import pickle

    import scrapy

    from crawlers.shared_queue import dumps, loads

    request = scrapy.Request(
        "http://127.0.0.1/a", meta={"conditional": True, "redirect_urls": ["http://127.0.0.1/b"]},
        cb_kwargs={"entry": {"published": time.gmtime(1_700_000_000), "title": "T"},
                   "pair": ("a", 1)},
        headers={"If-None-Match": '"x"'}, body=b"\x00\xff")
    data = request.to_dict()
    encoded = dumps(data)
    assert encoded.startswith(b"{") and b"pickle" not in encoded
    assert loads(encoded) == data
    assert loads(encoded)["cb_kwargs"]["entry"]["published"].tm_year == 2023
    with pytest.raises(ValueError, match="refused a queued request of class"):
        loads(dumps({**data, "_class": "subprocess.Popen"}))
    with pytest.raises(ValueError):
        loads(pickle.dumps(data))

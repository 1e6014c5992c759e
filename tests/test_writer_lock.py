"""One writer at a time: every writing command takes the warehouse's writer lock (exit 3 with a
clear message when another holds it); runs left "running" by a dead process are marked
interrupted by the next writer and their work resumes; a `radar crawl` killed with SIGKILL
leaves no run running and no document twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from crawl_web import LocalWeb, article_html, make_project, offline_env, paragraphs, rows, source

from radar.app.cli import cli
from radar.core import warehouse
from radar.core.locks import WriterLocked, writer_lock

HOLD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from radar.core.locks import writer_lock
    with writer_lock(Path(sys.argv[1]), "radar crawl"):
        print("held", flush=True)
        time.sleep(120)
""")


@pytest.fixture
def holder(warehouse_path):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(warehouse_path)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    yield proc
    proc.kill()
    proc.wait()


@pytest.mark.parametrize("args", [
    ["import", "{rows}"],
    ["crawl"],
    ["analyze"],
    ["alert"],
    ["run"],
    ["subscriptions", "add", "ann@city.example"],
    ["subscriptions", "pause", "1"],
])
def test_every_writing_command_exits_3_while_another_writes(args, holder, project, tmp_path):
    data = tmp_path / "rows.jsonl"
    data.write_text(json.dumps({"text": "x", "source": "s", "channel": "news"}) + "\n")
    argv = [a.format(rows=data) for a in args] + ["--config", str(project)]
    if args[0] == "crawl":  # crawl needs a source to get as far as the lock
        with project.open("a") as fh:
            fh.write('\n[[sources]]\nname = "n"\ntype = "feed"\nurl = "http://127.0.0.1:9/f"\n'
                     'channel = "news"\n')
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 3, result.output
    assert "another radar run is in progress (radar crawl, pid " in result.output
    assert f"pid {holder.pid}" in result.output
    assert warehouse.query(project.parent / "radar.duckdb",
                           "SELECT count(*) FROM documents") == [(0,)]


def test_reading_commands_do_not_wait_for_the_writer(holder, project):
    result = CliRunner().invoke(cli, ["status", "--config", str(project)])
    assert result.exit_code == 0, result.output
    dry = CliRunner().invoke(cli, ["alert", "--dry-run", "--config", str(project)])
    assert dry.exit_code == 0, dry.output


def test_the_lock_is_released_when_its_holder_is_killed(holder, warehouse_path):
    with pytest.raises(WriterLocked):
        with writer_lock(warehouse_path, "test"):
            pass
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with writer_lock(warehouse_path, "test"):
        pass


def test_runs_left_running_are_marked_interrupted_by_the_next_writer(project, tmp_path):
    wh = project.parent / "radar.duckdb"
    with warehouse.write(wh) as con:
        con.execute("INSERT INTO crawl_runs (source, started_at, status) "
                    "VALUES ('dead', now()::TIMESTAMP, 'running')")
    data = tmp_path / "rows.jsonl"
    data.write_text(json.dumps({"text": "Hello there.", "source": "s", "channel": "news"}) + "\n")
    result = CliRunner().invoke(cli, ["import", str(data), "--config", str(project)])
    assert result.exit_code == 0, result.output
    assert "marked interrupted" in result.output and "1 crawl_runs row" in result.output
    statuses = dict(warehouse.query(wh, "SELECT source, status FROM crawl_runs"))
    assert statuses == {"dead": "interrupted", "import:rows.jsonl": "ok"}
    finished = warehouse.query(wh, "SELECT finished_at IS NOT NULL FROM crawl_runs "
                                   "WHERE source = 'dead'")
    assert finished == [(True,)]


def _radar(args: list[str], cwd: Path, **kw):
    return subprocess.Popen([sys.executable, "-c", "from radar.app.cli import main; main()", *args],
                            cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=os.environ.copy(), **kw)


def test_sigkill_mid_crawl_then_rerun_every_document_exactly_once(tmp_path, monkeypatch):
    n = 30
    with LocalWeb() as web:
        offline_env(monkeypatch)
        items = ""
        for i in range(n):
            web.add(f"/a/{i}.html", article_html(f"Story {i}", paragraphs(f"kill-{i}", n=3)),
                    delay=0.4)
            items += f"<item><title>Story {i}</title><link>{web.url(f'/a/{i}.html')}</link></item>"
        web.add("/feed.rss", f'<rss version="2.0"><channel><title>F</title>{items}</channel></rss>',
                "application/rss+xml")
        cfg = make_project(tmp_path, [source("news", "feed", web.url("/feed.rss"), "news")],
                           batch_size=1, concurrency_per_domain=2)
        args = ["crawl", "--config", str(cfg.path)]
        first = _radar(args, tmp_path)
        deadline = time.monotonic() + 120
        stored = 0
        while time.monotonic() < deadline:
            stored = rows(cfg, "SELECT count(*) FROM documents")[0][0]
            if stored >= 4:
                break
            time.sleep(0.2)
        assert 4 <= stored < n, "the crawl should be killed part-way"
        first.send_signal(signal.SIGKILL)
        first.wait()
        time.sleep(1.5)  # the crawl child notices its parent is gone and ends
        before = rows(cfg, "SELECT count(*) FROM documents")[0][0]
        time.sleep(1.5)
        assert rows(cfg, "SELECT count(*) FROM documents")[0][0] == before  # nothing writes
        assert rows(cfg, "SELECT status FROM crawl_runs") == [("running",)]

        second = _radar(args, tmp_path)
        out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    assert "marked interrupted" in err
    statuses = sorted(s for (s,) in rows(cfg, "SELECT status FROM crawl_runs"))
    assert statuses == ["interrupted", "ok"]
    assert rows(cfg, "SELECT count(*), count(DISTINCT canonical_url) FROM documents") == [(n, n)]
    assert rows(cfg, "SELECT count(*) FROM document_sources") == [(n,)]
    titles = {t for (t,) in rows(cfg, "SELECT title FROM documents")}
    assert titles == {f"Story {i}" for i in range(n)}


def test_threads_of_one_process_wait_for_each_other_not_for_the_timeout(warehouse_path):
    """A write waits for another thread's read however long it takes (the file lock's
    timeout is for other processes), and a thread asking for a write inside its own read
    gets an error at once instead of waiting for itself."""
    import threading

    from radar.core.errors import WarehouseError

    reading, release, order = threading.Event(), threading.Event(), []

    def read():
        with warehouse.read(warehouse_path, timeout=0.2):
            reading.set()
            release.wait(10)
            order.append("read done")

    reader = threading.Thread(target=read)
    reader.start()
    assert reading.wait(10)
    threading.Timer(0.6, release.set).start()  # three times the write's timeout
    with warehouse.write(warehouse_path, timeout=0.2) as con:
        order.append("write")
        con.execute("SELECT 1")
    reader.join(10)
    assert order == ["read done", "write"]

    t0 = time.monotonic()
    with warehouse.read(warehouse_path):
        with pytest.raises(WarehouseError, match="already holds the warehouse"):
            with warehouse.write(warehouse_path, timeout=30):
                pass
    assert time.monotonic() - t0 < 5

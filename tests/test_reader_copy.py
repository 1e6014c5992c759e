"""Analysts read at any moment: another process opens the reader copy (`radar.read.duckdb`) with
plain duckdb, read-only, again and again throughout a real crawl and a real import; every
session gets in and sees a committed state that only grows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest
from crawl_web import LocalWeb, article_html, make_project, offline_env, paragraphs, rows, source

from radar.core import readcopy, warehouse

# An analyst: open read-only with duckdb itself (no radar code, no radar lock), count, close.
ANALYST = textwrap.dedent("""
    import json, sys, time, duckdb
    path, stop = sys.argv[1], sys.argv[2]
    import os
    tries, fails, counts = 0, [], []
    while not os.path.exists(stop):
        tries += 1
        try:
            con = duckdb.connect(path, read_only=True)
            counts.append(con.execute("SELECT count(*) FROM documents").fetchone()[0])
            con.close()
        except Exception as exc:
            fails.append(f"{type(exc).__name__}: {exc}")
        time.sleep(0.05)
    print(json.dumps({"tries": tries, "fails": fails, "counts": counts}))
""")


def _analyst(copy: Path, stop: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", ANALYST, str(copy), str(stop)],
                            stdout=subprocess.PIPE, text=True)


def _cli(args: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from radar.app.cli import main; main()", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=os.environ.copy())


def test_reader_copy_opens_throughout_a_crawl_and_an_import(tmp_path, monkeypatch):
    n = 24
    with LocalWeb() as web:
        offline_env(monkeypatch)
        items = ""
        for i in range(n):
            web.add(f"/a/{i}.html", article_html(f"Story {i}", paragraphs(f"rc-{i}", n=3)),
                    delay=0.3)
            items += f"<item><title>Story {i}</title><link>{web.url(f'/a/{i}.html')}</link></item>"
        web.add("/feed.rss", f'<rss version="2.0"><channel><title>F</title>{items}</channel></rss>',
                "application/rss+xml")
        cfg = make_project(tmp_path, [source("news", "feed", web.url("/feed.rss"), "news")],
                           batch_size=2)
        text = (tmp_path / "radar.toml").read_text()
        (tmp_path / "radar.toml").write_text("[warehouse]\nreader_copy_every = 1.0\n\n" + text)
        copy = readcopy.reader_copy_path(cfg.warehouse_path)
        assert copy.exists()  # published when `radar init` created the warehouse
        stop = tmp_path / "stop"
        analyst = _analyst(copy, stop)
        try:
            crawl = _cli(["crawl", "--config", str(cfg.path)], tmp_path)
            archive = tmp_path / "archive.jsonl"
            archive.write_text("\n".join(json.dumps({
                "url": f"https://archive.example/{i}", "text": f"Archived story number {i}.",
                "published_at": "2020-01-01", "source": "archive", "channel": "news"})
                for i in range(20_000)) + "\n")
            imported = _cli(["import", str(archive), "--config", str(cfg.path)], tmp_path)
            time.sleep(0.5)
        finally:
            stop.touch()
            out, _ = analyst.communicate(timeout=60)
    assert crawl.returncode == 0, crawl.stderr
    assert imported.returncode == 0, imported.stderr
    seen = json.loads(out)
    assert seen["fails"] == []
    assert seen["tries"] >= 40
    counts = seen["counts"]
    assert counts == sorted(counts)                 # only committed states, only growing
    assert counts[-1] == n + 20_000                 # the end of each command is published
    assert len(set(counts)) >= 3                    # states in between were published too
    # The copy is what the warehouse holds, and it is read-only on disk.
    assert rows(cfg, "SELECT count(*) FROM documents") == [(n + 20_000,)]
    assert copy.stat().st_mode & 0o777 == 0o444


def test_an_analyst_holding_the_copy_never_blocks_a_writer(warehouse_path):
    readcopy.publish(warehouse_path)
    copy = readcopy.reader_copy_path(warehouse_path)
    con = duckdb.connect(str(copy), read_only=True)  # an analyst's session stays open
    try:
        with warehouse.write(warehouse_path) as w:
            w.execute("INSERT INTO sources (name, type, url, channel) "
                      "VALUES ('s', 'feed', 'http://x', 'news')")
        assert readcopy.publish(warehouse_path)
        # The open session keeps its state; a new one sees the new state.
        assert con.execute("SELECT count(*) FROM sources").fetchone()[0] == 0
        # (In another process: duckdb shares one open instance per path within a process.)
        fresh = subprocess.run([sys.executable, "-c", (
            "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True); "
            "print(con.execute('SELECT count(*) FROM sources').fetchone()[0])"), str(copy)],
            capture_output=True, text=True, timeout=60, check=True)
        assert fresh.stdout.strip() == "1"
    finally:
        con.close()


def test_publishing_can_be_turned_off(warehouse_path):
    copy = readcopy.reader_copy_path(warehouse_path)
    copy.unlink(missing_ok=True)
    readcopy.configure(warehouse_path, -1)
    try:
        with warehouse.write(warehouse_path) as w:
            w.execute("SELECT 1")
        assert not readcopy.publish(warehouse_path)
        assert not copy.exists()
    finally:
        readcopy.configure(warehouse_path, readcopy.DEFAULT_EVERY)



@pytest.mark.parametrize(("age", "every", "last_cost", "published"), [
    (29.0, 30.0, 0.5, False),     # a small warehouse: every 30 s
    (31.0, 30.0, 0.5, True),
    (31.0, 30.0, 6.0, False),     # a copy of 6 s: at most 5% of the time, every 120 s
    (119.0, 30.0, 6.0, False),
    (121.0, 30.0, 6.0, True),
    (float("inf"), 30.0, 60.0, True),  # no copy yet
    (1e9, -1.0, 0.0, False),      # turned off
])
def test_publishing_during_a_command_takes_at_most_a_twentieth_of_it(age, every, last_cost, published):
    assert readcopy.due(age, every, last_cost) is published


def test_a_slow_copy_waits_longer_before_the_next(warehouse_path, monkeypatch):
    """The wait after a commit grows with what the last publication cost here."""
    readcopy.configure(warehouse_path, 0.0)   # every commit, were it not for the cost
    try:
        assert readcopy.publish(warehouse_path)
        copy = readcopy.reader_copy_path(warehouse_path)
        first = copy.stat().st_mtime_ns
        assert readcopy._cost[warehouse_path.resolve()] > 0   # what it cost is remembered
        monkeypatch.setitem(readcopy._cost, warehouse_path.resolve(), 0.0)
        time.sleep(0.01)
        with warehouse.write(warehouse_path) as w:   # a copy that cost nothing: published again
            w.execute("SELECT 1")
        assert copy.stat().st_mtime_ns > first
        monkeypatch.setitem(readcopy._cost, warehouse_path.resolve(), 60.0)  # as a huge file would
        second = copy.stat().st_mtime_ns
        with warehouse.write(warehouse_path) as w:
            w.execute("SELECT 1")
        assert copy.stat().st_mtime_ns == second
    finally:
        readcopy.configure(warehouse_path, readcopy.DEFAULT_EVERY)

@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_reader_copy_opens_throughout_a_real_analyze(tmp_path, project):
    """`radar analyze` (NLP and scoring) on 200 UN debate paragraphs while an analyst keeps
    opening the reader copy: every session gets in, and the end state is published."""
    archive = Path(__file__).parent / "fixtures" / "ungdc-dev" / "paragraphs_1990_2007.jsonl"
    sample = tmp_path / "sample.jsonl"
    sample.write_text("".join(archive.read_text(encoding="utf-8").splitlines(True)[:200]))
    text = project.read_text(encoding="utf-8")
    project.write_text(text.replace("reader_copy_every = 30.0", "reader_copy_every = 1.0")
                       .replace('period = "month"', 'period = "year"'), encoding="utf-8")
    assert _cli(["import", str(sample), "--config", str(project)], tmp_path).returncode == 0
    copy = readcopy.reader_copy_path(project.parent / "radar.duckdb")
    stop = tmp_path / "stop"
    analyst = subprocess.Popen([sys.executable, "-c", ANALYST.replace(
        "SELECT count(*) FROM documents",
        "SELECT (SELECT count(*) FROM documents) + (SELECT count(*) FROM passages)"),
        str(copy), str(stop)], stdout=subprocess.PIPE, text=True)
    try:
        result = _cli(["analyze", "--config", str(project)], tmp_path, timeout=1500)
        time.sleep(0.5)
    finally:
        stop.touch()
        out, _ = analyst.communicate(timeout=60)
    assert result.returncode == 0, result.stderr
    seen = json.loads(out)
    assert seen["fails"] == [] and seen["tries"] >= 20
    wh = project.parent / "radar.duckdb"
    passages = warehouse.query(wh, "SELECT count(*) FROM passages")[0][0]
    assert passages > 0
    assert seen["counts"][-1] == 200 + passages
    assert seen["counts"] == sorted(seen["counts"])

"""`radar run`: one pipeline, never two at once; a failing source does not stop the others;
the whole flow (crawl, analyze, alert, dashboard) on both warehouse backends."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
import streamlit as st
from click.testing import CliRunner
from demo_helpers import fast_crawl
from streamlit.testing.v1 import AppTest
from test_crawl_distributed import _finish, _logged_worker, _wait_until_polling, _worker_pages

from radar.app.cli import cli
from radar.app.demo.corpus import NEWS_OUTLETS, generate
from radar.app.demo.site import DemoWeb
from radar.app.init_project import config_template, init_project
from radar.app.pipeline import (
    STAGES,
    PipelineLocked,
    RunSummary,
    StageResult,
    lock_path,
    run_lock,
    run_pipeline,
)
from radar.core import warehouse
from radar.core.config import load_config
from tests.conftest import use_lake

DASHBOARD = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")


@pytest.fixture(scope="module")
def web():
    with DemoWeb(generate(seed=11, scale=0.05, today=date(2026, 5, 20))) as w:
        yield w


def _dead_url() -> str:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens here now: connections are refused
    return f"http://127.0.0.1:{port}/feed.xml"


def _configure(project, web) -> None:
    text = project.read_text(encoding="utf-8")
    text = fast_crawl(text)
    text += f"""
[[sources]]
name = "gazette"
type = "feed"
url = "{web.urls['riverton-gazette']}/feed.xml"
channel = "news"

[[sources]]
name = "broken"
type = "feed"
url = "{_dead_url()}"
channel = "news"
"""
    project.write_text(text, encoding="utf-8")


def _hold_lock(cfg):
    """A separate process holding the run lock until its stdin closes."""
    code = (
        "import sys; from radar.core.config import load_config; from radar.app.pipeline import run_lock\n"
        f"with run_lock(load_config({str(cfg.path)!r})):\n"
        "    print('held', flush=True); sys.stdin.read()\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_second_run_is_refused_while_one_holds_the_lock(project):
    cfg = load_config(project)
    holder = _hold_lock(cfg)
    try:
        with pytest.raises(PipelineLocked) as info:
            run_pipeline(cfg, stages=("crawl",))
        assert f"pid {holder.pid}" in str(info.value) and str(lock_path(cfg)) in str(info.value)
        result = CliRunner().invoke(cli, ["run", "--config", str(project)])
        assert result.exit_code == 3
        assert "another radar run is in progress" in result.output
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
    with run_lock(cfg):  # released when the holder ended
        pass


def test_lock_is_released_when_a_stage_fails(project):
    cfg = load_config(project)
    cfg.sources = []
    summary = run_pipeline(cfg, stages=("crawl",))
    assert summary.stage("crawl").status == "ok" and summary.exit_code == 0
    with run_lock(cfg):
        pass


def test_exit_code_says_what_succeeded():
    def run(*statuses):
        s = RunSummary(started_at=None)
        s.stages = [StageResult(n, st) for n, st in zip(STAGES, statuses, strict=True)]
        return s.exit_code

    assert run("ok", "ok", "ok") == 0
    assert run("partial", "ok", "ok") == 1
    assert run("failed", "ok", "ok") == 1
    assert run("ok", "failed", "skipped") == 1
    assert run("failed", "failed", "skipped") == 2


def test_failing_source_does_not_stop_the_others(project, web):
    _configure(project, web)
    cfg = load_config(project)
    t0 = time.monotonic()
    summary = run_pipeline(cfg, stages=("crawl",))
    crawl = summary.stage("crawl")
    assert crawl.status == "partial", crawl.detail
    assert "failed: broken" in crawl.detail
    by_source = {r.source: r for r in crawl.result}
    assert by_source["broken"].status == "failed"
    assert by_source["gazette"].status == "ok" and by_source["gazette"].new_documents > 0
    assert summary.exit_code == 1
    docs = warehouse.query(cfg.warehouse_path,
                           "SELECT count(*) FROM documents WHERE source = 'gazette'")[0][0]
    assert docs == by_source["gazette"].new_documents
    errors = warehouse.query(cfg.warehouse_path,
                             "SELECT count(*) FROM fetch_errors WHERE source = 'broken'")[0][0]
    assert errors >= 1
    assert time.monotonic() - t0 < 120


def _other_news_feeds(project, web) -> None:
    """Also crawl the demo web's other news feeds: enough sources for topics on the radar."""
    lines = []
    for name in NEWS_OUTLETS:
        if name != "riverton-gazette":
            lines += ["[[sources]]", f'name = "{name}"', 'type = "feed"',
                      f'url = "{web.urls[name]}/feed.xml"', 'channel = "news"', ""]
    project.write_text(project.read_text(encoding="utf-8") + "\n" + "\n".join(lines), encoding="utf-8")


def _mail_to(project, port: int) -> None:
    """Alerts go to the test SMTP server; one subscriber hears about every topic on the radar."""
    text = project.read_text(encoding="utf-8")
    text, n = re.subn(r'(?m)^\[smtp\]\nhost = "127.0.0.1"\nport = 25$',
                      f'[smtp]\nhost = "127.0.0.1"\nport = {port}', text)
    assert n == 1, "the radar.toml template's [smtp] section changed"
    text += '\n[[subscriptions]]\nemail = "strategy@city.example"\nmin_ring = "Monitor"\n'
    project.write_text(text, encoding="utf-8")


@pytest.mark.slow
def test_radar_run_cli_runs_every_stage_and_reports_partial_success(backend_project, web, server,
                                                                   monkeypatch):
    """The end-to-end flow on the embedded DuckDB file and on DuckLake + PostgreSQL: crawl a
    loopback web, analyze, score, alert through a real SMTP server, read the dashboard."""
    project = backend_project
    _configure(project, web)
    _other_news_feeds(project, web)
    _mail_to(project, server.port)
    result = CliRunner().invoke(cli, ["run", "--config", str(project)])
    _check_end_to_end(project, result, server, monkeypatch)


@pytest.mark.slow
def test_the_same_run_on_ducklake_with_two_crawl_workers_on_redis(
        lake_catalog, tmp_path, salt, server, monkeypatch, redis_proc, redisdb):
    """The same flow on DuckLake + PostgreSQL, its crawl round shared with two
    `radar crawl --worker` processes through a real Redis: the workers do work, every
    document lands once, and analysis, alerts and the dashboard see the same radar."""
    monkeypatch.chdir(tmp_path)
    project = tmp_path / "radar.toml"
    project.write_text(config_template(), encoding="utf-8")
    use_lake(project, lake_catalog)
    init_project(project)
    # The same web, its pages answering in 50 ms like a (fast) real site: the coordinator
    # cannot take the whole round before the workers' next poll.
    with DemoWeb(generate(seed=11, scale=0.05, today=date(2026, 5, 20)), latency=0.05) as web:
        _configure(project, web)
        _other_news_feeds(project, web)
        _mail_to(project, server.port)
        queue = f"redis://{redis_proc.host}:{redis_proc.port}/0"
        text, n = re.subn(r'(?m)^queue = ""(.*)\nqueue_password_env = (.*)\nqueue_idle = 10\.0',
                          f'queue = "{queue}"\\1\nqueue_password_env = \\2\nqueue_idle = 3.0',
                          project.read_text(encoding="utf-8"))
        assert n == 1, "the radar.toml template's queue settings changed"
        project.write_text(text, encoding="utf-8")
        args = ["crawl", "--config", str(project), "--worker", "--idle", "8"]
        workers = [_logged_worker(args, tmp_path / f"w{i}.err") for i in range(2)]
        _wait_until_polling(workers)
        result = CliRunner().invoke(cli, ["run", "--config", str(project)])
        finished = _finish([w for w, _ in workers])
    finished = [(code, out, log.read_text())
                for (code, out, _), (_, log) in zip(finished, workers, strict=True)]
    assert all(code == 0 for code, _, _ in finished), finished
    assert sum(_worker_pages(finished)) > 0, finished
    _check_end_to_end(project, result, server, monkeypatch)
    cfg = load_config(project)
    assert warehouse.query(cfg.warehouse_path, "SELECT count(*) - count(DISTINCT canonical_url) "
                                               "FROM documents")[0][0] == 0


def _check_end_to_end(project, result, server, monkeypatch) -> None:
    lines = {line.split()[0]: line for line in result.output.splitlines() if line.strip()}
    assert result.exit_code == 1, result.output
    assert "partial" in lines["crawl"] and "broken" in lines["crawl"]
    assert lines["analyze"].split()[1] == "ok", result.output
    assert lines["alert"].split()[1] == "ok", result.output
    cfg = load_config(project)
    assert warehouse.query(cfg.warehouse_path, "SELECT count(*) FROM passages")[0][0] > 0, result.output
    blips = warehouse.query(cfg.warehouse_path, "SELECT label FROM radar_latest WHERE ring IS NOT NULL")
    assert blips, "nothing on the radar to alert about"
    sent = warehouse.query(cfg.warehouse_path, "SELECT recipient, state FROM alert_outbox")
    assert sent == [("strategy@city.example", "sent")]
    (mail,) = server.handler.received
    assert any(label in mail.part("plain") for (label,) in blips)
    # The dashboard reads the same warehouse (Streamlit's AppTest runs the real app).
    monkeypatch.setenv("RADAR_CONFIG", str(project))
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(DASHBOARD, default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    on_radar = next(m.value for m in at.metric if m.label == "Topics on the radar")
    assert int(on_radar) == len(blips)

"""`radar serve`: starts, runs the scheduled pipeline, and on SIGTERM finishes the run and exits."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from datetime import date, datetime

import pytest
from demo_helpers import fast_crawl

from radar.app.demo.corpus import generate
from radar.app.demo.site import DemoWeb
from radar.app.serve import next_time, runs_log_path
from radar.core import warehouse
from radar.core.config import load_config


@pytest.fixture(scope="module")
def web():
    with DemoWeb(generate(seed=5, scale=0.05, today=date(2026, 3, 3))) as w:
        yield w


def _configure(project, schedule: str, feed: str) -> None:
    text = project.read_text(encoding="utf-8")
    text = fast_crawl(text)
    start = text.index("[schedule]")
    text = text[:start] + f'[schedule]\nrun = "{schedule}"\nstages = ["crawl"]\n'
    text += f'\n[[sources]]\nname = "gazette"\ntype = "feed"\nurl = "{feed}"\nchannel = "news"\n'
    project.write_text(text, encoding="utf-8")


def _start(project) -> tuple[subprocess.Popen, queue.Queue]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "radar.app.cli", "--log-level", "info", "serve", "--no-dashboard",
         "--config", str(project)],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=dict(os.environ),
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stderr], daemon=True).start()
    return proc, lines


def _wait_for(lines: queue.Queue, text: str, seen: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        seen.append(line)
        if text in line:
            return
    raise AssertionError(f"{text!r} not logged within {timeout}s:\n{''.join(seen)}")


def test_cron_with_seconds_field():
    assert next_time("* * * * * */10", datetime(2026, 1, 1, 0, 0, 1)) == datetime(2026, 1, 1, 0, 0, 10)
    assert next_time("0 */6 * * *", datetime(2026, 1, 1, 7, 0)) == datetime(2026, 1, 1, 12, 0)


def test_serve_runs_on_schedule_and_sigterm_finishes_the_run(project, web):
    _configure(project, "* * * * * */2", web.urls["riverton-gazette"] + "/feed.xml")
    proc, lines = _start(project)
    seen: list[str] = []
    try:
        _wait_for(lines, "serve: schedule", seen, 60)
        _wait_for(lines, "serve: run started", seen, 60)
        proc.send_signal(signal.SIGTERM)  # in the middle of the crawl
        _wait_for(lines, "run finished with exit code 0", seen, 120)
        _wait_for(lines, "stopped after 1 runs", seen, 30)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    log = "".join(seen)
    assert log.index("SIGTERM received") < log.index("run finished")
    cfg = load_config(project)
    entries = [json.loads(x) for x in runs_log_path(cfg).read_text().splitlines()]
    assert len(entries) == 1 and entries[0]["exit_code"] == 0
    assert entries[0]["stages"][0]["stage"] == "crawl"
    runs = warehouse.query(cfg.warehouse_path, "SELECT status, new_documents FROM crawl_runs")
    assert runs and all(status == "ok" for status, _ in runs)  # the batch was finished
    docs = warehouse.query(cfg.warehouse_path, "SELECT count(*) FROM documents")[0][0]
    assert docs == sum(n for _, n in runs) > 0


def test_invalid_cron_stops_with_a_clear_message(project):
    text = project.read_text(encoding="utf-8").replace('run = "0 */6 * * *"', 'run = "every hour"')
    project.write_text(text, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "radar.app.cli", "serve", "--no-dashboard", "--config", str(project)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "schedule.run: not a valid cron expression" in result.stderr


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _health(port: int) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.mark.slow
def test_serve_serves_the_dashboard_and_stops_it_on_sigterm(project):
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "radar.app.cli", "--log-level", "info", "serve", "--port", str(port),
         "--config", str(project)],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while not _health(port):
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "dashboard did not come up"
            time.sleep(1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        time.sleep(1)
        assert not _health(port)  # the dashboard child went with it
    finally:
        if proc.poll() is None:
            proc.kill()

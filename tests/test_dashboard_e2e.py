"""End to end: `radar dashboard` on a free port, loaded in real headless Chromium."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import dashboard_fixtures as fx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

STREAMLIT_PROBE = re.compile(r"^404 http://127\.0\.0\.1:\d+/[a-z]+/_stcore/(health|host-config)$")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="needs Chromium at /usr/bin/chromium (apt-get install chromium)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"radar dashboard exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("the dashboard did not come up within a minute")


@contextlib.contextmanager
def running_dashboard(project: Path, log_path: Path, port: int | None = None) -> Iterator[str]:
    """`radar dashboard` in its own process group on 127.0.0.1; yields its URL, stops it after."""
    port = port or _free_port()
    log = open(log_path, "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "radar.app.cli", "dashboard", "--port", str(port), "--config",
         str(project)],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@pytest.fixture
def served(project, tmp_path):
    """A running `radar dashboard` over the test warehouse; yields its base URL."""
    from radar.core import warehouse
    from radar.core.config import load_config

    path = fx.build(load_config(project).warehouse_path)
    # The planted markup post is a citizen post without a topic, which search withholds
    # (fewer than k authors); as a news document its title must show, as text.
    with warehouse.write(path) as con:
        con.execute("UPDATE documents SET channel = 'news' WHERE title = ?", [fx.XSS_TITLE])
    with running_dashboard(project, tmp_path / "dashboard.log") as url:
        yield url


def test_radar_and_topic_pages_in_chromium(served, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    console_errors: list[str] = []
    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1300})
        page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: console_errors.append(str(e)))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        failed: list[str] = []
        # A navigation cancels requests still in flight (net::ERR_ABORTED): not a failure.
        page.on("requestfailed", lambda r: None if "ERR_ABORTED" in (r.failure or "")
                else failed.append(f"{r.failure} {r.url}"))
        page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400
                else None)

        page.goto(served, wait_until="networkidle")
        expect(page.get_by_role("heading", name="Radar", exact=True)).to_be_visible(timeout=30_000)
        expect(page.get_by_text("How to read the radar")).to_be_visible(timeout=30_000)
        expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=30_000)
        # Sector labels, ring names and the legend are drawn in the chart.
        chart = page.locator(".js-plotly-plot").first
        expect(chart.get_by_text("Act: decide now")).to_be_visible()
        expect(chart.get_by_text("new on the radar this period")).to_be_visible()
        expect(chart.get_by_text("transport")).to_be_visible()
        page.wait_for_timeout(500)
        page.screenshot(path=str(tmp_path / "radar.png"), full_page=True)

        # Clicking a blip opens its topic.
        blip = chart.locator(".scatterlayer .trace .points path").first
        box = blip.bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_url("**/topic?topic=*", timeout=30_000)
        expect(page.get_by_text("Representative passages")).to_be_visible(timeout=30_000)

        page.goto(f"{served}/topic?topic=1", wait_until="networkidle")
        expect(page.get_by_role("heading", name="Heat pump grants", exact=True)).to_be_visible(timeout=30_000)
        expect(page.get_by_text("Why it is in this ring")).to_be_visible()
        expect(page.get_by_text("Moved in from Prepare to Act")).to_be_visible()
        expect(page.get_by_text("Households ask how the new heat pump grants work").first
               ).to_be_visible()
        page.wait_for_timeout(500)
        page.screenshot(path=str(tmp_path / "topic.png"), full_page=True)

        # Crawled markup in a title shows as text and never runs.
        page.goto(f"{served}/search", wait_until="networkidle")
        box = page.get_by_label("Search for")
        box.fill("bus lanes")
        box.press("Enter")
        expect(page.get_by_text(fx.XSS_TITLE)).to_be_visible(timeout=30_000)
        page.screenshot(path=str(tmp_path / "search.png"), full_page=True)
        browser.close()
    assert dialogs == [], f"script from crawled text ran: {dialogs}"
    # Opening a page URL directly makes Streamlit's frontend probe <page>/_stcore/health and
    # host-config before falling back to the root: harmless 404s. Anything else fails.
    unexpected = [f for f in failed if not STREAMLIT_PROBE.search(f)]
    assert unexpected == [], f"resources failed to load: {unexpected}"
    errors = [e for e in console_errors if not e.startswith("Failed to load resource")]
    assert errors == [], f"browser console errors: {errors}"

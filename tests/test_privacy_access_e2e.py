"""Access in real headless Chromium: named users and roles, a viewer cannot reach admin
actions, wrong passwords are throttled, triage is attributed to the signed-in user."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import dashboard_fixtures as fx
import pytest

from dashboard.auth import hash_password
from dashboard.launch import streamlit_command
from radar.core import warehouse
from radar.core.config import load_config

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Chromium at /usr/bin/chromium"),
]

USERS = {"Ville Viewer": ("viewer", "viewer-pass"), "Anna Analyst": ("analyst", "analyst-pass"),
         "Aino Admin": ("admin", "admin-pass")}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(project, tmp_path):
    users = "".join(f'\n[[dashboard.users]]\nname = "{n}"\nrole = "{r}"\n'
                    f'password_hash = "{hash_password(p)}"\n' for n, (r, p) in USERS.items())
    text = project.read_text().replace("max_failed_logins = 5", "max_failed_logins = 3")
    project.write_text(text + users)
    cfg = load_config(project)
    fx.build(cfg.warehouse_path)
    port = _free_port()
    argv, env = streamlit_command(cfg, port)
    log = open(tmp_path / "dashboard.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError("dashboard did not come up") from None
                time.sleep(0.3)
        yield url, cfg
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def _sign_in(page, url, name, password):
    """Sign in on `url` (a page load starts a new session, which asks to sign in)."""
    from playwright.sync_api import expect

    page.goto(url, wait_until="networkidle")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=30_000)
    page.get_by_role("textbox", name="Name").fill(name)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_roles_throttling_and_attribution_in_chromium(served):
    from playwright.sync_api import expect, sync_playwright

    url, cfg = served
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)

        # A viewer reads the radar but reaches no admin action, not even by URL.
        page = browser.new_context().new_page()
        _sign_in(page, url, "Ville Viewer", "viewer-pass")
        expect(page.get_by_role("heading", name="Radar", exact=True)).to_be_visible(timeout=30_000)
        expect(page.get_by_text("Signed in as Ville Viewer (viewer)")).to_be_visible()
        nav = page.get_by_test_id("stSidebarNav")
        expect(nav.get_by_role("link", name="Triage", exact=True)).to_be_visible()
        expect(nav.get_by_role("link", name="Admin", exact=True)).to_have_count(0)
        expect(nav.get_by_role("link", name="Warehouse", exact=True)).to_have_count(0)
        nav.get_by_role("link", name="Triage", exact=True).click()
        expect(page.get_by_text("recording decisions needs the analyst role")).to_be_visible(
            timeout=30_000)
        expect(page.get_by_role("button", name="Record the change")).to_have_count(0)
        # Typing the admin page's address and signing in there: still no admin page.
        _sign_in(page, f"{url}/admin", "Ville Viewer", "viewer-pass")
        expect(page.get_by_text("Signed in as Ville Viewer (viewer)")).to_be_visible(timeout=30_000)
        page.wait_for_timeout(1500)
        expect(page.get_by_role("heading", name="Admin", exact=True)).to_have_count(0)
        expect(page.get_by_role("button", name="Unlock")).to_have_count(0)
        expect(page.get_by_text("Privacy log")).to_have_count(0)

        # Wrong passwords: after three the name is locked, even with the right password.
        page = browser.new_context().new_page()
        for _ in range(3):
            _sign_in(page, url, "Anna Analyst", "guess")
            expect(page.get_by_text("Wrong name or password.")).to_be_visible(timeout=30_000)
        _sign_in(page, url, "Anna Analyst", "analyst-pass")
        expect(page.get_by_text("Too many wrong passwords")).to_be_visible(timeout=30_000)
        expect(page.get_by_role("heading", name="Radar", exact=True)).to_have_count(0)

        # The admin sees the lock and lifts it.
        page = browser.new_context().new_page()
        _sign_in(page, url, "Aino Admin", "admin-pass")
        expect(page.get_by_text("Signed in as Aino Admin (admin)")).to_be_visible(timeout=30_000)
        page.get_by_test_id("stSidebarNav").get_by_role("link", name="Admin", exact=True).click()
        expect(page.get_by_role("heading", name="Admin", exact=True)).to_be_visible(timeout=30_000)
        expect(page.get_by_text("Anna Analyst: 3 wrong passwords")).to_be_visible()
        page.get_by_role("button", name="Unlock").click()
        expect(page.get_by_text("Anna Analyst: 3 wrong passwords")).to_have_count(0, timeout=30_000)

        # Unlocked, the analyst signs in and a triage decision carries her name.
        page = browser.new_context().new_page()
        _sign_in(page, url, "Anna Analyst", "analyst-pass")
        expect(page.get_by_text("Signed in as Anna Analyst (analyst)")).to_be_visible(timeout=30_000)
        page.get_by_test_id("stSidebarNav").get_by_role("link", name="Triage", exact=True).click()
        expect(page.get_by_text("Changes are recorded as made by Anna Analyst")).to_be_visible(
            timeout=30_000)
        page.get_by_role("combobox", name="Topic", exact=True).click()
        page.get_by_role("option").first.click()
        page.get_by_role("button", name="Record the change").click()
        expect(page.get_by_text(re.compile(r"^Recorded: .* by Anna Analyst\.$"))).to_be_visible(
            timeout=30_000)
        browser.close()
    with warehouse.read(cfg.warehouse_path) as con:
        who = con.execute("SELECT who FROM triage_log ORDER BY entry_id DESC LIMIT 1").fetchone()
    assert who == ("Anna Analyst",)

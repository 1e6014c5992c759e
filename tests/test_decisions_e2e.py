"""The decision loop as a user runs it: real `radar analyze` (NLP with the real models, scoring,
the decision loop), the dashboard in headless Chromium, mail through a real SMTP server.

Real citizen comments (tests/fixtures/polis, see its LICENSE.md) are imported and analysed.
In the browser a strategist adds a service; the next analyze matches it to the topics it
touches and the Services page shows its exposure. She records a decision about the service
and its top topic with a signpost on distinct citizen authors. New comments from more
people arrive in a later year; `radar analyze` fires the signpost, the decision shows in the
reassessment queue, `radar alert` delivers the owner's notice exactly once, and she
downloads a PDF brief.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from radar.core import warehouse
from tests.conftest import FIXTURES
from tests.test_dashboard_e2e import ARGS, CHROMIUM, _free_port, running_dashboard

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="needs Chromium at /usr/bin/chromium (apt-get install chromium)"),
]

CONVERSATIONS = ["15-per-hour-seattle", "scoop-hivemind.affordable-housing", "scoop-hivemind.ubi",
                 "scoop-hivemind.taxes"]
CONFIG = """
[warehouse]
path = "radar.duckdb"

[analysis]
period = "year"
min_topic_size = 8

[dashboard]
base_url = "http://127.0.0.1:{dash}"

[smtp]
host = "127.0.0.1"
port = {smtp}
sender = "radar@city.example"
retry_backoff = 0
"""


def radar(config: Path, *args: str, timeout: float = 900) -> str:
    proc = subprocess.run([sys.executable, "-m", "radar.app.cli", *args, "--config", str(config)],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 0, f"radar {' '.join(args)}: {proc.stderr[-3000:]}"
    return proc.stdout


def polis_rows(name: str) -> list[dict]:
    with open(FIXTURES / "polis" / f"{name}.csv", encoding="utf-8") as fh:
        return [{"text": r["comment-body"], "source": f"polis:{name}", "channel": "citizen",
                 "author": f"{name}:{r['author-id']}",
                 "published_at": datetime.fromtimestamp(int(r["timestamp"]) / 1000, UTC).isoformat()}
                for r in csv.DictReader(fh) if r["moderated"] != "-1" and r["comment-body"].strip()]


def write_csv(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["text", "source", "channel", "author", "published_at"])
        w.writeheader()
        w.writerows(rows)
    return path


@pytest.fixture
def dashboard(project, tmp_path, server):
    dash = _free_port()
    project.write_text(CONFIG.format(dash=dash, smtp=server.port), encoding="utf-8")
    rows = [r for name in CONVERSATIONS for r in polis_rows(name)]
    radar(project, "import", str(write_csv(tmp_path / "polis.csv", rows)))
    radar(project, "analyze")
    with running_dashboard(project, tmp_path / "dashboard.log", port=dash) as url:
        yield url


def _name(page, who: str) -> None:
    box = page.get_by_role("textbox", name="Your name")
    box.fill(who)
    box.press("Enter")
    page.wait_for_timeout(800)


def test_from_signal_to_service_and_back(project, dashboard, server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    wh = project.parent / "radar.duckdb"
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1400}, accept_downloads=True)
        page.on("pageerror", lambda e: errors.append(str(e)))

        # 1. A strategist adds a service in the dashboard.
        page.goto(f"{dashboard}/services", wait_until="networkidle")
        expect(page.get_by_role("heading", name="Services", exact=True)).to_be_visible(timeout=30_000)
        _name(page, "Eve Strategist")
        page.get_by_text("Add a service to the catalogue").click()
        page.get_by_role("textbox", name="Service name").fill("Minimum wage office")
        page.get_by_role("textbox", name="Owner", exact=True).fill("Olu Owner")
        page.get_by_role("textbox", name="Owner's e-mail").fill("olu@city.example")
        page.get_by_role("textbox", name="Description").fill(
            "Enforcing the local minimum wage of 15 dollars an hour and helping workers claim their wages")
        page.get_by_role("textbox", name="Keywords").fill("minimum wage, wages")
        page.get_by_role("button", name="Add the service").click()
        expect(page.get_by_text("Added “Minimum wage office”")).to_be_visible(timeout=30_000)

        # 2. The next analyze embeds it and matches it to the topics it touches.
        out = radar(project, "analyze")
        assert "topic-service matches" in out
        sid, tid, label = warehouse.query(wh, """
            SELECT m.service_id, m.topic_id, t.label FROM service_matches m
            JOIN services s USING (service_id) JOIN topics t USING (topic_id)
            WHERE s.name = 'Minimum wage office' ORDER BY m.score DESC LIMIT 1""")[0]
        page.goto(f"{dashboard}/services", wait_until="networkidle")
        page.get_by_role("button", name="Refresh data").click()
        expect(page.get_by_text("Minimum wage office — exposure")).to_be_visible(timeout=30_000)
        expect(page.get_by_text(f"Open topic: {label}").first).to_be_visible(timeout=30_000)
        page.screenshot(path=str(tmp_path / "services.png"), full_page=True)

        # 3. A decision about the service and its topic, with a signpost on citizen authors.
        page.goto(f"{dashboard}/decisions?service={sid}&topic={tid}", wait_until="networkidle")
        expect(page.get_by_role("heading", name="Decisions", exact=True)).to_be_visible(timeout=30_000)
        _name(page, "Eve Strategist")
        page.get_by_role("textbox", name="Decision", exact=True).fill("Wage claims help desk")
        page.get_by_role("textbox", name="Owner", exact=True).fill("Olu Owner")
        page.get_by_role("textbox", name="Owner's e-mail").fill("olu@city.example")
        page.get_by_role("textbox", name="The need").fill("Workers ask how to claim the new minimum wage")
        page.get_by_role("button", name="Open the decision").click()
        expect(page.get_by_text("Opened decision #1")).to_be_visible(timeout=30_000)
        page.get_by_role("combobox", name="Indicator", exact=True).click()
        page.get_by_role("option", name="Distinct citizen authors").click()
        page.get_by_role("spinbutton", name="Threshold").fill("5")
        page.get_by_role("button", name="Set the signpost").click()
        expect(page.get_by_text("Signpost set")).to_be_visible(timeout=30_000)
        assert warehouse.query(wh, "SELECT kind, topic_id, threshold FROM signposts") == [
            ("authors", tid, 5.0)]

        # 4. New comments from a dozen people in a later year; analyze fires the signpost.
        reps = [r[0] for r in warehouse.query(wh, """
            SELECT p.text FROM topics t, unnest(t.representative_passages) r(pid)
            JOIN passages p ON p.passage_id = r.pid WHERE t.topic_id = ?""", [tid])]
        later = datetime(2020, 3, 1, tzinfo=UTC)
        # More new voices than the topic had when the decision was taken (the signpost fires
        # on growth past its baseline), whatever the topic model made of the corpus.
        (before,) = warehouse.query(wh, "SELECT coalesce(max(authors), 0) FROM radar_latest "
                                        "WHERE topic_id = ?", [tid])[0]
        fresh = [{"text": f"{reps[i % len(reps)]} (said again by a neighbour, number {i})",
                  "source": "polis:follow-up", "channel": "citizen", "author": f"new-voice-{i}",
                  "published_at": (later + timedelta(hours=i)).isoformat()}
                 for i in range(max(12, int(before) + 6))]
        radar(project, "import", str(write_csv(tmp_path / "fresh.csv", fresh)))
        out = radar(project, "analyze")
        fired = warehouse.query(wh, "SELECT decision_id, moved, message_id FROM signpost_firings")
        assert len(fired) == 1 and fired[0][2] is not None, out
        assert "distinct authors" in fired[0][1]

        # 5. The alerts stage delivers the owner's notice, once.
        radar(project, "alert")
        radar(project, "alert")
        mails = server.handler.to("olu@city.example")
        assert len(mails) == 1
        assert "Wage claims help desk" in mails[0].message["Subject"]
        assert "/decisions?decision=1" in mails[0].part("plain")

        # 6. The decision waits in the reassessment queue; a PDF brief for the board.
        page.goto(f"{dashboard}/decisions?decision=1", wait_until="networkidle")
        page.get_by_role("button", name="Refresh data").click()
        expect(page.get_by_text("A signpost fired").first).to_be_visible(timeout=30_000)
        page.screenshot(path=str(tmp_path / "decisions.png"), full_page=True)
        page.get_by_role("button", name="Make a brief").first.click()
        with page.expect_download(timeout=60_000) as download:
            page.get_by_role("button", name="Download brief (PDF)").first.click()
        pdf = Path(download.value.path()).read_bytes()
        assert pdf.startswith(b"%PDF")
        browser.close()
    from io import BytesIO

    from pypdf import PdfReader

    text = " ".join(pg.extract_text() for pg in PdfReader(BytesIO(pdf)).pages)
    assert "Wage claims help desk" in text and "fired" in text
    assert errors == [], errors

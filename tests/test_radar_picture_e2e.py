"""The radar picture in headless Chromium on an archive of many periods analysed in one run.

Checks what a reader sees at 1400x1000: no two blips overlap (positions read from
the rendered figure), the list beside the picture names every drawn blip with
its number and movement marker, the markers match each topic's ring in the
previous period, keyboard and click open a topic, a crowded cell's '+k' opens
its list, the downloads are real files, and two periods can be compared.
"""

from __future__ import annotations

import math
import re

import pytest
import radar_archive
from test_dashboard_e2e import ARGS, CHROMIUM, STREAMLIT_PROBE, running_dashboard

from radar.core import warehouse

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="needs Chromium at /usr/bin/chromium (apt-get install chromium)"),
]

SYMBOL = {"new": "star", "back": "diamond", "moved in": "triangle-up",
          "moved out": "triangle-down", "unchanged": "circle"}
MARK = {"new": "★", "back": "◆", "moved in": "▲", "moved out": "▼", "unchanged": "●"}

# Every drawn point of the blip traces, with its centre and size on the screen.
POINTS_JS = """() => {
  const gd = document.querySelector('.js-plotly-plot');
  const out = [];
  gd.querySelectorAll('.scatterlayer .trace').forEach(g => {
    const cd = g.__data__; const trace = cd && cd[0] && cd[0].trace;
    if (!trace || (trace.meta !== 'blips' && trace.meta !== 'more')) return;
    g.querySelectorAll('path.point').forEach(p => {
      const d = p.__data__; const r = p.getBoundingClientRect();
      out.push({meta: trace.meta, symbol: trace.marker.symbol, custom: trace.customdata[d.i],
                text: trace.text[d.i], x: r.x + r.width / 2, y: r.y + r.height / 2,
                w: r.width, h: r.height});
    });
  });
  return out;
}"""


@pytest.fixture
def archive(project):
    """A project with yearly periods, the archive imported and analysed once."""
    project.write_text(project.read_text().replace('period = "month"', 'period = "year"'))
    from radar.core.config import load_config

    cfg = load_config(project)
    spec = radar_archive.build(cfg.warehouse_path)
    summary = radar_archive.analyse(project)
    assert summary.run_id == 1 and summary.periods == len(radar_archive.YEARS)
    return project, cfg, spec


@pytest.fixture
def served(archive, tmp_path):
    project, cfg, spec = archive
    with running_dashboard(project, tmp_path / "dashboard.log") as url:
        yield url, cfg, spec


def _expected(cfg) -> dict[int, str]:
    """Each latest-period topic's movement, recomputed from the previous period's radar."""
    hist = warehouse.query_df(cfg.warehouse_path, "SELECT topic_id, period_start, ring "
                                                  "FROM radar_history ORDER BY period_start")
    periods = sorted(hist.period_start.unique())
    latest, previous = periods[-1], periods[-2]
    earlier = hist[hist.period_start < latest]
    rings = {p: dict(zip(g.topic_id, g.ring, strict=True)) for p, g in hist.groupby("period_start")}
    out = {}
    order = ["Act", "Prepare", "Watch", "Monitor"]
    for tid, ring in rings[latest].items():
        if not isinstance(ring, str):
            continue
        before = rings[previous].get(tid)
        if not isinstance(before, str):
            seen = earlier[(earlier.topic_id == tid) & earlier.ring.notna()]
            out[tid] = "back" if len(seen) else "new"
        elif order.index(ring) < order.index(before):
            out[tid] = "moved in"
        elif order.index(ring) > order.index(before):
            out[tid] = "moved out"
        else:
            out[tid] = "unchanged"
    return out


def _no_overlap(points: list[dict]) -> None:
    for i, a in enumerate(points):
        for b in points[i + 1:]:
            gap = math.hypot(a["x"] - b["x"], a["y"] - b["y"])
            reach = (max(a["w"], a["h"]) + max(b["w"], b["h"])) / 2
            assert gap >= reach - 0.5, f"blips {a['text']} and {b['text']} overlap"


def test_radar_picture_on_an_archive_analysed_once(served, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    url, cfg, spec = served
    expected = _expected(cfg)
    newcomers = {t["topic_id"] for t in spec if t["label"].startswith("newcomer")}
    # Only the topics that really entered are new; most had a ring the period before.
    assert {t for t, m in expected.items() if m == "new"} == newcomers
    assert sum(m != "new" for m in expected.values()) > 0.9 * len(expected)

    console_errors: list[str] = []
    failed: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: console_errors.append(str(e)))
        page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400
                else None)
        page.goto(url, wait_until="networkidle")
        chart = page.locator(".js-plotly-plot").first
        expect(chart).to_be_visible(timeout=30_000)
        expect(page.get_by_text("Topics by service area and ring")).to_be_visible(timeout=30_000)
        page.wait_for_timeout(1000)
        page.screenshot(path=str(tmp_path / "radar.png"))

        points = page.evaluate(POINTS_JS)
        blips = [pt for pt in points if pt["meta"] == "blips"]
        assert len(blips) == len(expected)  # every topic on the radar drawn at this size
        assert all(pt["w"] >= 17 for pt in blips)  # readable: 80% of a 22 px blip or more
        _no_overlap(points)

        # The list beside the picture: one line per blip, same number, label and marker.
        links = page.locator(".st-key-radar_list [data-testid='stPageLink-NavLink']")
        expect(links.first).to_be_visible()
        # (A rerun may briefly show the previous run's copy of the list: count distinct lines.)
        lines = sorted({t.strip() for t in links.all_inner_texts()})
        listed = {}
        for line in lines:
            m = re.match(r"^(\d+)\. (\S) (.+) · (.+)$", line)
            assert m, line
            listed[int(m.group(1))] = (m.group(2), m.group(3))
        assert len(listed) == len(lines) == len(blips)
        for pt in blips:
            tid, label, move = int(pt["custom"][0]), pt["custom"][1], pt["custom"][6]
            # Markers match the previous period's radar, in the picture and in the list.
            assert move == expected[tid], (label, move, expected[tid])
            assert pt["symbol"] == SYMBOL[move]
            assert listed[int(pt["text"])] == (MARK[move], label)

        # Hover shows the topic; a click on a blip opens it.
        star = next(pt for pt in blips if pt["symbol"] == "star")
        page.mouse.move(star["x"], star["y"])
        expect(page.locator(".hoverlayer").get_by_text(star["custom"][1])).to_be_visible()

        # Downloads: the picture as SVG and PNG, the list as CSV.
        with page.expect_download() as svg:
            page.get_by_role("button", name="Radar as SVG").click()
        body = open(svg.value.path(), encoding="utf-8").read()
        assert body.startswith("<svg") and body.count('class="blip"') >= len(blips)
        with page.expect_download() as png:
            page.get_by_role("button", name="Radar as PNG").click()
        assert open(png.value.path(), "rb").read(8) == b"\x89PNG\r\n\x1a\n"
        with page.expect_download() as csv:
            page.get_by_role("button", name="List as CSV").click()
        rows = open(csv.value.path(), encoding="utf-8-sig").read().strip().splitlines()
        assert len(rows) == len(blips) + 1
        with page.expect_download() as printed:
            page.get_by_role("button", name="Print view (HTML)").click()
        html = open(printed.value.path(), encoding="utf-8").read()
        assert "<svg" in html and "@media print" in html
        assert all(f"{label}" in html for _mark, label in listed.values())
        # Plotly's own camera button gives the drawn figure as PNG, in the browser.
        chart.hover()
        with page.expect_download() as shot:
            page.get_by_role("button", name="Download plot as a PNG").click()
        assert open(shot.value.path(), "rb").read(8) == b"\x89PNG\r\n\x1a\n"

        # The table view has a row per topic, for screen readers.
        page.get_by_text("Table view (the same radar").click()
        table = page.locator(".st-key-radar_table_view table")
        expect(table).to_be_visible()
        assert table.locator("tbody tr").count() == len(blips)

        # Keyboard: a list entry takes focus and Enter opens its topic.
        first = links.first
        first.focus()
        page.keyboard.press("Enter")
        page.wait_for_url("**/topic?topic=*", timeout=30_000)
        expect(page.get_by_text("Why it is in this ring")).to_be_visible(timeout=30_000)

        # A small picture: a crowded cell shows its strongest topics and '+k'.
        page.goto(url, wait_until="networkidle")
        expect(chart).to_be_visible(timeout=30_000)
        page.get_by_role("slider", name="Picture size").focus()
        page.keyboard.press("Home")  # the smallest size
        page.wait_for_timeout(2500)
        points = page.evaluate(POINTS_JS)
        badges = [pt for pt in points if pt["meta"] == "more"]
        assert badges, "the crowded transport cell must show '+k' at the small size"
        _no_overlap(points)
        hidden = sum(int(b["text"][1:]) for b in badges)
        assert len(points) - len(badges) + hidden == len(expected)
        page.mouse.click(badges[0]["x"], badges[0]["y"])
        dialog = page.get_by_role("dialog")
        expect(dialog).to_be_visible(timeout=30_000)
        entries = dialog.locator("[data-testid='stPageLink-NavLink']")
        expect(entries.first).to_be_visible()
        assert len(set(entries.all_inner_texts())) == int(badges[0]["text"][1:])
        page.screenshot(path=str(tmp_path / "radar-small.png"))
        page.keyboard.press("Escape")

        # Compare the latest period with the one before: the newcomers entered.
        page.goto(f"{url}/compare", wait_until="networkidle")
        expect(page.get_by_role("heading", name="Compare periods")).to_be_visible(timeout=30_000)
        expect(page.get_by_text("★ Entered the radar (3)")).to_be_visible(timeout=30_000)
        for t in spec:
            if t["topic_id"] in newcomers:
                expect(page.get_by_role("link", name=f"★ {t['label']}")).to_be_visible()
        page.screenshot(path=str(tmp_path / "compare.png"), full_page=True)
        browser.close()
    unexpected = [f for f in failed if not STREAMLIT_PROBE.search(f)]
    assert unexpected == [], f"resources failed to load: {unexpected}"
    errors = [e for e in console_errors if not e.startswith("Failed to load resource")]
    assert errors == [], f"browser console errors: {errors}"

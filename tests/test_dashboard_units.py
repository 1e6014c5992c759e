"""Dashboard building blocks without Streamlit: password hashes, escaping, words, the radar figure."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from dashboard import auth, charts, explain, layout, ui
from dashboard.launch import streamlit_command


def test_password_hash_round_trip_and_salt():
    h1, h2 = auth.hash_password("correct horse"), auth.hash_password("correct horse")
    assert h1 != h2 and h1.startswith("scrypt$")  # salted
    assert auth.verify_password("correct horse", h1)
    assert not auth.verify_password("correct hors", h1)
    with pytest.raises(auth.PasswordHashError):
        auth.verify_password("x", "plaintext-password")
    with pytest.raises(ValueError):
        auth.hash_password("")


def test_cli_hash_password_prints_a_verifiable_hash(project):
    out = subprocess.run([sys.executable, "-m", "radar.app.cli", "dashboard", "--hash-password"],
                         input="s3cret\ns3cret\n", capture_output=True, text=True, check=True)
    line = [x for x in out.stdout.splitlines() if x.startswith("password_hash")][0]
    assert auth.verify_password("s3cret", line.split('"')[1])


def test_launch_passes_the_config_and_port(project):
    from radar.core.config import load_config

    cfg = load_config(project)
    argv, env = streamlit_command(cfg, port=9123)
    assert argv[1:4] == ["-m", "streamlit", "run"] and argv[4].endswith("dashboard/app.py")
    assert argv[argv.index("--server.port") + 1] == "9123"
    assert argv[argv.index("--browser.gatherUsageStats") + 1] == "false"
    assert env["RADAR_CONFIG"] == str(project.resolve())


@pytest.mark.parametrize("raw", [
    "<script>alert(1)</script>", "![pixel](http://evil.example/p.png)", "[click](javascript:x)",
    ":red[loud] :material/home: $x^2$", "**bold** _it_ `code` # head",
])
def test_escaped_text_has_no_active_markdown(raw):
    out = ui.esc(raw)
    unescaped = [c for i, c in enumerate(out) if c in "<[]()!*_`#:$" and out[i - 1] != "\\"]
    assert unescaped == []
    assert out.replace("\\", "") == raw.replace("\\", "")


def test_only_http_links_are_linked():
    assert ui.safe_url("javascript:alert(1)") is None
    assert ui.safe_url("data:text/html,x") is None
    assert ui.safe_url("https://ex.org/a (b)") == "https://ex.org/a%20%28b%29"
    assert ui.link("<b>t</b>", "javascript:x") == r"\<b\>t\</b\>"


def test_signal_explained_in_words():
    sig = {"growth": 0.8, "burst": 1.5, "sources": 4, "effective_sources": 2.5,
           "news_share": 0.5, "policy_share": 0.0, "citizen_share": 0.5, "authors": 3,
           "top_author_share": 0.6, "narrow_voice": True, "expectation_share": 0.25,
           "expectation_gap": 0.4, "gap_risk": True, "movement": "moved in",
           "previous_ring": "Watch", "ring": "Act"}
    lines = explain.reasons(sig)
    assert lines[0].startswith("Growing: 80% more")
    assert "Burst" in lines[1] and "4 distinct sources" in lines[2]
    assert lines[3] == "Channel mix: 50% news, 50% citizen."
    assert "Narrow voice" in explain.voice(sig, min_authors=5)
    assert "No citizen posts" in explain.voice({"authors": 0, "narrow_voice": True}, 5)
    assert "Gap risk" in explain.expectation_gap(sig)
    assert explain.movement(sig) == "Moved in from Watch to Act: more urgent than the previous period."
    assert explain.movement({"movement": "back", "ring": "Watch"}).startswith("Back on the radar")
    assert explain.reasons({"growth": float("nan")}) == []


def _blips() -> pd.DataFrame:
    return pd.DataFrame({
        "topic_id": [1, 2, 3, 4], "label": ["a", "b", "c", "d"],
        "service_area": ["transport", "housing", "transport", "housing"],
        "ring": ["Act", "Watch", None, "Monitor"], "score": [0.9, 0.5, 0.1, 0.3],
        "volume": [100, 4, 3, 1], "movement": ["new", "moved in", "left", "moved out"],
        "stage": ["emerging"] * 4, "sources": [5, 2, 1, 1],
    })


def test_radar_figure_places_blips_in_their_sector_and_ring():
    fig = charts.radar_figure(_blips(), ["transport", "housing"])
    blips = [t for t in fig.figure.data if t.customdata is not None]
    by_topic = {int(c[0]): (t, i) for t in blips for i, c in enumerate(t.customdata)}
    assert set(by_topic) == {1, 2, 4}  # the topic off the radar is not drawn
    symbols = {int(t.customdata[0][0]): t.marker.symbol for t in blips}
    assert symbols == {1: "star", 2: "triangle-up", 4: "triangle-down"}
    import math

    for tid, ring, half in ((1, 0, "right"), (2, 2, "left"), (4, 3, "left")):
        t, i = by_topic[tid]
        r = math.hypot(t.x[i], t.y[i])
        assert fig.edges[ring] < r < fig.edges[ring + 1]  # inside its ring
        assert (t.x[i] > 0) == (half == "right")  # transport is the first (right) half
    t, i = by_topic[1]
    assert fig.topic_for({"curve_number": fig.figure.data.index(t), "point_index": i}) == 1
    assert fig.topic_for({"customdata": [4, "d"]}) == 4
    legend = [t.name for t in fig.figure.data if t.showlegend is not False and t.x == (None,)]
    assert "Act: decide now" in legend and "new on the radar this period" in legend
    big, small = by_topic[1], by_topic[4]
    assert big[0].marker.size[big[1]] > small[0].marker.size[small[1]]


def test_blips_are_picked_across_areas_and_rings():
    on = pd.DataFrame({
        "topic_id": range(12), "service_area": ["a"] * 10 + ["b", "b"],
        "ring": ["Act"] * 10 + ["Act", "Watch"], "score": [0.99 - i / 100 for i in range(12)],
    })
    picked = charts.pick_blips(on, 4)
    assert len(picked) == 4
    # The best of cells (a, Act), (b, Act), (b, Watch) come before a's second best.
    assert set(picked["topic_id"]) == {0, 10, 11, 1}
    assert charts.pick_blips(on, 50).equals(on)


def test_blips_are_numbered_by_area_and_ring_and_every_number_is_drawn():
    n = 50
    blips = pd.DataFrame({
        "topic_id": range(n), "label": [f"t{i}" for i in range(n)],
        "service_area": ["a", "b"] * (n // 2), "ring": (["Act"] * 10 + ["Watch"] * (n - 10)),
        "score": [1 - i / 100 for i in range(n)], "volume": [5] * n,
        "movement": ["unchanged"] * n, "stage": ["emerging"] * n, "sources": [3] * n,
    })
    fig = charts.radar_figure(blips, ["a", "b"])
    assert sorted(fig.numbers.values()) == list(range(1, n + 1))
    # Area a first (Act, then Watch, best score first), then area b.
    assert fig.numbers[0] == 1 and fig.numbers[2] == 2 and fig.numbers[10] == 6
    assert fig.numbers[1] == 26
    texts = [t for tr in fig.figure.data if tr.meta == "blips" for t in tr.text]
    assert sorted(int(t) for t in texts) == list(range(1, n + 1))
    # The figure is exactly the layout's size, so blips keep their distance on screen.
    assert fig.figure.layout.width == charts.SIZE and fig.figure.layout.margin.l == 0
    xs = [(x, y) for tr in fig.figure.data if tr.meta == "blips" for x, y in zip(tr.x, tr.y, strict=True)]
    assert layout.min_distance(xs) * fig.placement.px_per_unit >= charts.BLIP_PX + 4 - 1e-6


def test_a_crowded_cell_draws_a_badge_that_lists_the_rest():
    n = 120
    blips = pd.DataFrame({
        "topic_id": range(n), "label": [f"t{i}" for i in range(n)], "service_area": ["a"] * n,
        "ring": ["Act"] * n, "score": [1 - i / 1000 for i in range(n)], "volume": [5] * n,
        "movement": ["new"] * n, "stage": ["emerging"] * n, "sources": [3] * n,
    })
    fig = charts.radar_figure(blips, ["a", "b", "c", "d"], size=420)
    badge = next(tr for tr in fig.figure.data if tr.meta == "more")
    hidden = fig.placement.more[0].topic_ids
    assert badge.text[0] == f"+{len(hidden)}" and len(hidden) > 0
    trace = list(fig.figure.data).index(badge)
    assert fig.cell_for({"curve_number": trace, "point_index": 0}) == ("a", "Act")
    assert fig.cell_for({"customdata": ["more", "a", "Act", 3, ""]}) == ("a", "Act")
    assert fig.topic_for({"customdata": ["more", "a", "Act"]}) is None
    drawn = {int(c[0]) for tr in fig.figure.data if tr.meta == "blips" for c in tr.customdata}
    assert drawn | set(hidden) == set(range(n)) and max(drawn) < min(hidden)


def test_a_stage_shows_the_new_theme_it_stands_for():
    from dashboard.ui import stage_text

    assert stage_text("weak signal", "tsunami, indian ocean") == "weak signal: tsunami, indian ocean"
    assert stage_text("emerging", None) == "emerging"
    assert stage_text("emerging", float("nan")) == "emerging"  # a missing value from pandas
    assert stage_text(None, None) == "no stage"


def test_periods_are_named_in_words():
    assert ui.period_label("2026-11-01", "month") == "November 2026"
    assert ui.period_label("2026-11-02", "week") == "week of 2026-11-02"
    assert ui.period_label("2026-10-01", "quarter") == "Q4 2026"
    assert ui.period_label("2026-01-01", "year") == "2026"
    assert ui.period_label("2026-11-03", "day") == "2026-11-03"

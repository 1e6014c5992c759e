"""Taking the radar to a meeting (SVG, PNG, CSV, print page) and comparing two periods."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pandas as pd
from PIL import Image

from dashboard import charts, compare, picture

XSS = "<script>alert(1)</script> & bus lanes"


def _blips(n: int = 30) -> pd.DataFrame:
    rings = ["Act", "Prepare", "Watch", "Monitor"]
    moves = ["new", "moved in", "moved out", "unchanged", "back"]
    return pd.DataFrame({
        "topic_id": range(n), "label": [XSS if i == 0 else f"topic {i}" for i in range(n)],
        "service_area": [["transport", "housing", "libraries"][i % 3] for i in range(n)],
        "ring": [rings[i % 4] for i in range(n)], "score": [100 - i for i in range(n)],
        "volume": [10 + i for i in range(n)], "movement": [moves[i % 5] for i in range(n)],
        "previous_ring": [None if i % 5 in (0, 4) else rings[(i + 1) % 4] for i in range(n)],
        "stage": ["emerging"] * n, "sources": [3] * n, "reasons": ["grew fast"] * n,
    })


def test_svg_is_the_drawn_radar_with_escaped_labels():
    blips = _blips()
    fig = charts.radar_figure(blips, ["transport", "housing", "libraries"])
    svg = picture.radar_svg(blips, fig.placement, title="Radar — 2026 & co")
    root = ET.fromstring(svg)  # well-formed XML: labels are escaped
    ns = "{http://www.w3.org/2000/svg}"
    groups = [g for g in root.iter(f"{ns}g") if g.get("class") == "blip"]
    numbers = sorted(int(g.find(f"{ns}text").text) for g in groups if g.find(f"{ns}text") is not None)
    assert numbers == list(range(1, 31))
    titles = [t.text for g in groups if (t := g.find(f"{ns}title")) is not None]
    assert len(titles) == 30  # the legend's sample shapes have none
    assert any(XSS in t for t in titles)  # the text, not markup
    assert "<script>" not in svg
    assert int(root.get("width")) == charts.SIZE + 2 * picture.PAD


def test_png_has_the_blips_in_their_ring_colours():
    blips = _blips()
    fig = charts.radar_figure(blips, ["transport", "housing", "libraries"])
    lay = fig.placement
    data = picture.radar_png(blips, lay, title="Radar", scale=2)
    img = Image.open(io.BytesIO(data)).convert("RGB")
    assert img.width == 2 * (lay.size_px + 2 * picture.PAD)
    # Sample just off the centre of a circle blip (the number is written in the centre).
    unchanged = blips[blips["movement"] == "unchanged"].set_index("topic_id")
    p = next(p for p in lay.placed if p.topic_id in unchanged.index)
    x = 2 * (picture.PAD + lay.size_px / 2 + p.x * lay.px_per_unit)
    y = 2 * (28 + lay.size_px / 2 - p.y * lay.px_per_unit)
    colour = "#{:02x}{:02x}{:02x}".format(*img.getpixel((int(x - 0.3 * lay.blip_px * 2), int(y)))[:3])
    assert colour.lower() == charts.RING_COLOURS[p.ring].lower()


def test_list_csv_and_print_view_number_every_topic():
    blips = _blips()
    fig = charts.radar_figure(blips, ["transport", "housing", "libraries"])
    table = picture.radar_list(blips, fig.placement)
    assert table["number"].tolist() == list(range(1, 31))
    assert set(table["marker"]) == {"★", "▲", "▼", "●", "◆"}
    csv = pd.read_csv(io.BytesIO(picture.list_csv(table)), encoding="utf-8-sig")
    assert len(csv) == 30 and csv.loc[0, "number"] == 1 and "topic_id" not in csv
    page = picture.print_html(blips, fig.placement, "Horizon Radar", "2026")
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("<li>") == 30 and "@media print" in page


def _radar(rows):
    return pd.DataFrame(rows, columns=["topic_id", "label", "service_area", "ring", "stage",
                                       "score", "movement", "reasons"])


def test_compare_two_periods_with_reasons():
    before = _radar([(1, "a", "x", "Watch", "weak signal", 40, "new", "r1"),
                     (2, "b", "x", "Act", "emerging", 90, "unchanged", "r2"),
                     (3, "c", "y", "Monitor", "established", 20, "unchanged", "r3"),
                     (4, "d", "y", "Prepare", "emerging", 60, "unchanged", "r4")])
    after = _radar([(1, "a", "x", "Act", "emerging", 95, "moved in", "burst 3.0"),
                    (2, "b", "x", "Prepare", "emerging", 70, "moved out", "growth slowed"),
                    (3, None, "y", None, None, 0, "left", "off the radar: no passages"),
                    (4, "d", "y", "Prepare", "emerging", 61, "unchanged", "r4"),
                    (5, "e", "z", "Watch", "weak signal", 30, "new", "first seen")])
    out = compare.compare(before, after, "2026").set_index("topic_id")
    assert out["change"].to_dict() == {5: "entered", 1: "moved in", 2: "moved out", 3: "left"}
    assert out.loc[1, "reason"] == "from Watch to Act: burst 3.0"
    assert out.loc[5, "reason"].startswith("not on the radar before: first seen")
    assert out.loc[3, "reason"] == "was Monitor; off the radar: no passages"
    assert out.loc[3, "label"] == "c"
    # A topic missing from the later radar altogether left it too.
    gone = compare.compare(before, after[after.topic_id != 3], "2026").set_index("topic_id")
    assert gone.loc[3, "reason"].startswith("was Monitor; not on the radar in 2026")
    assert compare.compare(after, after).empty

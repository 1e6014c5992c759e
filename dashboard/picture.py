"""The radar taken to a meeting: SVG, PNG, CSV and a printable page, from the same layout.

Pure functions of the blips and their `dashboard.layout.Layout`: what is drawn
on the screen is what is downloaded (same positions, numbers, shapes and
colours), with the numbered list beside it. Crawled text (topic labels, area
names) is escaped for XML/HTML; nothing is fetched (fonts are the viewer's own,
PNG text uses DejaVu Sans when installed, else Pillow's built-in font).
"""

from __future__ import annotations

import io
import math
from html import escape

import pandas as pd

from dashboard import charts, layout, ui

LIST_COLUMNS = ["number", "label", "service_area", "ring", "stage", "theme", "movement", "marker",
                "previous_ring", "volume", "sources", "score", "drawn", "reasons"]


def radar_list(blips: pd.DataFrame, lay: layout.Layout) -> pd.DataFrame:
    """The numbered list of the radar: one row per topic on it, in blip-number order.

    `drawn` is False for topics behind a '+k more' badge.
    """
    on = blips[blips["topic_id"].isin(list(lay.numbers))].copy()
    on["number"] = on["topic_id"].map(lay.numbers).astype(int)
    on["marker"] = on["movement"].map(charts.marker)
    on["drawn"] = ~on["topic_id"].isin(lay.hidden)
    for col in LIST_COLUMNS:
        if col not in on.columns:
            on[col] = None
    return on.sort_values("number")[["topic_id", *LIST_COLUMNS]].reset_index(drop=True)


def list_csv(table: pd.DataFrame) -> bytes:
    """The list as UTF-8 CSV (with a byte-order mark so spreadsheet programs read accents)."""
    out = table.drop(columns=["topic_id"], errors="ignore")
    return out.to_csv(index=False).encode("utf-8-sig")


def _shape(symbol: str, cx: float, cy: float, d: float) -> list[tuple[float, float]]:
    """Polygon points of a marker shape of diameter d centred at (cx, cy), screen y down."""
    r = d / 2
    if symbol == "star":
        pts = []
        for i in range(10):
            rad = r if i % 2 == 0 else r * 0.45
            a = math.radians(-90 + 36 * i)
            pts.append((cx + rad * math.cos(a), cy + rad * math.sin(a)))
        return pts
    if symbol == "triangle-up":
        return [(cx, cy - r), (cx + r, cy + r * 0.8), (cx - r, cy + r * 0.8)]
    if symbol == "triangle-down":
        return [(cx, cy + r), (cx + r, cy - r * 0.8), (cx - r, cy - r * 0.8)]
    if symbol == "diamond":
        return [(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)]
    if symbol == "square":
        return [(cx - r, cy - r), (cx + r, cy - r), (cx + r, cy + r), (cx - r, cy + r)]
    return []  # circle: drawn as a circle


def _scene(blips: pd.DataFrame, lay: layout.Layout) -> list[dict]:
    """Everything to draw, in screen pixels of a `lay.size_px` square (y down)."""
    half, k = lay.size_px / 2, lay.px_per_unit
    sx = lambda x: half + x * k  # noqa: E731
    sy = lambda y: half - y * k  # noqa: E731
    items: list[dict] = []
    for band in range(len(layout.RINGS), 0, -1):
        ring = layout.RINGS[band - 1]
        items.append({"kind": "circle", "cx": half, "cy": half, "r": lay.edges[band] * k,
                      "fill": charts.RING_FILL[ring], "stroke": "#ffffff", "width": 2})
    outer = lay.edges[-1]
    for sector in lay.sectors:
        if len(lay.sectors) > 1:
            x, y = layout.xy(outer, sector.start)
            items.append({"kind": "line", "x0": half, "y0": half, "x1": sx(x), "y1": sy(y),
                          "stroke": "#ffffff", "width": 3})
        lx, ly = layout.xy(outer + 0.05, sector.middle)
        anchor = "middle" if abs(lx) < 0.3 else ("start" if lx > 0 else "end")
        lines = charts.wrap_lines(sector.name)
        line_px = 14
        block = (len(lines) - 1) * line_px
        first = (sy(ly) - 4 - block if ly > 0.3 else sy(ly) + 12 if ly < -0.3
                 else sy(ly) + 4 - block / 2)
        items.append({"kind": "text", "x": sx(lx), "y": first, "text": sector.name,
                      "lines": lines, "line_px": line_px, "anchor": anchor, "size": 12,
                      "bold": True, "fill": "#222222"})
    for band, ring in enumerate(layout.RINGS):
        items.append({"kind": "text", "x": sx(lay.lane / 2) + 4,
                      "y": sy((lay.edges[band] + lay.edges[band + 1]) / 2),
                      "text": ring.upper(), "anchor": "middle", "size": 9, "bold": False,
                      "fill": "#333333", "rotate": -90})
    info = blips.set_index("topic_id")
    for p in lay.placed:
        row = info.loc[p.topic_id]
        move = row.get("movement")
        symbol = charts.MOVEMENTS.get(move, charts.MOVEMENTS["unchanged"])[0]
        items.append({"kind": "blip", "symbol": symbol, "cx": sx(p.x), "cy": sy(p.y),
                      "d": lay.blip_px, "fill": charts.RING_COLOURS[p.ring],
                      "text": str(p.number), "text_fill": charts.RING_TEXT[p.ring],
                      "title": f"{p.number}. {row.get('label')} ({p.ring}, {move})"})
    for m in lay.more:
        items.append({"kind": "blip", "symbol": "square", "cx": sx(m.x), "cy": sy(m.y),
                      "d": lay.blip_px, "fill": "#ffffff", "text": f"+{len(m.topic_ids)}",
                      "text_fill": "#000000",
                      "title": f"{len(m.topic_ids)} more in {m.sector}, {m.ring}"})
    return items


def _legend_lines() -> list[tuple[str, str, str]]:
    rings = [("circle", charts.RING_COLOURS[r], f"{r}: {charts.RING_MEANING[r]}")
             for r in layout.RINGS]
    moves = [(sym, "#555555", text) for sym, _mark, text in charts.MOVEMENTS.values()]
    return rings + moves


LEGEND_ROW = 18
PAD = 70  # room left and right of the radar for long area names


def _shifted(items: list[dict], dx: float) -> list[dict]:
    keys = ("cx", "x", "x0", "x1")
    return [{k: (v + dx if k in keys else v) for k, v in it.items()} for it in items]


def radar_svg(blips: pd.DataFrame, lay: layout.Layout, title: str = "") -> str:
    """The radar as a standalone SVG document, legend underneath."""
    size = lay.size_px
    width = size + 2 * PAD
    legend = _legend_lines()
    top = 28 if title else 0
    height = top + size + 10 + LEGEND_ROW * math.ceil(len(legend) / 2)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" '
           'role="img">']
    out.append(f"<title>{escape(title or 'Horizon Radar')}</title>")
    out.append(f'<rect width="{width}" height="{height}" fill="#ffffff"/>')
    if title:
        out.append(f'<text x="{width / 2:.1f}" y="19" text-anchor="middle" font-size="15" '
                   f'font-weight="bold" fill="#111">{escape(title)}</text>')
    out.append(f'<g transform="translate({PAD},{top})">')
    for it in _scene(blips, lay):
        out.append(_svg_item(it))
    out.append("</g>")
    y0 = top + size + 10
    for i, (symbol, colour, text) in enumerate(legend):
        col, row = i % 2, i // 2
        x, y = 12 + col * width / 2, y0 + row * LEGEND_ROW + 8
        out.append(_svg_item({"kind": "blip", "symbol": symbol, "cx": x + 6, "cy": y, "d": 12,
                              "fill": colour, "text": "", "text_fill": "#000", "title": ""}))
        out.append(f'<text x="{x + 18:.1f}" y="{y + 4:.1f}" font-size="11" fill="#222">'
                   f"{escape(text)}</text>")
    out.append("</svg>")
    return "\n".join(out)


def _svg_item(it: dict) -> str:
    kind = it["kind"]
    if kind == "circle":
        return (f'<circle cx="{it["cx"]:.1f}" cy="{it["cy"]:.1f}" r="{it["r"]:.1f}" '
                f'fill="{it["fill"]}" stroke="{it["stroke"]}" stroke-width="{it["width"]}"/>')
    if kind == "line":
        return (f'<line x1="{it["x0"]:.1f}" y1="{it["y0"]:.1f}" x2="{it["x1"]:.1f}" '
                f'y2="{it["y1"]:.1f}" stroke="{it["stroke"]}" stroke-width="{it["width"]}"/>')
    if kind == "text":
        weight = ' font-weight="bold"' if it["bold"] else ""
        turn = (f' transform="rotate({it["rotate"]} {it["x"]:.1f} {it["y"]:.1f})"'
                if it.get("rotate") else "")
        lines = it.get("lines") or [it["text"]]
        body = escape(lines[0]) + "".join(
            f'<tspan x="{it["x"]:.1f}" dy="{it.get("line_px", 14)}">{escape(line)}</tspan>'
            for line in lines[1:])
        return (f'<text x="{it["x"]:.1f}" y="{it["y"]:.1f}" text-anchor="{it["anchor"]}" '
                f'font-size="{it["size"]}"{weight} fill="{it["fill"]}"{turn}>{body}</text>')
    pts = _shape(it["symbol"], it["cx"], it["cy"], it["d"])
    title = f"<title>{escape(it['title'])}</title>" if it["title"] else ""
    if pts:
        shape = (f'<polygon points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in pts)}" '
                 f'fill="{it["fill"]}" stroke="#222" stroke-width="1"/>')
    else:
        shape = (f'<circle cx="{it["cx"]:.1f}" cy="{it["cy"]:.1f}" r="{it["d"] / 2:.1f}" '
                 f'fill="{it["fill"]}" stroke="#222" stroke-width="1"/>')
    text = (f'<text x="{it["cx"]:.1f}" y="{it["cy"] + 3.5:.1f}" text-anchor="middle" '
            f'font-size="10" fill="{it["text_fill"]}">{escape(it["text"])}</text>'
            if it["text"] else "")
    return f'<g class="blip">{title}{shape}{text}</g>'


def radar_png(blips: pd.DataFrame, lay: layout.Layout, title: str = "", scale: int = 2) -> bytes:
    """The radar as a PNG (drawn with Pillow at `scale` times the screen size)."""
    from PIL import Image, ImageDraw, ImageFont

    size = lay.size_px
    width = size + 2 * PAD
    legend = _legend_lines()
    top = 28 if title else 0
    height = top + size + 10 + LEGEND_ROW * math.ceil(len(legend) / 2)
    img = Image.new("RGB", (width * scale, height * scale), "white")
    draw = ImageDraw.Draw(img)
    fonts: dict[tuple[int, bool], ImageFont.FreeTypeFont] = {}

    def font(px: int, bold: bool = False):
        if (px, bold) not in fonts:
            try:  # DejaVu covers far more scripts and signs than Pillow's built-in font
                fonts[px, bold] = ImageFont.truetype(
                    "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf", px * scale)
            except OSError:
                fonts[px, bold] = ImageFont.load_default(size=px * scale)
        return fonts[px, bold]

    def s(v: float) -> float:
        return v * scale

    def text(x: float, y: float, value: str, px: int, fill: str, anchor: str = "mm",
             bold: bool = False) -> None:
        draw.text((s(x), s(y)), value, fill=fill, font=font(px, bold), anchor=anchor)

    if title:
        text(width / 2, 14, title, 15, "#111111", bold=True)

    def blip(it: dict, dy: float) -> None:
        cx, cy, d = it["cx"], it["cy"] + dy, it["d"]
        pts = _shape(it["symbol"], cx, cy, d)
        if pts:
            draw.polygon([(s(x), s(y)) for x, y in pts], fill=it["fill"], outline="#222222",
                         width=max(1, scale // 2))
        else:
            r = d / 2
            draw.ellipse([s(cx - r), s(cy - r), s(cx + r), s(cy + r)], fill=it["fill"],
                         outline="#222222", width=max(1, scale // 2))
        if it["text"]:
            text(cx, cy, it["text"], 10, it["text_fill"])

    for it in _shifted(_scene(blips, lay), PAD):
        if it["kind"] == "circle":
            cx, cy, r = it["cx"], it["cy"] + top, it["r"]
            draw.ellipse([s(cx - r), s(cy - r), s(cx + r), s(cy + r)], fill=it["fill"],
                         outline=it["stroke"], width=it["width"] * scale)
        elif it["kind"] == "line":
            draw.line([s(it["x0"]), s(it["y0"] + top), s(it["x1"]), s(it["y1"] + top)],
                      fill=it["stroke"], width=it["width"] * scale)
        elif it["kind"] == "text" and it.get("rotate"):
            label = Image.new("RGBA", (int(s(len(it["text"]) * it["size"])), int(s(it["size"] + 4))),
                              (255, 255, 255, 0))
            ImageDraw.Draw(label).text((label.width / 2, label.height / 2), it["text"],
                                       fill=it["fill"], font=font(it["size"]), anchor="mm")
            label = label.rotate(-it["rotate"], expand=True)
            img.paste(label, (int(s(it["x"]) - label.width / 2),
                              int(s(it["y"] + top) - label.height / 2)), label)
        elif it["kind"] == "text":
            anchor = {"middle": "ms", "start": "ls", "end": "rs"}[it["anchor"]]
            for i, line in enumerate(it.get("lines") or [it["text"]]):
                text(it["x"], it["y"] + top + i * it.get("line_px", 14), line, it["size"],
                     it["fill"], anchor, bold=it.get("bold", False))
        else:
            blip(it, top)
    y0 = top + size + 10
    for i, (symbol, colour, label) in enumerate(legend):
        col, row = i % 2, i // 2
        x, y = 12 + col * width / 2, y0 + row * LEGEND_ROW + 8
        blip({"symbol": symbol, "cx": x + 6, "cy": y, "d": 12, "fill": colour, "text": ""}, 0)
        text(x + 18, y, label, 11, "#222222", "lm")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def print_html(blips: pd.DataFrame, lay: layout.Layout, title: str, period_text: str) -> str:
    """A standalone page to print or hand out: the radar, the legend and the numbered list
    per service area and ring (with movement and stage), then what left the radar."""
    table = radar_list(blips, lay)
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{escape(title)}</title>",
             "<style>body{font-family:Helvetica,Arial,sans-serif;margin:24px;color:#111}"
             "h1{font-size:20px}h2{font-size:15px;margin:14px 0 4px}h3{font-size:13px;"
             "margin:8px 0 2px}ol{margin:0 0 6px;padding-left:0;list-style:none}"
             "li{font-size:12px;margin:1px 0}.no{display:inline-block;min-width:2.2em;"
             "font-weight:bold}.list{columns:2;column-gap:28px}"
             "section{break-inside:avoid}"
             "@media print{body{margin:0}.radar{break-after:page}}</style></head><body>",
             f"<h1>{escape(title)}</h1><p>{escape(period_text)}</p>",
             f'<div class="radar">{radar_svg(blips, lay)}</div>', '<div class="list">']
    for sector in lay.sectors:
        rows = table[table["service_area"] == sector.name]
        if rows.empty:
            continue
        parts.append(f"<section><h2>{escape(sector.name)}</h2>")
        for ring in layout.RINGS:
            cell = rows[rows["ring"] == ring]
            if cell.empty:
                continue
            parts.append(f"<h3>{ring}</h3><ol>")
            for r in cell.itertuples():
                stage = ui.stage_text(r.stage, r.theme)
                hidden = "" if r.drawn else " (not drawn: in “+more”)"
                parts.append(f'<li><span class="no">{r.number}</span>{escape(str(r.marker))} '
                             f"{escape(str(r.label))} — {escape(stage)}, "
                             f"{escape(str(r.movement))}{hidden}</li>")
            parts.append("</ol>")
        parts.append("</section>")
    parts.append("</div>")
    left = blips[blips["movement"] == "left"]
    if not left.empty:
        parts.append("<h2>Left the radar this period</h2><ol>")
        for r in left.itertuples():
            parts.append(f"<li>× {escape(str(r.label))} ({escape(str(r.service_area))}, "
                         f"was {escape(str(r.previous_ring))})</li>")
        parts.append("</ol>")
    parts.append("</body></html>")
    return "\n".join(parts)

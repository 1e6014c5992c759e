"""Plotly figures: the radar picture and topic trends. Pure functions of DataFrames."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go

RINGS = ("Act", "Prepare", "Watch", "Monitor")
RADIUS = 4.0  # outer edge of the radar in plot units
RING_COLOURS = {"Act": "#c0392b", "Prepare": "#e67e22", "Watch": "#2471a3", "Monitor": "#7f8c8d"}
RING_FILL = {"Act": "#fbe3e0", "Prepare": "#fdf0e2", "Watch": "#e3eef8", "Monitor": "#f2f3f4"}
RING_MEANING = {
    "Act": "decide now",
    "Prepare": "plan a response",
    "Watch": "keep an eye on it",
    "Monitor": "early or fading",
}
# movement -> (marker symbol, legend text)
MOVEMENTS = {
    "new": ("star", "new on the radar this run"),
    "moved in": ("triangle-up", "moved in: closer to the centre since the last run"),
    "moved out": ("triangle-down", "moved out: further from the centre since the last run"),
    "unchanged": ("circle", "same ring as the last run"),
}
DENSE = 40  # more blips than this: numbers beside the blips instead of names
CHANNEL_COLOURS = {"news": "#2471a3", "policy": "#7d3c98", "citizen": "#27ae60"}


@dataclass
class RadarFigure:
    """The figure and which topic each selectable point is."""

    figure: go.Figure
    points: dict[tuple[int, int], int] = field(default_factory=dict)  # (trace, point) -> topic
    numbers: dict[int, int] = field(default_factory=dict)  # topic -> blip number
    edges: tuple[float, ...] = ()  # ring boundaries used

    def topic_for(self, point: dict) -> int | None:
        """The topic id of a point from Streamlit's selection event, if it is a blip."""
        custom = point.get("customdata")
        if isinstance(custom, list | tuple) and custom:
            try:
                return int(custom[0])
            except (TypeError, ValueError):
                pass
        key = (point.get("curve_number"), point.get("point_index", point.get("point_number")))
        return self.points.get(key)


def _wrap(text: str, width: int = 14) -> str:
    words, lines, line = text.split(), [], ""
    for w in words:
        if line and len(line) + len(w) + 1 > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    lines.append(line)
    return "<br>".join(lines)


def _sizes(volume: pd.Series) -> pd.Series:
    v = volume.fillna(0).clip(lower=0).astype(float)
    top = max(float(v.max()) if len(v) else 1.0, 1.0)
    # Area grows with volume; the largest blip shrinks as the radar fills up.
    biggest = 40 if len(v) <= 30 else max(18, 40 - (len(v) - 30) * 0.2)
    return 8 + (biggest - 8) * (v / top).pow(0.5)


def number_blips(on: pd.DataFrame, areas: list[str]) -> pd.Series:
    """Blip numbers 1..n: Act first, then around the radar by area, best score first."""
    order = on.assign(_ring=on["ring"].map(RINGS.index),
                      _area=on["service_area"].map({a: i for i, a in enumerate(areas)}))
    order = order.sort_values(["_ring", "_area", "score"], ascending=[True, True, False])
    return pd.Series(range(1, len(order) + 1), index=order.index).reindex(on.index)


def pick_blips(on: pd.DataFrame, limit: int) -> pd.DataFrame:
    """At most `limit` blips, spread over every area and ring: each (area, ring) cell
    contributes its best topic before any cell contributes a second, and so on."""
    if len(on) <= limit:
        return on
    ranked = on.assign(_rank=on.groupby(["service_area", "ring"])["score"]
                       .rank(method="first", ascending=False))
    return ranked.sort_values(["_rank", "score"], ascending=[True, False]).head(limit).drop(
        columns="_rank")


def ring_edges(blips: pd.DataFrame) -> tuple[float, ...]:
    """Ring boundaries (radius, centre outwards). A ring's width grows with the square root
    of its blips, on top of a minimum, so a crowded ring gets room and an empty one stays
    visible; the inner rings get extra width because their circumference is short."""
    counts = blips["ring"].value_counts() if len(blips) else pd.Series(dtype=int)
    weights = [(1.6 - 0.2 * i) + math.sqrt(counts.get(r, 0)) / 2 for i, r in enumerate(RINGS)]
    total = sum(weights)
    edges, acc = [0.0], 0.0
    for w in weights:
        acc += w
        edges.append(RADIUS * acc / total)
    return tuple(edges)


def _positions(blips: pd.DataFrame, areas: list[str], edges: tuple[float, ...]) -> pd.DataFrame:
    """Angle and radius per blip: sector by area, ring band by ring, higher score nearer the centre.

    Angles are degrees clockwise from 12 o'clock; x, y are the cartesian position.
    """
    width = 360.0 / len(areas)
    out = blips.copy()
    out["theta"], out["r"] = 0.0, 0.0
    for (area, ring), group in out.groupby(["service_area", "ring"], sort=False):
        sector, band = areas.index(area), RINGS.index(ring)
        group = group.sort_values("score", ascending=False)
        n = len(group)
        inner, outer = edges[band], edges[band + 1]
        # Rows across the band so that blips are about as far apart along the arc as
        # across it.
        arc = math.radians(width) * (inner + outer) / 2
        rows = max(1, min(n, round(math.sqrt(n * (outer - inner) / max(arc, 1e-6)))))
        per_row = math.ceil(n / rows)
        for j, idx in enumerate(group.index):
            row, col = divmod(j, per_row)
            in_row = min(per_row, n - row * per_row)
            # Spread the cell's blips over a small grid: along the arc, and in rows
            # across the band, best scores nearest the centre; odd columns offset.
            out.at[idx, "theta"] = sector * width + width * (col + 0.5 + 0.25 * (row % 2)) / (
                in_row + 0.5)
            depth = (row + 0.5) / rows
            out.at[idx, "r"] = inner + (outer - inner) * (0.15 + 0.7 * depth)
    rad = out["theta"].map(math.radians)
    out["x"] = out["r"] * rad.map(math.sin)
    out["y"] = out["r"] * rad.map(math.cos)
    return out


def _xy(r: float, theta: float) -> tuple[float, float]:
    rad = math.radians(theta)
    return r * math.sin(rad), r * math.cos(rad)


def _background(fig: go.Figure, areas: list[str], edges: tuple[float, ...]) -> None:
    """Ring bands, sector lines, area names and ring names, drawn as layout shapes."""
    for band in range(len(RINGS), 0, -1):  # outer first, so inner bands paint over
        ring, edge = RINGS[band - 1], edges[band]
        fig.add_shape(type="circle", x0=-edge, y0=-edge, x1=edge, y1=edge, layer="below",
                      fillcolor=RING_FILL[ring], line=dict(color="white", width=2))
    width = 360.0 / len(areas)
    outer = edges[-1]
    for i, area in enumerate(areas):
        x, y = _xy(outer, i * width)
        if len(areas) > 1:
            fig.add_shape(type="line", x0=0, y0=0, x1=x, y1=y, layer="below",
                          line=dict(color="white", width=3))
        lx, ly = _xy(outer + 0.45, i * width + width / 2)
        fig.add_annotation(x=lx, y=ly, text=f"<b>{_wrap(area)}</b>", showarrow=False,
                           font=dict(size=12, color="#222"),
                           xanchor="center" if abs(lx) < 0.8 else ("left" if lx > 0 else "right"))
    for band, ring in enumerate(RINGS):
        fig.add_annotation(x=0, y=edges[band + 1] - 0.06, text=ring.upper(), showarrow=False,
                           font=dict(size=10, color=RING_COLOURS[ring]), yanchor="top",
                           bgcolor="rgba(255,255,255,0.6)")


def radar_figure(blips: pd.DataFrame, areas: list[str], label_top: int = 20,
                 height: int = 760) -> RadarFigure:
    """The radar: one sector per service area, rings Act (centre) to Monitor, a blip per topic.

    `blips` needs topic_id, label, service_area, ring, score, volume, movement, stage,
    sources; rows without a ring are off the radar and not drawn. Drawn on cartesian
    axes (not a polar subplot) because Streamlit only reports clicks on cartesian points.
    """
    areas = list(areas) or ["other"]
    on = blips[blips["ring"].isin(RINGS)].copy()
    on = on[on["service_area"].isin(areas)]
    fig = go.Figure()
    edges = ring_edges(on)
    _background(fig, areas, edges)
    result = RadarFigure(fig, edges=edges)
    if not on.empty:
        on = _positions(on, areas, edges)
        on["no"] = number_blips(on, areas)
        result.numbers = dict(zip(on["topic_id"].astype(int), on["no"], strict=True))
        dense = len(on) > DENSE
        on["size"] = _sizes(on["volume"])
        if dense:  # big enough to click
            on["size"] = on["size"].clip(lower=12)
        on["move"] = on["movement"].where(on["movement"].isin(list(MOVEMENTS)), "unchanged")
        # A sparse radar names the best blip of each area and ring in the picture; a
        # crowded one numbers every blip instead (names would pile up at the centre),
        # and the table under it gives each number's topic.
        best = on.sort_values("score", ascending=False).drop_duplicates(["service_area", "ring"])
        labelled = set(best.nlargest(label_top, "score")["topic_id"])
        for move, (symbol, _text) in MOVEMENTS.items():
            part = on[on["move"] == move]
            if part.empty:
                continue
            trace_no = len(fig.data)
            text = ([str(n) for n in part["no"]] if dense else
                    [_wrap(lbl, 18) if t in labelled else "" for t, lbl in
                     zip(part["topic_id"], part["label"], strict=True)])
            fig.add_trace(go.Scatter(
                x=part["x"], y=part["y"], mode="markers+text", text=text,
                textposition="top center",
                textfont=dict(size=9 if dense else 10, color="#222"),
                marker=dict(size=part["size"], symbol=symbol,
                            color=[RING_COLOURS[r] for r in part["ring"]],
                            line=dict(color="white", width=1), opacity=0.9),
                customdata=list(zip(part["topic_id"], part["label"], part["ring"],
                                    part["stage"].fillna("-"), part["volume"],
                                    part["sources"].fillna(0), part["movement"].fillna("-"),
                                    part["service_area"], strict=True)),
                hovertemplate=("<b>%{customdata[1]}</b><br>%{customdata[2]} · %{customdata[3]}"
                               "<br>%{customdata[7]}<br>%{customdata[4]} passages from "
                               "%{customdata[5]} sources<br>movement: %{customdata[6]}"
                               "<br><i>click to open the topic</i><extra></extra>"),
                showlegend=False, name=move,
            ))
            for i, tid in enumerate(part["topic_id"]):
                result.points[(trace_no, i)] = int(tid)
    _legend(fig)
    lim = RADIUS + 1.3
    axis = dict(visible=False, range=[-lim, lim], fixedrange=True)
    fig.update_layout(
        height=height, margin=dict(l=10, r=10, t=10, b=10), paper_bgcolor="white",
        plot_bgcolor="white", dragmode=False, clickmode="event+select", hovermode="closest",
        xaxis=axis, yaxis={**axis, "scaleanchor": "x", "scaleratio": 1},
        legend=dict(orientation="h", yanchor="top", y=0.0, xanchor="center", x=0.5,
                    font=dict(size=12), itemclick=False, itemdoubleclick=False),
    )
    return result


def _legend(fig: go.Figure) -> None:
    """Legend-only entries: what colour and shape mean, in words."""
    for ring in RINGS:
        fig.add_trace(go.Scatter(
            x=[None], y=[None], mode="markers", name=f"{ring}: {RING_MEANING[ring]}",
            marker=dict(size=12, color=RING_COLOURS[ring], symbol="circle"), hoverinfo="skip"))
    for symbol, text in MOVEMENTS.values():
        fig.add_trace(go.Scatter(
            x=[None], y=[None], mode="markers", name=text,
            marker=dict(size=12, color="#555", symbol=symbol), hoverinfo="skip"))


def trend_figure(trend: pd.DataFrame, height: int = 320) -> go.Figure:
    """Passages per period, one line per channel."""
    fig = go.Figure()
    # A period without passages in a channel has no row: show it as zero, not a gap.
    wide = trend.pivot_table(index="period_start", columns="channel", values="passages",
                             aggfunc="sum", fill_value=0).sort_index()
    for channel in wide.columns:
        fig.add_trace(go.Scatter(
            x=wide.index, y=wide[channel], mode="lines+markers", name=str(channel),
            line=dict(color=CHANNEL_COLOURS.get(str(channel))),
            hovertemplate="%{x|%Y-%m-%d}: %{y} passages<extra>" + str(channel) + "</extra>"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10),
                      yaxis=dict(title="passages", rangemode="tozero"),
                      legend_title_text="channel")
    return fig


def ring_history_figure(history: pd.DataFrame, height: int = 220) -> go.Figure:
    """The ring per period as a step line (Act at the top, off the radar at the bottom)."""
    levels = {r: 4 - i for i, r in enumerate(RINGS)}
    y = [levels.get(r, 0) if isinstance(r, str) else 0 for r in history["ring"]]
    fig = go.Figure(go.Scatter(
        x=history["period_start"], y=y, mode="lines+markers", line_shape="hv",
        marker=dict(size=10, color=[RING_COLOURS.get(r, "#bbb") if isinstance(r, str) else "#bbb"
                                    for r in history["ring"]]),
        hovertemplate="%{x|%Y-%m-%d}<extra></extra>"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10),
                      yaxis=dict(tickvals=[0, 1, 2, 3, 4],
                                 ticktext=["off radar", "Monitor", "Watch", "Prepare", "Act"],
                                 range=[-0.5, 4.5]))
    return fig


def documents_figure(timeline: pd.DataFrame, height: int = 260) -> go.Figure:
    """Documents per month for a source."""
    fig = go.Figure(go.Bar(x=timeline["month"], y=timeline["documents"], marker_color="#2471a3"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), yaxis_title="documents")
    return fig


def share_text(value: float | None) -> str:
    """A share as a whole percentage, or a dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{100 * value:.0f}%"

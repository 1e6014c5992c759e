"""Plotly figures: the radar picture and topic trends. Pure functions of DataFrames."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go

from dashboard import layout

RINGS = layout.RINGS
# Okabe-Ito colours: told apart with every common colour-vision deficiency; the ring
# is also given by position, the movement by shape, so colour is never the only cue.
RING_COLOURS = {"Act": "#D55E00", "Prepare": "#E69F00", "Watch": "#0072B2", "Monitor": "#8C8C8C"}
RING_TEXT = {"Act": "#ffffff", "Prepare": "#000000", "Watch": "#ffffff", "Monitor": "#000000"}
RING_FILL = {"Act": "#fbe6d9", "Prepare": "#fdf1d6", "Watch": "#dcebf6", "Monitor": "#f0f0f0"}
RING_MEANING = {
    "Act": "decide now",
    "Prepare": "plan a response",
    "Watch": "keep an eye on it",
    "Monitor": "early or fading",
}
# movement -> (marker symbol, text marker for lists, legend text)
MOVEMENTS = {
    "new": ("star", "★", "new on the radar this period"),
    "back": ("diamond", "◆", "back on the radar after leaving it"),
    "moved in": ("triangle-up", "▲", "moved in (closer to the centre)"),
    "moved out": ("triangle-down", "▼", "moved out (further from the centre)"),
    "unchanged": ("circle", "●", "same ring as the previous period"),
}
SIZE = 640  # side of the radar's square plot area in pixels
LEGEND_PX = 120  # room under the plot for the legend (never taken from the plot)
BLIP_PX = 22  # the largest blip's diameter
CHANNEL_COLOURS = {"news": "#0072B2", "policy": "#CC79A7", "citizen": "#009E73"}


@dataclass
class RadarFigure:
    """The figure, its layout and which topic (or crowded cell) each point is."""

    figure: go.Figure
    points: dict[tuple[int, int], int] = field(default_factory=dict)  # (trace, point) -> topic
    numbers: dict[int, int] = field(default_factory=dict)  # topic -> blip number
    edges: tuple[float, ...] = ()  # ring boundaries used
    placement: layout.Layout | None = None  # positions, numbers, '+k more' badges
    cells: dict[tuple[int, int], tuple[str, str]] = field(default_factory=dict)  # badge points
    width: int = SIZE  # pixels: the plot area plus room for long area names beside it

    def topic_for(self, point: dict) -> int | None:
        """The topic id of a point from Streamlit's selection event, if it is a blip."""
        custom = point.get("customdata")
        if isinstance(custom, list | tuple) and custom:
            try:
                return int(custom[0])
            except (TypeError, ValueError):
                return None
        key = (point.get("curve_number"), point.get("point_index", point.get("point_number")))
        return self.points.get(key)

    def cell_for(self, point: dict) -> tuple[str, str] | None:
        """(sector, ring) when the point is a crowded cell's '+k more' badge."""
        custom = point.get("customdata")
        if isinstance(custom, list | tuple) and len(custom) >= 3 and custom[0] == "more":
            return str(custom[1]), str(custom[2])
        key = (point.get("curve_number"), point.get("point_index", point.get("point_number")))
        return self.cells.get(key)


def marker(movement: object) -> str:
    """The text marker of a movement (★ ◆ ▲ ▼ ●), '×' for a topic that left, '' if unknown."""
    if movement == "left":
        return "×"
    return MOVEMENTS.get(movement, ("", "", ""))[1] if isinstance(movement, str) else ""


def wrap_lines(text: str, width: int = 14) -> list[str]:
    """Words of `text` in lines of about `width` characters (a long word keeps its line)."""
    words, lines, line = text.split(), [], ""
    for w in words:
        if line and len(line) + len(w) + 1 > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    lines.append(line)
    return lines


def _wrap(text: str, width: int = 14) -> str:
    return "<br>".join(wrap_lines(text, width))


def _sizes(volume: pd.Series, biggest: float) -> pd.Series:
    """Marker diameters: 80% of the largest for the smallest volume, up to the largest."""
    v = volume.fillna(0).clip(lower=0).astype(float)
    top = max(float(v.max()) if len(v) else 1.0, 1.0)
    return biggest * (0.8 + 0.2 * (v / top).pow(0.5))


def pick_blips(on: pd.DataFrame, limit: int) -> pd.DataFrame:
    """At most `limit` blips, spread over every area and ring: each (area, ring) cell
    contributes its best topic before any cell contributes a second, and so on."""
    if len(on) <= limit:
        return on
    ranked = on.assign(_rank=on.groupby(["service_area", "ring"])["score"]
                       .rank(method="first", ascending=False))
    return ranked.sort_values(["_rank", "score"], ascending=[True, False]).head(limit).drop(
        columns="_rank")


def radar_layout(blips: pd.DataFrame, areas: list[str], size: int = SIZE) -> layout.Layout:
    """The layout (positions, numbers, '+k more' badges) of the blips on the radar."""
    on = blips[blips["ring"].isin(RINGS)]
    items = [layout.Blip(int(t), str(a), str(r), float(s) if pd.notna(s) else 0.0)
             for t, a, r, s in zip(on["topic_id"], on["service_area"], on["ring"], on["score"],
                                   strict=True)]
    return layout.layout(items, list(areas) or ["other"], size_px=size, blip_px=BLIP_PX)


def side_room(lay: layout.Layout, char_px: float = 7.2) -> int:
    """Pixels needed beside the plot so the names of the left and right areas fit."""
    room = (lay.limit - lay.edges[-1] - 0.05) * lay.px_per_unit
    need = 0.0
    for sector in lay.sectors:
        x, _y = layout.xy(1.0, sector.middle)
        if abs(x) >= 0.3:  # names at the sides run outwards from the rings
            need = max(need, max(len(line) for line in wrap_lines(sector.name)) * char_px + 6)
    return max(0, math.ceil(need - room))


def _background(fig: go.Figure, lay: layout.Layout) -> None:
    """Ring bands, sector lines, area names and ring names, drawn as layout shapes.

    Set in one go: adding shapes one by one re-validates all earlier ones."""
    edges = lay.edges
    shapes, notes = [], []
    for band in range(len(RINGS), 0, -1):  # outer first, so inner bands paint over
        ring, edge = RINGS[band - 1], edges[band]
        shapes.append(dict(type="circle", x0=-edge, y0=-edge, x1=edge, y1=edge, layer="below",
                           fillcolor=RING_FILL[ring], line=dict(color="white", width=2)))
    outer = edges[-1]
    for sector in lay.sectors:
        if len(lay.sectors) > 1:
            x, y = layout.xy(outer, sector.start)
            shapes.append(dict(type="line", x0=0, y0=0, x1=x, y1=y, layer="below",
                               line=dict(color="white", width=3)))
        lx, ly = layout.xy(outer + 0.05, sector.middle)
        notes.append(dict(
            x=lx, y=ly, text=f"<b>{_wrap(sector.name)}</b>", showarrow=False,
            font=dict(size=12, color="#222"),
            xanchor="center" if abs(lx) < 0.3 else ("left" if lx > 0 else "right"),
            yanchor="middle" if abs(ly) < 0.3 else ("bottom" if ly > 0 else "top")))
    # Ring names run up the lane the layout keeps clear right of 12 o'clock.
    for band, ring in enumerate(RINGS):
        notes.append(dict(x=lay.lane / 2 + 1 / lay.px_per_unit,
                          y=(edges[band] + edges[band + 1]) / 2, text=ring.upper(),
                          showarrow=False, textangle=-90, font=dict(size=9, color="#333"),
                          xanchor="center", yanchor="middle"))
    fig.update_layout(shapes=shapes, annotations=notes)


def radar_figure(blips: pd.DataFrame, areas: list[str], size: int = SIZE,
                 placement: layout.Layout | None = None) -> RadarFigure:
    """The radar: one sector per service area, rings Act (centre) to Monitor, a numbered
    blip per topic placed without overlap (dashboard.layout), shaped by its movement.

    `blips` needs topic_id, label, service_area, ring, score, volume, movement, stage,
    sources; rows without a ring are off the radar and not drawn. `placement` is
    `radar_layout(blips, areas, size)` when the caller has it already. `size` is the side of
    the square plot area in pixels: the figure is exactly that wide (plus the legend
    below), so blips keep the distance the layout gives them. Drawn on cartesian axes
    (not a polar subplot) because Streamlit only reports clicks on cartesian points.
    """
    areas = list(areas) or ["other"]
    on = blips[blips["ring"].isin(RINGS) & blips["service_area"].isin(areas)].copy()
    lay = placement if placement is not None else radar_layout(on, areas, size)
    fig = go.Figure()
    _background(fig, lay)
    result = RadarFigure(fig, edges=lay.edges, placement=lay, numbers=dict(lay.numbers))
    pos = pd.DataFrame([(p.topic_id, p.x, p.y) for p in lay.placed],
                       columns=["topic_id", "x", "y"])
    drawn = on.merge(pos, on="topic_id") if len(pos) else on.iloc[0:0].assign(x=[], y=[])
    if not drawn.empty:
        drawn["no"] = drawn["topic_id"].map(lay.numbers)
        drawn["size"] = _sizes(drawn["volume"], lay.blip_px)
        drawn["move"] = drawn["movement"].where(drawn["movement"].isin(list(MOVEMENTS)),
                                                "unchanged")
        for move, (symbol, _mark, text) in MOVEMENTS.items():
            part = drawn[drawn["move"] == move]
            if part.empty:
                continue
            trace_no = len(fig.data)
            fig.add_trace(go.Scatter(
                x=part["x"], y=part["y"], mode="markers+text",
                text=[str(n) for n in part["no"]], textposition="middle center",
                textfont=dict(size=10, color=[RING_TEXT[r] for r in part["ring"]]),
                marker=dict(size=part["size"], symbol=symbol,
                            color=[RING_COLOURS[r] for r in part["ring"]],
                            line=dict(color="#222", width=1), opacity=1.0),
                customdata=list(zip(part["topic_id"], part["label"], part["ring"],
                                    part["stage"].fillna("-"), part["volume"],
                                    part["sources"].fillna(0), part["movement"].fillna("-"),
                                    part["service_area"], part["no"], strict=True)),
                hovertemplate=("<b>%{customdata[8]}. %{customdata[1]}</b><br>%{customdata[2]}"
                               " · %{customdata[3]}<br>%{customdata[7]}<br>%{customdata[4]} "
                               "passages from %{customdata[5]} sources<br>" + text +
                               "<br><i>click to open the topic</i><extra></extra>"),
                showlegend=False, name=move, meta="blips",
            ))
            for i, tid in enumerate(part["topic_id"]):
                result.points[(trace_no, i)] = int(tid)
    if lay.more:
        labels = dict(zip(on["topic_id"].astype(int), on["label"], strict=True))
        trace_no = len(fig.data)
        fig.add_trace(go.Scatter(
            x=[m.x for m in lay.more], y=[m.y for m in lay.more], mode="markers+text",
            text=[f"+{len(m.topic_ids)}" for m in lay.more], textposition="middle center",
            textfont=dict(size=9, color="#000"),
            marker=dict(size=lay.blip_px, symbol="square", color="white",
                        line=dict(color="#222", width=1.5)),
            customdata=[["more", m.sector, m.ring, len(m.topic_ids),
                         "<br>".join(labels.get(t, "") for t in m.topic_ids[:8])
                         + ("<br>…" if len(m.topic_ids) > 8 else "")] for m in lay.more],
            hovertemplate=("<b>%{customdata[3]} more in %{customdata[1]} · %{customdata[2]}</b>"
                           "<br>%{customdata[4]}<br><i>click to list them</i><extra></extra>"),
            showlegend=False, name="more", meta="more"))
        for i, m in enumerate(lay.more):
            result.cells[(trace_no, i)] = (m.sector, m.ring)
    _legend(fig)
    lim = lay.limit
    # Long area names left and right get room beside the square plot, never from it.
    side = side_room(lay)
    result.width = size + 2 * side
    axis = dict(visible=False, range=[-lim, lim], fixedrange=True)
    fig.update_layout(
        width=result.width, height=size + LEGEND_PX, autosize=False,
        # No automatic margins: the plot area stays exactly size x size pixels.
        margin=dict(l=0, r=0, t=0, b=LEGEND_PX, autoexpand=False), paper_bgcolor="white",
        plot_bgcolor="white", dragmode=False, clickmode="event+select", hovermode="closest",
        xaxis={**axis, "range": [-lim - side / lay.px_per_unit, lim + side / lay.px_per_unit]},
        yaxis={**axis, "scaleanchor": "x", "scaleratio": 1},
        legend=dict(orientation="h", yanchor="top", y=-0.01, xanchor="center", x=0.5,
                    font=dict(size=11), itemclick=False, itemdoubleclick=False),
    )
    return result


def _legend(fig: go.Figure) -> None:
    """Legend-only entries: what colour and shape mean, in words."""
    for ring in RINGS:
        fig.add_trace(go.Scatter(
            x=[None], y=[None], mode="markers", name=f"{ring}: {RING_MEANING[ring]}",
            marker=dict(size=12, color=RING_COLOURS[ring], symbol="circle"), hoverinfo="skip"))
    for symbol, _mark, text in MOVEMENTS.values():
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

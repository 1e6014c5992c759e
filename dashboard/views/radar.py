"""Radar page: the picture of what is rising, by service area and ring, and what changed."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, picture, session, ui
from radar.core.config import CHANNELS

SIZES = {"small": 520, "medium": charts.SIZE, "large": 820}
FIGURE_COLUMNS = ["topic_id", "service_area", "ring", "score"]


def _filters(info: dict) -> dict:
    periods, areas_known = info["periods"], info["areas"]
    period_kind = session.reader().config.analysis.period
    with st.sidebar:
        st.subheader("Filters")
        period = st.selectbox("Period", periods, format_func=lambda p: ui.period_label(p, period_kind),
                              key="radar_period",
                              help="The radar as scored for this period (latest first).")
        channels = st.multiselect("Channels", list(CHANNELS), key="radar_channels",
                                  placeholder="all channels",
                                  help="Keep topics with passages in these channels; blip size "
                                       "then counts only these channels.")
        areas = st.multiselect("Service areas", areas_known, key="radar_areas",
                               placeholder="all service areas")
        min_sources = st.number_input("At least this many distinct sources", min_value=0,
                                      value=0, step=1, key="radar_min_sources",
                                      help="Hide topics carried by fewer sources: one noisy "
                                           "forum is not a movement.")
        expectations = st.toggle("Only topics where people state expectations",
                                 key="radar_expectations")
        max_blips = st.number_input("Blips drawn (best of each area and ring)", min_value=10, max_value=2000,
                                    value=session.reader().config.dashboard.max_blips, step=10,
                                    key="radar_max_blips")
        size = st.select_slider("Picture size", list(SIZES), value="medium", key="radar_size",
                                help="A larger picture fits more blips before a crowded "
                                     "cell shows '+k more'.")
    return {"period": period, "channels": channels, "areas": areas,
            "min_sources": int(min_sources), "expectations": expectations,
            "max_blips": int(max_blips), "all_areas": areas_known, "kind": period_kind,
            "size": SIZES[size]}


@st.cache_data(show_spinner=False, max_entries=20)
def _layout(drawn: pd.DataFrame, sectors: list[str], size: int):
    """Where the blips go (a pure function of its inputs, so cached). The figure itself is
    built on each run: a figure from the cache is a new object and Streamlit would lose
    the click on it."""
    return charts.radar_layout(drawn, sectors, size)


def _legend_text(shown: int, total: int, hidden: int) -> None:
    st.markdown(
        "**How to read the radar.** Each numbered shape is a topic found in the news, policy "
        "papers and citizen posts; the list beside the picture gives each number's topic. The "
        "**slice** it sits in is its service area (wider slices hold more topics). The **ring** "
        "says how urgent it is: **Act** (centre) – decide now; **Prepare** – plan a response; "
        "**Watch** – keep an eye on it; **Monitor** (outer) – early or fading. Within a ring, "
        "topics nearer the centre score higher. The **shape** shows the change since the "
        "previous period: ★ new, ◆ back after leaving, ▲ moved in (more urgent), ▼ moved out "
        "(less urgent), ● same ring. **Click a shape** (or a name in the list) to open its "
        "evidence; a **+k** square stands for k more topics of a crowded cell: click it to "
        "list them."
    )
    if hidden:
        st.caption(f"{hidden} topics of crowded cells are behind '+k' squares (numbered in "
                   "the list, marked 'in +k'). A larger picture size draws more of them.")
    if shown < total:
        st.caption(f"Showing {shown} of {total} topics on the radar: the highest-scoring ones "
                   "of every service area and ring. Filter, or raise 'Blips drawn' in the "
                   "sidebar, to see more; the table view lists them all.")


@st.dialog("Topics in this cell", width="large")
def _cell_dialog(sector: str, ring: str, rows: pd.DataFrame) -> None:
    st.markdown(f"**{ui.esc(sector)} · {ring}**: {len(rows)} topics not drawn for lack of room.")
    for r in rows.itertuples():
        st.page_link("views/topic.py", label=_line(r), query_params={"topic": str(int(r.topic_id))},
                     help=_hover(r))


def _open_selected(event, figure: charts.RadarFigure, listing: pd.DataFrame) -> None:
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    for point in points:
        cell = figure.cell_for(point)
        if cell is not None and figure.placement is not None:
            hidden = next((m.topic_ids for m in figure.placement.more
                           if (m.sector, m.ring) == cell), ())
            _cell_dialog(*cell, listing[listing["topic_id"].isin(hidden)])
            return
        topic = figure.topic_for(point)
        if topic is not None:
            st.switch_page("views/topic.py", query_params={"topic": str(topic)})


def _line(r) -> str:
    stage = ui.stage_text(r.stage, r.theme)
    where = "" if r.drawn else " · in +k"
    # Streamlit reads Markdown in labels: crawled labels are escaped.
    return f"{r.number}\\. {r.marker} {ui.esc(r.label)} · {ui.esc(stage)}{where}"


def _hover(r) -> str:
    """What pointing at a list entry shows: the whole label (the line may be cut), the ring,
    stage and movement, and why (the scorer's reasons). Escaped: Streamlit reads Markdown."""
    stage = ui.stage_text(r.stage, r.theme)
    why = r.reasons if isinstance(r.reasons, str) else ""
    return ui.esc(f"{r.number}. {r.label} — {r.ring}, {stage}, {r.movement}. {why}")


def _side_list(listing: pd.DataFrame, figure: charts.RadarFigure, height: int) -> None:
    """The numbered list per service area and ring: number, movement marker, label, stage."""
    lay = figure.placement
    with st.container(height=height, key="radar_list"):
        for sector in lay.sectors:
            rows = listing[listing["service_area"] == sector.name]
            if rows.empty:
                continue
            st.markdown(f"**{ui.esc(sector.name)}**")
            for ring in charts.RINGS:
                cell = rows[rows["ring"] == ring]
                if cell.empty:
                    continue
                st.caption(f"{ring} — {charts.RING_MEANING[ring]}")
                for r in cell.itertuples():
                    st.page_link("views/topic.py", label=_line(r),
                                 query_params={"topic": str(int(r.topic_id))},
                                 help=_hover(r))


def _table_view(listing: pd.DataFrame) -> None:
    """The same radar as a plain table (what a screen reader reads), in number order."""
    table = listing.assign(
        stage=[ui.stage_text(s, t, missing="—")
               for s, t in zip(listing["stage"], listing["theme"], strict=True)],
        previous_ring=listing["previous_ring"].fillna("—"),
        drawn=listing["drawn"].map({True: "yes", False: "in +k"}),
    )[["number", "label", "service_area", "ring", "stage", "movement", "previous_ring",
       "volume", "sources", "drawn"]].rename(columns={
           "number": "#", "label": "topic", "service_area": "service area",
           "previous_ring": "ring in the previous period", "volume": "passages"})
    with st.container(key="radar_table_view"):
        st.table(table.set_index("#"))


def _downloads(blips: pd.DataFrame, figure: charts.RadarFigure, listing: pd.DataFrame,
               title: str, period_text: str, stem: str) -> None:
    lay = figure.placement
    cols = st.columns(4)
    cols[0].download_button("Radar as SVG", picture.radar_svg(blips, lay, title),
                            file_name=f"{stem}.svg", mime="image/svg+xml", key="dl_svg",
                            on_click="ignore")
    # The PNG and the print page are made when asked for (a click), not on every rerun.
    cols[1].download_button("Radar as PNG", lambda: picture.radar_png(blips, lay, title),
                            file_name=f"{stem}.png", mime="image/png", key="dl_png",
                            on_click="ignore")
    cols[2].download_button("List as CSV", picture.list_csv(listing), file_name=f"{stem}.csv",
                            mime="text/csv", key="dl_csv", on_click="ignore")
    cols[3].download_button("Print view (HTML)",
                            lambda: picture.print_html(blips, lay, title, period_text),
                            file_name=f"{stem}-print.html", mime="text/html", key="dl_print",
                            on_click="ignore",
                            help="A page with the radar, its legend and the numbered list, "
                                 "laid out for printing: open it and print.")


def _table(on: pd.DataFrame, numbers: dict[int, int]) -> None:
    table = on[["label", "ring", "service_area", "stage", "movement", "volume", "sources",
                "score"]].rename(columns={"service_area": "service area", "volume": "passages"})
    # A topic too small to stage has no stage: show a dash, not "None".
    table["stage"] = [ui.stage_text(s, t, missing="—")
                      for s, t in zip(on["stage"], on["theme"], strict=True)]
    table.insert(0, "#", on["topic_id"].map(numbers).astype("Int64"))
    table = table.sort_values("#", na_position="last")
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={"score": st.column_config.NumberColumn(format="%.2f")})
    labels = dict(zip(on["topic_id"].tolist(), on["label"].tolist(), strict=True))
    choice = st.selectbox("Open a topic", [None, *labels], key="radar_open",
                          format_func=lambda t: "choose a topic…" if t is None else labels[t])
    if choice is not None:
        st.switch_page("views/topic.py", query_params={"topic": str(int(choice))})


def render() -> None:
    """The radar page."""
    st.title("Radar")
    info = session.summary()
    if not session.require_signals(info):
        return
    f = _filters(info)
    blips = session.load("radar", f["period"], f["channels"], f["areas"], f["min_sources"],
                       f["expectations"])
    period_text = ui.period_label(f["period"], f["kind"])
    st.caption(f"{period_text} · compared with the previous period · last scored "
               f"{ui.day(info['latest_run_at'])}")
    on = blips[blips["ring"].isin(charts.RINGS)]
    if on.empty:
        st.info("No topic on the radar matches these filters. Clear a filter in the sidebar "
                "(channels, service areas, minimum sources, expectations).")
        return
    cols = st.columns(6)
    cols[0].metric("Topics on the radar", len(on))
    cols[1].metric("In Act", int((on["ring"] == "Act").sum()))
    cols[2].metric("New this period", int((on["movement"] == "new").sum()),
                   help="On the radar for the first time. Topics back after leaving it are "
                        "counted apart (◆).")
    cols[3].metric("Moved in", int((on["movement"] == "moved in").sum()))
    cols[4].metric("Moved out", int((on["movement"] == "moved out").sum()))
    cols[5].metric("Left", int((blips["movement"] == "left").sum()))
    drawn = charts.pick_blips(on, f["max_blips"])
    sectors = f["areas"] or f["all_areas"]
    # Only the columns the layout reads: cheap to hash (no list columns) for the cache.
    placement = _layout(drawn[FIGURE_COLUMNS], list(sectors), f["size"])
    figure = charts.radar_figure(drawn, list(sectors), size=f["size"], placement=placement)
    listing = picture.radar_list(drawn, figure.placement)
    # The picture keeps its exact size (blips are placed for it); the list sits beside it
    # when the window is wide enough, under it otherwise.
    row = st.container(horizontal=True, wrap=True, gap="medium", key="radar_row")
    with row.container(width=figure.width, key="radar_picture"):
        event = st.plotly_chart(
            figure.figure, on_select="rerun", selection_mode="points", key="radar_chart",
            width=figure.width,
            config={"displayModeBar": True, "displaylogo": False,
                    "modeBarButtons": [["toImage"]],
                    "toImageButtonOptions": {"format": "png", "filename": "horizon-radar",
                                             "scale": 2}},
            alt=f"Radar for {period_text}: {len(on)} topics in {len(sectors)} service areas; "
                "the list beside it and the table view give every topic.")
    with row.container(width="stretch", key="radar_side"):
        st.markdown(f"**Topics by service area and ring** ({len(listing)})")
        _side_list(listing, figure, height=f["size"] + charts.LEGEND_PX - 40)
    _open_selected(event, figure, listing)
    _legend_text(len(drawn), len(on), len(figure.placement.hidden))
    title = f"Horizon Radar — {period_text}"
    stem = f"horizon-radar-{pd.Timestamp(f['period']):%Y-%m-%d}"
    st.subheader("Take it to the meeting")
    _downloads(drawn, figure, listing, title, period_text, stem)
    with st.expander("Table view (the same radar as a table, for screen readers)"):
        _table_view(listing)
    st.subheader("Topics on the radar")
    _table(on, figure.numbers)
    left = blips[blips["movement"] == "left"]
    if not left.empty:
        st.subheader("Left the radar this period")
        st.dataframe(left[["label", "service_area", "previous_ring", "reasons"]].rename(
            columns={"service_area": "service area", "previous_ring": "was in"}),
            hide_index=True, width="stretch")


render()

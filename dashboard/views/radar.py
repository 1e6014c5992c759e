"""Radar page: the picture of what is rising, by service area and ring."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, session, ui
from radar.core.config import CHANNELS


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
    return {"period": period, "channels": channels, "areas": areas,
            "min_sources": int(min_sources), "expectations": expectations,
            "max_blips": int(max_blips), "all_areas": areas_known, "kind": period_kind}


def _legend_text(shown: int, total: int) -> None:
    st.markdown(
        "**How to read the radar.** Each dot is a topic found in the news, policy papers and "
        "citizen posts. The **slice** it sits in is the service area it belongs to. The **ring** "
        "says how urgent it is: **Act** (centre, red) – decide now; **Prepare** (orange) – plan "
        "a response; **Watch** (blue) – keep an eye on it; **Monitor** (grey, outer) – early or "
        "fading. Within a ring, dots nearer the centre score higher. A **bigger dot** means more "
        "passages this period. **Shape** shows change since the last run: ★ new, ▲ moved in "
        "(more urgent), ▼ moved out (less urgent), ● unchanged. **Click a dot** to open its "
        "evidence."
    )
    if shown > charts.DENSE:
        st.caption("Many topics are drawn, so each blip is numbered instead of named: "
                   "the # column of the table below gives the topic (or point at the blip).")
    if shown < total:
        st.caption(f"Showing {shown} of {total} topics on the radar: the highest-scoring ones "
                   "of every service area and ring. Filter, or raise 'Blips drawn' in the "
                   "sidebar, to see more; the table below lists them all.")


def _open_selected(event, figure: charts.RadarFigure) -> None:
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    for point in points:
        topic = figure.topic_for(point)
        if topic is not None:
            st.switch_page("views/topic.py", query_params={"topic": str(topic)})


def _table(on: pd.DataFrame, numbers: dict[int, int]) -> None:
    table = on[["label", "ring", "service_area", "stage", "movement", "volume", "sources",
                "score"]].rename(columns={"service_area": "service area", "volume": "passages"})
    # A topic too small to stage has no stage: show a dash, not "None".
    table["stage"] = table["stage"].fillna("—")
    if numbers:  # the numbers written in the blips of a crowded radar
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
    st.caption(f"{ui.period_label(f['period'], f['kind'])} · last scored "
               f"{ui.day(info['latest_run_at'])}")
    on = blips[blips["ring"].isin(charts.RINGS)]
    if on.empty:
        st.info("No topic on the radar matches these filters. Clear a filter in the sidebar "
                "(channels, service areas, minimum sources, expectations).")
        return
    cols = st.columns(4)
    cols[0].metric("Topics on the radar", len(on))
    cols[1].metric("In Act", int((on["ring"] == "Act").sum()))
    cols[2].metric("New this run", int((on["movement"] == "new").sum()))
    cols[3].metric("Moved in", int((on["movement"] == "moved in").sum()))
    drawn = charts.pick_blips(on, f["max_blips"])
    sectors = f["areas"] or f["all_areas"]
    figure = charts.radar_figure(drawn, sectors)
    event = st.plotly_chart(figure.figure, on_select="rerun", selection_mode="points",
                            key="radar_chart", config={"displayModeBar": False})
    _open_selected(event, figure)
    _legend_text(len(drawn), len(on))
    st.subheader("Topics on the radar")
    _table(on, figure.numbers if len(drawn) > charts.DENSE else {})
    left = blips[blips["movement"] == "left"]
    if not left.empty:
        st.subheader("Left the radar this run")
        st.dataframe(left[["label", "service_area", "previous_ring", "score"]], hide_index=True,
                     width="stretch")


render()

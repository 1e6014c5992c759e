"""Watch list page: themes a strategist follows even while they are small."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from dashboard import loop_ui, session, ui
from radar.core import catalogue


def _add_form(areas: list[str]) -> None:
    with st.expander("Watch a theme", icon=":material/add:"):
        with st.form("add_watch", clear_on_submit=True):
            name = st.text_input("Theme", placeholder="e.g. Library lockers")
            description = st.text_area("Description", help="Passages are matched to it by meaning.")
            keywords = st.text_input("Keywords", help="Comma-separated whole words or phrases.")
            area = st.selectbox("Tell subscribers of", ["(all areas)", *areas])
            done = st.form_submit_button("Add to the watch list")
        if done:
            try:
                w = catalogue.add_watch(session.reader().path, name, description=description,
                                        keywords=keywords, area="" if area == "(all areas)" else area,
                                        who=st.session_state.get("loop_who", ""), origin="dashboard")
            except catalogue.CatalogueError as exc:
                st.error(str(exc))
                return
            session.refresh()
            st.session_state["watch_done"] = (f"Watching “{w.name}”: the next `radar analyze` finds "
                                              "its passages.")
            st.rerun()


def render() -> None:
    """The watch list page."""
    st.title("Watch list")
    st.markdown("Themes followed on purpose, with their trajectory even while they are small: "
                "matching passages per period (by meaning and by keyword), and how many distinct "
                "sources and citizen authors carry them. Subscribers are e-mailed when a theme moves.")
    if "watch_done" in st.session_state:
        st.success(st.session_state.pop("watch_done"))
    data = session.load("watch_overview")
    cfg = session.reader().config
    loop_ui.who()
    items = data["items"]
    if items.empty:
        st.info("Nothing on the watch list yet. Add a theme below, or as [[watch]] in radar.toml.")
    for w in items.itertuples():
        with st.container(border=True):
            st.markdown(f"**{ui.esc(w.name)}** — {ui.esc(w.description or ', '.join(w.keywords))}")
            per = data["periods"][data["periods"]["watch_id"] == w.watch_id]
            if per.empty:
                st.caption("No matching passages yet.")
                continue
            latest = per[per["period_start"] == per["period_start"].max()]
            st.caption(f"{int(w.passages)} passages in all; latest period "
                       f"{ui.day(latest['period_start'].iloc[0])}: {int(latest['passages'].sum())} passages, "
                       f"{int(latest['sources'].sum())} sources, {int(latest['authors'].sum())} citizen "
                       f"authors" + (f"; last alert {ui.day(w.last_alerted)}" if w.last_alerted is not None
                                     and str(w.last_alerted) != "NaT" else ""))
            fig = px.bar(per, x="period_start", y="passages", color="channel", height=220,
                         labels={"period_start": "", "passages": "passages"})
            fig.update_layout(margin={"l": 10, "r": 10, "t": 10, "b": 10})
            st.plotly_chart(fig, key=f"watch_chart_{w.watch_id}")
            docs = data["matches"][data["matches"]["watch_id"] == w.watch_id]
            for d in docs.itertuples():
                st.markdown(f"- {ui.link(d.title or '(untitled)', d.url)} · {ui.esc(d.source)} · "
                            f"{ui.day(d.published)}")
    _add_form([a.name for a in cfg.areas])


render()

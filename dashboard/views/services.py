"""Services page: the catalogue sorted by exposure — the page a director opens first.

Per service: the rising expectations (topics) that touch it, whose voice carries
them, the expectation gap, and the matching evidence; people confirm or reject
matches, add services, and make a brief.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import loop_ui, session, ui
from radar.core import catalogue

RANK_COLUMNS = {
    "name": "service", "owner": "owner", "area": "area", "exposure": "exposure",
    "rising": "rising topics", "gap_topics": "gap at risk", "top": "what touches it most",
    "sources": "sources", "authors": "citizen authors", "news": "news", "policy": "policy",
    "citizen": "citizen",
}


def _add_form(areas: list[str]) -> None:
    with st.expander("Add a service to the catalogue", icon=":material/add:"):
        with st.form("add_service", clear_on_submit=True):
            name = st.text_input("Service name", placeholder="e.g. Central library opening hours")
            c1, c2 = st.columns(2)
            owner = c1.text_input("Owner", help="The person or team responsible.")
            email = c2.text_input("Owner's e-mail", help="Trigger notices for its decisions go here.")
            area = st.selectbox("Service area", ["(any)", *areas])
            description = st.text_area("Description", help="What the service is: topics are matched "
                                                             "to it by meaning.")
            keywords = st.text_input("Keywords", help="Comma-separated; whole words, e.g. "
                                                      "'opening hours, library card'.")
            done = st.form_submit_button("Add the service")
        if done:
            try:
                s = catalogue.add_service(session.reader().path, name, owner=owner, owner_email=email,
                                          area="" if area == "(any)" else area,
                                          description=description, keywords=keywords,
                                          who=st.session_state.get("loop_who", ""),
                                          origin="dashboard")
            except catalogue.CatalogueError as exc:
                st.error(str(exc))
                return
            session.refresh()
            st.session_state["services_done"] = (f"Added “{s.name}”. The next `radar analyze` "
                                                 "matches it to the radar's topics.")
            st.rerun()


def _service(row, topics: pd.DataFrame, rejected: pd.DataFrame) -> None:
    mine = topics[topics["service_id"] == row.service_id]
    st.markdown(f"**Owner:** {ui.esc(row.owner or '–')} · **area:** {ui.esc(row.area or 'any')} · "
                f"**exposure {row.exposure:.2f}** · {row.topics} topic(s), {row.rising} rising, "
                f"{row.gap_topics} with an expectation gap at risk")
    st.markdown(f"Whose voice this period: {row.sources} distinct sources, {row.authors} distinct "
                f"citizen authors; passages: news {row.news}, policy {row.policy}, citizens {row.citizen}.")
    if mine.empty:
        st.caption("No topic matches this service yet (after the next `radar analyze`, or confirm one).")
    else:
        shown = mine[["topic_id", "label", "ring", "stage", "match", "similarity", "keyword_hits",
                      "expectation_gap", "status"]].copy()
        shown["keyword_hits"] = [", ".join(k) for k in shown["keyword_hits"]]
        st.dataframe(shown, hide_index=True, width="stretch", column_config={
            "topic_id": st.column_config.NumberColumn("topic"),
            "match": st.column_config.NumberColumn("match", format="%.2f"),
            "similarity": st.column_config.NumberColumn("similarity", format="%.2f"),
            "expectation_gap": st.column_config.NumberColumn("gap", format="percent"),
            "keyword_hits": "keywords found"})
        for t in mine.itertuples():
            st.page_link("views/topic.py", label=f"Open topic: {t.label}",
                         query_params={"topic": str(t.topic_id)}, icon=":material/topic:")
    gone = rejected[rejected["service_id"] == row.service_id] if not rejected.empty else rejected
    if not gone.empty:
        st.caption("Rejected matches: " + ", ".join(ui.esc(x) for x in gone["label"]))
    _review(row, mine)
    st.page_link("views/decisions.py", label="Record a decision about this service",
                 query_params={"service": str(row.service_id)}, icon=":material/gavel:")
    loop_ui.brief_buttons("service", int(row.service_id), row.name)


def _review(row, mine: pd.DataFrame) -> None:
    choices = session.load("catalogue_lists")["topics"]
    if choices.empty:
        return
    labels = dict(zip(choices["topic_id"], choices["label"], strict=True))
    with st.form(f"review_{row.service_id}", border=False):
        c1, c2, c3 = st.columns([3, 1, 1])
        topic = c1.selectbox("Topic", list(labels), format_func=lambda t: labels[t],
                             index=list(labels).index(int(mine["topic_id"].iloc[0]))
                             if not mine.empty and int(mine["topic_id"].iloc[0]) in labels else None,
                             placeholder="choose a topic…", key=f"review_topic_{row.service_id}")
        confirm = c2.form_submit_button("Confirm match")
        reject = c3.form_submit_button("Reject match")
    if not (confirm or reject):
        return
    if topic is None:
        st.error("Choose a topic.")
        return
    try:
        catalogue.review_match(session.reader().path, row.service_id, topic,
                               "confirmed" if confirm else "rejected", st.session_state.get("loop_who", ""))
    except catalogue.CatalogueError as exc:
        st.error(str(exc))
        return
    session.refresh()
    st.session_state["services_done"] = (f"{'Confirmed' if confirm else 'Rejected'}: “{labels[topic]}” "
                                         f"{'touches' if confirm else 'does not touch'} {row.name}.")
    st.rerun()


def render() -> None:
    """The services page."""
    st.title("Services")
    st.markdown("Which of the organisation's services the rising expectations touch, most exposed "
                "first. **Exposure** adds up the service's topics: Act 1, Prepare 0.6, Watch (or "
                "rising) 0.3, Monitor 0.1, plus 0.5 when citizens rise while policy is silent, each "
                "times how well the topic matches the service.")
    if "services_done" in st.session_state:
        st.success(st.session_state.pop("services_done"))
    info = session.summary()
    cfg = session.reader().config
    data = session.load("service_exposure", cfg.analysis.period)
    loop_ui.who()
    ranking = data["ranking"]
    if ranking.empty:
        st.info("No services in the catalogue yet. Add them below, or as [[services]] in radar.toml "
                "(they appear after the next `radar analyze`).")
    else:
        shown = ranking.copy()
        shown["top"] = ["; ".join(t) for t in shown["top"]]
        st.dataframe(shown[list(RANK_COLUMNS)].rename(columns=RANK_COLUMNS), hide_index=True,
                     width="stretch", column_config={
                         "exposure": st.column_config.ProgressColumn(
                             "exposure", format="%.2f", min_value=0.0,
                             max_value=float(max(1.0, shown["exposure"].max())))})
        if info["signals"] == 0:
            st.caption("The radar is not scored yet, so nothing is rising: run `radar analyze`.")
        wanted = st.query_params.get("service")
        for row in ranking.itertuples():
            open_ = wanted == str(row.service_id) or (wanted is None and row.Index == 0)
            with st.expander(f"{row.name} — exposure {row.exposure:.2f}", expanded=open_):
                _service(row, data["topics"], data["rejected"])
    _add_form(info.get("areas") or [a.name for a in cfg.areas])


render()

"""Sources page: per source its channel, last crawl, documents over time and errors."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, session


def render() -> None:
    """The sources page."""
    st.title("Sources")
    health = session.load("sources_health")
    if health.empty:
        st.info("No sources yet. Add `[[sources]]` blocks to radar.toml and run `radar crawl`, "
                "or load documents with `radar import FILE`.")
        return
    failing = health[health["last_status"].isin(["failed", "partial"])]
    c1, c2, c3 = st.columns(3)
    c1.metric("Sources", len(health))
    c2.metric("Documents", int(health["documents"].sum()))
    c3.metric("Last crawl with errors", len(failing))
    channel = st.multiselect("Channels", sorted(health["channel"].dropna().unique()),
                             key="sources_channels", placeholder="all channels")
    shown = health[health["channel"].isin(channel)] if channel else health
    st.dataframe(shown, hide_index=True, width="stretch", column_config={
        "last_crawl": st.column_config.DatetimeColumn("last crawl", format="YYYY-MM-DD HH:mm"),
        "newest": st.column_config.DatetimeColumn("newest document", format="YYYY-MM-DD"),
        "errors_30d": st.column_config.NumberColumn("errors (30 days)"),
    })
    source = st.selectbox("Source details", shown["source"].tolist(), key="sources_pick")
    if source is None:
        return
    left, right = st.columns(2)
    with left:
        st.subheader("Documents per month")
        timeline = session.load("source_timeline", source)
        if timeline.empty:
            st.caption("No documents from this source yet.")
        else:
            st.plotly_chart(charts.documents_figure(timeline), key="source_docs")
    with right:
        st.subheader("Recent errors")
        errors = session.load("source_errors", source, 100)
        if errors.empty:
            st.caption("No errors recorded.")
        else:
            st.dataframe(errors, hide_index=True, width="stretch")


render()

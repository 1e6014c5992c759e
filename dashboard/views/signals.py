"""Signals page: every current signal in a sortable table, exportable to CSV."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, session

COLUMNS = {
    "score": st.column_config.NumberColumn("score", format="%.3f"),
    "growth": st.column_config.NumberColumn("growth", format="%.2f"),
    "burst": st.column_config.NumberColumn("burst", format="%.2f"),
    "effective_sources": st.column_config.NumberColumn("effective sources", format="%.1f"),
    "news_share": st.column_config.NumberColumn("news", format="percent"),
    "policy_share": st.column_config.NumberColumn("policy", format="percent"),
    "citizen_share": st.column_config.NumberColumn("citizen", format="percent"),
    "expectation_share": st.column_config.NumberColumn("expectations", format="percent"),
}


def render() -> None:
    """The signals page."""
    st.title("Signals")
    info = session.summary()
    if not session.require_signals(info):
        return
    table = session.load("signals_table")
    st.caption("The latest radar: one row per scored topic. Click a column header to sort.")
    c1, c2, c3 = st.columns(3)
    rings = c1.multiselect("Rings", [*charts.RINGS, "off radar"], key="signals_rings",
                           placeholder="all rings")
    areas = c2.multiselect("Service areas", sorted(table["service_area"].unique()),
                           key="signals_areas", placeholder="all service areas")
    statuses = c3.multiselect("Triage status", sorted(table["triage_status"].unique()),
                              key="signals_status", placeholder="any status")
    shown = table
    if rings:
        ring = shown["ring"].fillna("off radar")
        shown = shown[ring.isin(rings)]
    if areas:
        shown = shown[shown["service_area"].isin(areas)]
    if statuses:
        shown = shown[shown["triage_status"].isin(statuses)]
    st.write(f"{len(shown)} of {len(table)} signals")
    st.dataframe(shown, hide_index=True, width="stretch", column_config=COLUMNS)
    st.download_button("Download CSV", shown.to_csv(index=False).encode("utf-8"),
                       file_name=f"signals-{info['latest_period']}.csv", mime="text/csv",
                       icon=":material/download:")


render()

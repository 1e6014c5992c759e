"""Compare page: what entered, moved in, moved out and left between two periods, and why."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, compare, session, ui

LIST_LIMIT = 40  # changes listed in full per kind; all of them are in the table and the CSV
HEADINGS = {
    "entered": ("Entered the radar", "★"),
    "moved in": ("Moved in (more urgent)", "▲"),
    "moved out": ("Moved out (less urgent)", "▼"),
    "left": ("Left the radar", "×"),
}


@st.cache_data(show_spinner=False, max_entries=20)
def _changes(before: pd.DataFrame, after: pd.DataFrame, later_text: str) -> pd.DataFrame:
    """The changes between two period radars (pure, so cached per pair of radars)."""
    return compare.compare(before, after, later_text)


def render() -> None:
    """The compare page."""
    st.title("Compare periods")
    info = session.summary()
    if not session.require_signals(info):
        return
    periods = session.load("history_periods")
    kind = session.reader().config.analysis.period
    if len(periods) < 2:
        st.info("Only one period is scored so far: there is nothing to compare it with yet. "
                "Import or crawl documents from more periods and run `radar analyze`.")
        return
    label = lambda p: ui.period_label(p, kind)  # noqa: E731
    cols = st.columns(2)
    later = cols[1].selectbox("Later period", periods, index=0, format_func=label,
                              key="compare_after")
    earlier_choices = [p for p in periods if p < later]
    if not earlier_choices:
        st.info(f"{label(later)} is the first scored period: nothing before it to compare "
                "with. Choose a later period.")
        return
    earlier = cols[0].selectbox("Earlier period", earlier_choices, index=0, format_func=label,
                                key="compare_before",
                                help="The period before the later one by default: then the "
                                     "changes are exactly the radar's movement markers.")
    before = session.load("period_radar", earlier)
    after = session.load("period_radar", later)
    changes = _changes(before, after, label(later))
    st.caption(f"{label(earlier)} → {label(later)}: "
               f"{int(before['ring'].notna().sum())} → {int(after['ring'].notna().sum())} "
               "topics on the radar. A topic counts as on the radar when it has a ring.")
    counts = changes["change"].value_counts() if len(changes) else pd.Series(dtype=int)
    metric_cols = st.columns(4)
    for col, (change, (heading, mark)) in zip(metric_cols, HEADINGS.items(), strict=True):
        col.metric(f"{mark} {heading}", int(counts.get(change, 0)))
    for change, (heading, mark) in HEADINGS.items():
        part = changes[changes["change"] == change]
        st.subheader(f"{mark} {heading} ({len(part)})")
        if part.empty:
            st.caption("None.")
            continue
        # Each change readable in full: the topic (click to open it), and why.
        for r in part.head(LIST_LIMIT).itertuples():
            st.page_link("views/topic.py", label=f"{mark} {ui.esc(r.label)}",
                         query_params={"topic": str(int(r.topic_id))})
            # The reason starts with the rings: "from Watch to Act", "was Monitor", ...
            st.caption(ui.esc(f"{r.service_area} · {r.reason}"))
        if len(part) > LIST_LIMIT:
            st.caption(f"… and {len(part) - LIST_LIMIT} more: see the table or the CSV.")
        table = part.assign(
            ring_before=part["ring_before"].fillna("—"), ring_after=part["ring_after"].fillna("—"),
            stage=part["stage"].fillna("—"),
        )[["label", "service_area", "ring_before", "ring_after", "stage", "reason"]].rename(
            columns={"label": "topic", "service_area": "service area",
                     "ring_before": f"ring in {label(earlier)}",
                     "ring_after": f"ring in {label(later)}"})
        with st.expander(f"{heading}: as a table"):
            st.dataframe(table, hide_index=True, width="stretch")
    st.download_button(
        "Changes as CSV", changes.drop(columns=["topic_id"]).to_csv(index=False).encode("utf-8-sig"),
        file_name=f"radar-changes-{pd.Timestamp(earlier):%Y-%m-%d}-to-"
                  f"{pd.Timestamp(later):%Y-%m-%d}.csv", mime="text/csv", on_click="ignore")
    st.subheader("Movement per period")
    history = session.load("movement_counts")
    st.dataframe(history.assign(period=history["period_start"].map(label)).drop(
        columns=["period_start"]).set_index("period"), width="stretch")
    st.caption(f"Colours and markers as on the radar: {', '.join(charts.MOVEMENTS)}.")


render()

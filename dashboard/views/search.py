"""Search page: full-text search over documents and passages, with links to topics."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import session, ui
from radar.core import disclosure
from radar.core.config import CHANNELS


def render() -> None:
    """The search page."""
    st.title("Search")
    info = session.summary()
    if info["documents"] == 0:
        session.require_signals(info)
        return
    source_names = session.load("source_names")
    text = st.text_input("Search for", key="search_text", placeholder='e.g. heat pump grants, '
                         'or "exact phrase" in double quotes')
    c1, c2, c3, c4 = st.columns([1, 2, 2, 2])
    kind = c1.radio("In", ["passages", "documents"], key="search_kind",
                    help="Passages link to the topic they belong to.")
    channels = c2.multiselect("Channels", list(CHANNELS), key="search_channels",
                              placeholder="all channels")
    sources = c3.multiselect("Sources", source_names, key="search_sources",
                             placeholder="all sources")
    dates = c4.date_input("Published between", value=[], key="search_dates")
    if kind == "passages" and info["passages"] == 0:
        st.info("No passages yet (run `radar analyze`); searching documents instead.")
        kind = "documents"
    if not text.strip().strip('"').strip():
        st.caption("Type words to search. Results are ranked by relevance when the full-text "
                   "index has been built (after `radar analyze`).")
        return
    since = dates[0] if len(dates) >= 1 else None
    until = dates[1] if len(dates) == 2 else None
    rows, method = session.load("search", text.strip(), kind, channels, sources, since, until, 50)
    st.caption(f"{len(rows)} result{'s' if len(rows) != 1 else ''} (at most 50) · {method}")
    if rows.empty:
        st.info("Nothing found. Try fewer or other words, or clear the filters.")
    k = session.reader().config.scoring.min_authors
    for row in rows.itertuples():
        authors = None if pd.isna(row.group_authors) else int(row.group_authors)
        shown = disclosure.decide(channel=row.channel, authors=authors, k=k)
        with st.container(border=True):
            meta = f"{ui.esc(row.source)} · {ui.esc(row.channel)} · {ui.day(row.published)}"
            if not shown.show:
                # Below k distinct authors: counts, not text (no title, snippet or link).
                st.markdown(f"**(citizen post)**  \n{meta}")
                st.caption(shown.note)
            else:
                st.markdown(f"**{ui.link(row.title or '(untitled)', row.url)}**  \n{meta}")
                st.markdown(ui.esc(row.snippet) + ("…" if len(row.snippet or "") >= 300 else ""))
            if pd.notna(row.topic_id) and pd.notna(row.topic):
                st.page_link("views/topic.py", label=f"Topic: {row.topic}",
                             query_params={"topic": str(int(row.topic_id))},
                             icon=":material/topic:")


render()

"""Topic page: the evidence behind one blip, its history and the triage log."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, explain, loop_ui, session, ui
from radar.core import disclosure


def _pick_topic() -> int | None:
    choices = session.load("topic_choices")
    if choices.empty:
        st.info("No topics yet. Run `radar analyze` to find topics in the crawled documents.")
        return None
    ids = choices["topic_id"].tolist()
    labels = dict(zip(ids, choices["label"], strict=True))
    wanted = st.query_params.get("topic")
    try:
        current = int(wanted) if wanted is not None else None
    except ValueError:
        current = None
    if current is not None and current not in labels:
        st.warning(f"There is no active topic {current}; it may have been merged. Pick another.")
        current = None
    index = ids.index(current) if current is not None else None
    picked = st.selectbox("Topic", ids, index=index, format_func=lambda t: labels[t],
                          placeholder="choose a topic…", key=f"topic_pick_{current}")
    if picked is not None and picked != current:
        st.query_params["topic"] = str(picked)
    return picked


def _header(topic: dict, signal: dict) -> None:
    st.title(topic["label"])
    raw = topic.get("top_terms")
    terms = ", ".join(str(t) for t in (list(raw) if raw is not None else []))
    st.markdown(f"**Terms:** {ui.esc(terms)}  \n**Service area:** {ui.esc(topic['service_area'])}"
                f" · first seen {ui.day(topic.get('first_seen'))} · {topic['size']:,} passages")
    if not signal:
        st.info("This topic has not been scored on the radar yet.")
        return
    cols = st.columns(4)
    cols[0].metric("Ring", signal.get("ring") or "off radar")
    cols[1].metric("Stage", signal.get("stage") or "–")
    cols[2].metric("Passages this period", int(signal.get("volume") or 0))
    cols[3].metric("Distinct sources", int(signal.get("sources") or 0))
    st.markdown(f"**{ui.esc(explain.movement(signal))}**")
    st.subheader("Why it is in this ring")
    if signal.get("reasons"):
        st.markdown(ui.esc(signal["reasons"]))
    for line in explain.reasons(signal):
        st.markdown(f"- {ui.esc(line)}")


def _passages(passages: pd.DataFrame, signal: dict, min_authors: int) -> None:
    st.subheader("Representative passages")
    if passages.empty:
        st.caption("No passages are assigned to this topic.")
        return
    # Citizen words (title, passage, expectation phrase) pass the one small-group rule on
    # the authors carrying the topic in the scored period, and only where the scorer
    # allowed quotes; an unscored topic shows none.
    authors = signal.get("authors") if signal.get("show_quotes") is True else None
    for row in passages.itertuples():
        shown = disclosure.decide(channel=row.channel, authors=authors, k=min_authors)
        with st.container(border=True):
            meta = f"{ui.esc(row.source)} · {ui.esc(row.channel)} · {ui.day(row.published)}"
            if not shown.show:
                n = signal.get("authors")
                st.markdown(f"**(citizen post)**  \n{meta}")
                st.caption(f"Quote hidden: fewer than {min_authors} distinct citizen authors "
                           f"carry this topic in the scored period"
                           f"{f' ({n})' if n is not None else ''}, so a single person "
                           "could be identified or over-represented.")
                if row.is_expectation:
                    st.caption("States an expectation (phrase hidden with the quote)")
                continue
            st.markdown(f"**{ui.link(row.title or '(untitled)', row.url)}**  \n{meta}")
            st.markdown(ui.esc(row.text))
            if row.is_expectation:
                st.caption("States an expectation"
                           + (f": “{row.expectation_phrase}”" if row.expectation_phrase else ""))


def _triage(log: pd.DataFrame, topic_id: int) -> None:
    st.subheader("Triage log")
    if log.empty:
        st.caption("Nobody has triaged this topic yet (status: new).")
    else:
        st.markdown(f"Current status: **{ui.esc(log['to_status'].iloc[-1])}**")
        st.dataframe(log.rename(columns={"from_status": "from", "to_status": "to"}),
                     hide_index=True, width="stretch")
    st.page_link("views/triage.py", label="Change the status on the Triage page",
                 query_params={"topic": str(topic_id)}, icon=":material/fact_check:")


def render() -> None:
    """The topic page."""
    info = session.summary()
    if info["topics"] == 0:
        st.title("Topic")
        session.require_signals(info)
        return
    topic_id = _pick_topic()
    if topic_id is None:
        st.caption("Pick a topic above, or click a blip on the Radar page.")
        return
    detail = session.load("topic_detail", topic_id)
    if detail["topic"].empty:
        st.warning("This topic is no longer in the warehouse.")
        return
    topic = ui.record(detail["topic"].iloc[0])
    signal = ui.record(detail["signal"].iloc[0]) if not detail["signal"].empty else {}
    min_authors = session.reader().config.scoring.min_authors
    _header(topic, signal)
    left, right = st.columns(2)
    with left:
        st.subheader("Trend by channel")
        if detail["trend"].empty:
            st.caption("No period counts yet.")
        else:
            st.plotly_chart(charts.trend_figure(detail["trend"]), key="trend")
    with right:
        st.subheader("Ring history")
        if detail["history"].empty:
            st.caption("Not scored yet.")
        else:
            st.plotly_chart(charts.ring_history_figure(detail["history"]), key="rings")
    st.subheader("Whose voice")
    voice = explain.voice(signal, min_authors) if signal else None
    st.markdown(ui.esc(voice) if voice else "No citizen authors counted for this topic.")
    st.subheader("Expectation gap")
    gap = explain.expectation_gap(signal) if signal else None
    st.markdown(ui.esc(gap) if gap else "No expectations measured for this topic.")
    _passages(detail["passages"], signal, min_authors)
    st.subheader("Sources that carry it")
    st.dataframe(detail["sources"], hide_index=True, width="stretch")
    _triage(detail["triage"], topic_id)
    st.page_link("views/decisions.py", label="Record a decision about this topic",
                 query_params={"topic": str(topic_id)}, icon=":material/gavel:")
    loop_ui.brief_buttons("topic", topic_id, topic["label"])


render()

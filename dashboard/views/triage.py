"""Triage page: set a status, owner and note on a topic; every change is appended to the log."""

from __future__ import annotations

import streamlit as st

from dashboard import session, ui
from radar.core import access, triage


def _form(current) -> None:
    ids = current["topic_id"].tolist()
    labels = dict(zip(ids, current["label"], strict=True))
    status_of = dict(zip(ids, current["status"], strict=True))
    wanted = st.query_params.get("topic")
    wanted = int(wanted) if wanted and wanted.isdigit() else None
    if wanted is not None and wanted not in ids:
        # Opened from a topic that is not on the latest radar: it can be triaged too.
        choices = session.load("topic_choices")
        match = choices[choices["topic_id"] == wanted]
        if not match.empty:
            ids.append(wanted)
            labels[wanted] = match["label"].iloc[0]
            status_of[wanted] = "off the radar"
    index = ids.index(wanted) if wanted in ids else None
    user = st.session_state.get("current_user")
    if user is not None and user.name:
        # Signed in: the decision is attributed to the signed-in user, not to a typed name.
        who = user.name
        st.caption(f"Changes are recorded as made by {user.name}.")
    else:
        who = st.text_input("Your name", key="triage_who",
                            help="Every change is recorded with your name; the log is never edited.")
    with st.form("triage_form", clear_on_submit=True):
        topic = st.selectbox("Topic", ids, index=index, placeholder="choose a topic…",
                             format_func=lambda t: f"{labels[t]} (now: {status_of[t]})")
        status = st.selectbox("New status", triage.STATUSES, index=1)
        owner = st.text_input("Owner", help="Who follows this topic up.")
        note = st.text_area("Note", help="Why: what was decided and on what evidence.")
        submitted = st.form_submit_button("Record the change")
    if not submitted:
        return
    if not who.strip():
        st.error("Enter your name first: every triage change records who made it.")
        return
    if topic is None:
        st.error("Choose a topic.")
        return
    try:
        entry = triage.record(session.reader().path, topic, status, who, owner=owner, note=note)
    except triage.TriageError as exc:
        st.error(str(exc))
        return
    session.refresh()
    # Rerun so the tables below show the new entry; the message survives in the session.
    st.session_state["triage_done"] = (f"Recorded: {labels[topic]} {entry.from_status or 'new'} "
                                       f"→ {entry.to_status} by {entry.who}.")
    st.rerun()


def render() -> None:
    """The triage page."""
    st.title("Triage")
    info = session.summary()
    if not session.require_signals(info):
        return
    st.markdown("Decide what the organisation does about each signal: **new** (not looked at), "
                "**assessing**, **act**, **watch** or **dismissed**. Every change is appended to "
                "the triage log with who made it and when; nothing is overwritten.")
    if "triage_done" in st.session_state:
        st.success(st.session_state.pop("triage_done"))
    data = session.load("triage_overview")
    if data["current"].empty:
        st.info("No topic is on the latest radar, so there is nothing to triage yet.")
    else:
        user = st.session_state.get("current_user")
        if user is None or access.can(user.role, "triage"):
            _form(data["current"])
        else:
            st.info("Viewers can read the triage log; recording decisions needs the analyst role.")
        st.subheader("Current status")
        st.dataframe(data["current"], hide_index=True, width="stretch")
    st.subheader("Triage log (newest first)")
    if data["log"].empty:
        st.caption("No changes recorded yet.")
    else:
        st.dataframe(data["log"].rename(columns={"from_status": "from", "to_status": "to"}),
                     hide_index=True, width="stretch")
        st.caption(f"{len(data['log'])} most recent entries; the full log is the "
                   f"{ui.esc('triage_log')} table.")


render()

"""Decisions page: decisions on the loop, their signposts, and the reassessment queue.

A decision links signals (topics) and services and moves through seven steps
(need, ideas, feasibility, feedback, choice, implementation, reassessment),
each with who, when, why and the public-value considerations weighed. Every
entry is appended; nothing is edited. Signposts bring a decision back when the
world moves: `radar analyze` checks them and notifies the owner by e-mail.
"""

from __future__ import annotations

import streamlit as st

from dashboard import loop_ui, session, ui
from radar.core import decisions, loop

KIND_HELP = {
    "share": "Share of all passages (%)",
    "growth": "Growth on the baseline (1 = doubled)",
    "authors": "Distinct citizen authors",
    "new_channel": "Passages in a channel the topic was not in",
    "watch_term": "Passages of a watch-list item in a period",
}


def _ids(param: str) -> list[int]:
    raw = st.query_params.get(param)
    return [int(raw)] if raw and raw.isdigit() else []


def _open_form(lists) -> None:
    topics, services = lists["topics"], lists["services"]
    t_labels = dict(zip(topics["topic_id"], topics["label"], strict=True)) if not topics.empty else {}
    s_labels = dict(zip(services["service_id"], services["name"], strict=True)) if not services.empty else {}
    pre_t = [t for t in _ids("topic") if t in t_labels]
    pre_s = [s for s in _ids("service") if s in s_labels]
    with st.expander("Open a decision", icon=":material/add:", expanded=bool(pre_t or pre_s)):
        with st.form("open_decision", clear_on_submit=True):
            title = st.text_input("Decision", placeholder="e.g. Extend library opening hours")
            c1, c2 = st.columns(2)
            owner = c1.text_input("Owner", help="Who answers for the decision.")
            email = c2.text_input("Owner's e-mail", help="Trigger notices go here.")
            chosen_t = st.multiselect("Signals (topics)", list(t_labels), default=pre_t,
                                      format_func=lambda t: t_labels[t], placeholder="choose topics…")
            chosen_s = st.multiselect("Services", list(s_labels), default=pre_s,
                                      format_func=lambda s: s_labels[s], placeholder="choose services…")
            why = st.text_area("The need", help="Step 1: what stakeholders need, and on what evidence.")
            values = _values("open")
            done = st.form_submit_button("Open the decision")
        if done:
            try:
                did = decisions.create(session.reader().path, title, owner,
                                       st.session_state.get("loop_who", ""), why, owner_email=email,
                                       topic_ids=chosen_t, service_ids=chosen_s, values=values)
            except decisions.DecisionError as exc:
                st.error(str(exc))
                return
            session.refresh()
            st.session_state["decisions_done"] = f"Opened decision #{did}: {title}."
            st.query_params.clear()
            st.query_params["decision"] = str(did)
            st.rerun()


def _values(key: str) -> dict[str, str]:
    st.caption("Public-value considerations weighed (a choice needs at least one):")
    c = st.columns(4)
    return {v: c[i].text_input(loop.VALUE_TEXT[v].capitalize(), key=f"{key}_{v}")
            for i, v in enumerate(loop.VALUES)}


def _step_form(did: int, current: str | None, pending: bool) -> None:
    allowed = loop.allowed_next(current, pending)
    default = allowed.index("reassessment") if pending and "reassessment" in allowed else len(allowed) - 1
    with st.form(f"step_{did}", clear_on_submit=True):
        step = st.selectbox("Next step", allowed, index=default,
                            format_func=lambda s: f"{s} — {loop.STEP_TEXT[s]}")
        why = st.text_area("Why", help="What was found, proposed or decided, and on what evidence.")
        values = _values(f"step_{did}")
        done = st.form_submit_button("Record the step")
    if done:
        try:
            s = decisions.record_step(session.reader().path, did, step,
                                      st.session_state.get("loop_who", ""), why, values)
        except decisions.DecisionError as exc:
            st.error(str(exc))
            return
        session.refresh()
        st.session_state["decisions_done"] = f"Recorded: {s.from_step} → {s.step} by {s.who}."
        st.rerun()


def _signpost_form(did: int, links, lists) -> None:
    topics = lists["topics"]
    t_labels = dict(zip(topics["topic_id"], topics["label"], strict=True)) if not topics.empty else {}
    linked = [int(r) for r in links[links["kind"] == "topic"]["ref_id"]]
    order = linked + [t for t in t_labels if t not in linked]
    watch = lists["watch"]
    w_labels = dict(zip(watch["watch_id"], watch["name"], strict=True)) if not watch.empty else {}
    with st.form(f"signpost_{did}", clear_on_submit=True):
        kind = st.selectbox("Indicator", loop.SIGNPOST_KINDS, format_func=lambda k: KIND_HELP[k])
        c1, c2 = st.columns(2)
        topic = c1.selectbox("Topic (all but watch-list indicators)", order,
                             format_func=lambda t: t_labels.get(t, str(t)), index=0 if order else None)
        item = c2.selectbox("Watch-list item (watch-list indicator)", list(w_labels),
                            format_func=lambda w: w_labels[w], index=0 if w_labels else None)
        threshold = st.number_input("Threshold", min_value=0.0, value=5.0, step=1.0,
                                    help="Share in %, growth as a number, or a count.")
        done = st.form_submit_button("Set the signpost")
    if done:
        value = threshold / 100 if kind == "share" else threshold
        try:
            decisions.add_signpost(session.reader().path, did, kind, value,
                                   st.session_state.get("loop_who", ""),
                                   topic_id=None if kind == "watch_term" else topic,
                                   watch_id=item if kind == "watch_term" else None)
        except decisions.DecisionError as exc:
            st.error(str(exc))
            return
        session.refresh()
        st.session_state["decisions_done"] = ("Signpost set: " +
                                              loop.SIGNPOST_TEXT[kind].format(t=value) + ".")
        st.rerun()


def _detail(did: int, lists) -> None:
    d = session.load("decision_detail", did)
    if d["head"].empty:
        st.warning(f"There is no decision {did}.")
        return
    head = ui.record(d["head"].iloc[0])
    pending = int(d["queued"]["n"].iloc[0]) > 0
    st.subheader(f"#{did} {head['title']}")
    st.markdown(f"**Owner:** {ui.esc(head['owner'])} · **now:** {ui.esc(head['step'])} "
                f"({ui.esc(loop.STEP_TEXT.get(head['step'], ''))}) since {ui.day(head['step_at'])}")
    if pending:
        st.error("A signpost fired: this decision is in the reassessment queue until a "
                 "reassessment step is recorded.", icon=":material/notification_important:")
    st.markdown("**About:** " + "; ".join(f"{ui.esc(r.kind)} {ui.esc(r.label)}"
                                           for r in d["links"].itertuples()))
    st.markdown("**History** (append-only)")
    st.dataframe(d["steps"], hide_index=True, width="stretch")
    st.markdown("**Signposts**")
    if d["signposts"].empty:
        st.caption("No signposts yet: set one so the radar brings this decision back when it matters.")
    else:
        st.dataframe(d["signposts"], hide_index=True, width="stretch")
    left, right = st.columns(2)
    with left:
        st.markdown("**Record the next step**")
        _step_form(did, head["step"], pending)
    with right:
        st.markdown("**Add a signpost**")
        _signpost_form(did, d["links"], lists)
    st.markdown("**Briefs**")
    for r in d["links"].itertuples():
        st.caption(f"{r.kind}: {r.label}")
        loop_ui.brief_buttons(r.kind, int(r.ref_id), str(r.label))


def render() -> None:
    """The decisions page."""
    st.title("Decisions")
    st.markdown("From signal to service: record what the organisation decides, step by step, with "
                "who, when, why and the public values weighed; set signposts so the radar brings "
                "a decision back when the world moves. Nothing here is ever overwritten.")
    if "decisions_done" in st.session_state:
        st.success(st.session_state.pop("decisions_done"))
    overview = session.load("decisions_overview")
    lists = session.load("catalogue_lists")
    loop_ui.who()
    st.subheader("Reassessment queue")
    queue = overview["queue"]
    if queue.empty:
        st.caption("Empty: no signpost has fired since the last reassessment.")
    else:
        st.dataframe(queue, hide_index=True, width="stretch")
    _open_form(lists)
    table = overview["decisions"]
    if table.empty:
        st.info("No decisions yet. Open one above, from a service on the Services page or a topic.")
        return
    st.subheader("All decisions")
    st.dataframe(table, hide_index=True, width="stretch")
    ids = [int(x) for x in table["decision_id"]]
    titles = dict(zip(ids, table["title"], strict=True))
    wanted = _ids("decision")
    picked = st.selectbox("Decision", ids, index=ids.index(wanted[0]) if wanted and wanted[0] in ids
                          else 0, format_func=lambda i: f"#{i} {titles[i]}", key="decision_pick")
    if picked is not None:
        _detail(picked, lists)


render()

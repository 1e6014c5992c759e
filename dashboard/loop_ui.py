"""Shared widgets of the decision-loop pages: the person's name, and brief downloads."""

from __future__ import annotations

import re

import streamlit as st

from dashboard import session
from radar.core import access
from radar.core import brief as brief_mod
from radar.core.brief_render import PdfUnavailable, render_html, render_pdf


def who(key: str = "loop_who") -> str:
    """'Your name': every change on these pages is recorded with it.

    Signed in, it is the signed-in user's name (no field to type); a viewer gets no name,
    so changes that need one are refused (recording is for analysts and admins).
    """
    user = st.session_state.get("current_user")
    if user is not None and user.name:
        if not access.can(user.role, "triage"):
            st.session_state[key] = ""
            st.info("Viewers can read this page; recording changes needs the analyst role.")
            return ""
        st.session_state[key] = user.name
        st.caption(f"Changes are recorded as made by {user.name}.")
        return user.name
    return st.text_input("Your name", key=key,
                         help="Every change is recorded with your name; records are never edited.")


def brief_buttons(kind: str, item_id: int, label: str) -> None:
    """A 'Make a brief' button; once made, download buttons for HTML and PDF."""
    key = f"brief_{kind}_{item_id}"
    if st.button("Make a brief", key=f"{key}_make", icon=":material/description:",
                 help="A one-page brief (trend, evidence within the privacy threshold, whose voice, "
                      "linked decisions) as HTML and PDF."):
        reader = session.reader()
        try:
            b = brief_mod.gather(reader.path, reader.config,
                                 topic_id=item_id if kind == "topic" else None,
                                 service_id=item_id if kind == "service" else None)
        except brief_mod.BriefError as exc:
            st.error(str(exc))
            return
        html = render_html(b)
        try:
            pdf = render_pdf(html)
        except PdfUnavailable as exc:
            pdf = None
            st.warning(str(exc))
        st.session_state[key] = (html, pdf)
    made = st.session_state.get(key)
    if made:
        stem = "brief-" + (re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:50] or kind)
        html, pdf = made
        c1, c2 = st.columns(2)
        c1.download_button("Download brief (HTML)", html, file_name=f"{stem}.html", mime="text/html",
                           key=f"{key}_html")
        if pdf is not None:
            c2.download_button("Download brief (PDF)", pdf, file_name=f"{stem}.pdf",
                               mime="application/pdf", key=f"{key}_pdf")

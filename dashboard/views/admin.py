"""Admin page (admins only): users and roles, locked sign-in names, the privacy log."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from dashboard import session
from radar.core import access
from radar.core.documents import utcnow


def _users(cfg) -> None:
    st.subheader("Users")
    d = cfg.dashboard
    rows = [{"name": u.name, "role": u.role,
             "signs in with": "password" if u.password_hash else "proxy header"} for u in d.users]
    if d.password_hash and not d.users:
        rows.append({"name": "dashboard", "role": "admin", "signs in with": "shared password"})
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    else:
        st.caption("No users configured.")
    st.caption("Users and roles live in radar.toml ([[dashboard.users]]); "
               + (f"the proxy header {d.trusted_user_header} signs people in, unknown names as "
                  f"{d.trusted_default_role}." if d.trusted_user_header else "no proxy header is trusted."))


def _locks(cfg, path: str) -> None:
    st.subheader("Locked sign-in names")
    d = cfg.dashboard
    locked = access.locked_names(path, utcnow(), d.max_failed_logins,
                                 timedelta(minutes=d.lockout_minutes))
    if not locked:
        st.caption(f"None: a name is locked for {d.lockout_minutes} minutes after "
                   f"{d.max_failed_logins} wrong passwords.")
        return
    names = {access.name_key(u.name): u.name for u in d.users}
    for key, n, until in locked:
        label = names.get(key, f"unknown name ({key[:8]}…)")
        c1, c2 = st.columns([3, 1])
        c1.markdown(f"**{label}**: {n} wrong passwords, locked until {until:%H:%M} UTC")
        if c2.button("Unlock", key=f"unlock_{key}"):
            access.clear_failures(path, key=key)
            st.rerun()


def render() -> None:
    """The admin page."""
    user = st.session_state.get("current_user")
    if user is None or not access.can(user.role, "admin"):  # never registered for others
        st.error("This page is for admins.")
        st.stop()
    st.title("Admin")
    reader = session.reader()
    _users(reader.config)
    _locks(reader.config, reader.path)
    st.subheader("Privacy log")
    st.caption("Erasures (`radar forget`), exports, analysts' copies and salt rotations; "
               "never the content concerned.")
    st.dataframe(session.load("privacy_log"), hide_index=True, width="stretch")


render()

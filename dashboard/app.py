"""Horizon Radar dashboard: `radar dashboard` runs `streamlit run` on this file.

The config comes from $RADAR_CONFIG (set by `radar dashboard`) or ./radar.toml.
Pages live in dashboard/views/, one file each; all SQL in dashboard/queries.py.
"""

from __future__ import annotations

import streamlit as st

from dashboard import auth, session
from radar.core import access
from radar.core.config import ConfigError


@st.cache_resource(show_spinner=False)
def _icon():
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    for radius, colour in ((31, "#7f8c8d"), (23, "#2471a3"), (15, "#e67e22"), (7, "#c0392b")):
        draw.ellipse((32 - radius, 32 - radius, 32 + radius, 32 + radius), fill=colour)
    return img


def main() -> None:
    """Set up the page, the password gate and the navigation, then run the chosen page."""
    # A drawn icon: Material icon names and emoji favicons are fetched from a CDN.
    st.set_page_config(page_title="Horizon Radar", page_icon=_icon(), layout="wide")
    try:
        cfg = session.reader().config
    except ConfigError as exc:
        st.error(f"The dashboard cannot read its configuration: {exc}")
        st.stop()
    user = auth.gate(cfg.dashboard, session.reader().path)
    st.session_state["current_user"] = user  # pages read who is signed in (triage attribution)
    pages = [
        st.Page("views/radar.py", title="Radar", icon=":material/radar:", default=True),
        st.Page("views/services.py", title="Services", icon=":material/account_balance:",
                url_path="services"),
        st.Page("views/topic.py", title="Topic", icon=":material/topic:", url_path="topic"),
        st.Page("views/compare.py", title="Compare periods", icon=":material/compare_arrows:",
                url_path="compare"),
        st.Page("views/signals.py", title="Signals", icon=":material/table_chart:",
                url_path="signals"),
        st.Page("views/triage.py", title="Triage", icon=":material/fact_check:",
                url_path="triage"),
        st.Page("views/decisions.py", title="Decisions", icon=":material/gavel:",
                url_path="decisions"),
        st.Page("views/watch.py", title="Watch list", icon=":material/visibility:", url_path="watch"),
        st.Page("views/search.py", title="Search", icon=":material/search:", url_path="search"),
        st.Page("views/sources.py", title="Sources", icon=":material/rss_feed:",
                url_path="sources"),
    ]
    # Pages a role may not use are not registered at all: their URLs do not exist for it.
    if access.can(user.role, "sql"):
        pages.append(st.Page("views/warehouse.py", title="Warehouse", icon=":material/database:",
                             url_path="warehouse"))
    if access.can(user.role, "admin"):
        pages.append(st.Page("views/admin.py", title="Admin", icon=":material/admin_panel_settings:",
                             url_path="admin"))
    page = st.navigation(pages)
    with st.sidebar:
        if user.name:
            st.caption(f"Signed in as {user.name} ({user.role})")
        if "user" in st.session_state:  # a proxy-header user signs out at the proxy
            if st.button("Sign out", key="sign_out"):
                auth.sign_out()
                st.rerun()
        st.caption(f"Warehouse: {cfg.warehouse_path.name}")
        if st.button("Refresh data", help="Data refreshes by itself every "
                     f"{cfg.dashboard.cache_ttl} s; this reads the newest now."):
            session.refresh()
    page.run()


main()

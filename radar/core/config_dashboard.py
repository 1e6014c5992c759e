"""The `[dashboard]` section of radar.toml: address, caching, named users and roles, sign-in.

Kept apart from radar.core.config (which re-exports both classes) to keep modules small.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass
class DashboardUser:
    """A named dashboard user: viewer (reads), analyst (also triages, SQL page), admin (all)."""

    name: str
    role: Literal["viewer", "analyst", "admin"] = "viewer"
    password_hash: str = ""    # from `radar dashboard --hash-password`; empty: header sign-in only


@dataclass
class DashboardConfig:
    """The Streamlit dashboard."""

    base_url: str = "http://127.0.0.1:8501"
    port: int = 8501
    password_hash: str = ""    # one shared password (signs in as "dashboard", admin); prefer users
    users: list[DashboardUser] = field(default_factory=list)
    # Behind a reverse proxy that signs people in: the header carrying the user's name.
    # Only set this when the dashboard is reachable through that proxy alone.
    trusted_user_header: str = ""
    trusted_default_role: Literal["viewer", "analyst", "admin"] = "viewer"  # header users not in users
    max_failed_logins: int = 5   # wrong passwords for one name before it is locked
    lockout_minutes: int = 15    # how long; failures are kept in the warehouse across restarts
    cache_ttl: int = 30        # seconds query results are reused before re-reading
    max_blips: int = 150       # blips drawn on the radar by default (highest scores)

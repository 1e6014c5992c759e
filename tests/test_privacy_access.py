"""Roles and the sign-in throttle without a browser: the pure rules, and a lockout that
survives a dashboard restart (a fresh app, caches cleared) because it lives in the warehouse."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.auth import User, check_password, hash_password, header_user
from radar.core import access
from radar.core.config import DashboardConfig, DashboardUser, load_config

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")


def test_roles_rank_viewer_analyst_admin():
    assert access.can("admin", "admin") and access.can("admin", "triage")
    assert access.can("analyst", "triage") and access.can("analyst", "sql")
    assert not access.can("analyst", "admin")
    assert access.can("viewer", "read") and not access.can("viewer", "triage")
    assert not access.can("viewer", "admin") and not access.can(None, "read")
    assert not access.can("root", "read")


def test_lockout_after_max_failures_within_the_window():
    now = datetime(2026, 12, 3, 12, 0)
    lock = timedelta(minutes=15)
    fails = [now - timedelta(minutes=m) for m in (1, 2)]
    assert access.locked_until(fails, now, 3, lock) is None
    fails.append(now - timedelta(minutes=20))  # outside the window: does not count
    assert access.locked_until(fails, now, 3, lock) is None
    fails.append(now)
    assert access.locked_until(fails, now, 3, lock) == now + lock


def test_passwords_and_trusted_header():
    d = DashboardConfig(users=[DashboardUser("Maija", "analyst", hash_password("s3cret")),
                               DashboardUser("Proxy Pete", "admin")])
    assert check_password(d, " maija ", "s3cret") == User("Maija", "analyst")
    assert check_password(d, "Maija", "wrong") is None
    assert check_password(d, "Nobody", "s3cret") is None
    assert check_password(d, "Proxy Pete", "") is None  # header-only user has no password
    assert header_user(d, {"X-Forwarded-User": "Proxy Pete"}) is None  # header not trusted
    d.trusted_user_header = "X-Forwarded-User"
    assert header_user(d, {"X-Forwarded-User": "proxy pete"}) == User("Proxy Pete", "admin")
    assert header_user(d, {"X-Forwarded-User": "Someone"}) == User("Someone", "viewer")
    assert header_user(d, {}) is None


@pytest.fixture
def with_users(project):
    text = project.read_text().replace("max_failed_logins = 5", "max_failed_logins = 2")
    project.write_text(text + '\n[[dashboard.users]]\nname = "Maija"\nrole = "viewer"\n'
                       f'password_hash = "{hash_password("s3cret")}"\n')
    return project


def _fresh_app(config, monkeypatch) -> AppTest:
    st.cache_data.clear()
    st.cache_resource.clear()  # as after a restart
    monkeypatch.setenv("RADAR_CONFIG", str(config))
    return AppTest.from_file(APP, default_timeout=60).run()


def _try(at, name, password):
    at.text_input[0].input(name)
    at.text_input[1].input(password)
    at.button[0].click().run()
    return [e.value for e in at.error]


def test_lockout_survives_a_restart(with_users, monkeypatch):
    at = _fresh_app(with_users, monkeypatch)
    assert _try(at, "Maija", "nope") == ["Wrong name or password."]
    assert _try(at, "Maija", "nope") == ["Wrong name or password."]
    at = _fresh_app(with_users, monkeypatch)
    errors = _try(at, "Maija", "s3cret")
    assert errors and "Too many wrong passwords" in errors[0]
    assert "Radar" not in [t.value for t in at.title]
    path = load_config(with_users).warehouse_path
    assert access.clear_failures(path, "maija") == 2  # an admin's unlock
    at = _fresh_app(with_users, monkeypatch)
    assert _try(at, "Maija", "s3cret") == []
    assert "Radar" in [t.value for t in at.title]

"""Sign-in: named users with roles (or one shared password, or a trusted proxy header).

Passwords are stored only as salted scrypt hashes: `radar dashboard --hash-password`
prints one for `[[dashboard.users]] password_hash` (or `[dashboard] password_hash`).
Format: `scrypt$<n>$<r>$<p>$<salt hex>$<hash hex>`. Wrong passwords are throttled
per name (radar.core.access), and the lockout survives restarts.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from radar.core import access
from radar.core.config import DashboardConfig
from radar.core.documents import utcnow

N, R, P, DKLEN = 2**14, 8, 1, 32
SHARED_NAME = "dashboard"  # who signs in with the shared password


class PasswordHashError(ValueError):
    """A password_hash value that is not in the expected format."""


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """A salted scrypt hash of `password` for radar.toml."""
    if not password:
        raise ValueError("the password must not be empty")
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, dklen=DKLEN)
    return f"scrypt${N}${R}${P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches the stored hash (constant-time comparison)."""
    try:
        kind, n, r, p, salt_hex, digest_hex = stored.split("$")
        if kind != "scrypt":
            raise ValueError(kind)
        n_, r_, p_ = int(n), int(r), int(p)
        salt, digest = bytes.fromhex(salt_hex), bytes.fromhex(digest_hex)
    except ValueError as exc:
        raise PasswordHashError(
            "[dashboard] password_hash is not a hash from `radar dashboard --hash-password`"
        ) from exc
    candidate = hashlib.scrypt(password.encode(), salt=salt, n=n_, r=r_, p=p_,
                               dklen=len(digest), maxmem=256 * 1024 * 1024)
    return hmac.compare_digest(candidate, digest)


@dataclass(frozen=True)
class User:
    """Who is signed in: a name (recorded with each triage decision) and a role."""

    name: str
    role: str


OPEN = User("", "admin")  # no gate configured: a local, single-user dashboard


def check_password(cfg: DashboardConfig, name: str, password: str) -> User | None:
    """The user whose name and password match (constant-time per candidate), else None."""
    if not cfg.users and cfg.password_hash:
        return User(SHARED_NAME, "admin") if verify_password(password, cfg.password_hash) else None
    wanted = " ".join(name.split()).casefold()
    for u in cfg.users:
        if u.password_hash and " ".join(u.name.split()).casefold() == wanted:
            return User(u.name, u.role) if verify_password(password, u.password_hash) else None
    # Unknown name: spend the same time, so timing does not tell which names exist.
    verify_password(password, _DUMMY)
    return None


def header_user(cfg: DashboardConfig, headers) -> User | None:
    """The user named by the trusted proxy header (only when that header is configured)."""
    if not cfg.trusted_user_header:
        return None
    name = (headers.get(cfg.trusted_user_header) or "").strip() if headers else ""
    if not name:
        return None
    for u in cfg.users:
        if " ".join(u.name.split()).casefold() == " ".join(name.split()).casefold():
            return User(u.name, u.role)
    return User(name, cfg.trusted_default_role)


def gate(cfg: DashboardConfig, path: str) -> User:
    """The signed-in user; stops the page with a sign-in form until there is one.

    No users, no shared password and no trusted header configured: an open, local
    dashboard (admin). Wrong passwords are counted per name in the warehouse; after
    `max_failed_logins` the name is locked for `lockout_minutes`, restarts included.
    """
    import streamlit as st

    if not (cfg.users or cfg.password_hash or cfg.trusted_user_header):
        return OPEN
    if cfg.trusted_user_header:
        user = header_user(cfg, st.context.headers)
        if user:
            return user
    if "user" in st.session_state:
        return st.session_state["user"]
    st.title("Horizon Radar")
    shared = not cfg.users
    with st.form("login"):
        name = SHARED_NAME if shared else st.text_input("Name")
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Sign in")
    if submitted:
        _sign_in(cfg, path, name, password)
    st.stop()


def _sign_in(cfg: DashboardConfig, path: str, name: str, password: str) -> None:
    import streamlit as st

    now = utcnow()
    lockout = timedelta(minutes=cfg.lockout_minutes)
    until = access.locked_until(access.failures(path, name, now - lockout), now,
                                cfg.max_failed_logins, lockout)
    if until:
        minutes = max(1, int((until - now).total_seconds() // 60) + 1)
        st.error(f"Too many wrong passwords: try again in {minutes} minutes, or ask an admin "
                 "to unlock the name.")
        return
    try:
        user = check_password(cfg, name, password)
    except PasswordHashError as exc:
        st.error(str(exc))
        return
    if user is None:
        access.record_failure(path, name)
        st.error("Wrong name or password." if cfg.users else "Wrong password.")
        return
    access.clear_failures(path, name)
    st.session_state["user"] = user
    st.rerun()


def sign_out() -> None:
    """Forget this session's user."""
    import streamlit as st

    st.session_state.pop("user", None)


_DUMMY = "scrypt$16384$8$1$" + "00" * 16 + "$" + "00" * 32

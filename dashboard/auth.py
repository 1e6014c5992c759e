"""The optional password gate: one shared password, stored only as a salted scrypt hash.

`radar dashboard --hash-password` prints a hash for `[dashboard] password_hash`.
Format: `scrypt$<n>$<r>$<p>$<salt hex>$<hash hex>`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

N, R, P, DKLEN = 2**14, 8, 1, 32


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


def gate(stored_hash: str) -> None:
    """Stop the page until the session has entered the right password (no-op without a hash)."""
    import streamlit as st

    if not stored_hash or st.session_state.get("authenticated"):
        return
    st.title("Horizon Radar")
    with st.form("login"):
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Sign in")
    if submitted:
        try:
            ok = verify_password(password, stored_hash)
        except PasswordHashError as exc:
            st.error(str(exc))
            st.stop()
        if ok:
            st.session_state["authenticated"] = True
            st.rerun()
        st.error("Wrong password.")
    st.stop()

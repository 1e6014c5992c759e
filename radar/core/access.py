"""Who may do what on the dashboard, and the sign-in throttle.

Roles rank viewer < analyst < admin; `allowed(role, needed)` is the one check.
A name that gets `max_failures` wrong passwords within the lockout window is
locked until the window after its last failure has passed. Failures are stored in
the warehouse (`login_failures`, as a hash of the typed name, which might be a
mistyped password) so restarting the dashboard does not reset them.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from radar.core import warehouse
from radar.core.documents import utcnow

ROLES = ("viewer", "analyst", "admin")
#: What each action needs (the dashboard asks `allowed(role, NEEDS[action])`).
NEEDS = {"read": "viewer", "triage": "analyst", "sql": "analyst", "admin": "admin"}


def allowed(role: str | None, needed: str) -> bool:
    """Whether `role` reaches `needed` (an unknown or missing role reaches nothing)."""
    if role not in ROLES or needed not in ROLES:
        return False
    return ROLES.index(role) >= ROLES.index(needed)


def can(role: str | None, action: str) -> bool:
    """Whether `role` may do `action` (read, triage, sql, admin)."""
    return allowed(role, NEEDS.get(action, "admin"))


def name_key(name: str) -> str:
    """How a typed name is stored: a hash of its lower-cased, trimmed form."""
    norm = " ".join(name.split()).casefold()
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()[:32]


def locked_until(failures: list[datetime], now: datetime, max_failures: int,
                 lockout: timedelta) -> datetime | None:
    """When a name may try again, or None: locked after `max_failures` within `lockout`."""
    recent = sorted(f for f in failures if now - f < lockout)
    if max_failures < 1 or len(recent) < max_failures:
        return None
    return recent[-1] + lockout


def failures(path, name: str, since: datetime) -> list[datetime]:
    """Failed sign-ins for `name` since `since`."""
    with warehouse.read(path) as con:
        return [r[0] for r in con.execute(
            'SELECT "at" FROM login_failures WHERE username = ? AND "at" >= ? ORDER BY "at"',
            [name_key(name), since]).fetchall()]


def record_failure(path, name: str, at: datetime | None = None) -> None:
    """Store one failed sign-in for `name` (kept across restarts)."""
    with warehouse.write(path) as con:
        con.execute('INSERT INTO login_failures (username, "at") VALUES (?, ?)',
                    [name_key(name), at or utcnow()])


def clear_failures(path, name: str | None = None, *, key: str | None = None) -> int:
    """Forget the failures of one name (after a good sign-in, or an admin's unlock)."""
    with warehouse.write(path) as con:
        username = key or name_key(name or "")
        gone = con.execute("SELECT count(*) FROM login_failures WHERE username = ?",
                           [username]).fetchone()[0]
        con.execute("DELETE FROM login_failures WHERE username = ?", [username])
    return gone


def locked_names(path, now: datetime, max_failures: int,
                 lockout: timedelta) -> list[tuple[str, int, datetime]]:
    """Locked name keys with their failure count and when they open again."""
    with warehouse.read(path) as con:
        rows = con.execute('SELECT username, list("at") FROM login_failures WHERE "at" >= ? '
                           "GROUP BY username", [now - lockout]).fetchall()
    out = []
    for key, times in rows:
        until = locked_until(list(times), now, max_failures, lockout)
        if until:
            out.append((key, len(times), until))
    return sorted(out, key=lambda r: r[2], reverse=True)

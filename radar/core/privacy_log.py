"""The privacy log: erasures, personal-data exports, analyst copies and salt rotations.

Each entry says what was done, when and by whom, with counts and options only:
never the content concerned. Written inside the caller's write transaction.
"""

from __future__ import annotations

import getpass
import os

from radar.core import portable

ACTIONS = ("erase", "export", "export_personal", "analyst_copy", "salt_rotation")


def current_actor() -> str:
    """The operating-system user running a command (what the CLI logs as the actor)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return f"uid {os.getuid()}"


def record(con, action: str, detail: str, actor: str | None = None) -> None:
    """Append one entry inside the caller's open write transaction."""
    if action not in ACTIONS:
        raise ValueError(f"unknown privacy action {action!r}")
    portable.insert_with_id(con, "privacy_log", "entry_id", "privacy_log_seq",
                             ("action", "actor", "detail"), [action, actor or current_actor(), detail])


def entries(con, limit: int = 100) -> list[tuple]:
    """The newest entries: (at, action, actor, detail)."""
    return con.execute('SELECT "at", action, actor, detail FROM privacy_log '
                       "ORDER BY entry_id DESC LIMIT ?", [limit]).fetchall()

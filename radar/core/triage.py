"""The triage log: what the organisation decided about each signal, and who decided it.

Every change is a new row in `triage_log`; nothing is updated or deleted, so the
log is the accountable record. A topic's current status is its latest entry.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime

from radar.core import warehouse
from radar.core.documents import utcnow

STATUSES: tuple[str, ...] = ("new", "assessing", "act", "watch", "dismissed")
MAX_NOTE = 4000
MAX_NAME = 200


class TriageError(ValueError):
    """A triage change that cannot be recorded (no name, unknown status or topic)."""


@dataclass(frozen=True)
class TriageEntry:
    """One recorded change."""

    entry_id: int
    topic_id: int
    at: datetime
    who: str
    from_status: str | None
    to_status: str
    owner: str | None
    note: str | None


def _clean(value: str | None, limit: int) -> str | None:
    value = (value or "").strip()
    return value[:limit] or None


def record(path: str | os.PathLike, topic_id: int, status: str, who: str,
           owner: str | None = None, note: str | None = None) -> TriageEntry:
    """Append a status change for `topic_id` by `who`; returns the stored entry.

    The previous status is read inside the same write transaction, so two people
    triaging at once still produce a consistent from -> to chain.
    """
    who_clean = _clean(who, MAX_NAME)
    if not who_clean:
        raise TriageError("a triage change needs the name of the person making it")
    if status not in STATUSES:
        raise TriageError(f"unknown status {status!r} (expected one of: {', '.join(STATUSES)})")
    topic_id = int(topic_id)
    owner_clean, note_clean = _clean(owner, MAX_NAME), _clean(note, MAX_NOTE)
    with warehouse.write(path) as con:
        label = con.execute("SELECT label FROM topics WHERE topic_id = ?", [topic_id]).fetchone()
        if label is None:
            raise TriageError(f"no topic {topic_id} in the warehouse")
        prev = con.execute(
            "SELECT to_status FROM triage_log WHERE topic_id = ? ORDER BY entry_id DESC LIMIT 1",
            [topic_id],
        ).fetchone()
        at = utcnow()
        entry_id = warehouse.insert_with_id(
            con, "triage_log", "entry_id", "triage_seq",
            ("topic_id", "topic_label", '"at"', "who", "from_status", "to_status", "owner", "note"),
            [topic_id, label[0], at, who_clean, prev[0] if prev else None, status,
             owner_clean, note_clean])
    return TriageEntry(entry_id, topic_id, at, who_clean, prev[0] if prev else None, status,
                       owner_clean, note_clean)


def history(path: str | os.PathLike, topic_id: int) -> list[TriageEntry]:
    """Every triage entry for a topic, oldest first."""
    rows = warehouse.query(
        path,
        "SELECT entry_id, topic_id, \"at\", who, from_status, to_status, owner, note "
        "FROM triage_log WHERE topic_id = ? ORDER BY entry_id",
        [int(topic_id)],
    )
    return [TriageEntry(*r) for r in rows]


def current_status(path: str | os.PathLike, topic_id: int) -> str:
    """The topic's latest status, or 'new' when nobody has triaged it yet."""
    entries = history(path, topic_id)
    return entries[-1].to_status if entries else "new"

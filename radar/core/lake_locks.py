"""The PostgreSQL side of a DuckLake warehouse: advisory locks and id sequences.

A DuckLake catalog lives in PostgreSQL, so the locks that coordinate radar processes on
several machines live there too, as advisory locks held by a session: PostgreSQL releases
them when the session ends, however the process ends (kill -9 included).

- `batch_lock`: one write batch at a time on a lake (DuckLake's optimistic commits let
  two concurrent inserts of the same key both succeed; the batch lock keeps keys unique).
  Migrations run inside a write batch, so two machines never migrate at once.
- `stage_locks`: the run-wide writer lock of a command, per stage it writes
  (`STAGE_LOCKS`): the same stage never runs twice at once, different ones may.
- sequences `radar_<name>` for the ids DuckDB's sequences give on the embedded file.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from radar.core.backends import LakeSpec, ident, redact
from radar.core.errors import WarehouseError
from radar.core.locks import WriterLocked

if TYPE_CHECKING:
    import psycopg

_pg_local = threading.local()


def _connect(spec: LakeSpec, **kwargs) -> psycopg.Connection:
    """A PostgreSQL session to the catalog database; a failure is one clear WarehouseError.
    psycopg is imported here, not with the module: only a DuckLake warehouse needs it, and
    every radar command imports this module (~60 ms)."""
    import psycopg

    try:
        return psycopg.connect(spec.dsn(), autocommit=True, **kwargs)
    except psycopg.Error as exc:
        raise WarehouseError(f"cannot open the DuckLake catalog {spec.catalog!r}: "
                             f"{redact(str(exc)).strip()}") from exc


def _pg(spec: LakeSpec) -> psycopg.Connection:
    """A per-thread autocommit PostgreSQL session for sequences."""
    cons = getattr(_pg_local, "cons", None)
    if cons is None:
        cons = _pg_local.cons = {}
    con = cons.get((os.getpid(), spec))
    if con is None or con.closed:
        con = cons[(os.getpid(), spec)] = _connect(spec)
    return con


@contextlib.contextmanager
def pg_lock(spec: LakeSpec, purpose: str, timeout: float | None, what: str) -> Iterator[None]:
    """Hold a PostgreSQL advisory lock on its own session (released when the session ends,
    however the process ends). timeout None: fail at once (WarehouseError with `what`)."""
    key = spec.lock_key(purpose)
    session = _connect(spec)
    try:
        deadline = time.monotonic() + (timeout or 0)
        delay = 0.005
        while not session.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone()[0]:
            if timeout is None or time.monotonic() > deadline:
                raise LockBusy(what)
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
        yield
    finally:
        session.close()  # ends the session: PostgreSQL releases its advisory locks


class LockBusy(WarehouseError):
    """An advisory lock is held by another session."""


_batch_locks: dict[LakeSpec, threading.Lock] = {}


@contextlib.contextmanager
def batch_lock(spec: LakeSpec, timeout: float) -> Iterator[None]:
    """Serialise write batches on this lake across processes and machines (and threads here)."""
    local = _batch_locks.setdefault(spec, threading.Lock())
    if not local.acquire(timeout=timeout):
        raise WarehouseError("timed out waiting for another write batch of this process")
    try:
        with pg_lock(spec, "batch", timeout, "a write batch of another radar process"):
            yield
    finally:
        local.release()


def next_value(spec: LakeSpec, sequence: str) -> int:
    """The next value of the lake's sequence for `sequence`."""
    return _pg(spec).execute(f"SELECT nextval('\"radar_{ident(sequence)}\"')").fetchone()[0]


def create_sequences(spec: LakeSpec, names: Sequence[str]) -> None:
    """The PostgreSQL sequences behind `next_id` (idempotent)."""
    pg = _pg(spec)
    for name in names:
        pg.execute(f'CREATE SEQUENCE IF NOT EXISTS "radar_{ident(name)}" START 1')


# Which stages a writing command holds (default: the word after "radar").
STAGE_LOCKS: dict[str, tuple[str, ...]] = {
    "radar run": ("crawl", "analyze", "alert"),
    "radar serve": ("crawl", "analyze", "alert"),
    "radar backtest --plant": ("analyze",),
    "radar demo": ("crawl", "import", "analyze", "alert"),
    # Workers of a distributed crawl (docs/crawling.md) run side by side on any machine;
    # the round's coordinator (`radar crawl`, `radar run`, `radar serve`) holds `crawl`.
    "radar crawl --worker": (),
}


def stages_of(command: str) -> tuple[str, ...]:
    """The stage locks a command takes on DuckLake."""
    if command in STAGE_LOCKS:
        return STAGE_LOCKS[command]
    words = command.split()
    return (words[1] if len(words) > 1 and words[0] == "radar" else command,)


@dataclass
class StageSession:
    """What `stage_locks` yields: whether no other radar writer is alive on the lake."""

    alone: bool
    _downgrade: object = None

    def share(self) -> None:
        """From now on let other writers start (after settling what dead ones left)."""
        if self._downgrade:
            self._downgrade()
            self._downgrade = None


@contextlib.contextmanager
def stage_locks(spec: LakeSpec, command: str, timeout: float = 60.0) -> Iterator[StageSession]:
    """Hold the advisory locks of `command`'s stages on one PostgreSQL session, or raise
    locks.WriterLocked at once naming the holder. Also hold the lake's "writers" lock shared
    while the command runs; `alone` says whether it could first be taken exclusively (no
    other radar writer alive anywhere: runs left "running" are then a dead process's)."""
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    label = f"{command}, pid {os.getpid()} on {os.uname().nodename}, started {started} UTC"
    session = _connect(spec, application_name=label[:63])
    try:
        for stage in stages_of(command):
            key = spec.lock_key(f"stage:{stage}")
            if not session.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone()[0]:
                holder = _holder(session, key) or "unknown process"
                raise WriterLocked(
                    f"another radar run is in progress ({holder}); it holds the DuckLake "
                    f"warehouse's {stage} lock, try again when it has finished")
        writers = spec.lock_key("writers")
        alone = session.execute("SELECT pg_try_advisory_lock(%s)", [writers]).fetchone()[0]

        def downgrade() -> None:
            session.execute("SELECT pg_advisory_lock_shared(%s)", [writers])
            session.execute("SELECT pg_advisory_unlock(%s)", [writers])

        if not alone:
            deadline = time.monotonic() + timeout
            while not session.execute("SELECT pg_try_advisory_lock_shared(%s)", [writers]).fetchone()[0]:
                if time.monotonic() > deadline:
                    raise WarehouseError("timed out waiting for another radar writer to settle "
                                         "interrupted runs")
                time.sleep(0.05)
        state = StageSession(alone, downgrade if alone else None)
        yield state
    finally:
        session.close()  # PostgreSQL releases every advisory lock of the session


def _holder(session: psycopg.Connection, key: int) -> str:
    """The application name (command, pid, host, start) of the session holding `key`."""
    unsigned = key & 0xFFFFFFFFFFFFFFFF
    row = session.execute(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s AND l.objid = %s "
        "AND l.objsubid = 1 LIMIT 1", [unsigned >> 32, unsigned & 0xFFFFFFFF]).fetchone()
    return row[0] if row else ""

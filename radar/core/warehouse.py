"""The DuckDB warehouse: the one place every stage reads from and writes to.

DuckDB lets one process hold a file for writing, and while it does, no other
process can open it, not even read-only. Every stage, the dashboard and
`radar status` therefore go through this module, which coordinates them with a
reader/writer lock on a file beside the warehouse (`<warehouse>.lock`):

- a writer takes the lock exclusively, opens the file, writes one batch inside a
  transaction, commits, closes and releases: seconds, not minutes;
- a reader takes the lock shared, opens read-only, queries, closes.

So readers never see half a batch (they cannot open the file while a writer
has it) and never crash on DuckDB's own file lock (they wait on ours instead).
A process that ignores our lock (an analyst's `duckdb` shell) can still hold the
file; both sides then retry DuckDB's lock error with backoff until a timeout.

With `[warehouse] backend = "ducklake"` (radar/core/backends.py) the same functions
open the lake instead: readers never wait (each reads the snapshot committed when it
started), write batches are serialised by a PostgreSQL advisory lock instead of the
lock file, and there is no reader copy (analysts attach the lake itself).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from radar.core import backends, lake_locks, portable, readcopy
from radar.core.backends import LakeSpec
from radar.core.errors import WarehouseError, WarehouseMissing
from radar.core.locks import file_lock, writer_lock
from radar.core.migrations import current_version, latest_version, migrate

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 60.0

T = TypeVar("T")


def _open(path: Path, read_only: bool, deadline: float) -> duckdb.DuckDBPyConnection:
    delay = 0.01
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            # Held by a process outside our lock (e.g. an analyst's shell): retry.
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise WarehouseError(f"{path}: cannot open the warehouse: {exc}") from exc
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


@contextlib.contextmanager
def read(path: str | os.PathLike, timeout: float = DEFAULT_TIMEOUT,
         as_of: str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to a consistent warehouse; closed on exit. Keep it short.

    `as_of` (a date or timestamp, UTC): the warehouse as it was then; DuckLake only
    (its snapshots), the embedded file keeps no history and refuses it."""
    p = Path(path)
    spec = backends.lake_for(p)
    if spec is not None:
        with _read_lake(spec, as_of) as con:
            yield con
        return
    if as_of is not None:
        raise WarehouseError("--as-of needs the DuckLake backend ([warehouse] backend = "
                             "\"ducklake\"): the embedded DuckDB file keeps only its current state")
    if not p.exists():
        raise WarehouseMissing(f"{p}: no warehouse here yet; run `radar init` first")
    deadline = time.monotonic() + timeout
    with file_lock(p, exclusive=False, timeout=timeout):
        con = _open(p, read_only=True, deadline=deadline)
        try:
            yield con
        finally:
            con.close()


# Lakes this process has seen at the newest schema: a schema never goes back, so neither
# readers nor writers need to look again (on DuckLake that look costs a catalog query).
_current_lakes: set[LakeSpec] = set()


@contextlib.contextmanager
def _read_lake(spec: LakeSpec, as_of: str | None) -> Iterator[duckdb.DuckDBPyConnection]:
    with backends.lake_cursor(spec, as_of) as con:
        if (as_of or spec not in _current_lakes) and not current_version(con):
            raise WarehouseMissing(f"the DuckLake warehouse {spec.catalog!r} has no tables"
                                   + (f" at {as_of}" if as_of else "; run `radar init` first"))
        con.begin()  # one snapshot for every query of this read
        try:
            yield con
        finally:
            con.rollback()


@contextlib.contextmanager
def _write_lake(spec: LakeSpec, timeout: float) -> Iterator[duckdb.DuckDBPyConnection]:
    with lake_locks.batch_lock(spec, timeout), backends.lake_cursor(spec) as con:
        if spec not in _current_lakes:
            if current_version(con) != latest_version():
                migrate(con)  # under the batch lock: one process, one machine migrates
            _current_lakes.add(spec)
        con.begin()
        try:
            yield con
        except BaseException:
            con.rollback()
            raise
        try:
            con.commit()
        except duckdb.Error as exc:
            if backends.is_conflict(exc):
                raise WriteConflict(f"another DuckLake writer changed the same rows first: {exc}") from exc
            raise


class WriteConflict(WarehouseError):
    """A DuckLake commit lost to a concurrent writer (one outside the radar's batch lock)."""


def write_retrying(path: str | os.PathLike, work, attempts: int = 5, timeout: float = DEFAULT_TIMEOUT):
    """Run `work(con)` in one write batch; on a DuckLake commit conflict run it again in a
    new transaction (up to `attempts` times). Returns what `work` returned."""
    for attempt in range(attempts):
        try:
            with write(path, timeout) as con:
                return work(con)
        except WriteConflict:
            if attempt == attempts - 1:
                raise
            log.info("write conflict on the DuckLake warehouse; retrying the batch")
            time.sleep(0.05 * 2 ** attempt)


@contextlib.contextmanager
def write(path: str | os.PathLike, timeout: float = DEFAULT_TIMEOUT,
          memory: int | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection inside one transaction, committed on success, rolled back on error.

    The schema is brought up to date first. Write one batch per call and return:
    readers wait while this is open (on DuckLake they read the previous snapshot).
    `memory`: DuckDB's memory limit in bytes for the batch and the checkpoint that
    follows it when the connection closes (the embedded file; DuckLake ignores it).
    """
    p = Path(path)
    spec = backends.lake_for(p)
    if spec is not None:
        with _write_lake(spec, timeout) as con:
            yield con
        return
    p.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    with file_lock(p, exclusive=True, timeout=timeout):
        con = _open(p, read_only=False, deadline=deadline)
        try:
            if memory is not None:  # the database closes with the connection: not restored
                con.execute(f"SET memory_limit = '{memory // 1000}KB'")
            migrate(con)
            con.begin()
            try:
                yield con
            except BaseException:
                con.rollback()
                raise
            con.commit()
        finally:
            con.close()
    readcopy.maybe_publish(p)  # the analysts' copy, at most every few seconds


# Tables whose rows say "running" while a command works: left so by a process that died,
# they are settled as "interrupted" by the next writer (which holds the writer lock, so no
# live process can own them).
RUN_TABLES = ("crawl_runs", "import_runs")


@contextlib.contextmanager
def exclusive(path: str | os.PathLike, command: str = "radar") -> Iterator[list[str]]:
    """Hold the writer lock for a whole command (raises locks.WriterLocked when another
    command holds it) and settle the runs a dead process left running; yields what was
    settled, as "N table rows" notes. The analysts' reader copy is published when the
    command ends, however it ends.

    On DuckLake the lock is a PostgreSQL advisory lock per stage the command writes
    (`lake_locks.STAGE_LOCKS`): the same stage never runs twice at once on any machine,
    different stages (crawl workers and an analysis) may. Runs left running are settled
    only when no other radar writer holds the lake (`lake_locks.stage_locks`)."""
    p = Path(path)
    spec = backends.lake_for(p)
    if spec is not None:
        with lake_locks.stage_locks(spec, command) as session:
            notes = settle_interrupted(p) if session.alone else []
            session.share()
            yield notes
        return
    with writer_lock(p, command):
        try:
            yield settle_interrupted(p) if p.exists() else []
        finally:
            readcopy.publish(p)


def settle_interrupted(path: Path) -> list[str]:
    """Mark runs left "running" by a process that is gone as "interrupted" (call it only
    while holding the writer lock). Their work resumes on the next run of the stage:
    what was committed stays, what was not is done again."""
    notes = []
    with write(path) as con:
        for table in RUN_TABLES:
            if not table_exists(con, table):
                continue
            n = con.execute(
                f"UPDATE {table} SET status = 'interrupted', finished_at = ? "
                "WHERE status = 'running'", [_now()]).fetchone()[0]
            if n:
                notes.append(f"{n} {table} row{'s' if n != 1 else ''}")
    if notes:
        log.warning("runs left running by a process that ended: %s marked interrupted",
                    ", ".join(notes))
    return notes


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC).replace(tzinfo=None)


def query(path: str | os.PathLike, sql: str, params: Sequence[Any] | dict | None = None) -> list[tuple]:
    """Run one parameterised read query and return all rows."""
    with read(path) as con:
        return con.execute(sql, params or []).fetchall()


def exists(path: str | os.PathLike) -> bool:
    """Whether the warehouse has been created (`radar init`)."""
    spec = backends.lake_for(path)
    if spec is None:
        return Path(path).exists()
    with backends.lake_cursor(spec) as con:
        return bool(current_version(con))


def query_df(path: str | os.PathLike, sql: str, params: Sequence[Any] | dict | None = None):
    """Run one parameterised read query and return a pandas DataFrame."""
    with read(path) as con:
        return con.execute(sql, params or []).df()


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether a table or view called `name` exists in the main schema."""
    if backends.is_lake(con):
        return backends.lake_has_table(con, name) or bool(con.execute(
            "SELECT count(*) FROM duckdb_views() WHERE view_name = ? AND NOT internal "
            "AND database_name = current_database()", [name]).fetchone()[0])
    row = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND schema_name = 'main' "
        "AND database_name = current_database() UNION ALL SELECT count(*) FROM duckdb_views() "
        "WHERE view_name = ? AND NOT internal AND database_name = current_database()",
        [name, name],
    ).fetchall()
    return any(r[0] for r in row)


def load_extension(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Load a DuckDB extension shipped as a PyPI package (`duckdb-extension-NAME`); False
    when it is not available, so callers can fall back (radar/core/backends.py)."""
    return backends.load_extension(con, name)


# Portable writes (the same call on the DuckDB file and on DuckLake): radar/core/backends.py.
upsert = portable.upsert
next_id = portable.next_id
insert_with_id = portable.insert_with_id
update_returning = portable.update_returning
duplicate_keys = portable.duplicate_keys
is_lake = backends.is_lake


# DuckDB's memory limit belongs to the database, which every connection this process has
# open to the same file shares: blocks that lower it run one at a time (two threads would
# otherwise restore each other's limits, or run within the other's lower one).
_memory_limit_lock = threading.RLock()


@contextlib.contextmanager
def memory_limit(con, limit: int):
    """DuckDB's memory limit on `con` lowered to `limit` bytes (when higher) for the block,
    so that a large grouping spills to disk instead of growing the process, then restored.

    DuckDB reads a limit back rounded down to a tenth of its unit ('18.8 GiB'), and
    `RESET memory_limit` changes what it reads back but not the limit its buffers obey
    (measured with DuckDB 1.5), so the limit is set back to the value read before plus
    0.04 of its unit: it reads back the same, and repeated calls do not wear it down.
    One block at a time per process (`_memory_limit_lock`)."""
    with _memory_limit_lock:
        with _lowered(con, limit):
            yield


@contextlib.contextmanager
def _lowered(con, limit: int):
    def current() -> str:
        return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]

    before = current()
    if setting_bytes(before) <= limit:
        yield
        return
    number, _, unit = before.strip().partition(" ")
    restore = f"SET memory_limit = '{int(setting_bytes(f'{float(number) + 0.04} {unit}')) // 1000}KB'"
    con.execute(f"SET memory_limit = '{limit // 1000}KB'")
    try:
        yield
    finally:
        try:
            con.execute(restore)
        except duckdb.TransactionException:
            pass  # an error aborted the caller's transaction: it propagates, the connection closes


def write_within_memory(path: str | os.PathLike, first: int, work: Callable[[Any], T],
                        what: str) -> T:
    """`work(con)` in one write batch (`write`) within `first` bytes of DuckDB's memory. A
    write connection otherwise lets DuckDB use most of the machine's memory: a batch of
    6,000 passages written into a warehouse of 100,000 raised the process by ~520 MB, by
    ~90 MB within 100 MB (and ran faster). When DuckDB runs out of memory, the batch
    (rolled back) runs again within four times as much, then within DuckDB's own limit,
    with a warning; `work` must be repeatable in a new transaction."""
    for limit in _lower_limits(first):
        try:
            with write(path, memory=limit) as con:
                return work(con)
        except duckdb.OutOfMemoryException as exc:
            _ran_out(what, limit, exc, "writing")
    with write(path) as con:
        return work(con)


def within_memory(con, first: int, work: Callable[[], T], what: str) -> T:
    """`work()` with DuckDB's memory limit on `con` lowered to `first` bytes, so that its
    sorts, joins and groupings spill to disk early instead of growing the process.

    A fixed low limit is not safe for every corpus: some operators keep a part in memory
    that grows with the data (a join's keys, a grouping's partitions). When DuckDB runs out
    of memory, `work()` runs again within four times as much, then within the connection's
    own limit, and a warning says so. `work` must be repeatable (reads, and temporary tables
    it drops itself). Inside a transaction an error aborts it, so there the error is raised."""
    for limit in _lower_limits(first):
        try:
            with memory_limit(con, limit):
                return work()
        except duckdb.OutOfMemoryException as exc:
            try:
                con.execute("SELECT 1")
            except duckdb.TransactionException:
                raise exc from None
            _ran_out(what, limit, exc, "running it")
    return work()


def _lower_limits(first: int) -> tuple[int, int]:
    """The limits a step tries before DuckDB's own: `first`, then four times as much."""
    return first, 4 * first


def _ran_out(what: str, limit: int, exc: Exception, again: str) -> None:
    log.warning("%s: DuckDB ran out of memory within %.0f MB; %s again with more (%s)",
                what, limit / 1e6, again, str(exc).splitlines()[0])


def setting_bytes(setting: str) -> float:
    """Bytes of a DuckDB memory setting as it reads it back ('1.0 GiB', '953.6 MiB')."""
    number, _, unit = setting.strip().partition(" ")
    scale = {"bytes": 1, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
             "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12}
    return float(number) * scale.get(unit.strip().lower(), 1)

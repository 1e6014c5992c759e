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
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb

from radar.core import readcopy
from radar.core.errors import WarehouseError, WarehouseMissing
from radar.core.locks import file_lock, writer_lock
from radar.core.migrations import migrate

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 60.0


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
def read(path: str | os.PathLike, timeout: float = DEFAULT_TIMEOUT) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to a consistent warehouse; closed on exit. Keep it short."""
    p = Path(path)
    if not p.exists():
        raise WarehouseMissing(f"{p}: no warehouse here yet; run `radar init` first")
    deadline = time.monotonic() + timeout
    with file_lock(p, exclusive=False, timeout=timeout):
        con = _open(p, read_only=True, deadline=deadline)
        try:
            yield con
        finally:
            con.close()


@contextlib.contextmanager
def write(path: str | os.PathLike, timeout: float = DEFAULT_TIMEOUT) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection inside one transaction, committed on success, rolled back on error.

    The schema is brought up to date first. Write one batch per call and return:
    readers wait while this is open.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    with file_lock(p, exclusive=True, timeout=timeout):
        con = _open(p, read_only=False, deadline=deadline)
        try:
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
    command ends, however it ends."""
    p = Path(path)
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


def query_df(path: str | os.PathLike, sql: str, params: Sequence[Any] | dict | None = None):
    """Run one parameterised read query and return a pandas DataFrame."""
    with read(path) as con:
        return con.execute(sql, params or []).df()


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether a table or view called `name` exists in the main schema."""
    row = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? "
        "UNION ALL SELECT count(*) FROM duckdb_views() WHERE view_name = ? AND NOT internal",
        [name, name],
    ).fetchall()
    return any(r[0] for r in row)


def load_extension(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Load a DuckDB extension shipped as a PyPI package (`duckdb-extension-NAME`).

    Extensions cannot be INSTALLed from the internet here; the package carries
    the binary. Returns False when it is not available, so callers can fall back.
    """
    try:
        module = importlib.import_module(f"duckdb_extension_{name}")
    except ImportError:
        return False
    version = duckdb.__version__
    base = Path(module.__file__).parent / "extensions"
    candidates = sorted(base.glob(f"v{version}/{name}.duckdb_extension")) or sorted(
        base.glob(f"*/{name}.duckdb_extension")
    )
    for candidate in candidates:
        try:
            con.execute(f"LOAD '{candidate}'")
            return True
        except duckdb.Error as exc:
            log.debug("could not load %s: %s", candidate, exc)
    return False

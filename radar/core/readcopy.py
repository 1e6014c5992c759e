"""The analysts' reader copy: `<warehouse>.read.duckdb`, published atomically after commits.

DuckDB lets one process hold a database file for writing, and while it does no
other process can open it, not even read-only; an outside reader (the `duckdb`
shell, a notebook) that holds the file in turn makes the pipeline's writes wait
or fail. So analysts never open the warehouse itself: they open its reader copy,
which always holds the last published committed state and which no radar
process ever opens for writing.

Publishing copies the warehouse to a temporary file beside it (under the
warehouse's shared lock, so no transaction is half-way) and renames it over the
reader copy (`os.replace`, atomic): a session already open keeps the state it
opened; the next one sees the new state. Copying costs about as long as reading
the file once, so it is throttled: after a commit at most once every
`[warehouse] reader_copy_every` seconds, and always when a writing command
(import, crawl, analyze, alert, run ...) ends. A large warehouse takes longer to copy,
so the wait also grows with the last copy's cost (`due`): publishing during a command
never takes more than MAX_SHARE of its time (a 6 GB warehouse copied every 30 s would
have spent a third of a long analysis copying).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

from radar.core.locks import file_lock

log = logging.getLogger(__name__)

DEFAULT_EVERY = 30.0
# The most of a writing command's time that publishing during it may take.
MAX_SHARE = 0.05
_every: dict[Path, float] = {}      # per warehouse: seconds between publications (< 0: never)
_cost: dict[Path, float] = {}       # per warehouse: seconds the last publication took here


def reader_copy_path(path: Path) -> Path:
    """Where analysts find the warehouse: `<name>.read.duckdb` beside it."""
    stem = path.name[: -len(".duckdb")] if path.name.endswith(".duckdb") else path.name
    return path.with_name(stem + ".read.duckdb")


def configure(path: Path, every: float) -> None:
    """Publish this warehouse's reader copy at most every `every` seconds (negative: never)."""
    _every[Path(path).resolve()] = every


def interval(path: Path) -> float:
    return _every.get(Path(path).resolve(), DEFAULT_EVERY)


def due(age: float, every: float, last_cost: float) -> bool:
    """Whether a copy `age` seconds old is published again: after `every` seconds, and
    not before the last publication's cost is at most MAX_SHARE of the time since."""
    return every >= 0 and age >= max(every, last_cost / MAX_SHARE)


def maybe_publish(path: Path) -> bool:
    """Publish when the copy is missing or `due`; True when published."""
    every = interval(path)
    if every < 0:
        return False
    copy = reader_copy_path(path)
    try:
        age = time.time() - copy.stat().st_mtime
    except FileNotFoundError:
        age = float("inf")
    if not due(age, every, _cost.get(Path(path).resolve(), 0.0)):
        return False
    return publish(path)


def publish(path: Path, timeout: float = 60.0) -> bool:
    """Copy the committed warehouse to its reader copy, atomically. False if there is no
    warehouse yet or publishing is turned off; errors are logged, never raised (the
    pipeline's own work must not fail because the copy could not be written)."""
    path = Path(path)
    if interval(path) < 0 or not path.exists():
        return False
    copy = reader_copy_path(path)
    tmp = copy.with_name(f".{copy.name}.{os.getpid()}.tmp")
    started = time.perf_counter()
    try:
        with file_lock(path, exclusive=False, timeout=timeout):
            shutil.copyfile(path, tmp)
            wal = path.with_name(path.name + ".wal")
            if wal.exists():  # a writer did not checkpoint: fold its log into the copy
                shutil.copyfile(wal, tmp.with_name(tmp.name + ".wal"))
        if tmp.with_name(tmp.name + ".wal").exists():
            import duckdb

            con = duckdb.connect(str(tmp))
            con.execute("CHECKPOINT")
            con.close()
        os.chmod(tmp, 0o444)  # a reader copy: opening it for writing is refused
        os.replace(tmp, copy)
    except Exception as exc:
        log.warning("could not publish the reader copy %s: %s", copy, exc)
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)
        return False
    _cost[path.resolve()] = cost = time.perf_counter() - started
    log.debug("published %s in %.2fs", copy, cost)
    return True

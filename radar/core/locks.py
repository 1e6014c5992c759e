"""The cross-process reader/writer lock that coordinates every radar process on one warehouse.

A file beside the warehouse (`<warehouse>.lock`) is taken shared by readers and
exclusively by a writer, with a turnstile (`<warehouse>.lock.turnstile`) that
gives writers preference so a steady stream of readers cannot starve them.

Threads of one process (`radar analyze` scores the radar in a second thread while the NLP
stage refreshes its labels) first take an in-process reader/writer lock on the same path,
without a timeout: a batch waiting for another thread of its own command waits for work
that will end, however long, while the file lock's timeout still bounds the wait for
other processes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from radar.core.errors import WarehouseError

T = TypeVar("T")


def lock_path(path: Path) -> Path:
    """The lock file that coordinates readers and writers of `path`."""
    return path.with_name(path.name + ".lock")


def _turnstile_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock.turnstile")


def _flock(fd: int, mode: int, deadline: float, what: str) -> None:
    delay = 0.001
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise WarehouseError(
                    f"{what}: timed out waiting for the lock; another radar process holds the warehouse"
                ) from None
            time.sleep(delay)
            delay = min(delay * 2, 0.05)


class ThreadLock:
    """A reader/writer lock between the threads of this process: any number of readers or
    one writer. A thread may nest reads; a thread that already holds the lock and asks for
    it in a way that would wait for itself (a write inside its own read or write, a read
    inside its own write) gets a WarehouseError at once, not a wait without end."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers: dict[int, int] = {}  # thread ident -> nested reads
        self._writer: int | None = None

    @contextlib.contextmanager
    def hold(self, exclusive: bool, what: str = "the warehouse") -> Iterator[None]:
        me = threading.get_ident()
        with self._cond:
            if self._writer == me or (exclusive and me in self._readers):
                raise WarehouseError(f"{what}: this thread already holds the warehouse "
                                     f"({'writing' if self._writer == me else 'reading'}); "
                                     "close that connection first")
            if exclusive:
                self._cond.wait_for(lambda: self._writer is None and not self._readers)
                self._writer = me
            else:
                self._cond.wait_for(lambda: self._writer is None)
                self._readers[me] = self._readers.get(me, 0) + 1
        try:
            yield
        finally:
            with self._cond:
                if exclusive:
                    self._writer = None
                elif self._readers[me] == 1:
                    del self._readers[me]
                else:
                    self._readers[me] -= 1
                self._cond.notify_all()


_thread_locks: dict[Path, ThreadLock] = {}
_thread_locks_guard = threading.Lock()


def thread_lock(path: Path) -> ThreadLock:
    """The in-process lock of the warehouse at `path` (one per lock file)."""
    key = lock_path(Path(path)).absolute()
    with _thread_locks_guard:
        return _thread_locks.setdefault(key, ThreadLock())


@contextlib.contextmanager
def file_lock(path: Path, exclusive: bool, timeout: float) -> Iterator[None]:
    """A cross-process reader/writer lock with writer preference.

    Readers pass a turnstile (held shared only for an instant) before taking the
    data lock shared; a writer holds the turnstile exclusively while it waits for
    the data lock, so a steady stream of readers cannot starve it. Threads of this
    process are coordinated first by `thread_lock`, with no timeout (module doc).
    """
    with thread_lock(path).hold(exclusive, f"{path} ({'write' if exclusive else 'read'})"):
        with _file_lock(path, exclusive, timeout):
            yield


@contextlib.contextmanager
def _file_lock(path: Path, exclusive: bool, timeout: float) -> Iterator[None]:
    deadline = time.monotonic() + timeout
    what = f"{path} ({'write' if exclusive else 'read'})"
    fd = os.open(lock_path(path), os.O_RDWR | os.O_CREAT, 0o644)
    gate = os.open(_turnstile_path(path), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            _flock(gate, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH, deadline, what)
            _flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH, deadline, what)
        finally:
            os.close(gate)  # closing a descriptor releases its flock
        yield
    finally:
        os.close(fd)


class WriterLocked(RuntimeError):
    """Another radar process holds the warehouse's writer lock (exit code 3 in the CLI)."""


LOCKED_EXIT = 3
SHARED_MARK = "shared by the crawl processes"


def writer_lock_path(path: Path) -> Path:
    """The one writer lock of a warehouse: every writing command holds it while it runs."""
    return path.with_name(path.name + ".run.lock")


@contextlib.contextmanager
def writer_lock(path: Path, command: str = "radar") -> Iterator[Path]:
    """Hold the warehouse's writer lock for a whole command, or raise WriterLocked at once.

    Distinct from the short per-transaction lock above: this one says "a radar
    command that writes is running" (import, crawl, analyze, alert, run, ...), so
    two of them never interleave their work on one warehouse. The lock file names
    the holder; the operating system releases it when that process ends, however
    it ends (kill -9 included).
    """
    lock = writer_lock_path(path)
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 300, 0).decode("utf-8", "replace").strip() or "unknown process"
            raise WriterLocked(
                f"another radar run is in progress ({holder}); it holds the warehouse's writer "
                f"lock, try again when it has finished (lock file {lock})") from None
        os.ftruncate(fd, 0)
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
        os.pwrite(fd, f"{command}, pid {os.getpid()}, started {started} UTC".encode(), 0)
        yield lock
    finally:
        os.close(fd)  # releases the flock


@contextlib.contextmanager
def shared_writer_lock(path: Path, command: str, settle: Callable[[], T],
                       wait: float = 60.0) -> Iterator[T | None]:
    """Hold the writer lock shared, with the other processes of a distributed crawl.

    Crawl processes on one machine write to the warehouse together (each batch under
    the short per-transaction lock); a command that needs the warehouse to itself
    (analyze, import, a single-process crawl) still meets WriterLocked, and so does a
    crawl process while such a command runs. The first crawl process (the lock was
    free) calls `settle` while it holds the lock alone, then shares it (the others
    wait up to `wait` seconds for that); yields what `settle` returned, or None when
    others already shared the lock.
    """
    lock = writer_lock_path(path)
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    note = f"{command} ({SHARED_MARK}), pid {os.getpid()}, started {started} UTC".encode()
    try:
        settled = None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            alone = True
        except BlockingIOError:
            alone = False
        if alone:
            os.ftruncate(fd, 0)
            os.pwrite(fd, note, 0)
            settled = settle()
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = os.pread(fd, 300, 0).decode("utf-8", "replace").strip()
                if SHARED_MARK in holder and time.monotonic() < deadline:
                    time.sleep(0.1)  # another crawl process settles, then shares
                    continue
                raise WriterLocked(
                    f"another radar run is in progress ({holder or 'unknown process'}); it "
                    f"holds the warehouse's writer lock, try again when it has finished "
                    f"(lock file {lock})") from None
        yield settled
    finally:
        os.close(fd)

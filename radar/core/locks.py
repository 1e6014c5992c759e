"""The cross-process reader/writer lock that coordinates every radar process on one warehouse.

A file beside the warehouse (`<warehouse>.lock`) is taken shared by readers and
exclusively by a writer, with a turnstile (`<warehouse>.lock.turnstile`) that
gives writers preference so a steady stream of readers cannot starve them.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from radar.core.errors import WarehouseError


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


@contextlib.contextmanager
def file_lock(path: Path, exclusive: bool, timeout: float) -> Iterator[None]:
    """A cross-process reader/writer lock with writer preference.

    Readers pass a turnstile (held shared only for an instant) before taking the
    data lock shared; a writer holds the turnstile exclusively while it waits for
    the data lock, so a steady stream of readers cannot starve it.
    """
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

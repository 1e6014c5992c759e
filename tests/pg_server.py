"""A real PostgreSQL server for tests (pytest-postgresql's executor), also when run as root.

PostgreSQL refuses to run as root (`pg_ctl: cannot be run as root`), and CI runs as
root; pytest-postgresql has no option for it (dbfixtures/pytest-postgresql#341, #455).
So, as root, pg_ctl runs through a small wrapper as an unprivileged user (`postgres`,
created by the Debian package, else `nobody`) in a folder that user owns. The binaries
are found on PATH or in Debian's /usr/lib/postgresql/<version>/bin.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import stat
import tempfile
from pathlib import Path

from pytest_postgresql.executors import PostgreSQLExecutor
from pytest_postgresql.janitor import DatabaseJanitor


def find_pg_ctl() -> str | None:
    """pg_ctl of the newest PostgreSQL installed (Debian's folder first: PATH may hold a shim)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                   key=lambda p: int(Path(p).parts[4]) if Path(p).parts[4].isdigit() else 0)
    return found[-1] if found else shutil.which("pg_ctl")


def server_user() -> str | None:
    """The unprivileged user the server runs as when we are root (None: run as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and no unprivileged user (postgres, nobody) to run PostgreSQL")


def ctl_wrapper(pg_ctl: str, user: str, folder: Path) -> str:
    """A pg_ctl that runs as `user` (runuser keeps the environment pytest-postgresql sets)."""
    script = folder / "pg_ctl"
    script.write_text(f'#!/bin/sh\ncd /\nexec runuser -u {user} -- "{pg_ctl}" "$@"\n', encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return str(script)


class PgServer:
    """Start with `start()`, stop with `stop()`; `dsn(dbname)` and `database(name)` for tests."""

    def __init__(self, port: int):
        self.port = port
        self.folder = Path(tempfile.mkdtemp(prefix="radar-pg-"))
        self.user = server_user()
        pg_ctl = find_pg_ctl()
        if not pg_ctl:
            raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
        executable = pg_ctl
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
            executable = ctl_wrapper(pg_ctl, self.user, Path(tempfile.mkdtemp(prefix="radar-pgctl-")))
        self.executor = PostgreSQLExecutor(
            executable=executable, host="127.0.0.1", port=port,
            datadir=str(self.folder / "data"), unixsocketdir=str(self.folder),
            logfile=str(self.folder / "postgresql.log"), startparams="-w", dbname="radar_test",
            user="postgres", password=None, options="", postgres_options="")

    def start(self) -> PgServer:
        self.executor.start()
        return self

    def stop(self) -> None:
        try:
            self.executor.stop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def dsn(self, dbname: str) -> str:
        return f"dbname={dbname} host=127.0.0.1 port={self.port} user=postgres"

    def create_database(self, name: str) -> None:
        DatabaseJanitor(user="postgres", host="127.0.0.1", port=self.port, dbname=name,
                        password=None).init()

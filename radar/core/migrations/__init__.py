"""Numbered schema migrations: the only way the warehouse schema changes.

Each file `NNNN_name.sql` in this package is applied once, in order, inside a
transaction, and recorded in `schema_version`. Never edit a migration that has
shipped: add a new one. Every table and column is documented in docs/warehouse.md.

On a DuckLake warehouse each file is translated first (`portable.ddl_for_lake`: no
constraints, sequences in PostgreSQL); the files stay written for DuckDB. A file whose
first line is `LAKE_SKIP` changes only what DuckLake does not have (keys, indexes): on a
lake it is recorded as applied without running.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

import duckdb

from radar.core import backends, lake_locks, portable
from radar.core.errors import WarehouseError

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
LAKE_SKIP = "-- lake: skip"


@dataclass(frozen=True)
class Migration:
    """One schema step."""

    version: int
    name: str
    sql: str


@functools.cache
def available() -> tuple[Migration, ...]:
    """All migrations shipped with this code, in order."""
    found = []
    for entry in resources.files(__package__).iterdir():
        m = _NAME.match(entry.name)
        if m:
            found.append(Migration(int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"duplicate migration numbers: {versions}")
    return tuple(found)


def latest_version() -> int:
    """The schema version this code expects."""
    return available()[-1].version


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    """The schema version of an open warehouse (0 for an empty file)."""
    if backends.is_lake(con):
        exists = backends.lake_has_table(con, "schema_version")
    else:
        exists = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'schema_version' "
            "AND schema_name = 'main' AND database_name = current_database()"
        ).fetchone()[0]
    if not exists:
        return 0
    return con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]


def migrate(con: duckdb.DuckDBPyConnection, target: int | None = None) -> list[int]:
    """Apply every pending migration up to `target` (default: all); return those applied."""
    current = current_version(con)
    newest = latest_version()
    if current > newest:
        raise WarehouseError(
            f"the warehouse has schema version {current}, newer than this code's {newest}; "
            "upgrade horizon-radar"
        )
    done = set()
    if current:
        done = {r[0] for r in con.execute("SELECT version FROM schema_version").fetchall()}
    applied = []
    lake = backends.is_lake(con)
    for m in available():
        # Apply every missing step, not only those above the newest applied one, so a
        # warehouse made by a development build with a gap in its history still completes.
        if m.version in done or (target is not None and m.version > target):
            continue
        con.begin()
        try:
            if m.version == 1:
                con.execute(
                    "CREATE TABLE IF NOT EXISTS schema_version ("
                    f"version INTEGER{'' if lake else ' PRIMARY KEY'}, name VARCHAR NOT NULL, "
                    "applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)"
                )
            if lake and m.sql.startswith(LAKE_SKIP):
                pass  # keys and indexes only: a lake has none
            elif lake:
                sql, sequences = portable.ddl_for_lake(m.sql)
                lake_locks.create_sequences(backends.spec_of(con), sequences)
                con.execute(sql)
            else:
                con.execute(m.sql)
            con.execute("INSERT INTO schema_version (version, name) VALUES (?, ?)", [m.version, m.name])
            con.commit()
        except Exception:
            con.rollback()
            raise
        applied.append(m.version)
    return applied

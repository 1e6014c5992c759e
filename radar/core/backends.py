"""Warehouse backends: the embedded DuckDB file (default) and DuckLake with a PostgreSQL catalog.

`[warehouse] backend = "ducklake"` keeps the tables in DuckLake: the catalog (which
files make up which table, every snapshot) in PostgreSQL, the data as Parquet files
in `[warehouse] data_path`. Several processes on several machines read and write it
at once; every commit is a snapshot, so "the radar as it was on date X" can be read
back (`AT (TIMESTAMP => ...)`, docs/warehouse.md).

What DuckLake lacks, and what this module does instead (so stages stay the same):

- no PRIMARY KEY / UNIQUE constraints, no indexes: `ddl_for_lake` strips them from
  the migrations; `upsert` (MERGE INTO, the source deduplicated on the key) replaces
  `INSERT ... ON CONFLICT`, and write batches are serialised by a PostgreSQL advisory
  lock, so no two batches can insert the same key (DuckLake's optimistic commits would
  let two concurrent inserts of one key both succeed);
- no sequences and no RETURNING: `next_id` takes ids from PostgreSQL sequences
  (named `radar_<sequence>`), created when the migrations are applied;
- no list-typed DEFAULT: stripped (writers name those columns);
- no fts indexes: search falls back to a scan (radar/core/search_index.py).

The run-wide writer lock and the migrations lock become PostgreSQL advisory locks
(radar/core/lake_locks.py), so two machines cannot migrate at once or run the same stage
twice; the portable SQL is in radar/core/portable.py.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import logging
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from radar.core.errors import WarehouseError

log = logging.getLogger(__name__)

LAKE = "radar_lake"             # the name the lake is attached under in every connection
PG_PREFIX = "postgres:"
DEFAULT_PASSWORD_ENV = "RADAR_WAREHOUSE_PASSWORD"
# DuckDB names an extension's entry point after its file: the PyPI package for `postgres`
# ships `postgres.duckdb_extension` whose entry point is `postgres_scanner`'s.
_INTERNAL_NAMES = {"postgres": "postgres_scanner"}


@dataclass(frozen=True)
class LakeSpec:
    """Where a DuckLake warehouse lives: its PostgreSQL catalog and its data folder."""

    catalog: str                # libpq "dbname=... host=... port=... user=..." (no password)
    data_path: str              # folder (absolute) for the Parquet data files
    password_env: str = DEFAULT_PASSWORD_ENV

    def dsn(self) -> str:
        """The libpq connection string, with the password from the environment when set."""
        password = os.environ.get(self.password_env, "")
        if password and "password=" not in self.catalog:
            escaped = password.replace("\\", "\\\\").replace("'", "\\'")
            return f"{self.catalog} password='{escaped}'"
        return self.catalog

    def lock_key(self, purpose: str) -> int:
        """A signed 64-bit advisory-lock key for this lake and purpose."""
        digest = hashlib.sha256(f"{self.catalog}|{self.data_path}|{purpose}".encode()).digest()
        return int.from_bytes(digest[:8], "big", signed=True)


def parse_catalog(catalog: str) -> str:
    """The libpq string of a `postgres:...` catalog setting, or a WarehouseError saying why not."""
    if not catalog.startswith(PG_PREFIX) or not catalog[len(PG_PREFIX):].strip():
        raise WarehouseError(
            f"[warehouse] catalog {catalog!r}: expected 'postgres:dbname=NAME host=HOST port=PORT "
            "user=USER' (the password comes from the environment variable in password_env)")
    rest = catalog[len(PG_PREFIX):].strip()
    if re.search(r"(^|\s)password\s*=", rest):
        raise WarehouseError("[warehouse] catalog: no password in radar.toml; set it in the "
                             "environment variable named by [warehouse] password_env")
    return rest


_specs: dict[Path, LakeSpec] = {}


def configure(path: Path, spec: LakeSpec | None) -> None:
    """Say which backend the warehouse known by `path` uses (None: the DuckDB file)."""
    key = Path(path).resolve()
    if spec is None:
        _specs.pop(key, None)
    else:
        _specs[key] = spec


def lake_for(path: str | os.PathLike) -> LakeSpec | None:
    """The DuckLake spec of a warehouse, or None when it is the embedded DuckDB file."""
    return _specs.get(Path(path).resolve()) if _specs else None


def load_extension(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Load a DuckDB extension shipped as a PyPI package (`duckdb-extension-NAME`).

    Extensions cannot be INSTALLed from the internet here; the package carries the
    binary. Returns False when it is not available, so callers can fall back.
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
            con.execute(f"LOAD '{_entry_named(candidate, name)}'")
            return True
        except (duckdb.Error, OSError) as exc:
            log.debug("could not load %s: %s", candidate, exc)
    return False


def _entry_named(candidate: Path, name: str) -> Path:
    """The extension file under the name its entry point expects (a link in a private folder)."""
    internal = _INTERNAL_NAMES.get(name)
    if not internal:
        return candidate
    folder = Path(tempfile.gettempdir()) / f"radar-duckdb-extensions-{os.getuid()}" / duckdb.__version__
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    link = folder / f"{internal}.duckdb_extension"
    if not link.exists() or link.resolve() != candidate.resolve():
        tmp = folder / f".{internal}.{os.getpid()}.tmp"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(candidate.resolve())
        os.replace(tmp, link)
    return link


# -- connections --------------------------------------------------------------------------

_instances: dict[tuple[int, LakeSpec], duckdb.DuckDBPyConnection] = {}
_instances_lock = threading.Lock()


def _instance(spec: LakeSpec) -> duckdb.DuckDBPyConnection:
    """This process's DuckDB with the lake attached (attaching reads the catalog: reuse it)."""
    key = (os.getpid(), spec)
    with _instances_lock:
        con = _instances.get(key)
        if con is not None:
            return con
        con = duckdb.connect()
        con.execute("SET autoinstall_known_extensions = false")
        if not (load_extension(con, "postgres") and load_extension(con, "ducklake")):
            con.close()
            raise WarehouseError("the DuckLake backend needs the packages duckdb-extension-ducklake "
                                 f"and duckdb-extension-postgres =={duckdb.__version__}")
        Path(spec.data_path).mkdir(parents=True, exist_ok=True)
        try:
            con.execute(f"ATTACH {_attach_args(spec)} AS {LAKE} (DATA_PATH "
                        f"{_lit(spec.data_path)})")
        except duckdb.Error as exc:
            con.close()
            raise WarehouseError(f"cannot open the DuckLake catalog {spec.catalog!r}: "
                                 f"{redact(str(exc))}") from exc
        _instances[key] = con
        return con


def _lit(text: str) -> str:
    """A SQL string literal (ATTACH takes no parameters)."""
    return "'" + str(text).replace("'", "''") + "'"


def _attach_args(spec: LakeSpec) -> str:
    return _lit(f"ducklake:{PG_PREFIX}{spec.dsn()}")


def redact(text: str) -> str:
    return re.sub(r"password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", "password=***", text)


@contextlib.contextmanager
def lake_cursor(spec: LakeSpec, as_of: str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection (cursor) whose default catalog is the lake; closed on exit.

    With `as_of` (a timestamp) the lake is the snapshot current at that time, read-only.
    """
    base = _instance(spec)
    with _instances_lock:  # one shared connection: threads (the dashboard's) take turns here
        cur = base.cursor()
    try:
        if as_of is None:
            cur.execute(f"USE {LAKE}")
            yield cur
            return
        alias = f"{LAKE}_at_{os.getpid()}_{threading.get_ident()}"
        try:
            cur.execute(f"ATTACH {_attach_args(spec)} AS {alias} (DATA_PATH "
                        f"{_lit(spec.data_path)}, SNAPSHOT_TIME {_lit(as_of)}, READ_ONLY)")
        except duckdb.Error as exc:
            raise WarehouseError(f"no snapshot of the warehouse at {as_of}: {redact(str(exc))}") from exc
        try:
            cur.execute(f"USE {alias}")
            yield cur
        finally:
            cur.execute("USE memory")
            cur.execute(f"DETACH {alias}")
    finally:
        cur.close()


def is_lake(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether this connection's default catalog is a DuckLake."""
    row = con.execute("SELECT type FROM duckdb_databases() WHERE database_name = current_database()"
                      ).fetchone()
    return bool(row) and row[0] == "ducklake"


def is_conflict(exc: BaseException) -> bool:
    """Whether a commit failed because another DuckLake writer committed first."""
    return isinstance(exc, duckdb.TransactionException) and "conflict" in str(exc).lower()


def spec_of(con: duckdb.DuckDBPyConnection) -> LakeSpec:
    path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
                       ).fetchone()[0]
    for spec in set(_specs.values()):
        if path.endswith(spec.catalog) or spec.catalog in path:
            return spec
    raise WarehouseError(f"no configured DuckLake warehouse for catalog {redact(path)}")


def lake_has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the lake of this connection has table `name` (duckdb_tables() reads every
    table's metadata from the catalog, hundreds of milliseconds; this reads one list)."""
    db = con.execute("SELECT current_database()").fetchone()[0]
    return bool(con.execute(f"SELECT count(*) FROM ducklake_table_info({_lit(db)}) "
                            "WHERE table_name = ?", [name]).fetchone()[0])


def ident(name: str) -> str:
    """`name` when it is a plain SQL identifier (it is put into SQL text), else ValueError."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"not an identifier: {name!r}")
    return name

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
(`pg_lock`), so two machines cannot migrate at once or run the same stage twice.
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
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psycopg

from radar.core.errors import WarehouseError
from radar.core.locks import WriterLocked

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
                                 f"{_redact(str(exc))}") from exc
        _instances[key] = con
        return con


def _lit(text: str) -> str:
    """A SQL string literal (ATTACH takes no parameters)."""
    return "'" + str(text).replace("'", "''") + "'"


def _attach_args(spec: LakeSpec) -> str:
    return _lit(f"ducklake:{PG_PREFIX}{spec.dsn()}")


def _redact(text: str) -> str:
    return re.sub(r"password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", "password=***", text)


@contextlib.contextmanager
def lake_cursor(spec: LakeSpec, as_of: str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection (cursor) whose default catalog is the lake; closed on exit.

    With `as_of` (a timestamp) the lake is the snapshot current at that time, read-only.
    """
    base = _instance(spec)
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
            raise WarehouseError(f"no snapshot of the warehouse at {as_of}: {_redact(str(exc))}") from exc
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


# -- PostgreSQL: advisory locks and sequences ----------------------------------------------

_pg_local = threading.local()


def _connect(spec: LakeSpec, **kwargs) -> psycopg.Connection:
    """A PostgreSQL session to the catalog database; a failure is one clear WarehouseError."""
    try:
        return psycopg.connect(spec.dsn(), autocommit=True, **kwargs)
    except psycopg.Error as exc:
        raise WarehouseError(f"cannot open the DuckLake catalog {spec.catalog!r}: "
                             f"{_redact(str(exc)).strip()}") from exc


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


def create_sequences(spec: LakeSpec, names: Sequence[str]) -> None:
    """The PostgreSQL sequences behind `next_id` (idempotent)."""
    pg = _pg(spec)
    for name in names:
        pg.execute(f'CREATE SEQUENCE IF NOT EXISTS "radar_{_ident(name)}" START 1')


def next_id(con: duckdb.DuckDBPyConnection, sequence: str) -> int:
    """The next id from `sequence`: DuckDB's own sequence, or PostgreSQL's on DuckLake."""
    if not is_lake(con):
        return con.execute(f"SELECT nextval('{_ident(sequence)}')").fetchone()[0]
    spec = spec_of(con)
    return _pg(spec).execute(f"SELECT nextval('\"radar_{_ident(sequence)}\"')").fetchone()[0]


def spec_of(con: duckdb.DuckDBPyConnection) -> LakeSpec:
    path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
                       ).fetchone()[0]
    for spec in set(_specs.values()):
        if path.endswith(spec.catalog) or spec.catalog in path:
            return spec
    raise WarehouseError(f"no configured DuckLake warehouse for catalog {_redact(path)}")


def _ident(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"not an identifier: {name!r}")
    return name


# -- portable SQL ---------------------------------------------------------------------------


def upsert(con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str], keys: Sequence[str],
           source: str, params: Sequence | None = None, update: str | None = None,
           data: dict | None = None) -> int:
    """Insert the rows of `source` (a SELECT giving `columns`) whose key is new; with `update`
    (an ON CONFLICT DO UPDATE SET list: `col = excluded.col, ...`) update the others.
    `data`: Arrow tables or DataFrames the SELECT reads, by name. Returns rows written.

    DuckDB: `INSERT ... ON CONFLICT`, as the primary key allows. DuckLake: MERGE INTO,
    the source first reduced to one row per key (the primary key's guarantee).
    """
    for name, rel in (data or {}).items():
        con.register(name, rel)
    try:
        return _upsert(con, table, columns, keys, source, params, update)
    finally:
        for name in data or {}:
            con.unregister(name)


def _upsert(con, table, columns, keys, source, params, update) -> int:
    cols = ", ".join(columns)
    if not is_lake(con):
        action = f"DO UPDATE SET {update}" if update else "DO NOTHING"
        return con.execute(f"INSERT INTO {table} ({cols}) {source} ON CONFLICT ({', '.join(keys)}) "
                           f"{action}", params or []).fetchone()[0]
    key_list = ", ".join(keys)
    on = " AND ".join(f"{table}.{k} = excluded.{k}" for k in keys)
    values = ", ".join(f"excluded.{c}" for c in columns)
    matched = f"WHEN MATCHED THEN UPDATE SET {update} " if update else ""
    return con.execute(
        f"MERGE INTO {table} USING (SELECT DISTINCT ON ({key_list}) * FROM ({source}) AS src) "
        f"AS excluded ON ({on}) {matched}WHEN NOT MATCHED THEN INSERT ({cols}) VALUES ({values})",
        params or []).fetchone()[0]


_SEQUENCE = re.compile(r"^\s*CREATE\s+SEQUENCE\s+(\w+)[^;]*;", re.I | re.M)
_TABLE_CONSTRAINT = re.compile(r",\s*(PRIMARY\s+KEY|UNIQUE)\s*\([^)]*\)", re.I)
_COLUMN_CONSTRAINT = re.compile(r"\s+(PRIMARY\s+KEY|UNIQUE)\b(?!\s*\()", re.I)
_NEXTVAL_DEFAULT = re.compile(r"\s+DEFAULT\s+nextval\('\w+'\)", re.I)
_LIST_DEFAULT = re.compile(r"\s+DEFAULT\s+\[\s*\]", re.I)


def ddl_for_lake(sql: str) -> tuple[str, list[str]]:
    """A migration's SQL as DuckLake accepts it, and the sequences it created.

    Constraints (key, unique, check) and indexes go (uniqueness is kept by `upsert` and the batch lock),
    sequences move to PostgreSQL (`next_id`), list defaults go (writers name them).
    """
    sequences = _SEQUENCE.findall(sql)
    sql = _SEQUENCE.sub("", sql)
    sql = _strip_comments(sql)
    sql = _TABLE_CONSTRAINT.sub("", sql)
    sql = _COLUMN_CONSTRAINT.sub("", sql)
    sql = _NEXTVAL_DEFAULT.sub("", sql)
    sql = _LIST_DEFAULT.sub("", sql)
    sql = _strip_checks(sql)
    sql = re.sub(r"^\s*CREATE\s+(UNIQUE\s+)?INDEX[^;]*;", "", sql, flags=re.I | re.M)
    return sql, sequences


def _strip_checks(sql: str) -> str:
    """Without `CHECK (...)` column constraints (balanced parentheses; DuckLake has none:
    the values are checked by the code that writes them)."""
    while (m := re.search(r"\s+CHECK\s*\(", sql, re.I)):
        depth, i = 0, m.end() - 1
        while i < len(sql):
            depth += {"(": 1, ")": -1}.get(sql[i], 0)
            i += 1
            if depth == 0:
                break
        sql = sql[:m.start()] + sql[i:]
    return sql


def _strip_comments(sql: str) -> str:
    """SQL without `--` comments (outside string literals), so constraints in comments stay put."""
    out = []
    for line in sql.splitlines():
        in_str = False
        for i, ch in enumerate(line):
            if ch == "'":
                in_str = not in_str
            elif ch == "-" and not in_str and line[i:i + 2] == "--":
                line = line[:i]
                break
        out.append(line.rstrip())
    return "\n".join(out)


# -- the run-wide writer lock on DuckLake ---------------------------------------------------

# Which stages a writing command holds (default: the word after "radar").
STAGE_LOCKS: dict[str, tuple[str, ...]] = {
    "radar run": ("crawl", "analyze", "alert"),
    "radar serve": ("crawl", "analyze", "alert"),
    "radar backtest --plant": ("analyze",),
    "radar demo": ("crawl", "import", "analyze", "alert"),
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


def update_returning(con: duckdb.DuckDBPyConnection, table: str, key: str, set_sql: str,
                     where_sql: str, returning: str, params: dict | None = None) -> list[tuple]:
    """`UPDATE table SET set_sql WHERE where_sql RETURNING returning` (named $parameters).

    DuckLake has no RETURNING: there the matching keys are selected first, then those rows
    updated and read back, in the caller's transaction (writes are serialised by the batch
    lock, so nothing changes in between)."""
    params = params or {}
    if not is_lake(con):
        return con.execute(f"UPDATE {table} SET {set_sql} WHERE {where_sql} RETURNING {returning}",
                           params).fetchall()
    keys = [r[0] for r in con.execute(f"SELECT {key} FROM {table} WHERE {where_sql}",
                                      _used(where_sql, params)).fetchall()]
    if not keys:
        return []
    hit = f"{key} IN (SELECT unnest($_keys))"
    con.execute(f"UPDATE {table} SET {set_sql} WHERE {hit}", {**_used(set_sql, params), "_keys": keys})
    return con.execute(f"SELECT {returning} FROM {table} WHERE {hit}", {"_keys": keys}).fetchall()


def _used(sql: str, params: dict) -> dict:
    """The named parameters a statement uses (DuckDB refuses unused ones)."""
    return {k: v for k, v in params.items() if re.search(rf"\${re.escape(k)}\b", sql)}


def insert_with_id(con: duckdb.DuckDBPyConnection, table: str, id_column: str, sequence: str,
                   columns: Sequence[str], values: Sequence) -> int:
    """Insert one row with a new id from `sequence` (instead of `INSERT ... RETURNING id`)."""
    new = next_id(con, sequence)
    marks = ", ".join("?" * (len(columns) + 1))
    con.execute(f"INSERT INTO {table} ({id_column}, {', '.join(columns)}) VALUES ({marks})",
                [new, *values])
    return new


def lake_has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the lake of this connection has table `name` (duckdb_tables() reads every
    table's metadata from the catalog, hundreds of milliseconds; this reads one list)."""
    db = con.execute("SELECT current_database()").fetchone()[0]
    return bool(con.execute(f"SELECT count(*) FROM ducklake_table_info({_lit(db)}) "
                            "WHERE table_name = ?", [name]).fetchone()[0])

"""Portable SQL: the same call writes to the embedded DuckDB file and to DuckLake.

DuckLake has no PRIMARY KEY/UNIQUE/CHECK constraints, no sequences, no list DEFAULTs and
no RETURNING. Stages therefore never write `INSERT ... ON CONFLICT`, `INSERT OR REPLACE`,
`... RETURNING` or `nextval` themselves: they call `upsert`, `update_returning`,
`insert_with_id` and `next_id`, which emit today's SQL on the DuckDB file and the
DuckLake equivalent on a lake; `ddl_for_lake` translates the migrations.

The tables in `UNKEYED` have no key on the DuckDB file either (migrations 0014, 0015 and
0017: DuckDB rewrote their key index at the checkpoint after every batch,
bench/write_batches.py and bench/crawl_batches.py), so `upsert` merges into them as it
does on DuckLake.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import duckdb

from radar.core import lake_locks
from radar.core.backends import ident, is_lake, spec_of

# Large tables written in batches whose ids are kept unique by `upsert` alone (no index),
# with the columns each keeps unique (`upsert`'s keys for them).
UNIQUE_KEYS: dict[str, tuple[str, ...]] = {
    "documents": ("doc_id",),                                          # 0015
    "document_sources": ("doc_id", "source"),
    "document_fingerprints": ("doc_id",),
    "forum_posts": ("doc_id",),
    "crawl_state": ("url",),
    "passages": ("passage_id",),                                       # 0014
    "passage_embeddings": ("passage_id",),
    "passage_topics": ("passage_id",),
    "watch_matches": ("watch_id", "passage_id"),                       # 0017
}
UNKEYED = frozenset(UNIQUE_KEYS)


def duplicate_keys(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows beyond the first of each key in the unkeyed tables (`UNIQUE_KEYS`), by table:
    0 everywhere unless something wrote to them other than the radar's upserts."""
    out = {}
    for table, keys in UNIQUE_KEYS.items():
        key = keys[0] if len(keys) == 1 else f"({', '.join(keys)})"
        out[table] = con.execute(f"SELECT count(*) - count(DISTINCT {key}) FROM {table}").fetchone()[0]
    return out


def next_id(con: duckdb.DuckDBPyConnection, sequence: str) -> int:
    """The next id from `sequence`: DuckDB's own sequence, or PostgreSQL's on DuckLake."""
    if not is_lake(con):
        return con.execute(f"SELECT nextval('{ident(sequence)}')").fetchone()[0]
    return lake_locks.next_value(spec_of(con), sequence)





def upsert(con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str], keys: Sequence[str],
           source: str, params: Sequence | None = None, update: str | None = None,
           data: dict | None = None) -> int:
    """Insert the rows of `source` (a SELECT giving `columns`) whose key is new; with `update`
    (an ON CONFLICT DO UPDATE SET list: `col = excluded.col, ...`) update the others.
    `data`: Arrow tables or DataFrames the SELECT reads, by name. Returns rows written.

    DuckDB: `INSERT ... ON CONFLICT`, as the primary key allows. DuckLake, and the
    `UNKEYED` tables on DuckDB: MERGE INTO, the source first reduced to one row per key
    (the primary key's guarantee).
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
    if not is_lake(con) and table not in UNKEYED:
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

"""Full-text search indexes over documents and passages (DuckDB's fts extension).

An FTS index is a snapshot: rows added later are not in it until it is rebuilt.
The pipeline rebuilds it after analysis (`build_search_index`); readers (the
dashboard) use it for what it covers and a parameterised ILIKE scan for rows
added since, so search never misses a fresh document.

DuckLake stores no fts index (its tables have no indexes, and the extension's index
tables cannot be written there): on that backend nothing is built and search scans
the text (ILIKE), which the dashboard says next to the results.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import duckdb

from radar.core import warehouse

# (table, key column, indexed text columns)
INDEXES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("documents", "doc_id", ("title", "text")),
    ("passages", "passage_id", ("text",)),
)


@dataclass
class IndexSummary:
    """What was indexed."""

    available: bool          # False: the fts extension could not be loaded, nothing built
    documents: int = 0
    passages: int = 0
    seconds: float = 0.0
    reason: str = ""         # why nothing was built, in words


NO_INDEX_ON_LAKE = "no search index on DuckLake: search scans the text"


def index_schema(table: str) -> str:
    """The schema DuckDB puts the index of `table` in."""
    return f"fts_main_{table}"


def has_index(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether an FTS index over `table` exists in this warehouse."""
    return bool(con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = 'docs' "
        "AND database_name = current_database()",
        [index_schema(table)],
    ).fetchone()[0])


def build_search_index(path: str | os.PathLike) -> IndexSummary:
    """(Re)build the FTS indexes over documents and passages in one write batch."""
    start = time.monotonic()
    counts: dict[str, int] = {}
    with warehouse.write(path) as con:
        if warehouse.is_lake(con):
            return IndexSummary(available=False, reason=NO_INDEX_ON_LAKE)
        if not warehouse.load_extension(con, "fts"):
            return IndexSummary(available=False, reason="search index unavailable")
        for table, key, columns in INDEXES:
            cols = ", ".join(f"'{c}'" for c in columns)
            # Names are constants above, not user input; PRAGMA takes no parameters.
            con.execute(
                f"PRAGMA create_fts_index('{table}', '{key}', {cols}, "
                "stemmer = 'porter', stopwords = 'english', strip_accents = 1, lower = 1, "
                "overwrite = 1)"
            )
            counts[table] = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return IndexSummary(True, counts["documents"], counts["passages"], time.monotonic() - start)

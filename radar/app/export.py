"""`radar export`: the warehouse for analysts, as Parquet files or a read-only DuckDB copy.

Every table, and the two radar views an analyst cannot easily rebuild from the tables:
`radar_latest` (the current radar) and `radar_history` (every period's radar, with
movement against the period before).

By default nothing personal leaves: subscribers' addresses, the alert outbox (whole
messages with their recipients), staff names in the triage log and the privacy
log, failed sign-ins, and the warehouse's author pseudonyms (replaced by ones made
for this export only, so authors can be counted but not linked to the warehouse or
to another export). Citizen text follows the one small-group rule
(`radar.core.disclosure`): a citizen passage's text, phrase and terms, and a citizen
document's text and title, are exported only when every topic it belongs to has at
least k distinct authors; otherwise those columns are empty (NULL) and the counts
remain. Triage notes are redacted like citizen text.

`include_personal=True` (an admin's explicit choice) exports every table as it is;
each export is written to the privacy log with who ran it.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path

import duckdb
import pyarrow as pa

from radar.core import disclosure, privacy_log, warehouse
from radar.core.privacy import redact_many

#: Tables left out of the default export: they are personal data throughout.
PERSONAL_TABLES = frozenset({"alert_outbox", "login_failures"})
#: Columns left out of the default export (staff names, addresses), besides any column
#: whose name says it holds one (`_PERSONAL_NAME`), so a new table is covered too.
PERSONAL_COLUMNS = {
    "subscriptions": ("email",),
    "alert_log": ("email",),
    "triage_log": ("who", "owner"),
    "privacy_log": ("actor",),
    "services": ("owner", "owner_email", "added_by"),
    "watch_items": ("added_by",),
    "service_match_reviews": ("who",),
    "decisions": ("owner", "owner_email", "created_by"),
    "decision_steps": ("who",),
    "signposts": ("created_by",),
}
_PERSONAL_NAME = re.compile(r"(^|_)(email|who|owner|actor|recipient)($|_)|^[a-z]+_by$")
#: Free text written by staff: names in it are replaced (see `_redact_notes`).
STAFF_TEXT = {
    "triage_log": ("note",),
    "decision_steps": ("why", "equity", "sustainability", "satisfaction", "trust"),
    "signposts": ("note",),
}


def personal_column(table: str, column: str) -> bool:
    """Whether a column holds a staff name or an address (left out of the default export)."""
    return column in PERSONAL_COLUMNS.get(table, ()) or bool(_PERSONAL_NAME.search(column))


#: Views exported too: the radar an analyst cannot easily rebuild from the tables.
VIEWS = ("radar_latest", "radar_history")


def _tables(con) -> list[str]:
    """Every table, then the radar views (`radar_latest`, `radar_history`)."""
    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' "
        "AND NOT internal AND database_name = current_database() ORDER BY table_name").fetchall()]
    return tables + [r[0] for r in con.execute(
        "SELECT view_name FROM duckdb_views() WHERE schema_name = 'main' AND database_name = "
        "current_database() AND list_contains(?, view_name) ORDER BY view_name", [list(VIEWS)]).fetchall()]


def _columns(con, table: str) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = ? "
        "AND database_name = current_database() "
        "ORDER BY column_index", [table]).fetchall()]


def shown_topics(con, k: int) -> set[int]:
    """Topics whose citizen text may leave: `disclosure.allow` on their distinct authors."""
    rows = con.execute("""
        SELECT pt.topic_id, count(DISTINCT d.author_hash) FILTER (WHERE d.channel = 'citizen')
        FROM passage_topics pt JOIN passages p USING (passage_id) JOIN documents d USING (doc_id)
        WHERE pt.topic_id >= 0 GROUP BY pt.topic_id""").fetchall()
    return {t for t, n in rows if disclosure.allow(channel="citizen", authors=n, k=k)}


def _register_gates(con, k: int) -> None:
    """Temp tables: citizen passages and documents whose text may be exported."""
    topics = pa.table({"topic_id": pa.array(sorted(shown_topics(con, k)), pa.int32())})
    con.register("shown_topic_ids", topics)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE shown_passages AS
        SELECT p.passage_id, p.doc_id FROM passages p
        WHERE EXISTS (SELECT 1 FROM passage_topics pt WHERE pt.passage_id = p.passage_id)
          AND NOT EXISTS (SELECT 1 FROM passage_topics pt WHERE pt.passage_id = p.passage_id
                          AND pt.topic_id NOT IN (SELECT topic_id FROM shown_topic_ids))""")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE shown_docs AS
        SELECT doc_id FROM passages GROUP BY doc_id
        HAVING bool_and(passage_id IN (SELECT passage_id FROM shown_passages))""")


def _citizen_doc(col: str, doc: str = "doc_id") -> str:
    return (f"CASE WHEN {doc} IN (SELECT doc_id FROM documents WHERE channel = 'citizen') "
            f"AND {doc} NOT IN (SELECT doc_id FROM shown_docs) THEN NULL ELSE {col} END")


def _select(con, table: str, key: str) -> str | None:
    """The SELECT that exports `table` without personal data (None: leave the table out)."""
    if table in PERSONAL_TABLES:
        return None
    cols = [c for c in _columns(con, table) if not personal_column(table, c)]
    if not cols:
        return None
    expr = {c: f'"{c}"' for c in cols}
    if "author_hash" in expr:
        expr["author_hash"] = f"left(sha256('{key}' || author_hash), 20)"
    if table in ("documents", "document_versions"):
        expr["text"] = _citizen_doc("text") + " AS text"
        expr["title"] = _citizen_doc("title") + " AS title"
    elif table == "forum_posts":
        expr["thread_title"] = _citizen_doc("thread_title") + " AS thread_title"
    elif table == "passages":
        gate = ("CASE WHEN doc_id IN (SELECT doc_id FROM documents WHERE channel = 'citizen') "
                "AND passage_id NOT IN (SELECT passage_id FROM shown_passages) THEN NULL ELSE {} END")
        for c in ("text", "expectation_phrase", "terms"):
            if c in expr:
                expr[c] = gate.format(c) + f" AS {c}"
    elif table == "passage_embeddings":
        where = (" WHERE passage_id IN (SELECT passage_id FROM shown_passages) OR passage_id IN "
                 "(SELECT p.passage_id FROM passages p JOIN documents d USING (doc_id) "
                 "WHERE d.channel <> 'citizen')")
        return f'SELECT {", ".join(expr.values())} FROM "{table}"' + where
    for c, e in list(expr.items()):
        if not e.endswith(f" AS {c}") and e != f'"{c}"':
            expr[c] = f"{e} AS {c}"
    return f'SELECT {", ".join(expr.values())} FROM "{table}"'


def _copy(con, sql: str, target: Path) -> None:
    con.execute(f"COPY ({sql}) TO '{_quote(target)}' (FORMAT parquet)")


def _staff_names(con) -> list[str]:
    """Staff names in the warehouse (every personal column but addresses) and each of their
    words, longest first."""
    present = {(t, c) for t, c in con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'main' "
        "AND data_type = 'VARCHAR' AND database_name = current_database()").fetchall()}
    names: set[str] = set()
    for table, column in sorted(present):
        if personal_column(table, column) and "email" not in column and "recipient" not in column:
            names |= {r[0] for r in con.execute(f'SELECT DISTINCT "{column}" FROM "{table}"').fetchall()
                      if r[0]}
    words = {w for n in names for w in n.split() if len(w) >= 3}
    return sorted(names | words, key=len, reverse=True)


def _redact_notes(target: Path, staff: list[str], columns: tuple[str, ...]) -> None:
    """Free text by staff: staff names, other people's names and contacts redacted."""
    import pyarrow.parquet as pq

    tbl = pq.read_table(target)
    if tbl.num_rows == 0:
        return
    pattern = re.compile("|".join(rf"\b{re.escape(n)}\b" for n in staff), re.I) if staff else None
    for column in columns:
        if column not in tbl.column_names:
            continue
        notes = [pattern.sub("<STAFF>", n) if pattern and n else n
                 for n in tbl.column(column).to_pylist()]
        notes = redact_many(notes)
        idx = tbl.column_names.index(column)
        tbl = tbl.set_column(idx, column, pa.array(notes, pa.string()))
    pq.write_table(tbl, target)


def export_parquet(path: Path, out_dir: Path, *, k: int = 5, include_personal: bool = False,
                   actor: str | None = None) -> list[tuple[str, int, Path]]:
    """Write each table to OUT_DIR/<table>.parquet and log the export; returns (table, rows, file)."""
    written = _write(path, out_dir, k, include_personal)
    detail = (f"{len(written)} tables as Parquet including personal data" if include_personal
              else f"{len(written)} tables as Parquet; citizen text at k={k}")
    with warehouse.write(path) as con:
        privacy_log.record(con, "export_personal" if include_personal else "export", detail, actor)
    return written


def analyst_copy(path: Path, target: Path, *, k: int = 5,
                 actor: str | None = None) -> list[tuple[str, int]]:
    """A read-only DuckDB file (mode 0444) holding the default, non-personal export."""
    if target.exists():
        raise FileExistsError(f"{target} exists; remove it or choose another file")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="radar-analyst-") as tmp:
        # Parquet first: the warehouse is only read; the copy is built apart, then moved.
        files = _write(path, Path(tmp), k, include_personal=False)
        partial = target.with_name(target.name + ".part")
        out = duckdb.connect(str(partial))
        try:
            for table, _, file in files:
                out.execute(f"CREATE TABLE \"{table}\" AS SELECT * FROM read_parquet('{_quote(file)}')")
        finally:
            out.close()
        shutil.move(partial, target)
    os.chmod(target, 0o444)
    with warehouse.write(path) as con:
        privacy_log.record(con, "analyst_copy", f"{len(files)} tables; citizen text at k={k}", actor)
    return [(t, n) for t, n, _ in files]


def _write(path: Path, out_dir: Path, k: int, include_personal: bool) -> list[tuple[str, int, Path]]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    key = secrets.token_hex(16)  # this export's pseudonym key, never stored
    with warehouse.read(path) as con:
        staff = _staff_names(con)
        if not include_personal:
            _register_gates(con, k)
        for table in _tables(con):
            sql = f'SELECT * FROM "{table}"' if include_personal else _select(con, table, key)
            if sql is None:
                continue
            target = out_dir / f"{table}.parquet"
            _copy(con, sql, target)
            written.append((table, con.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0], target))
    if not include_personal:
        for table, columns in STAFF_TEXT.items():
            if (out_dir / f"{table}.parquet").exists():
                _redact_notes(out_dir / f"{table}.parquet", staff, columns)
    return written


def _quote(p: Path) -> str:
    return str(p).replace("'", "''")

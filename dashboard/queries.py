"""Every SQL query the dashboard runs: parameterised, read-only, one short read each.

Functions take the warehouse path (a string, so results can be cached by it) and
open a read connection through `radar.core.warehouse.read` for the length of one
query batch: the pipeline's writers wait at most that long, and the dashboard
waits on the lock while a write batch is open instead of failing.
Filters that mean "all" are passed as empty lists.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from radar.core import warehouse
from radar.core.periods import period_start_sql
from radar.core.search_index import has_index, index_schema

RINGS = ("Act", "Prepare", "Watch", "Monitor")


def _df(con: duckdb.DuckDBPyConnection, sql: str, params: dict | list | None = None) -> pd.DataFrame:
    if isinstance(params, dict):  # DuckDB rejects named parameters the SQL does not use
        params = {k: v for k, v in params.items() if f"${k}" in sql}
    return con.execute(sql, params or []).df()


def _exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return warehouse.table_exists(con, name)


def summary(path: str) -> dict:
    """What the warehouse holds, to decide what each page can show or must explain.

    Also the scored periods (newest first) and service areas, so the radar page
    needs one more read only, for the radar itself.
    """
    with warehouse.read(path) as con:
        one = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
        out = {
            "documents": one("SELECT count(*) FROM documents"),
            "sources": one("SELECT count(*) FROM (SELECT name FROM sources UNION "
                           "SELECT DISTINCT source FROM documents)"),
            "crawl_runs": one("SELECT count(*) FROM crawl_runs"),
            "topics": 0, "passages": 0, "radar_runs": 0, "signals": 0,
            "latest_run_at": None, "latest_period": None,
            "has_triage": _exists(con, "triage_log"),
            "fts_documents": has_index(con, "documents"),
            "fts_passages": has_index(con, "passages"),
        }
        out["areas"], out["periods"] = [], []
        if _exists(con, "topics"):
            out["topics"] = one("SELECT count(*) FROM topics WHERE active")
            out["passages"] = one("SELECT count(*) FROM passages")
            out["areas"] = [r[0] for r in con.execute(
                "SELECT DISTINCT service_area FROM topics WHERE active ORDER BY 1").fetchall()]
        if _exists(con, "signals"):
            out["radar_runs"] = one("SELECT count(*) FROM radar_runs")
            out["signals"] = one("SELECT count(*) FROM signals")
            row = con.execute("SELECT \"at\", period_start FROM radar_runs "
                              "ORDER BY run_id DESC LIMIT 1").fetchone()
            if row:
                out["latest_run_at"], out["latest_period"] = row
            # The periods of the current period setting (a warehouse not yet migrated to
            # the history view: every scored period).
            scored = "radar_history" if _exists(con, "radar_history") else "signals"
            out["periods"] = [r[0] for r in con.execute(
                f"SELECT DISTINCT period_start FROM {scored} ORDER BY 1 DESC").fetchall()]
    return out


def source_names(path: str) -> list[str]:
    """Every source name, configured or seen in documents, for filter widgets."""
    with warehouse.read(path) as con:
        return [r[0] for r in con.execute(
            "SELECT name FROM sources UNION SELECT DISTINCT source FROM documents "
            "ORDER BY 1").fetchall()]


# The radar for one period, from the latest run of the current period setting that scored
# that period (runs in another period setting are history of that setting). With a
# channel filter, a blip's volume is its passages in those channels that period.
_RADAR_SQL = """
WITH run AS (SELECT max(run_id) AS run_id FROM signals WHERE period_start = $period
             AND run_id IN (SELECT run_id FROM radar_runs WHERE period = (
                 SELECT period FROM radar_runs ORDER BY run_id DESC LIMIT 1))),
chan AS (
    SELECT topic_id, sum(passages) AS passages
    FROM topic_periods
    WHERE period_start = $period AND list_contains($channels::VARCHAR[], channel)
    GROUP BY topic_id
)
SELECT s.topic_id, t.label, t.service_area, s.ring, s.stage, s.score,
       CASE WHEN len($channels::VARCHAR[]) = 0 THEN s.volume ELSE coalesce(c.passages, 0) END::BIGINT
           AS volume,
       s.volume AS total_volume, s.sources, s.effective_sources, s.movement, s.previous_ring,
       s.growth, s.burst, s.news_share, s.policy_share, s.citizen_share, s.authors,
       s.narrow_voice, s.expectation_share, s.expectation_gap, s.gap_risk, s.reasons,
       s.theme, t.top_terms, t.first_seen
FROM signals s
JOIN topics t USING (topic_id)
LEFT JOIN chan c USING (topic_id)
WHERE s.run_id = (SELECT run_id FROM run) AND s.period_start = $period
  AND (len($areas::VARCHAR[]) = 0 OR list_contains($areas::VARCHAR[], t.service_area))
  AND coalesce(s.sources, 0) >= $min_sources
  AND (NOT $expectations OR coalesce(s.expectation_share, 0) > 0)
  AND (len($channels::VARCHAR[]) = 0 OR c.passages > 0)
  AND (s.ring IS NOT NULL OR s.movement = 'left')
ORDER BY s.score DESC
"""


def radar(path: str, period: date, channels: list[str], areas: list[str], min_sources: int,
          expectations_only: bool) -> pd.DataFrame:
    """The topics on the radar for a period, and those that just left it (ring NULL)."""
    params = {"period": period, "channels": list(channels), "areas": list(areas),
              "min_sources": int(min_sources), "expectations": bool(expectations_only)}
    with warehouse.read(path) as con:
        return _df(con, _RADAR_SQL, params)


def topic_choices(path: str) -> pd.DataFrame:
    """Active topics for a picker, the most recently scored and largest first."""
    with warehouse.read(path) as con:
        return _df(con, "SELECT topic_id, label, service_area, size FROM topics WHERE active "
                        "ORDER BY size DESC, topic_id")


def topic_detail(path: str, topic_id: int) -> dict[str, pd.DataFrame]:
    """Everything the topic page shows, read in one short batch."""
    tid = int(topic_id)
    out: dict[str, pd.DataFrame] = {}
    with warehouse.read(path) as con:
        out["topic"] = _df(con, "SELECT * FROM topics WHERE topic_id = ?", [tid])
        if out["topic"].empty:
            return out
        out["signal"] = _df(
            con, "SELECT * FROM signals WHERE topic_id = ? "
                 "ORDER BY run_id DESC, period_start DESC LIMIT 1", [tid])
        out["history"] = _df(
            con, "SELECT s.period_start, s.ring, s.stage, s.score, s.volume, s.movement, "
                 "r.\"at\" AS scored_at FROM signals s JOIN radar_runs r USING (run_id) "
                 "WHERE s.topic_id = ? "
                 "QUALIFY row_number() OVER (PARTITION BY s.period_start ORDER BY s.run_id DESC) = 1 "
                 "ORDER BY s.period_start", [tid])
        out["trend"] = _df(
            con, "SELECT period_start, channel, passages, documents, sources, authors, "
                 "expectation_passages FROM topic_periods WHERE topic_id = ? "
                 "ORDER BY period_start, channel", [tid])
        out["passages"] = _df(con, _PASSAGES_SQL, {"topic": tid, "n": 8})
        out["sources"] = _df(con, _TOPIC_SOURCES_SQL, [tid])
        out["triage"] = (
            _df(con, "SELECT entry_id, \"at\", who, from_status, to_status, owner, note "
                     "FROM triage_log WHERE topic_id = ? ORDER BY entry_id", [tid])
            if _exists(con, "triage_log") else pd.DataFrame()
        )
    return out


# Representative passages in the topic's own order, topped up with the most
# probable assigned passages when the model listed fewer.
_PASSAGES_SQL = """
WITH rep AS (
    SELECT unnest(representative_passages) AS passage_id,
           generate_subscripts(representative_passages, 1) AS rank
    FROM topics WHERE topic_id = $topic
),
top AS (
    SELECT passage_id, 1000 + row_number() OVER (ORDER BY probability DESC NULLS LAST) AS rank
    FROM passage_topics WHERE topic_id = $topic
    ORDER BY probability DESC NULLS LAST LIMIT $n
),
pick AS (
    SELECT passage_id, min(rank) AS rank FROM (SELECT * FROM rep UNION ALL SELECT * FROM top)
    GROUP BY passage_id ORDER BY rank LIMIT $n
)
SELECT p.passage_id, p.text, p.is_expectation, p.expectation_phrase, d.title, d.url,
       d.source, d.channel, coalesce(d.published_at, d.fetched_at) AS published
FROM pick JOIN passages p USING (passage_id) JOIN documents d USING (doc_id)
ORDER BY pick.rank
"""

_TOPIC_SOURCES_SQL = """
SELECT ds.source, coalesce(any_value(src.channel), any_value(d.channel)) AS channel,
       count(DISTINCT ds.doc_id) AS documents,
       count(DISTINCT d.author_hash) AS authors,
       max(coalesce(d.published_at, d.fetched_at)) AS latest
FROM passage_topics pt
JOIN passages p USING (passage_id)
JOIN document_sources ds ON ds.doc_id = p.doc_id
JOIN documents d ON d.doc_id = p.doc_id
LEFT JOIN sources src ON src.name = ds.source
WHERE pt.topic_id = ?
GROUP BY ds.source
ORDER BY documents DESC, ds.source
"""


def signals_table(path: str) -> pd.DataFrame:
    """The latest radar: every current signal with its topic and triage status."""
    with warehouse.read(path) as con:
        triage = _exists(con, "triage_log")
        status = ("coalesce(tc.status, 'new')" if triage else "'new'")
        join = "LEFT JOIN triage_current tc USING (topic_id)" if triage else ""
        return _df(con, f"""
            SELECT r.topic_id, r.label, r.service_area, r.ring, r.stage, r.score, r.volume,
                   r.growth, r.burst, r.sources, r.effective_sources, r.news_share,
                   r.policy_share, r.citizen_share, r.authors, r.narrow_voice,
                   r.expectation_share, r.expectation_gap, r.gap_risk, r.movement,
                   r.previous_ring, r.period_start, {status} AS triage_status, r.reasons
            FROM radar_latest r {join}
            ORDER BY r.score DESC""")


def triage_overview(path: str, limit: int = 500) -> dict[str, pd.DataFrame]:
    """Current status of every topic on the latest radar, and the newest log entries."""
    with warehouse.read(path) as con:
        # A warehouse from before the triage migration: everything is 'new', the log empty.
        triage = _exists(con, "triage_log")
        join = "LEFT JOIN triage_current tc USING (topic_id)" if triage else (
            "LEFT JOIN (SELECT NULL::INTEGER AS topic_id, NULL AS status, NULL AS owner, "
            "NULL AS who, NULL::TIMESTAMP AS \"at\", NULL AS note) tc USING (topic_id)")
        current = _df(con, f"""
            SELECT r.topic_id, r.label, r.service_area, r.ring, coalesce(tc.status, 'new') AS status,
                   tc.owner, tc.who AS changed_by, tc."at" AS changed_at, tc.note
            FROM radar_latest r {join}
            WHERE r.ring IS NOT NULL
            ORDER BY array_position(['Act','Prepare','Watch','Monitor'], r.ring), r.score DESC""")
        log = (_df(con, "SELECT entry_id, \"at\", topic_id, topic_label, who, from_status, "
                        "to_status, owner, note FROM triage_log ORDER BY entry_id DESC LIMIT ?",
                   [int(limit)]) if triage else pd.DataFrame())
    return {"current": current, "log": log}


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# BM25 over the FTS index's own tables (k1 = 1.2, b = 0.75, as match_bm25). The
# match_bm25 macro is evaluated once per table row, seconds on a million rows;
# starting from the query's postings touches only the rows that contain a term.
_BM25 = """
tokens AS (SELECT DISTINCT stem(unnest({s}.tokenize($q)), 'porter') AS t),
qt AS (SELECT dict.termid, dict.df FROM {s}.dict AS dict JOIN tokens ON dict.term = tokens.t),
tf AS (SELECT docid, termid, count(*) AS tf FROM {s}.terms
       WHERE termid IN (SELECT termid FROM qt) GROUP BY docid, termid),
st AS (SELECT num_docs, avgdl FROM {s}.stats),
hits AS (
    SELECT fd.name AS key,
           sum(log((st.num_docs - qt.df + 0.5) / (qt.df + 0.5) + 1)
               * (tf.tf * 2.2) / (tf.tf + 1.2 * (0.25 + 0.75 * fd.len / st.avgdl))) AS score
    FROM tf JOIN qt USING (termid) JOIN {s}.docs AS fd USING (docid) CROSS JOIN st
    GROUP BY fd.name
)"""

_SEARCH_FROM = {
    "documents": ("d.doc_id", "(coalesce(d.title, '') || ' ' || d.text)",
                  "left(d.text, 300) AS snippet, NULL::INTEGER AS topic_id, NULL AS topic",
                  "documents d"),
    "passages": ("p.passage_id", "p.text",
                 "left(p.text, 300) AS snippet, pt.topic_id, t.label AS topic",
                 "passages p JOIN documents d USING (doc_id) "
                 "LEFT JOIN passage_topics pt ON pt.passage_id = p.passage_id AND pt.topic_id >= 0 "
                 "LEFT JOIN topics t ON t.topic_id = pt.topic_id"),
}


def search(path: str, text: str, kind: str, channels: list[str], sources: list[str],
           since: date | None, until: date | None, limit: int = 50) -> tuple[pd.DataFrame, str]:
    """Documents or passages matching `text`; returns (rows, method used).

    Uses the FTS index (BM25 ranking) for the rows it covers and an ILIKE scan for
    rows added after it was built; without an index, ILIKE alone. A query in
    double quotes must also match as an exact phrase.
    """
    table = "documents" if kind == "documents" else "passages"
    key, textcol, extra, source = _SEARCH_FROM[table]
    phrase = text.strip()
    exact = len(phrase) > 1 and phrase.startswith('"') and phrase.endswith('"')
    phrase = phrase.strip('"').strip()
    params = {"q": phrase, "like": _like_pattern(phrase), "channels": list(channels),
              "sources": list(sources), "since": since, "until": until, "n": int(limit)}
    cols = ("d.doc_id, d.title, d.source, d.channel, d.url, "
            f"coalesce(d.published_at, d.fetched_at) AS published, {extra}")
    filters = ("(len($channels::VARCHAR[]) = 0 OR list_contains($channels::VARCHAR[], d.channel)) "
               "AND (len($sources::VARCHAR[]) = 0 OR list_contains($sources::VARCHAR[], d.source)) "
               "AND ($since::DATE IS NULL OR coalesce(d.published_at, d.fetched_at) >= $since::DATE) "
               "AND ($until::DATE IS NULL OR coalesce(d.published_at, d.fetched_at) "
               "< $until::DATE + INTERVAL 1 DAY)")
    like = f"{textcol} ILIKE $like ESCAPE '\\'"
    with warehouse.read(path) as con:
        con.execute("SET enable_progress_bar = false")  # no bar on the server's stdout
        if has_index(con, table) and warehouse.load_extension(con, "fts"):
            schema = index_schema(table)
            # Rows added since the index was built are scanned with ILIKE; counting both
            # sides is cheap, the scan is not, so it runs only when the index is behind.
            stale = con.execute(f"SELECT (SELECT count(*) FROM {table}) > "
                                f"(SELECT count(*) FROM {schema}.docs)").fetchone()[0]
            fresh = (f" UNION ALL SELECT {cols}, 0.0 AS score FROM {source} WHERE {filters} "
                     f"AND {like} AND {key} NOT IN (SELECT name FROM {schema}.docs)"
                     if stale else "")
            sql = (
                f"WITH {_BM25.format(s=schema)} "
                f"SELECT {cols}, hits.score FROM hits, {source} WHERE {key} = hits.key "
                f"AND {filters}{' AND ' + like if exact else ''}{fresh} "
                f"ORDER BY score DESC, published DESC NULLS LAST LIMIT $n"
            )
            method = "full-text index (BM25 ranking)"
        else:
            sql = (f"SELECT {cols}, 0.0 AS score FROM {source} WHERE {filters} AND {like} "
                   "ORDER BY published DESC NULLS LAST LIMIT $n")
            method = ("text scan (DuckLake keeps no full-text index)" if warehouse.is_lake(con)
                      else "text scan (no full-text index built yet)")
        rows = _df(con, sql, params)
        rows["group_authors"] = _group_authors(con, rows, table)
        return rows, method


# Distinct citizen authors per topic: the group a citizen text speaks in, for the
# k-threshold rule (radar.core.disclosure) on search results.
_TOPIC_AUTHORS = """
SELECT pt.topic_id, count(DISTINCT d.author_hash) FILTER (WHERE d.channel = 'citizen') AS authors
FROM passage_topics pt JOIN passages p USING (passage_id) JOIN documents d USING (doc_id)
WHERE pt.topic_id >= 0 GROUP BY pt.topic_id
"""


def _group_authors(con, rows: pd.DataFrame, table: str) -> list:
    """Per result row: distinct authors of its topic (documents: the smallest of its
    passages' topics; None when a passage has no topic)."""
    if rows.empty:
        return []
    authors = dict(con.execute(_TOPIC_AUTHORS).fetchall())
    if table == "passages":
        return [authors.get(int(t)) if pd.notna(t) else None for t in rows["topic_id"]]
    ids = rows["doc_id"].tolist()
    topics: dict[str, list] = {}
    for doc_id, topic_id in con.execute(
            "SELECT p.doc_id, pt.topic_id FROM passages p LEFT JOIN passage_topics pt "
            "ON pt.passage_id = p.passage_id AND pt.topic_id >= 0 "
            "WHERE p.doc_id IN (SELECT unnest(?::VARCHAR[]))", [ids]).fetchall():
        topics.setdefault(doc_id, []).append(authors.get(topic_id) if topic_id is not None else None)
    out = []
    for doc_id in ids:
        counts = topics.get(doc_id)
        out.append(None if not counts or None in counts else min(counts))
    return out


def sources_health(path: str) -> pd.DataFrame:
    """Per source: channel, documents, newest document, the last crawl and its errors."""
    with warehouse.read(path) as con:
        return _df(con, """
            WITH names AS (SELECT name AS source FROM sources
                           UNION SELECT DISTINCT source FROM documents
                           UNION SELECT DISTINCT source FROM crawl_runs),
            docs AS (SELECT source, count(*) AS documents, any_value(channel) AS doc_channel,
                            max(coalesce(published_at, fetched_at)) AS newest
                     FROM documents GROUP BY source),
            last AS (SELECT * FROM crawl_runs
                     QUALIFY row_number() OVER (PARTITION BY source ORDER BY run_id DESC) = 1),
            errs AS (SELECT source, count(*) AS errors_30d FROM fetch_errors
                     WHERE "at" >= current_timestamp::TIMESTAMP - INTERVAL 30 DAY GROUP BY source)
            SELECT n.source, coalesce(s.channel, docs.doc_channel) AS channel, s.type,
                   coalesce(docs.documents, 0) AS documents, docs.newest,
                   last.started_at AS last_crawl, last.status AS last_status,
                   last.pages AS last_pages, last.new_documents AS last_new,
                   last.errors AS last_errors, coalesce(errs.errors_30d, 0) AS errors_30d
            FROM names n
            LEFT JOIN sources s ON s.name = n.source
            LEFT JOIN docs USING (source) LEFT JOIN last USING (source) LEFT JOIN errs USING (source)
            ORDER BY n.source""")


def source_timeline(path: str, source: str) -> pd.DataFrame:
    """Documents per month for one source."""
    with warehouse.read(path) as con:
        month = period_start_sql("month", "published_at", "fetched_at")
        return _df(con, f"SELECT {month} AS month, "
                        "count(*) AS documents FROM documents WHERE source = ? "
                        "GROUP BY 1 ORDER BY 1", [source])


def source_errors(path: str, source: str, limit: int = 100) -> pd.DataFrame:
    """The newest fetch errors of one source."""
    with warehouse.read(path) as con:
        return _df(con, "SELECT \"at\", url, reason FROM fetch_errors WHERE source = ? "
                        "ORDER BY \"at\" DESC LIMIT ?", [source, int(limit)])


def warehouse_tables(path: str) -> pd.DataFrame:
    """Tables and views of the main schema with their columns and row estimates."""
    with warehouse.read(path) as con:
        return _df(con, """
            SELECT c.table_name AS name,
                   CASE WHEN v.view_name IS NULL THEN 'table' ELSE 'view' END AS kind,
                   any_value(t.estimated_size) AS rows,
                   string_agg(c.column_name || ' ' || c.data_type, ', ' ORDER BY c.column_index)
                       AS columns
            FROM duckdb_columns() c
            LEFT JOIN duckdb_tables() t ON t.table_name = c.table_name AND t.schema_name = 'main'
                AND t.database_name = c.database_name
            LEFT JOIN duckdb_views() v ON v.view_name = c.table_name AND v.schema_name = 'main'
                AND v.database_name = c.database_name
            WHERE c.schema_name = 'main' AND c.database_name = current_database()
            GROUP BY c.table_name, v.view_name ORDER BY kind, name""")


def privacy_log(path: str, limit: int = 200) -> pd.DataFrame:
    """The newest privacy log entries: erasures, exports, analyst copies, salt rotations."""
    with warehouse.read(path) as con:
        return _df(con, 'SELECT "at", action, actor, detail FROM privacy_log '
                        "ORDER BY entry_id DESC LIMIT ?", [int(limit)])

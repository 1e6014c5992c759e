"""Dashboard benchmark: a 1M-document, 10k-topic warehouse, each page's queries and render time.

    python bench/dashboard.py [--dir /tmp/radar-bench] [--documents 1000000] [--topics 10000]
                              [--rebuild] [--fts]

Builds the warehouse with DuckDB SQL (range()-based INSERT ... SELECT, about a minute),
then prints, per query, the time of an uncached call, and per page the server-side
render time under Streamlit's AppTest (cold: caches cleared; warm: second run).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

AREAS = ["libraries", "transport", "housing", "health and care", "environment and energy",
         "education", "safety", "digital services", "democracy and participation",
         "culture and leisure", "economy and work"]
WORDS = ["council", "grant", "heat", "pump", "bus", "lane", "library", "rent", "housing", "youth",
         "centre", "school", "energy", "climate", "care", "hospital", "digital", "app", "vote",
         "park", "museum", "jobs", "wage", "tax", "bike", "scooter", "waste", "water", "flood",
         "police", "safety", "broadband", "consultation", "festival", "sport", "elderly"]
MONTHS = 24


def build(path: Path, documents: int, topics: int) -> None:
    """Fill a fresh warehouse at `path` with synthetic but realistically shaped rows."""
    from radar.core import warehouse

    words = "[" + ", ".join(f"'{w}'" for w in WORDS) + "]"
    areas = "[" + ", ".join(f"'{a}'" for a in AREAS) + "]"
    start = date(2025, 1, 1)
    with warehouse.write(path) as con:
        con.execute("""INSERT INTO sources (name, type, url, channel)
            SELECT 'source-' || i, CASE i % 3 WHEN 0 THEN 'feed' WHEN 1 THEN 'sitemap' ELSE 'forum' END,
                   'http://127.0.0.1/s' || i, CASE i % 3 WHEN 0 THEN 'news' WHEN 1 THEN 'policy'
                   ELSE 'citizen' END
            FROM range(60) t(i)""")
        con.execute(f"""INSERT INTO documents
            SELECT 'd' || i, 'http://127.0.0.1/s' || (i % 60) || '/' || i,
                   'http://127.0.0.1/s' || (i % 60) || '/' || i,
                   'Story ' || i || ' about ' || {words}[1 + i % 36] || ' ' || {words}[1 + (i * 7) % 36],
                   'People in the city talk about ' || {words}[1 + i % 36] || ' and '
                     || {words}[1 + (i * 7) % 36] || ' and ' || {words}[1 + (i * 13) % 36]
                     || '. The council says it will look at ' || {words}[1 + (i * 17) % 36]
                     || ' next year, and residents expect answers on ' || {words}[1 + (i * 3) % 36]
                     || ' soon. Report ' || i || '.',
                   TIMESTAMP '{start}' + to_days((i * 7919) % ({MONTHS} * 30)) + to_hours(i % 24),
                   TIMESTAMP '{start}' + to_days((i * 7919) % ({MONTHS} * 30) + 1),
                   'source-' || (i % 60),
                   CASE (i % 60) % 3 WHEN 0 THEN 'news' WHEN 1 THEN 'policy' ELSE 'citizen' END,
                   'en', CASE WHEN (i % 60) % 3 = 2 THEN md5('author' || (i % 5000)) END, md5('c' || i)
            FROM range({documents}) t(i)""")
        con.execute("""INSERT INTO document_sources (doc_id, source, url)
            SELECT doc_id, source, url FROM documents""")
        con.execute("""INSERT INTO document_sources (doc_id, source, url)
            SELECT doc_id, 'source-' || ((hash(doc_id) % 20) * 3)::INT, url FROM documents
            WHERE channel = 'news' AND hash(doc_id) % 10 = 0 ON CONFLICT DO NOTHING""")
        con.execute("""INSERT INTO passages (passage_id, doc_id, seq, text, n_words, is_expectation)
            SELECT doc_id || ':0', doc_id, 0, text, 40, hash(doc_id) % 7 = 0 FROM documents""")
        con.execute(f"""INSERT INTO passage_topics (passage_id, topic_id, probability, model_version)
            SELECT passage_id, CASE WHEN hash(passage_id) % 20 = 0 THEN -1
                   ELSE (hash(passage_id) % {topics})::INT END, 0.5 + (hash(passage_id) % 50) / 100,
                   'bench' FROM passages""")
        con.execute(f"""INSERT INTO topic_models (model_version, kind, n_passages, n_topics)
            VALUES ('bench', 'fit', {documents}, {topics})""")
        con.execute(f"""INSERT INTO topics (topic_id, label, top_terms, service_area, first_seen,
                   size, expectation_share, representative_passages, model_version)
            SELECT i, {words}[1 + i % 36] || ' ' || {words}[1 + (i * 5) % 36] || ' #' || i,
                   [{words}[1 + i % 36], {words}[1 + (i * 5) % 36], {words}[1 + (i * 11) % 36]],
                   {areas}[1 + i % 11], DATE '{start}', 0, (i % 9) / 20, [], 'bench'
            FROM range({topics}) t(i)""")
        con.execute("""UPDATE topics SET size = c.n, representative_passages = c.reps
            FROM (SELECT topic_id, count(*) AS n, list(passage_id ORDER BY probability DESC)[1:5] AS reps
                  FROM passage_topics GROUP BY topic_id) c WHERE c.topic_id = topics.topic_id""")
        con.execute("""INSERT INTO topic_periods
            SELECT pt.topic_id, date_trunc('month', d.published_at)::DATE, d.channel, count(*),
                   count(*), count(DISTINCT d.source), count(DISTINCT d.author_hash),
                   count(*) FILTER (WHERE p.is_expectation)
            FROM passage_topics pt JOIN passages p USING (passage_id) JOIN documents d USING (doc_id)
            WHERE pt.topic_id >= 0 GROUP BY ALL""")
        con.execute(f"""INSERT INTO radar_runs (run_id, "at", period, period_start, model_version)
            SELECT m + 1, TIMESTAMP '{start}' + to_days(m * 30 + 31), 'month',
                   (DATE '{start}' + to_months(m))::DATE, 'bench' FROM range({MONTHS}) t(m)""")
        con.execute(f"""INSERT INTO signals (run_id, period_start, topic_id, score, stage, ring,
                   volume, share, growth, acceleration, burst, sources, effective_sources,
                   news_share, policy_share, citizen_share, authors, top_author_share,
                   narrow_voice, show_quotes, expectation_share, expectation_gap, gap_risk,
                   previous_ring, movement, reasons)
            WITH s AS (
                SELECT r.run_id, r.period_start, t.topic_id,
                       ((hash(t.topic_id * 31 + r.run_id) % 1000) / 1000.0) AS score
                FROM radar_runs r CROSS JOIN range({topics}) t(topic_id)),
            ringed AS (
                SELECT *, CASE WHEN score > 0.99 THEN 'Act' WHEN score > 0.96 THEN 'Prepare'
                               WHEN score > 0.90 THEN 'Watch' WHEN score > 0.80 THEN 'Monitor' END AS ring
                FROM s),
            prev AS (SELECT *, lag(ring) OVER (PARTITION BY topic_id ORDER BY run_id) AS previous_ring
                     FROM ringed)
            SELECT run_id, period_start, topic_id, score,
                   CASE WHEN score > 0.95 THEN 'emerging' WHEN score > 0.85 THEN 'weak signal'
                        ELSE 'established' END, ring,
                   coalesce(tp.passages, 0)::INT, 0.001, score - 0.5, 0.0, CASE WHEN score > 0.98
                   THEN 2.0 ELSE 0 END, 1 + topic_id % 12, 1 + (topic_id % 12) * 0.7, 0.4, 0.3, 0.3,
                   topic_id % 20, 0.2, topic_id % 20 < 5, topic_id % 20 >= 5, (topic_id % 9) / 20,
                   0.1, topic_id % 50 = 0, previous_ring,
                   CASE WHEN ring IS NULL AND previous_ring IS NOT NULL THEN 'left'
                        WHEN ring IS NULL THEN NULL
                        WHEN previous_ring IS NULL THEN 'new'
                        WHEN ring = previous_ring THEN 'unchanged'
                        WHEN array_position(['Act','Prepare','Watch','Monitor'], ring)
                             < array_position(['Act','Prepare','Watch','Monitor'], previous_ring)
                        THEN 'moved in' ELSE 'moved out' END,
                   'Synthetic signal for the benchmark.'
            FROM prev LEFT JOIN (SELECT topic_id, period_start, sum(passages) AS passages
                                 FROM topic_periods GROUP BY ALL) tp USING (topic_id, period_start)""")
        con.execute("""INSERT INTO crawl_runs (source, started_at, finished_at, pages, new_documents,
                   errors, status)
            SELECT 'source-' || (i % 60), TIMESTAMP '2026-11-01' + to_hours(i), TIMESTAMP '2026-11-01'
                   + to_hours(i) + INTERVAL 5 MINUTE, 100, 20, i % 3, CASE i % 3 WHEN 0 THEN 'ok'
                   ELSE 'partial' END FROM range(2000) t(i)""")
        con.execute("""INSERT INTO fetch_errors (run_id, source, url, reason, "at")
            SELECT i % 2000, 'source-' || (i % 60), 'http://127.0.0.1/e/' || i, 'HTTP 500',
                   TIMESTAMP '2026-11-01' + to_minutes(i) FROM range(20000) t(i)""")
        if con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'triage_log'"
                       ).fetchone()[0]:
            con.execute(f"""INSERT INTO triage_log (topic_id, topic_label, "at", who, from_status,
                       to_status, owner, note)
                SELECT i % {topics}, 'topic', TIMESTAMP '2026-10-01' + to_minutes(i), 'analyst',
                       NULL, ['assessing','act','watch','dismissed'][1 + i % 4], 'team', 'note'
                FROM range(5000) t(i)""")


def timed(fn, *args, repeat: int = 3) -> tuple[float, object]:
    """Median seconds of `repeat` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn(*args)
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def bench_queries(path: str) -> None:
    """Each query the pages run, uncached."""
    from dashboard import queries as q
    from dashboard import queries_history as h

    latest = q.summary(path)["periods"][0]
    topic = q.radar(path, latest, [], [], 0, False).iloc[0]["topic_id"]
    cases = [
        ("summary", q.summary, (path,)),
        ("source_names", q.source_names, (path,)),
        ("radar (no filter)", q.radar, (path, latest, [], [], 0, False)),
        ("radar (citizen, 2 areas, >=3 sources)", q.radar,
         (path, latest, ["citizen"], AREAS[:2], 3, False)),
        ("topic_choices", q.topic_choices, (path,)),
        ("topic_detail", q.topic_detail, (path, int(topic))),
        ("signals_table", q.signals_table, (path,)),
        ("triage_overview", q.triage_overview, (path,)),
        ("search documents 'climate'", q.search,
         (path, "climate", "documents", [], [], None, None, 50)),
        ("search passages 'bike' (news)", q.search,
         (path, "bike", "passages", ["news"], [], None, None, 50)),
        ("sources_health", q.sources_health, (path,)),
        ("source_timeline", q.source_timeline, (path, "source-1")),
        ("warehouse_tables", q.warehouse_tables, (path,)),
        ("history_periods", h.history_periods, (path,)),
        ("period_radar (latest)", h.period_radar, (path, latest)),
        ("movement_counts", h.movement_counts, (path,)),
    ]
    print("\nqueries (uncached, median of 3)")
    for name, fn, args in cases:
        seconds, result = timed(fn, *args)
        rows = len(result[0]) if isinstance(result, tuple) else (
            len(result) if hasattr(result, "__len__") else "")
        print(f"  {name:42s} {seconds * 1000:8.0f} ms  {rows}")


def bench_pages(config: Path, topic: int) -> None:
    """Server-side render time of each page under AppTest: cold (no cache) and warm."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    os.environ["RADAR_CONFIG"] = str(config)
    app = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
    pages = ["views/radar.py", "views/topic.py", "views/signals.py", "views/triage.py",
             "views/search.py", "views/sources.py", "views/warehouse.py", "views/compare.py"]
    # A running server has its modules imported already: pay imports before timing.
    AppTest.from_file(app, default_timeout=120).switch_page("views/warehouse.py").run()
    print("\npages (AppTest, server side, median of 3; cold = query cache empty, warm = cached)")
    print(f"  {'page':34s}   cold      warm")
    for page in pages:
        colds, warms = [], []
        for _ in range(3):
            st.cache_data.clear()
            at = AppTest.from_file(app, default_timeout=120)
            if page != pages[0]:
                at.switch_page(page)
            if page.endswith("topic.py"):
                at.query_params["topic"] = str(topic)
            t = time.perf_counter()
            at.run()
            colds.append(time.perf_counter() - t)
            if at.exception:
                raise SystemExit(f"{page}: exception {at.exception[0].value}")
            if page.endswith("search.py"):
                at.text_input(key="search_text").input("heat pump")
                at.run()  # the search itself runs uncached here; time the cached rerun
            t = time.perf_counter()
            at.run()
            warms.append(time.perf_counter() - t)
        print(f"  {page:34s} {statistics.median(colds):6.2f} s  {statistics.median(warms):6.2f} s")


def main() -> None:
    """Build (or reuse) the bench warehouse and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/radar-bench"))
    parser.add_argument("--documents", type=int, default=1_000_000)
    parser.add_argument("--topics", type=int, default=10_000)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--fts", action="store_true", help="also build and time the FTS index")
    args = parser.parse_args()

    os.environ.setdefault("RADAR_PSEUDONYM_SALT", "bench")
    from radar.app.init_project import init_project
    from radar.core import warehouse
    from radar.core.config import load_config

    config = args.dir / "radar.toml"
    if args.rebuild and args.dir.exists():
        for f in args.dir.glob("radar.duckdb*"):
            f.unlink()
    init_project(config)
    path = load_config(config).warehouse_path
    have = warehouse.query(path, "SELECT count(*) FROM documents")[0][0]
    if have == 0:
        t = time.perf_counter()
        build(path, args.documents, args.topics)
        print(f"built {args.documents:,} documents, {args.topics:,} topics in "
              f"{time.perf_counter() - t:.0f} s ({path.stat().st_size / 1e9:.2f} GB)")
    counts = warehouse.query(path, "SELECT (SELECT count(*) FROM documents), "
                             "(SELECT count(*) FROM topics), (SELECT count(*) FROM signals), "
                             "(SELECT count(*) FROM topic_periods)")[0]
    print(f"warehouse: {counts[0]:,} documents, {counts[1]:,} topics, {counts[2]:,} signals, "
          f"{counts[3]:,} topic periods")
    if args.fts:
        from radar.core.search_index import build_search_index

        summary = build_search_index(path)
        print(f"FTS index over {summary.documents:,} documents and {summary.passages:,} passages "
              f"in {summary.seconds:.0f} s")
    bench_queries(str(path))
    from dashboard import queries

    latest = queries.summary(str(path))["periods"][0]
    topic = int(queries.radar(str(path), latest, [], [], 0, False).iloc[0]["topic_id"])
    bench_pages(config, topic)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()

"""The DuckLake backend with a real PostgreSQL catalog: schema, portable writes, several
writers at once, readers during writes, the advisory locks and time travel."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from radar.app.cli import cli
from radar.core import backends, portable, warehouse
from radar.core.config import ConfigError, load_config, parse_config
from radar.core.locks import WriterLocked
from radar.core.migrations import available, current_version, latest_version


def rows(n: int, start: int = 0, source: str = "city-news") -> list[dict]:
    return [{"url": f"https://city.example/{source}/{i}", "title": f"Story {i}",
             "text": f"The library opened makerspace number {i} for the district.",
             "published_at": "2026-03-01T10:00:00Z", "source": source, "channel": "news"}
            for i in range(start, start + n)]


def jsonl(path, items):
    path.write_text("".join(json.dumps(r) + "\n" for r in items), encoding="utf-8")
    return path


def radar(config, *args):
    return CliRunner().invoke(cli, [*args, "--config", str(config)])


# -- pure: the DDL translation ---------------------------------------------------------------

def test_ddl_for_lake_drops_what_ducklake_lacks_and_keeps_the_rest():
    sql = """CREATE SEQUENCE thing_seq START 1;
CREATE TABLE thing (
    thing_id  BIGINT PRIMARY KEY DEFAULT nextval('thing_seq'),
    name      VARCHAR NOT NULL UNIQUE,   -- a comment saying PRIMARY KEY (x)
    kind      VARCHAR NOT NULL CHECK (kind IN ('a', 'b')),
    tags      VARCHAR[] NOT NULL DEFAULT [],
    at        TIMESTAMP NOT NULL DEFAULT current_timestamp,
    UNIQUE (name, kind)
);
CREATE TABLE pair (a INTEGER, b INTEGER, PRIMARY KEY (a, b));
CREATE VIEW v AS SELECT * FROM thing WHERE name = 'PRIMARY KEY';
"""
    out, sequences = portable.ddl_for_lake(sql)
    assert sequences == ["thing_seq"]
    for gone in ("SEQUENCE", "nextval", "UNIQUE", "CHECK", "DEFAULT []", "(a, b)"):
        assert gone not in out, gone
    assert "PRIMARY KEY" not in out.replace("'PRIMARY KEY'", "")
    assert "thing_id  BIGINT," in out and "name      VARCHAR NOT NULL," in out
    assert "DEFAULT current_timestamp" in out and "name = 'PRIMARY KEY'" in out


def test_every_migration_translates_for_ducklake():
    for m in available():
        out, _ = portable.ddl_for_lake(m.sql)
        assert "PRIMARY KEY" not in out and "nextval" not in out, m.name


def test_a_catalog_must_be_postgres_and_carry_no_password():
    base = {"warehouse": {"backend": "ducklake"}}
    with pytest.raises(ConfigError, match="postgres:dbname="):
        parse_config({"warehouse": {**base["warehouse"], "catalog": "sqlite:x.db"}})
    with pytest.raises(ConfigError, match="password_env"):
        parse_config({"warehouse": {**base["warehouse"],
                                    "catalog": "postgres:dbname=x password=secret"}})
    cfg = parse_config({"warehouse": {**base["warehouse"], "catalog": "postgres:dbname=x host=h"}})
    assert cfg.lake.catalog == "dbname=x host=h"


def test_the_password_comes_from_the_environment(monkeypatch):
    spec = backends.LakeSpec("dbname=x host=h", "/tmp/d", "MY_PW")
    monkeypatch.delenv("MY_PW", raising=False)
    assert spec.dsn() == "dbname=x host=h"
    monkeypatch.setenv("MY_PW", "s3'cret")
    assert spec.dsn() == "dbname=x host=h password='s3\\'cret'"


# -- against PostgreSQL ------------------------------------------------------------------------

@pytest.fixture
def lake_project(tmp_path, salt, monkeypatch, lake_catalog):
    from conftest import use_lake

    from radar.app.init_project import config_template, init_project

    folder = tmp_path / "lake-project"
    folder.mkdir()
    monkeypatch.chdir(folder)
    config = folder / "radar.toml"
    config.write_text(config_template(), encoding="utf-8")
    use_lake(config, lake_catalog)
    init_project(config)
    return config


def test_the_lake_has_the_same_tables_and_views_as_the_file(lake_project, project):
    def names(path):
        with warehouse.read(path) as con:
            assert current_version(con) == latest_version()
            return set(con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
                "AND schema_name = 'main' UNION SELECT view_name FROM duckdb_views() "
                "WHERE database_name = current_database() AND NOT internal").fetchall())

    lake = load_config(lake_project)
    assert not lake.warehouse_path.exists()  # nothing of the lake lives in the DuckDB file
    assert names(lake.warehouse_path) == names(load_config(project).warehouse_path)


def test_upsert_keeps_one_row_per_key_on_both_backends(backend_project):
    path = load_config(backend_project).warehouse_path
    src = "SELECT * FROM (VALUES ('a', 'feed', 'u1', 'news'), ('a', 'feed', 'u1', 'news'), " \
          "('b', 'feed', 'u2', 'policy')) t(name, type, url, channel)"
    cols = ("name", "type", "url", "channel")
    with warehouse.write(path) as con:
        warehouse.upsert(con, "sources", cols, ("name",), src)
    with warehouse.write(path) as con:
        warehouse.upsert(con, "sources", cols, ("name",),
                         "SELECT 'b' AS name, 'sitemap' AS type, 'u3' AS url, 'news' AS channel",
                         update="type = excluded.type, url = excluded.url")
        warehouse.upsert(con, "sources", cols, ("name",),
                         "SELECT 'a' AS name, 'x' AS type, 'x' AS url, 'x' AS channel")  # kept
    assert warehouse.query(path, "SELECT name, type, url, channel FROM sources ORDER BY 1") == [
        ("a", "feed", "u1", "news"), ("b", "sitemap", "u3", "policy")]
    with warehouse.write(path) as con:
        first = warehouse.next_id(con, "crawl_run_seq")
        assert warehouse.next_id(con, "crawl_run_seq") == first + 1
        got = warehouse.update_returning(con, "sources", "name", "url = $u", "channel = $c", "name, url",
                                         {"u": "changed", "c": "policy"})
    assert got == [("b", "changed")]



@pytest.mark.parametrize("table", ["passages", "passage_embeddings", "passage_topics"])
def test_the_unkeyed_tables_keep_one_row_per_passage_on_both_backends(backend_project, table):
    """No key holds these ids on the DuckDB file either (migration 0014): `upsert` alone
    keeps one row per passage, inserting the new ones and updating or keeping the others."""
    path = load_config(backend_project).warehouse_path
    cols, values, change = {
        "passages": (("passage_id", "doc_id", "seq", "text", "n_words"),
                     "'d' AS doc_id, 0 AS seq, 'text' AS text, 1 AS n_words", "text = excluded.text"),
        "passage_embeddings": (("passage_id", "model", "vector"),
                               "'m' AS model, [1.0]::FLOAT[] AS vector", "model = excluded.model"),
        "passage_topics": (("passage_id", "topic_id", "model_version"),
                           "3 AS topic_id, 'v1' AS model_version", "topic_id = excluded.topic_id"),
    }[table]
    src = f"SELECT id AS passage_id, {values} FROM (VALUES ('a'), ('a'), ('b')) t(id)"
    with warehouse.write(path) as con:
        assert warehouse.upsert(con, table, cols, ("passage_id",), src) == 2
    new_value = {"passages": "'d' AS doc_id, 0 AS seq, 'changed' AS text, 1 AS n_words",
                 "passage_embeddings": "'m2' AS model, [1.0]::FLOAT[] AS vector",
                 "passage_topics": "7 AS topic_id, 'v1' AS model_version"}[table]
    with warehouse.write(path) as con:
        warehouse.upsert(con, table, cols, ("passage_id",),
                         f"SELECT id AS passage_id, {new_value} FROM (VALUES ('b'), ('c')) t(id)",
                         update=change)
        warehouse.upsert(con, table, cols, ("passage_id",),
                         f"SELECT 'a' AS passage_id, {new_value}")  # kept as it was
    column = change.split(" = ")[0]
    assert warehouse.query(path, f"SELECT passage_id, {column} FROM {table} ORDER BY 1") == [
        ("a", {"passages": "text", "passage_embeddings": "m", "passage_topics": 3}[table]),
        ("b", {"passages": "changed", "passage_embeddings": "m2", "passage_topics": 7}[table]),
        ("c", {"passages": "changed", "passage_embeddings": "m2", "passage_topics": 7}[table])]

def test_the_unkeyed_crawl_tables_keep_one_row_per_key_on_both_backends(backend_project):
    """The documents' tables have no key on the DuckDB file either (migration 0015): `upsert`
    keeps one row per document, per (document, source) and per URL, and the crawl state's
    update keeps a validator the new row lacks."""
    path = load_config(backend_project).warehouse_path
    doc = ("SELECT id AS doc_id, 'u' AS url, 'u' AS canonical_url, 't' AS title, {text} AS text, "
           "NULL::TIMESTAMP AS published_at, TIMESTAMP '2026-01-01' AS fetched_at, 's' AS source, "
           "'news' AS channel, 'en' AS language, NULL AS author_hash, 'h' AS content_hash "
           "FROM (VALUES {ids}) t(id)")
    cols = ("doc_id", "url", "canonical_url", "title", "text", "published_at", "fetched_at",
            "source", "channel", "language", "author_hash", "content_hash")
    carried = ("SELECT DISTINCT ON (doc_id, source) doc_id, source, url FROM (VALUES {rows}) "
               "t(doc_id, source, url)")
    state_cols = ("url", "source", "kind", "etag", "doc_id", "first_seen", "last_fetched")
    state = ("SELECT url, 's' AS source, 'document' AS kind, etag, doc_id, "
             "TIMESTAMP '2026-01-01' AS first_seen, last AS last_fetched "
             "FROM (VALUES {rows}) t(url, etag, doc_id, last)")
    state_update = ("last_fetched = excluded.last_fetched, "
                    "etag = coalesce(excluded.etag, crawl_state.etag)")
    with warehouse.write(path) as con:
        assert warehouse.upsert(con, "documents", cols, ("doc_id",),
                                doc.format(text="'first'", ids="('a'), ('a'), ('b')")) == 2
        warehouse.upsert(con, "document_sources", ("doc_id", "source", "url"), ("doc_id", "source"),
                         carried.format(rows="('a', 's', 'u1'), ('a', 'copy', 'u2'), ('a', 's', 'u1')"))
        warehouse.upsert(con, "crawl_state", state_cols, ("url",),
                         state.format(rows="('u1', '\"e1\"', 'a', TIMESTAMP '2026-01-01')"),
                         update=state_update)
    with warehouse.write(path) as con:
        assert warehouse.upsert(con, "documents", cols, ("doc_id",),
                                doc.format(text="'again'", ids="('b'), ('c')")) == 1
        warehouse.upsert(con, "document_sources", ("doc_id", "source", "url"), ("doc_id", "source"),
                         carried.format(rows="('a', 's', 'other'), ('b', 'copy', 'u3')"))
        warehouse.upsert(con, "crawl_state", state_cols, ("url",),
                         state.format(rows="('u1', NULL, 'a', TIMESTAMP '2026-02-01'), "
                                      "('u2', NULL, 'b', TIMESTAMP '2026-02-01')"),
                         update=state_update)
    assert warehouse.query(path, "SELECT doc_id, text FROM documents ORDER BY 1") == [
        ("a", "first"), ("b", "first"), ("c", "again")]
    assert warehouse.query(path, "SELECT doc_id, source, url FROM document_sources ORDER BY 1, 2") == [
        ("a", "copy", "u2"), ("a", "s", "u1"), ("b", "copy", "u3")]
    assert warehouse.query(path, "SELECT url, etag, last_fetched::DATE::VARCHAR FROM crawl_state "
                                 "ORDER BY 1") == [("u1", '"e1"', "2026-02-01"), ("u2", None, "2026-02-01")]


def test_ids_written_twice_outside_the_radar_are_found_on_both_backends(backend_project):
    path = load_config(backend_project).warehouse_path
    with warehouse.read(path) as con:
        assert set(warehouse.duplicate_keys(con).values()) == {0}
    with warehouse.write(path) as con:
        for _ in range(2):
            con.execute("INSERT INTO crawl_state (url, source, kind, first_seen, last_fetched) "
                        "VALUES ('u1', 's', 'index', TIMESTAMP '2026-01-01', TIMESTAMP '2026-01-01')")
        con.execute("INSERT INTO passage_topics (passage_id, topic_id, model_version) "
                    "VALUES ('p1', 1, 'v'), ('p1', 2, 'v'), ('p1', 3, 'v'), ('p2', 1, 'v')")
    with warehouse.read(path) as con:
        found = {t: n for t, n in warehouse.duplicate_keys(con).items() if n}
    assert found == {"crawl_state": 1, "passage_topics": 2}


def test_imports_are_idempotent_on_the_lake(lake_project, tmp_path):
    f = jsonl(tmp_path / "in.jsonl", rows(20) + rows(5))  # five repeated rows
    for _ in range(2):
        result = radar(lake_project, "import", str(f))
        assert result.exit_code == 0, result.output
    path = load_config(lake_project).warehouse_path
    assert warehouse.query(path, "SELECT count(*), count(DISTINCT doc_id) FROM documents") == [(20, 20)]
    assert warehouse.query(path, "SELECT count(*) FROM document_sources") == [(20,)]
    assert warehouse.query(path, "SELECT stored, already_present, duplicates FROM import_runs "
                                 "ORDER BY run_id") == [(20, 0, 5), (0, 20, 5)]


IMPORT_WORKER = """
import sys
from pathlib import Path
from radar.core.config import load_config
from crawlers.importer import import_file
cfg = load_config(sys.argv[1])
for f in sys.argv[2:]:
    import_file(Path(f), cfg.warehouse_path)
print("done", flush=True)
"""


def test_two_writer_processes_at_once_lose_and_duplicate_nothing(lake_project, tmp_path):
    """Two importers of overlapping files write at once while this process reads."""
    a = [jsonl(tmp_path / f"a{i}.jsonl", rows(30, i * 20, "wire")) for i in range(3)]
    b = [jsonl(tmp_path / f"b{i}.jsonl", rows(30, i * 20 + 10, "wire")) for i in range(3)]
    expected = {r["url"] for f in a + b for r in map(json.loads, f.read_text().splitlines())}
    procs = [subprocess.Popen([sys.executable, "-c", IMPORT_WORKER, str(lake_project), *map(str, files)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for files in (a, b)]
    path = load_config(lake_project).warehouse_path
    seen = []
    while any(p.poll() is None for p in procs):
        # A reader during the writes: never blocked, always one consistent snapshot.
        docs, carried = warehouse.query(
            path, "SELECT (SELECT count(*) FROM documents), (SELECT count(DISTINCT doc_id) "
                  "FROM document_sources)")[0]
        assert docs == carried
        seen.append(docs)
        time.sleep(0.2)
    for p in procs:
        out, err = p.communicate()
        assert p.returncode == 0, err[-2000:]
    urls = [r[0] for r in warehouse.query(path, "SELECT url FROM documents")]
    assert len(urls) == len(set(urls)) == len(expected)  # none lost, none twice
    assert set(urls) == expected
    assert seen == sorted(seen)  # readers only ever saw the warehouse grow


HOLD = """
import sys
from radar.core import warehouse
from radar.core.config import load_config
cfg = load_config(sys.argv[1])
with warehouse.exclusive(cfg.warehouse_path, sys.argv[2]):
    print("held", flush=True)
    sys.stdin.read()
"""


def test_the_stage_lock_is_cluster_wide_and_names_its_holder(lake_project):
    path = load_config(lake_project).warehouse_path
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(lake_project), "radar analyze"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(WriterLocked) as info:
            with warehouse.exclusive(path, "radar run"):  # includes analyze
                pass
        assert f"radar analyze, pid {holder.pid}" in str(info.value)
        with warehouse.exclusive(path, "radar crawl") as settled:  # another stage runs alongside
            assert settled == []
        result = radar(lake_project, "analyze")
        assert result.exit_code == 3 and "another radar run is in progress" in result.output
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    _when_released(lambda: warehouse.exclusive(path, "radar analyze"))  # its session ended


def _when_released(take, seconds: float = 10.0):
    """What `take()` yields once a lock held by a process that just exited is free: the
    server ends the session of an exited client a moment after the process is gone."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with take() as got:
                if got or time.monotonic() > deadline:
                    return got
        except WriterLocked:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.1)


def test_distributed_crawl_workers_run_side_by_side_beside_their_coordinator(lake_project):
    """On the lake, `radar crawl --worker` processes (on any machine) hold no stage alone;
    the round's coordinator holds `crawl`; a live worker's runs are never settled."""
    path = load_config(lake_project).warehouse_path
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(lake_project), "radar crawl"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with warehouse.exclusive(path, "radar crawl --worker") as first, \
                warehouse.exclusive(path, "radar crawl --worker") as second:
            assert first == second == []  # not alone: nothing settled
        with pytest.raises(WriterLocked, match="crawl lock"):
            with warehouse.exclusive(path, "radar crawl"):  # a second coordinator
                pass
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


def test_a_run_left_running_is_settled_only_when_no_writer_is_alive(lake_project):
    path = load_config(lake_project).warehouse_path
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(lake_project), "radar crawl"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with warehouse.write(path) as con:  # the live crawl's run
            con.execute("INSERT INTO crawl_runs (run_id, source, started_at, status) VALUES "
                        "(?, 'x', now()::TIMESTAMP, 'running')", [warehouse.next_id(con, "crawl_run_seq")])
        with warehouse.exclusive(path, "radar analyze") as settled:
            assert settled == []  # the crawl may own it
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert _when_released(lambda: warehouse.exclusive(path, "radar analyze")) == ["1 crawl_runs row"]
    assert warehouse.query(path, "SELECT status FROM crawl_runs") == [("interrupted",)]


def test_status_as_of_shows_the_warehouse_as_it_was(lake_project, tmp_path):
    assert radar(lake_project, "import", str(jsonl(tmp_path / "a.jsonl", rows(7)))).exit_code == 0
    time.sleep(1.1)
    between = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    time.sleep(1.1)
    assert radar(lake_project, "import", str(jsonl(tmp_path / "b.jsonl", rows(5, 100)))).exit_code == 0
    now = radar(lake_project, "status")
    # (Rich wraps the first line at 140 columns: a long temporary path can split it.)
    assert "12 documents" in " ".join(now.output.split())
    then = radar(lake_project, "status", "--as-of", between)
    assert then.exit_code == 0, then.output
    flat = " ".join(then.output.split())
    assert f"as of {between}" in flat and "7 documents" in flat
    assert "The radar as of" in flat
    early = radar(lake_project, "status", "--as-of", "2001-01-01")
    assert early.exit_code == 2 and "error:" in early.output
    bad = radar(lake_project, "status", "--as-of", "yesterday")
    assert bad.exit_code == 2 and "expected a date" in bad.output


def test_as_of_on_the_embedded_file_says_it_needs_ducklake(project):
    result = radar(project, "status", "--as-of", "2026-11-01")
    assert result.exit_code == 2 and "needs the DuckLake backend" in result.output


def test_search_on_the_lake_scans_the_text_and_says_so(lake_project, tmp_path):
    from dashboard import queries
    from radar.core.search_index import NO_INDEX_ON_LAKE, build_search_index

    assert radar(lake_project, "import", str(jsonl(tmp_path / "a.jsonl", rows(3)))).exit_code == 0
    path = load_config(lake_project).warehouse_path
    summary = build_search_index(path)
    assert not summary.available and summary.reason == NO_INDEX_ON_LAKE
    found, method = queries.search(str(path), "makerspace number 2", "documents", [], [], None, None)
    assert list(found["title"]) == ["Story 2"]
    assert method == "text scan (DuckLake keeps no full-text index)"


def test_a_wrong_catalog_is_one_clear_line(tmp_path, salt, monkeypatch, pg_server):
    from conftest import use_lake

    from radar.app.init_project import config_template

    monkeypatch.chdir(tmp_path)
    config = tmp_path / "radar.toml"
    config.write_text(config_template(), encoding="utf-8")
    use_lake(config, "postgres:" + pg_server.dsn("no_such_database"))
    result = radar(config, "init")
    assert result.exit_code == 2
    assert "cannot open the DuckLake catalog" in result.output and "no_such_database" in result.output


PICKLED = """
import pickle, sys
from radar.core import warehouse
cfg = pickle.loads(sys.stdin.buffer.read())   # as the crawl process gets its config
with warehouse.write(cfg.warehouse_path) as con:
    con.execute("INSERT INTO fetch_errors (run_id, source, url, reason) VALUES (0, 'child', 'u', 'r')")
"""


def test_a_process_handed_a_pickled_config_writes_to_the_lake(lake_project):
    import pickle

    cfg = load_config(lake_project)
    subprocess.run([sys.executable, "-c", PICKLED], input=pickle.dumps(cfg), check=True, timeout=120)
    assert warehouse.query(cfg.warehouse_path, "SELECT source FROM fetch_errors") == [("child",)]
    assert not cfg.warehouse_path.exists()  # not a DuckDB file beside the config


def test_export_reads_the_lakes_tables(lake_project, tmp_path):
    import pyarrow.parquet as pq

    assert radar(lake_project, "import", str(jsonl(tmp_path / "a.jsonl", rows(4)))).exit_code == 0
    result = radar(lake_project, "export", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert pq.read_table(tmp_path / "out" / "documents.parquet").num_rows == 4
    assert (tmp_path / "out" / "radar_latest.parquet").exists()
    assert not (tmp_path / "out" / "ducklake_snapshot.parquet").exists()  # the catalog's own tables

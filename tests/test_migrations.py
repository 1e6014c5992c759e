"""Schema migrations: from an empty file, and from every earlier version, keeping data."""

from __future__ import annotations

import duckdb
import pytest

from radar.core import warehouse
from radar.core.migrations import available, current_version, latest_version, migrate

DOC = (
    "INSERT INTO documents (doc_id, url, canonical_url, title, text, published_at, fetched_at, "
    "source, channel, language, author_hash, content_hash) VALUES "
    "('d1', 'https://x.org/a', 'https://x.org/a', 'T', 'kept text', '2026-01-02', '2026-01-03', "
    "'s', 'news', 'en', NULL, 'h1')"
)


def test_empty_file_migrates_to_latest(tmp_path):
    path = tmp_path / "w.duckdb"
    with warehouse.write(path) as con:
        assert current_version(con) == latest_version()
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert {"schema_version", "sources", "documents", "crawl_runs", "fetch_errors"} <= tables
    with warehouse.read(path) as con:
        versions = [r[0] for r in con.execute("SELECT version FROM schema_version ORDER BY 1").fetchall()]
    assert versions == [m.version for m in available()]


def test_versions_are_numbered_without_duplicates():
    versions = [m.version for m in available()]
    assert versions == sorted(set(versions)) and versions[0] == 1


@pytest.mark.parametrize("start", [m.version for m in available()][:-1] or [1])
def test_upgrade_from_an_earlier_version_keeps_data(tmp_path, start):
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    migrate(con, target=start)
    assert current_version(con) == start
    con.execute(DOC)
    con.close()
    with warehouse.write(path) as con:  # the writer upgrades on open
        assert current_version(con) == latest_version()
        assert con.execute("SELECT text FROM documents WHERE doc_id = 'd1'").fetchone() == ("kept text",)


def test_migrating_twice_applies_nothing(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    assert migrate(con) == [m.version for m in available()]
    assert migrate(con) == []


def test_a_newer_warehouse_is_refused(tmp_path):
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    migrate(con)
    con.execute("INSERT INTO schema_version (version, name) VALUES (9999, 'future')")
    con.close()
    with pytest.raises(warehouse.WarehouseError, match="newer than this code"):
        with warehouse.write(path):
            pass


def test_failed_write_rolls_back_the_whole_batch(tmp_path):
    path = tmp_path / "w.duckdb"
    with pytest.raises(RuntimeError):
        with warehouse.write(path) as con:
            con.execute(DOC)
            raise RuntimeError("crash mid-batch")
    with warehouse.read(path) as con:
        assert con.execute("SELECT count(*) FROM documents").fetchone()[0] == 0


def test_reading_a_missing_warehouse_says_run_init(tmp_path):
    with pytest.raises(warehouse.WarehouseMissing, match="radar init"):
        with warehouse.read(tmp_path / "none.duckdb"):
            pass


def test_a_missing_earlier_step_is_still_applied(tmp_path):
    # A development warehouse that got step N+1 before step N existed.
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    skipped = available()[1]
    migrate(con, target=skipped.version - 1)
    later = [m for m in available() if m.version > skipped.version]
    first_later = later[0]
    con.execute(first_later.sql)
    con.execute("INSERT INTO schema_version (version, name) VALUES (?, ?)",
                [first_later.version, first_later.name])
    assert migrate(con) == [skipped.version] + [m.version for m in later[1:]]
    assert current_version(con) == latest_version()


def test_the_passages_tables_lose_their_keys_and_keep_every_row(tmp_path):
    """0014: passages, vectors and assignments written before keep every column's value and
    their defaults; their key index is gone (DuckDB rewrote it at every batch's checkpoint)."""
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    migrate(con, target=13)
    con.execute(DOC)
    con.execute("INSERT INTO passages (passage_id, doc_id, seq, text, n_words, terms, "
                "doc_content_hash) VALUES ('d1:0', 'd1', 0, 'kept text', 2, 'keep text', 'h1')")
    con.execute("INSERT INTO passage_embeddings VALUES ('d1:0', 'm', [0.6, 0.8])")
    con.execute("INSERT INTO passage_topics (passage_id, topic_id, probability, model_version) "
                "VALUES ('d1:0', 4, 0.9, 'v1')")
    before = {t: con.execute(f"SELECT * FROM {t}").fetchall()
              for t in ("passages", "passage_embeddings", "passage_topics")}
    con.close()
    with warehouse.write(path) as con:
        for table, rows in before.items():
            assert con.execute(f"SELECT * FROM {table}").fetchall() == rows
        keys = con.execute("SELECT table_name FROM duckdb_constraints() WHERE constraint_type = "
                           "'PRIMARY KEY' AND table_name LIKE 'passage%'").fetchall()
        assert keys == []
        con.execute("INSERT INTO passages (passage_id, doc_id, seq, text, n_words) "
                    "VALUES ('d1:1', 'd1', 1, 'new', 1)")
        assert con.execute("SELECT is_expectation, created_at IS NOT NULL FROM passages "
                           "WHERE passage_id = 'd1:1'").fetchone() == (False, True)
        with pytest.raises(duckdb.ConstraintException):
            con.execute("INSERT INTO passage_topics (passage_id, topic_id) VALUES ('d1:1', 1)")


def test_the_documents_tables_lose_their_keys_and_keep_every_row(tmp_path):
    """0015: documents, their sources, fingerprints, forum context and crawl state written
    before keep every value and their defaults; no key index is left on them (DuckDB rewrote
    each at every crawl batch's checkpoint)."""
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    migrate(con, target=14)
    con.execute(DOC)
    con.execute("INSERT INTO document_sources (doc_id, source, url) VALUES "
                "('d1', 's', 'https://x.org/a'), ('d1', 'copy', 'https://y.org/a')")
    con.execute("INSERT INTO document_fingerprints VALUES ('d1', -42, 2)")
    con.execute("INSERT INTO forum_posts VALUES ('d1', 's', 'https://x.org/t', 'Thread', 2, 1)")
    con.execute("INSERT INTO crawl_state (url, source, kind, etag, content_hash, doc_id, "
                "complete, first_seen, last_fetched) VALUES ('https://x.org/a', 's', 'document', "
                "'\"e1\"', 'h1', 'd1', false, '2026-01-03', '2026-01-04')")
    tables = ("documents", "document_sources", "document_fingerprints", "forum_posts",
              "crawl_state")
    before = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}
    con.close()
    with warehouse.write(path) as con:
        for table, rows in before.items():
            assert rows and con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall() == rows
        keyed = con.execute("SELECT table_name FROM duckdb_constraints() WHERE constraint_type = "
                            "'PRIMARY KEY' AND list_contains(?, table_name)", [list(tables)]).fetchall()
        assert keyed == []
        con.execute("INSERT INTO document_sources (doc_id, source) VALUES ('d1', 'third')")
        con.execute("INSERT INTO crawl_state (url, source, kind, first_seen, last_fetched) "
                    "VALUES ('https://x.org/b', 's', 'index', '2026-01-05', '2026-01-05')")
        assert con.execute("SELECT seen_at IS NOT NULL FROM document_sources "
                           "WHERE source = 'third'").fetchone() == (True,)
        assert con.execute("SELECT complete FROM crawl_state WHERE url = 'https://x.org/b'"
                           ).fetchone() == (True,)
        with pytest.raises(duckdb.ConstraintException):
            con.execute("INSERT INTO documents (doc_id, text, fetched_at, source, channel) "
                        "VALUES ('d2', 'no hash', '2026-01-05', 's', 'news')")

"""Exports, the analysts' copy, erasure and salt rotation on a real DuckDB warehouse."""

from __future__ import annotations

import os

import dashboard_fixtures as fx
import duckdb
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from radar.app.cli import cli
from radar.app.erasure import erase, rotate_salt
from radar.app.export import analyst_copy, export_parquet, shown_topics
from radar.core import warehouse
from radar.core.config import load_config
from radar.core.privacy import author_hash, load_salt, pseudonym

SUBSCRIBER = "olli.subscriber@example.org"
STAFF = "Kaarina Strategist"
OWNER, OWNER_EMAIL = "Veikko Librarian", "veikko.librarian@city.example"


@pytest.fixture
def filled(project):
    cfg = load_config(project)
    fx.build(cfg.warehouse_path)
    with warehouse.write(cfg.warehouse_path) as con:
        # The fixture numbers its radar runs by hand; the real scorer (run by an erasure)
        # numbers them from the sequence.
        con.execute("DELETE FROM signals")
        con.execute("DELETE FROM radar_runs")
        con.execute("INSERT INTO subscriptions (email, areas, keywords, channels, min_ring, frequency, "
                    "origin) VALUES (?, [], [], [], 'Watch', 'daily', 'cli')", [SUBSCRIBER])
        con.execute("INSERT INTO triage_log (topic_id, who, to_status, owner, note) VALUES "
                    "(1, ?, 'act', ?, ?)", [STAFF, STAFF, f"Call {STAFF} on +358 40 765 4321"])
        con.execute("INSERT INTO services (name, owner, owner_email, origin, added_by, created_at, "
                    "updated_at) VALUES ('Libraries', ?, ?, 'cli', ?, now(), now())",
                    [OWNER, OWNER_EMAIL, STAFF])
    return cfg


def _authors(cfg):
    with warehouse.read(cfg.warehouse_path) as con:
        return {r[0] for r in con.execute(
            "SELECT DISTINCT author_hash FROM documents WHERE author_hash IS NOT NULL").fetchall()}


def _all_text(folder) -> str:
    parts = []
    for f in folder.glob("*.parquet"):
        for col in pq.read_table(f).to_pylist():
            parts.append(repr(col))
    return "\n".join(parts)


def test_default_export_has_no_addresses_staff_names_or_warehouse_pseudonyms(filled, tmp_path):
    out = tmp_path / "out"
    written = {t for t, _, _ in export_parquet(filled.warehouse_path, out, k=5)}
    assert "alert_outbox" not in written and "login_failures" not in written
    text = _all_text(out)
    assert SUBSCRIBER not in text and STAFF not in text and "765 4321" not in text
    assert OWNER not in text and OWNER_EMAIL not in text and "Libraries" in text
    assert not any(a in text for a in _authors(filled))  # re-keyed for this export only
    docs = pq.read_table(out / "documents.parquet").to_pylist()
    assert len({d["author_hash"] for d in docs if d["author_hash"]}) == len(_authors(filled))


def test_export_withholds_citizen_text_of_topics_under_k(filled, tmp_path):
    out = tmp_path / "out"
    k = 4
    with warehouse.read(filled.warehouse_path) as con:
        shown = shown_topics(con, k)
        small = {r[0] for r in con.execute(
            "SELECT pt.topic_id FROM passage_topics pt JOIN passages p USING (passage_id) "
            "JOIN documents d USING (doc_id) WHERE d.channel = 'citizen' AND pt.topic_id >= 0 "
            "GROUP BY 1 HAVING count(DISTINCT d.author_hash) < ?", [k]).fetchall()}
        topic_of = dict(con.execute("SELECT passage_id, topic_id FROM passage_topics").fetchall())
        channel = dict(con.execute("SELECT doc_id, channel FROM documents").fetchall())
    assert small and shown and not small & shown
    export_parquet(filled.warehouse_path, out, k=k)
    for p in pq.read_table(out / "passages.parquet").to_pylist():
        if channel[p["doc_id"]] != "citizen":
            assert p["text"]
        elif topic_of[p["passage_id"]] in small or topic_of[p["passage_id"]] < 0:
            assert p["text"] is None and p["terms"] is None
        else:
            assert p["text"]
    docs = pq.read_table(out / "documents.parquet").to_pylist()
    assert any(d["text"] is None for d in docs if d["channel"] == "citizen")
    assert all(d["text"] for d in docs if d["channel"] != "citizen")


def test_include_personal_is_logged_and_complete(filled, tmp_path):
    result = CliRunner().invoke(cli, ["export", "--include-personal", str(tmp_path / "all"),
                                      "--config", str(filled.path)])
    assert result.exit_code == 0, result.output
    assert SUBSCRIBER in _all_text(tmp_path / "all")
    with warehouse.read(filled.warehouse_path) as con:
        actions = [r[0] for r in con.execute("SELECT action FROM privacy_log").fetchall()]
    assert "export_personal" in actions


def test_analyst_copy_is_read_only_and_non_personal(filled, tmp_path):
    target = tmp_path / "analysts.duckdb"
    tables = dict(analyst_copy(filled.warehouse_path, target, k=5))
    assert "documents" in tables and "alert_outbox" not in tables
    assert os.stat(target).st_mode & 0o222 == 0
    con = duckdb.connect(str(target), read_only=True)
    try:
        cols = {r[0] for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'subscriptions'").fetchall()}
        assert "email" not in cols
        who = {r[0] for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'triage_log'").fetchall()}
        assert "who" not in who and "owner" not in who
        with pytest.raises(duckdb.Error):
            con.execute("DELETE FROM documents")
    finally:
        con.close()


def test_forget_by_pseudonym_erases_documents_quotes_and_recomputes(filled):
    path = filled.warehouse_path
    salt = load_salt(path)
    with warehouse.read(path) as con:
        victim, n_docs = con.execute(
            "SELECT author_hash, count(*) FROM documents WHERE author_hash IS NOT NULL "
            "GROUP BY 1 ORDER BY 2 DESC LIMIT 1").fetchone()
        other = con.execute("SELECT doc_id FROM documents WHERE author_hash IS NULL LIMIT 1").fetchone()[0]
        before = con.execute("SELECT sum(authors) FROM topic_periods").fetchone()[0]
    token = f"<USER:{victim}>"
    with warehouse.write(path) as con:
        con.execute("UPDATE documents SET text = text || ? WHERE doc_id = ?",
                    [f' [quote="{token}, post:2, topic:9"]my secret words[/quote] I agree with {token}',
                     other])
    done = erase(filled, pseudonym=token)
    assert (done.documents, done.quotes, done.quoting_documents) == (n_docs, 1, 1)
    with warehouse.read(path) as con:
        left = con.execute("SELECT count(*) FROM documents WHERE author_hash = ?", [victim]).fetchone()
        assert left[0] == 0
        assert con.execute("SELECT count(*) FROM passages WHERE doc_id NOT IN (SELECT doc_id FROM documents)"
                           ).fetchone()[0] == 0
        text = con.execute("SELECT text FROM documents WHERE doc_id = ?", [other]).fetchone()[0]
        assert "my secret words" not in text and victim not in text
        after = con.execute("SELECT sum(authors) FROM topic_periods").fetchone()[0]
        log = con.execute("SELECT detail FROM privacy_log WHERE action = 'erase'").fetchone()[0]
    assert after < before
    assert "secret" not in log and victim not in log and f"{n_docs} documents" in log
    assert salt  # the salt itself is untouched


def test_forget_by_url_and_reimport_does_not_bring_it_back(filled, tmp_path):
    with warehouse.read(filled.warehouse_path) as con:
        doc_id, url = con.execute(
            "SELECT doc_id, url FROM documents WHERE channel = 'news' LIMIT 1").fetchone()
    result = CliRunner().invoke(cli, ["forget", "--url", url, "--config", str(filled.path)])
    assert result.exit_code == 0, result.output
    assert "erased 1 documents" in result.output
    with warehouse.read(filled.warehouse_path) as con:
        erased = con.execute("SELECT count(*) FROM erased_documents WHERE doc_id = ?", [doc_id]).fetchone()
    assert erased[0] == 1


def test_salt_rotation_keeps_who_is_who(project, tmp_path, monkeypatch):
    monkeypatch.delenv("RADAR_PSEUDONYM_SALT")
    cfg = load_config(project)
    from radar.core.privacy import ensure_salt_file

    ensure_salt_file(cfg.warehouse_path)
    salt = load_salt(cfg.warehouse_path)
    fx.build(cfg.warehouse_path)
    a = author_hash("alice", salt)
    with warehouse.write(cfg.warehouse_path) as con:
        con.execute("UPDATE documents SET author_hash = ?, text = text || ? WHERE doc_id = "
                    "(SELECT min(doc_id) FROM documents WHERE channel = 'citizen')",
                    [a, " thanks " + pseudonym("bob", salt)])
    distinct_before = len(_authors(cfg))
    rotate_salt(cfg)
    new_salt = load_salt(cfg.warehouse_path)
    assert new_salt != salt
    authors = _authors(cfg)
    assert len(authors) == distinct_before and a not in authors
    assert author_hash("alice", new_salt) in authors  # a new post by alice is the same person
    with warehouse.read(cfg.warehouse_path) as con:
        n = con.execute("SELECT count(*) FROM documents WHERE text LIKE ?",
                        [f"%{pseudonym('bob', new_salt)}%"]).fetchone()[0]
    assert n == 1


def test_an_erased_document_is_not_imported_again(project, tmp_path):
    import json

    from crawlers.importer import import_file

    cfg = load_config(project)
    path = tmp_path / "posts.jsonl"
    path.write_text(json.dumps({"text": "The ferry timetable should suit shift workers.",
                                "source": "forum", "channel": "citizen", "author": "someone",
                                "url": "https://forum.example/p/1"}) + "\n")
    assert import_file(path, cfg.warehouse_path).new_documents == 1
    assert erase(cfg, url="https://forum.example/p/1").documents == 1
    again = import_file(path, cfg.warehouse_path)
    assert again.new_documents == 0
    with warehouse.read(cfg.warehouse_path) as con:
        assert con.execute("SELECT count(*) FROM documents").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM document_sources").fetchone()[0] == 0

"""`radar import`: formats, idempotency, bad rows, pseudonymisation."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from crawlers.import_files import ImportFileError
from crawlers.importer import import_file
from radar.app.cli import cli
from radar.core import warehouse

ROWS = [
    {"url": "https://city.example/news/1?utm_source=x", "title": "Library opens makerspace",
     "text": "The central library opened a makerspace with 3D printers.",
     "published_at": "2026-03-01T10:00:00Z", "source": "city-news", "channel": "news", "author": ""},
    {"url": "", "title": "", "text": "We need safe bike lanes on Main Street. Mail me: ann@example.org",
     "published_at": "2026-03-02 08:30", "source": "forum", "channel": "citizen",
     "author": "Ann Example"},
    {"url": "https://gov.example/p/2", "title": "Heat pump grants",
     "text": "The council proposes grants for heat pumps in social housing.",
     "published_at": "2 March 2026", "source": "gov", "channel": "policy", "author": None},
]


def _jsonl(path, rows):
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def _csv(path, rows):
    import csv

    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def _docs(path):
    with warehouse.read(path) as con:
        return con.execute(
            "SELECT url, canonical_url, title, text, published_at, source, channel, language, "
            "author_hash FROM documents ORDER BY source"
        ).fetchall()


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_each_format_imports_the_same_documents(tmp_path, warehouse_path, fmt):
    path = tmp_path / f"in.{fmt}"
    if fmt == "jsonl":
        _jsonl(path, ROWS)
    elif fmt == "csv":
        _csv(path, ROWS)
    else:
        pq.write_table(pa.Table.from_pylist(ROWS), path)
    result = import_file(path, warehouse_path)
    assert (result.rows, result.new_documents, result.bad_rows) == (3, 3, [])
    docs = {d[5]: d for d in _docs(warehouse_path)}
    assert docs["city-news"][1] == "https://city.example/news/1"
    assert str(docs["gov"][4]) == "2026-03-02 00:00:00"
    assert str(docs["city-news"][4]) == "2026-03-01 10:00:00"
    assert docs["forum"][7] == "en"
    # Citizen text is redacted and the author is a keyed hash, never the name.
    assert "ann@example.org" not in docs["forum"][3] and "<EMAIL>" in docs["forum"][3]
    assert docs["forum"][8] and len(docs["forum"][8]) == 20
    assert docs["city-news"][8] is None


def test_reimport_adds_nothing(tmp_path, warehouse_path):
    path = _jsonl(tmp_path / "in.jsonl", ROWS)
    import_file(path, warehouse_path)
    again = import_file(path, warehouse_path)
    assert again.new_documents == 0
    assert again.skipped_existing == 3
    assert len(_docs(warehouse_path)) == 3


def test_raw_author_name_never_reaches_the_warehouse_file(tmp_path, warehouse_path):
    import_file(_jsonl(tmp_path / "in.jsonl", ROWS), warehouse_path)
    raw = warehouse_path.read_bytes()
    wal = warehouse_path.with_name(warehouse_path.name + ".wal")
    if wal.exists():
        raw += wal.read_bytes()
    assert b"Ann Example" not in raw and b"ann example" not in raw


def test_same_author_same_pseudonym_different_salt_different(tmp_path, warehouse_path, monkeypatch):
    rows = [dict(ROWS[1], text=f"post {i} about bike lanes and buses") for i in range(2)]
    import_file(_jsonl(tmp_path / "a.jsonl", rows), warehouse_path)
    hashes = {d[8] for d in _docs(warehouse_path)}
    assert len(hashes) == 1
    monkeypatch.setenv("RADAR_PSEUDONYM_SALT", "another-salt")
    import_file(_jsonl(tmp_path / "b.jsonl", [dict(ROWS[1], text="a third post")]), warehouse_path)
    assert len({d[8] for d in _docs(warehouse_path)}) == 2


def test_bad_rows_are_reported_with_line_and_reason_and_good_rows_kept(tmp_path, warehouse_path):
    lines = [
        json.dumps(ROWS[0]),
        json.dumps(dict(ROWS[2], text="")),
        "{not json",
        json.dumps(dict(ROWS[2], published_at="the day after never")),
        json.dumps(dict(ROWS[2], channel="television")),
        "",
        json.dumps(ROWS[2]),
        json.dumps(["a", "list"]),
    ]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = import_file(path, warehouse_path, source=None)
    assert result.new_documents == 2
    reasons = {b.line: b.reason for b in result.bad_rows}
    assert set(reasons) == {2, 3, 4, 5, 8}
    assert reasons[2] == "no text"
    assert "not valid JSON" in reasons[3]
    assert "unparseable published_at" in reasons[4]
    assert "unknown channel 'television'" in reasons[5]
    with warehouse.read(warehouse_path) as con:
        errors = con.execute("SELECT url, reason FROM fetch_errors ORDER BY url").fetchall()
        run = con.execute("SELECT status, pages, new_documents, errors FROM crawl_runs").fetchone()
    assert ("bad.jsonl:2", "no text") in errors
    assert run == ("partial", 7, 2, 5)


def test_csv_line_numbers_count_multiline_fields(tmp_path, warehouse_path):
    path = tmp_path / "in.csv"
    path.write_text(
        'url,title,text,published_at,source,channel\n'
        'https://a.example/1,A,"first\nline two",2026-01-01,s,news\n'
        'https://a.example/2,B,,2026-01-01,s,news\n'
        'https://a.example/3,C,ok,2026-01-01,s,news,extra\n',
        encoding="utf-8",
    )
    result = import_file(path, warehouse_path)
    assert {b.line: b.reason for b in result.bad_rows} == {
        4: "no text", 5: "1 more fields than the header has",
    }


def test_source_and_channel_options_override_the_file(tmp_path, warehouse_path):
    rows = [{k: v for k, v in r.items() if k not in ("source", "channel")} for r in ROWS]
    result = import_file(_jsonl(tmp_path / "in.jsonl", rows), warehouse_path,
                         source="archive", channel="policy")
    assert result.new_documents == 3
    assert {(d[5], d[6]) for d in _docs(warehouse_path)} == {("archive", "policy")}


def test_unknown_format_and_missing_file(tmp_path, warehouse_path):
    (tmp_path / "x.xlsx").write_text("nope")
    with pytest.raises(ImportFileError, match="unknown format"):
        import_file(tmp_path / "x.xlsx", warehouse_path)
    with pytest.raises(ImportFileError, match="not found"):
        import_file(tmp_path / "missing.csv", warehouse_path)


def test_cli_import_reports_counts_and_bad_rows(tmp_path, project):
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(ROWS[0]) + "\n" + json.dumps(dict(ROWS[1], text=" ")) + "\n")
    result = CliRunner().invoke(cli, ["import", str(path), "--config", str(project)])
    assert result.exit_code == 0, result.output
    assert "in.jsonl:2: skipped: no text" in result.output
    assert "2 rows read, 1 new documents" in result.output
    status = CliRunner().invoke(cli, ["status", "--config", str(project)])
    assert status.exit_code == 0
    assert "city-news" in status.output and "no text" in status.output

"""`radar import` accounts for every row: read = stored + already present + duplicates in the
file + rejected; distinct texts are never merged; one bad value rejects only its row."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawlers.importer import DateWindow, import_file
from radar.app.cli import cli
from radar.core import warehouse

UNGDC = Path("/work/shared/fixtures/ungdc-dev/paragraphs_1990_2007.jsonl")
FIXTURE = Path(__file__).parent / "fixtures" / "ungdc-dev" / "paragraphs_1990_2007.jsonl"


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _row(**kw) -> str:
    base = {"url": "https://un.example/1990/KWT", "title": "KWT", "text": "Peace and security.",
            "published_at": "1990-09-25", "source": "ungdc", "channel": "policy"}
    return json.dumps({**base, **kw})


def _query(path, sql):
    return warehouse.query(path, sql)


def test_the_un_debate_archive_imports_as_6220_documents(warehouse_path):
    archive = FIXTURE if FIXTURE.exists() else UNGDC
    result = import_file(archive, warehouse_path)
    assert (result.rows, result.new_documents, result.duplicates, result.rejected) == (
        6220, 6220, 0, 0)
    assert _query(warehouse_path, "SELECT count(*) FROM documents") == [(6220,)]
    # The paragraph URLs keep their #p<N>; the canonical URL is the speech's.
    url, canon = _query(warehouse_path, "SELECT url, canonical_url FROM documents LIMIT 1")[0]
    assert "#p" in url and "#" not in canon
    again = import_file(archive, warehouse_path)
    assert (again.new_documents, again.skipped_existing, again.duplicates) == (0, 6220, 0)
    runs = _query(warehouse_path, "SELECT rows_read, stored, already_present, duplicates, "
                                  "rejected, status FROM import_runs ORDER BY run_id")
    assert runs == [(6220, 6220, 0, 0, 0, "ok"), (6220, 0, 6220, 0, 0, "ok")]


@pytest.mark.parametrize("merge_every", [65_536, 1])  # 1: every key already merged
def test_same_document_only_when_same_url_and_text_or_same_id(tmp_path, warehouse_path,
                                                              monkeypatch, merge_every):
    from crawlers import seen_keys

    monkeypatch.setattr(seen_keys, "MERGE_EVERY", merge_every)
    kwt = "https://un.example/1990/KWT"
    path = _write(tmp_path / "a.jsonl", [
        _row(url=kwt + "#p1", text="First paragraph."),
        _row(url=kwt + "#p2", text="Second paragraph."),
        _row(url=kwt + "#p1", text="First paragraph."),          # 3: the same as 1
        _row(url=kwt + "#p3", text="First paragraph."),          # 4: repeated later: distinct
        _row(url=kwt + "?utm_source=x", text="Third, other text."),
        _row(url=kwt, text="Third, other text."),                # 6: same canonical URL as 5
        _row(url="", id="c-1", text="A comment."),
        _row(url="", id="c-1", text="The comment, edited."),     # 8: same id as 7
        _row(url="", id="c-2", text="A comment."),               # 9: other id
    ])
    result = import_file(path, warehouse_path)
    assert (result.rows, result.new_documents, result.duplicates, result.rejected) == (9, 6, 3, 0)
    texts = sorted(t for (t,) in _query(warehouse_path, "SELECT text FROM documents"))
    assert texts == ["A comment.", "A comment.", "First paragraph.", "First paragraph.",
                     "Second paragraph.", "Third, other text."]


def test_a_crawled_page_with_the_same_text_is_already_present(tmp_path, warehouse_path):
    first = import_file(_write(tmp_path / "1.jsonl", [_row(url="https://x.example/a",
                                                          source="crawl")]), warehouse_path)
    again = import_file(_write(tmp_path / "2.jsonl", [_row(url="https://x.example/a?utm_x=1",
                                                          source="archive")]), warehouse_path)
    assert (first.new_documents, again.skipped_existing) == (1, 1)
    carriers = _query(warehouse_path, "SELECT source FROM document_sources ORDER BY source")
    assert carriers == [("archive",), ("crawl",)]


def test_a_bad_value_rejects_its_row_only(tmp_path, warehouse_path):
    path = _write(tmp_path / "b.jsonl", [
        _row(url="https://x.example/1", text="Good one."),
        '{"url": "https://x.example/2", "title": "bad \\ud800 title", "text": "Lone surrogate.", '
        '"source": "s", "channel": "news"}',
        _row(url="https://x.example/3", text="Far future.", published_at="9999-12-31"),
        _row(url="https://x.example/4", text="Too old.", published_at="1850-01-01"),
        _row(url="https://x.example/5", text="Tomorrow plus.", published_at="2999-01-01T00:00:00Z"),
        _row(url="https://x.example/6", text={"nested": "object"}),
        _row(url="https://x.example/7", text="Epoch overflow.", published_at=10**30),
        _row(url="https://x.example/8", text="Good two."),
    ])
    result = import_file(path, warehouse_path)
    reasons = {b.line: b.reason for b in result.bad_rows}
    assert result.new_documents == 2 and set(reasons) == {2, 3, 4, 5, 6, 7}
    assert reasons[2].startswith("title: not valid Unicode (a lone surrogate")
    assert "9999-12-31 00:00 is outside 1900-01-01" in reasons[3]
    assert "1850-01-01 00:00 is outside" in reasons[4]
    assert "the [ingest] window" in reasons[5]
    assert "text: expected text, got a JSON dict" in reasons[6]
    assert "not a plausible epoch time" in reasons[7]
    errors = _query(warehouse_path, "SELECT url FROM fetch_errors ORDER BY url")
    assert [u for (u,) in errors] == [f"b.jsonl:{n}" for n in (2, 3, 4, 5, 6, 7)]


def test_the_date_window_is_configurable(tmp_path, warehouse_path):
    path = _write(tmp_path / "c.jsonl", [_row(url="https://x.example/1", published_at="1899-05-01")])
    window = DateWindow(datetime(1800, 1, 1), datetime(2100, 1, 1))
    assert import_file(path, warehouse_path, window=window).new_documents == 1


def test_cli_prints_the_account_and_reads_the_window_from_the_config(tmp_path, project):
    text = project.read_text(encoding="utf-8").replace('earliest = "1900-01-01"',
                                                        'earliest = "1995-01-01"')
    project.write_text(text, encoding="utf-8")
    path = _write(tmp_path / "d.jsonl", [
        _row(url="https://x.example/1", published_at="1990-09-25"),
        _row(url="https://x.example/2", published_at="1996-09-25"),
        _row(url="https://x.example/2", published_at="1996-09-25"),
    ])
    result = CliRunner().invoke(cli, ["import", str(path), "--config", str(project)])
    assert result.exit_code == 0, result.output
    assert ("3 rows read, 1 new documents, 0 already present, 1 duplicates in the file, "
            "1 rejected") in result.output
    assert "d.jsonl:1: skipped: published_at 1990-09-25 00:00 is outside 1995-01-01" in (
        result.output)


def test_cli_exits_1_when_every_row_is_rejected(tmp_path, project):
    path = _write(tmp_path / "e.jsonl", ["{not json", _row(text="")])
    result = CliRunner().invoke(cli, ["import", str(path), "--config", str(project)])
    assert result.exit_code == 1
    assert "2 rows read, 0 new documents, 0 already present, 0 duplicates in the file, " \
           "2 rejected" in result.output


# -- property: for any file of valid and invalid rows, the counts add up --------------------

_TEXTS = st.sampled_from(["Alpha.", "Beta text.", "Gamma words here.", "Alpha."])
_URLS = st.sampled_from(["", "https://a.example/1", "https://a.example/1#p2",
                         "https://a.example/2?utm_source=x", "https://a.example/2"])
_GOOD = st.fixed_dictionaries({
    "url": _URLS, "text": _TEXTS, "source": st.sampled_from(["s1", "s2"]),
    "channel": st.sampled_from(["news", "policy", "citizen"]),
    "published_at": st.sampled_from(["2020-01-01", "", "2024-05-05T10:00:00Z"]),
    "author": st.sampled_from(["", "Ann", "Bo"]),
}, optional={"id": st.sampled_from(["x1", "x2"])})
_BAD_LINES = st.one_of(
    st.just("{not json"), st.just("[1, 2]"),
    _GOOD.map(lambda r: json.dumps({**r, "text": ""})),
    _GOOD.map(lambda r: json.dumps({**r, "channel": "tv"})),
    _GOOD.map(lambda r: json.dumps({**r, "published_at": "9999-01-01"})),
    _GOOD.map(lambda r: json.dumps({**r, "title": "\ud800"})),
    _GOOD.map(lambda r: json.dumps({**r, "published_at": "no date at all"})),
)
_LINES = st.lists(st.one_of(_GOOD.map(json.dumps), _BAD_LINES), min_size=1, max_size=25)


@pytest.fixture(scope="module")
def blank_project(tmp_path_factory):
    """One initialised project, copied for every generated example (init costs seconds)."""
    from radar.app.init_project import init_project

    folder = tmp_path_factory.mktemp("blank")
    init_project(folder / "radar.toml")
    return folder


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(lines=_LINES)
def test_every_row_is_stored_present_duplicate_or_rejected(lines, blank_project, tmp_path_factory,
                                                          monkeypatch):
    monkeypatch.setenv("RADAR_PSEUDONYM_SALT", "prop-salt")
    folder = tmp_path_factory.mktemp("prop")
    for f in blank_project.iterdir():
        shutil.copy(f, folder / f.name)
    wh = folder / "radar.duckdb"
    path = _write(folder / "rows.jsonl", lines)
    first = import_file(path, wh)
    assert first.rows == len(lines)
    assert first.rows == (first.new_documents + first.skipped_existing + first.duplicates
                          + first.rejected)
    assert first.skipped_existing == 0
    assert all(b.reason for b in first.bad_rows)
    assert {b.line for b in first.bad_rows} <= set(range(1, len(lines) + 1))
    stored = _query(wh, "SELECT count(*) FROM documents")[0][0]
    assert stored == first.new_documents
    rejected = _query(wh, f"SELECT count(*) FROM fetch_errors WHERE run_id = {first.run_id}")
    assert rejected == [(first.rejected,)]
    # Importing the same file again: every accepted row is already present, nothing new.
    again = import_file(path, wh)
    assert again.new_documents == 0
    assert again.skipped_existing == first.new_documents
    assert (again.duplicates, again.rejected) == (first.duplicates, first.rejected)
    runs = _query(wh, "SELECT rows_read - stored - already_present - duplicates - rejected "
                      "FROM import_runs")
    assert runs == [(0,), (0,)]

"""Citizen channels: a Discourse-compatible API with paged topics, an HTML forum described
by CSS selectors, and a Polis CSV export; privacy of authors and contact details."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pytest
from crawl_web import (
    PLANTED_AUTHOR,
    PLANTED_EMAIL,
    PLANTED_PHONE,
    LocalWeb,
    add_discourse_reply,
    build_discourse,
    by_source,
    make_project,
    offline_env,
    rows,
    source,
)

from crawlers.run import crawl_sources
from radar.core.privacy import author_hash

POLIS = Path(__file__).parent / "fixtures" / "crawl_exports" / "polis-15-per-hour-seattle.csv"


def _html_forum(web: LocalWeb) -> None:
    threads = "".join(f'<li><a class="thread" href="/board/thread-{t}.html">Thread {t}</a></li>'
                      for t in (1, 2))
    web.add("/board/index.html", f"<html><body><ul>{threads}</ul></body></html>")
    for t in (1, 2):
        for page in (1, 2):
            posts = ""
            for n in range(1, 4):
                pid = f"t{t}p{page}n{n}"
                body = (f"Thread {t} post {pid}: the new bus lanes on the high street need "
                        f"better crossings for older residents and children walking to school.")
                if pid == "t1p1n2":
                    body += " Ring me on 0207 946 0123 or mail bob.smith@example.net please."
                if pid == "t2p2n3":
                    body = ""
                posts += (f'<div class="post" id="{pid}"><span class="author">Resident {n}'
                          f'</span><time datetime="2025-04-0{n}T18:30:00+02:00">April</time>'
                          f'<div class="body"><p>{body}</p></div></div>')
            nxt = f'<a rel="next" href="/board/thread-{t}-2.html">next</a>' if page == 1 else ""
            path = f"/board/thread-{t}.html" if page == 1 else f"/board/thread-{t}-2.html"
            web.add(path, f"<html><body><h1>Bus lanes {t}</h1>{posts}{nxt}</body></html>")


@pytest.fixture(scope="module")
def citizens(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp, LocalWeb() as web:
        offline_env(mp)
        forum = build_discourse(web, "/forum")
        _html_forum(web)
        web.add("/exports/comments.csv", POLIS.read_bytes(), "text/csv")
        cfg = make_project(tmp_path_factory.mktemp("citizens"), [
            source("town-forum", "forum", web.url("/forum"), "citizen", max_depth=5),
            source("board", "forum", web.url("/board/index.html"), "citizen", format="html",
                   selectors={"thread": "a.thread", "post": "div.post", "body": ".body",
                              "author": ".author", "date": "time"}),
            source("polis", "export", web.url("/exports/comments.csv"), "citizen",
                   fields={"text": "comment-body", "id": "comment-id",
                           "published_at": "timestamp", "author": "author-id",
                           "moderated": "moderated"}),
        ])
        first = by_source(crawl_sources(cfg))
        first_hits = list(web.hits)
        add_discourse_reply(web, "/forum", forum, 2, "Late reply: the library should open on "
                            "Sundays, many of us work all week and cannot visit otherwise.")
        web.clear_log()
        second = by_source(crawl_sources(cfg))
        yield {"cfg": cfg, "web": web, "forum": forum, "first": first, "second": second,
               "first_hits": first_hits, "second_hits": list(web.hits)}


def test_every_discourse_post_is_a_citizen_document_with_its_thread(citizens):
    cfg, forum = citizens["cfg"], citizens["forum"]
    assert citizens["first"]["town-forum"].new_documents == forum["expected_posts"] == 39
    docs = rows(cfg, "SELECT d.url, d.title, d.published_at, d.channel, d.author_hash, "
                     "p.thread_url, p.post_number, p.reply_to FROM documents d "
                     "JOIN forum_posts p USING (doc_id) WHERE d.source = 'town-forum' "
                     "AND p.thread_url LIKE '%/t/topic-1/1'")
    assert len(docs) == 27  # beyond the first 20, fetched through posts.json
    assert {d[3] for d in docs} == {"citizen"}
    first = next(d for d in docs if d[6] == 1)
    assert first[0].endswith("/forum/t/topic-1/1/1")
    assert first[1] == forum["topics"][0]["title"]
    assert first[2] == datetime(2025, 1, 11, 10, 0)
    assert all(d[4] for d in docs)  # every post has a pseudonymous author
    assert {d[7] for d in docs if d[6] > 1} == {1}
    fetched = {h.path for h in citizens["first_hits"]}
    assert "/forum/latest.json?no_definitions=true&page=1" in fetched  # paged topic list
    (mods,) = rows(cfg, "SELECT count(*) FROM documents WHERE text LIKE '%closed this topic%'")[0]
    assert mods == 0  # moderator actions are not citizen voices


def test_contact_details_are_redacted_and_authors_pseudonymised(citizens):
    cfg = citizens["cfg"]
    (text, ahash) = rows(cfg, "SELECT text, author_hash FROM documents WHERE url LIKE "
                              "'%/t/topic-2/2/1'")[0]
    assert PLANTED_EMAIL not in text and PLANTED_PHONE not in text
    assert "<EMAIL>" in text and "<PHONE>" in text
    assert ahash == author_hash(PLANTED_AUTHOR, b"crawl-test-salt")
    board = rows(cfg, "SELECT text FROM documents WHERE source = 'board' AND text LIKE '%Ring me%'")
    assert board and "bob.smith" not in board[0][0] and "0207 946 0123" not in board[0][0]


def test_no_raw_author_name_anywhere_in_the_warehouse(citizens):
    cfg = citizens["cfg"]
    columns = rows(cfg, "SELECT table_name, column_name FROM duckdb_columns() "
                        "WHERE data_type = 'VARCHAR' AND schema_name = 'main'")
    for table, column in columns:
        hits = rows(cfg, f'SELECT count(*) FROM "{table}" WHERE "{column}" ILIKE ?',
                    [f"%{PLANTED_AUTHOR}%"])
        assert hits[0][0] == 0, (table, column)
    raw = cfg.warehouse_path.read_bytes()
    assert PLANTED_AUTHOR.encode() not in raw


def test_html_forum_posts_by_selectors(citizens):
    cfg = citizens["cfg"]
    docs = rows(cfg, "SELECT d.url, d.title, d.published_at, d.author_hash, p.thread_url, "
                     "p.post_number FROM documents d JOIN forum_posts p USING (doc_id) "
                     "WHERE d.source = 'board' ORDER BY d.url")
    assert len(docs) == 11  # 2 threads x 2 pages x 3 posts, one without text
    assert all(d[1] in ("Bus lanes 1", "Bus lanes 2") for d in docs)
    assert {d[2] for d in docs} == {datetime(2025, 4, n, 16, 30) for n in (1, 2, 3)}
    assert {d[4].rsplit("/", 1)[1] for d in docs} == {"thread-1.html", "thread-2.html"}
    assert {d[5] for d in docs} == set(range(1, 7))
    first_run = "SELECT min(run_id) FROM crawl_runs WHERE source = 'board'"
    reasons = [r for (r,) in rows(cfg, "SELECT reason FROM fetch_errors WHERE source = 'board' "
                                       f"AND run_id = ({first_run})")]
    assert reasons == ["post 6 has no text (selector '.body')"]


def test_polis_export_rows_become_documents(citizens):
    cfg = citizens["cfg"]
    with POLIS.open(encoding="utf-8") as fh:
        kept = [r for r in csv.DictReader(fh) if float(r["moderated"]) >= 0]
    docs = rows(cfg, "SELECT text, published_at, author_hash, channel FROM documents "
                     "WHERE source = 'polis'")
    assert len(docs) == len(kept) == 31  # rejected comments (moderated -1) are left out
    by_text = {d[0]: d for d in docs}
    sample = kept[0]
    doc = by_text[sample["comment-body"].strip()]
    assert doc[1] == datetime.utcfromtimestamp(int(sample["timestamp"]) / 1000).replace(
        microsecond=doc[1].microsecond)
    assert doc[2] == author_hash(sample["author-id"], b"crawl-test-salt")
    assert doc[3] == "citizen"


def test_second_crawl_fetches_only_what_changed(citizens):
    second, hits = citizens["second"], citizens["second_hits"]
    assert second["town-forum"].new_documents == 1  # the late reply
    assert second["board"].new_documents == 0
    assert second["polis"].new_documents == 0
    paths = {h.path for h in hits}
    assert "/forum/t/3.json" in paths  # the topic with the new reply
    assert not {"/forum/t/1.json", "/forum/t/2.json", "/forum/t/4.json"} & paths
    export = [h for h in hits if h.path == "/exports/comments.csv"]
    assert export and export[0].status == 304
    (n,) = rows(citizens["cfg"], "SELECT count(*) FROM documents WHERE text LIKE 'Late reply%'")[0]
    assert n == 1


def test_unchanged_html_forum_pages_are_not_downloaded_again(citizens):
    """Thread pages are asked conditionally; a 304 page still leads on to the thread's next
    page (remembered from the last run), which is asked conditionally too."""
    hits = citizens["second_hits"]
    threads = [h for h in hits if h.path.startswith("/board/thread-")]
    assert {h.path for h in threads} == {"/board/thread-1.html", "/board/thread-1-2.html",
                                         "/board/thread-2.html", "/board/thread-2-2.html"}
    assert {h.status for h in threads} == {304}
    first = [h for h in citizens["first_hits"] if h.path.startswith("/board/thread-")]
    assert {h.status for h in first} == {200}

"""Topic terms counted in the warehouse (nlp/label_counts.py) are `nlp.terms.topic_terms`'.

On 676 real citizen comments in a real DuckDB warehouse: the same top terms for every
topic and the same learned common terms, with stop words, outliers, several periods, a
word one voice repeats, and passages without terms; the edge cases as `topic_terms`
handles them; DuckDB's memory limit restored and no temporary table left behind.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import numpy as np
import pytest

from nlp.label_counts import label_memory, topic_terms_in_memory, topic_terms_in_warehouse
from nlp.terms import topic_terms
from radar.core import warehouse

POLIS = Path(__file__).parent / "fixtures" / "scoring" / "polis_background.csv"


def build(path: Path, seed: int = 5, lone: bool = True) -> None:
    """The real comments as passages (their text as terms), a topic per conversation with a
    tenth left as outliers, dated over six months; citizen posts with authors, and a third
    as news from one of four sources. With `lone`, one author repeats a phrase of their own
    in one topic, and a few passages carry no terms."""
    rng = random.Random(seed)
    with POLIS.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    convos = sorted({r["conversation"] for r in rows})
    largest = max(convos, key=[r["conversation"] for r in rows].count)
    docs, passages, assigned = [], [], []
    for i, r in enumerate(rows):
        doc = f"d{i}"
        news = i % 3 == 0
        text = r["text"]
        if lone and r["conversation"] == largest and not news and i % 4 == 0:
            text += " zebra crossings zebra crossings"
            author = "loud"
        else:
            author = f"{r['conversation']}:{r['author_id']}"
        if lone and i % 50 == 7:
            text = "!!"
        month = 1 + rng.randrange(6)
        docs.append((doc, text, f"2024-{month:02d}-{1 + rng.randrange(27):02d}",
                     f"paper-{i % 4}" if news else f"polis-{r['conversation']}",
                     "news" if news else "citizen", None if news else author))
        passages.append((f"{doc}:0", doc, text))
        topic = -1 if rng.random() < 0.1 else convos.index(r["conversation"])
        assigned.append((f"{doc}:0", topic))
    with warehouse.write(path) as con:
        con.executemany("""INSERT INTO documents (doc_id, text, published_at, fetched_at, source,
                           channel, author_hash, content_hash)
                           VALUES (?, ?, ?, TIMESTAMP '2024-07-01', ?, ?, ?, 'h')""", docs)
        con.executemany("INSERT INTO passages (passage_id, doc_id, seq, text, n_words, terms) "
                        "VALUES (?, ?, 0, ?, 1, ?)", [(p, d, t, t) for p, d, t in passages])
        con.executemany("INSERT INTO passage_topics (passage_id, topic_id, probability, "
                        "model_version) VALUES (?, ?, 1.0, 'test')", assigned)


def _docs_and_labels(path: Path):
    rows = warehouse.query(path, """SELECT p.terms, pt.topic_id FROM passages p
                                    JOIN passage_topics pt USING (passage_id)
                                    ORDER BY p.passage_id""")
    return [r[0] for r in rows], np.array([r[1] for r in rows])


@pytest.mark.parametrize("period, stop_words", [("month", ()), ("year", ()),
                                                ("month", ("the", "to", "and", "crossings"))])
def test_the_same_terms_and_common_terms_as_in_memory(tmp_path, period, stop_words):
    path = tmp_path / "w.duckdb"
    build(path)
    with warehouse.read(path) as con:
        want_terms, want_common = topic_terms_in_memory(con, period, stop_words)
        got_terms, got_common = topic_terms_in_warehouse(con, period, stop_words)
    assert got_terms == want_terms
    assert got_common.keys() == want_common.keys()
    assert all(got_common[t] == pytest.approx(want_common[t], rel=1e-9) for t in want_common)
    # The corpus exercises what it should: common words learned (in every month, on every
    # topic), a topic of many words, and the loud author's phrase ranked after shared words.
    if period == "month" and not stop_words:
        assert {"the", "to"} <= set(got_common) and len(got_terms) == 9
        with warehouse.read(path) as con:
            loud = con.execute("""SELECT DISTINCT pt.topic_id FROM passages p
                                  JOIN passage_topics pt USING (passage_id)
                                  WHERE p.terms LIKE '%zebra%' AND pt.topic_id >= 0""").fetchall()
        assert len(loud) == 1
        topic = loud[0][0]
        plain = topic_terms(*_docs_and_labels(path), n_terms=10)[topic]
        assert "zebra crossings" in plain[:3] and "zebra crossings" not in got_terms[topic]
    if stop_words:
        assert not any("crossings" in t for terms in got_terms.values() for t in terms)


def test_edge_cases_as_in_memory(tmp_path):
    path = tmp_path / "w.duckdb"
    build(path, lone=False)
    with warehouse.write(path) as con:  # one topic only: no common terms
        con.execute("UPDATE passage_topics SET topic_id = 3 WHERE topic_id >= 0")
    with warehouse.read(path) as con:
        assert topic_terms_in_warehouse(con, "month") == topic_terms_in_memory(con, "month")
        assert topic_terms_in_warehouse(con, "month")[1] == {}
    with warehouse.write(path) as con:  # no term at all
        con.execute("UPDATE passages SET terms = '!'")
    with warehouse.read(path) as con:
        assert topic_terms_in_warehouse(con, "month") == ({3: []}, {})
        assert topic_terms_in_memory(con, "month")[0] == {3: []}
    with warehouse.write(path) as con:  # no topic: outliers only
        con.execute("UPDATE passage_topics SET topic_id = -1")
    with warehouse.read(path) as con:
        assert topic_terms_in_warehouse(con, "month") == ({}, {})


def test_the_memory_limit_is_restored_and_nothing_left_behind(tmp_path):
    path = tmp_path / "w.duckdb"
    build(path)
    with warehouse.read(path) as con:
        def limit():
            return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]

        before = limit()
        assigned = con.execute("SELECT count(*) FROM passage_topics").fetchone()[0]
        assert warehouse.setting_bytes(before) > label_memory(assigned)  # so it is lowered
        for _ in range(2):
            topic_terms_in_warehouse(con, "month")
        assert limit() == before
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        assert not {t for t in tables if t.startswith("lbl_")}


@pytest.mark.parametrize("in_memory_below", [0, 10**9])
def test_refresh_labels_reads_the_warehouse_counts(tmp_path, monkeypatch, in_memory_below):
    """The label refresh labels every topic from the counts (and learns the common terms),
    counted in the warehouse or, for a small corpus, in memory: the same either way."""
    from nlp import label_counts
    from nlp.refresh import refresh_labels

    monkeypatch.setattr(label_counts, "IN_MEMORY_PASSAGES", in_memory_below)

    path = tmp_path / "w.duckdb"
    build(path)
    with warehouse.write(path) as con:
        con.execute("""INSERT INTO topics (topic_id, label, top_terms, service_area, size,
                                           model_version)
                       SELECT DISTINCT topic_id, 'x', ['x'], 'other', 0, 'test'
                       FROM passage_topics WHERE topic_id >= 0""")
    with warehouse.read(path) as con:
        want, common = topic_terms_in_memory(con, "month")
    changed = refresh_labels(path, [], "month")
    assert changed == set(want)
    stored = dict(warehouse.query(path, "SELECT topic_id, top_terms FROM topics"))
    assert {t: list(v) for t, v in stored.items()} == want
    assert {r[0] for r in warehouse.query(path, "SELECT term FROM common_terms")} == set(common)


def test_the_same_on_each_warehouse_backend(backend_project):
    """On DuckLake (its catalog in a real PostgreSQL) the counts run on the lake's own
    connection, temporary tables and memory limit included: the same terms."""
    from radar.core.config import load_config

    path = load_config(backend_project).warehouse_path
    build(path)
    with warehouse.read(path) as con:
        want = topic_terms_in_memory(con, "month")
        got = topic_terms_in_warehouse(con, "month")
    assert got[0] == want[0] and got[1].keys() == want[1].keys() and len(got[0]) == 9

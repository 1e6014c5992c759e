"""The weak-signal tier's stored term counts (radar/scoring/term_cells.py) on a real DuckDB
warehouse: after every kind of change (passages added, edited, deleted, moved to another
period or source; another period grain), read before or after they are stored, the term
data equal the data counted from every passage."""

from __future__ import annotations

import random
from datetime import datetime

import numpy as np
import pyarrow as pa
import pytest

from radar.core import cells, portable, warehouse
from radar.core.config import ScoringConfig
from radar.scoring import term_cells
from radar.scoring.inputs import _base_sql, store_term_cells
from radar.scoring.term_inputs import load_term_data
from radar.scoring.themes import term_test_settings

WORDS = ["bus", "lane", "heat", "pump", "library", "hours", "park", "bench", "tram", "fare",
         "öffnung", "straße", "zebra", "crossing", "ebola"]
SOURCES = ["city-news", "daily", "forum", "policy-lab", "weekly"]
SETTINGS = term_test_settings(ScoringConfig(min_sources=2))


def add(path, first: int, n: int, seed: int, surge: str | None = None, month: int | None = None):
    """n one-passage documents p<first>..; months 1-8 of 2024 unless `month`; `surge`: a word
    every passage of the last month carries."""
    rng = random.Random(seed)
    docs, passages, assigned = [], [], []
    for i in range(first, first + n):
        m = month or 1 + i % 8
        words = [rng.choice(WORDS) for _ in range(rng.randrange(1, 9))]
        if surge and m == 8:
            words.insert(rng.randrange(len(words) + 1), surge)
        when = datetime(2024, m, 1 + i % 27, 12)
        docs.append({"doc_id": f"d{i}", "text": "t", "published_at": when, "fetched_at": when,
                     "source": SOURCES[i % len(SOURCES)], "channel": "news",
                     "content_hash": f"h{i}"})
        passages.append({"passage_id": f"d{i}:0", "doc_id": f"d{i}", "seq": 0, "text": "t",
                         "n_words": len(words), "terms": " ".join(words)})
        assigned.append({"passage_id": f"d{i}:0", "topic_id": i % 3 - (i % 11 == 0),
                         "probability": 0.9, "model_version": "v1"})
    with warehouse.write(path) as con:
        for name, rows in (("documents", docs), ("passages", passages), ("passage_topics", assigned)):
            con.register("batch", pa.Table.from_pylist(rows))
            con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM batch")
            con.unregister("batch")


def term_data(path, period: str, stored: bool):
    with warehouse.read(path) as con:
        con.execute(_base_sql(period))
        periods = [r[0] for r in con.execute(
            "SELECT DISTINCT period_start FROM scoring_passages ORDER BY 1").fetchall()]
        t_index = {p: i for i, p in enumerate(periods)}
        return load_term_data(con, t_index, {0: 0, 1: 1, 2: 2}, SETTINGS,
                              period if stored else None)


def assert_same(path, period: str = "month") -> None:
    """The stored counts (and what changed since) give what counting every passage gives."""
    got, want = term_data(path, period, True), term_data(path, period, False)
    assert got.vocab == want.vocab
    for field in ("counts", "sources"):
        assert np.array_equal(getattr(got.counts, field), getattr(want.counts, field))
    assert np.array_equal(got.counts.passages, want.counts.passages)
    assert np.array_equal(got.counts.period_sources, want.counts.period_sources)
    assert (got.matrix != want.matrix).nnz == 0
    assert np.array_equal(got.period, want.period) and np.array_equal(got.source, want.source)


def stored(path):
    with warehouse.read(path) as con:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("term_cells", "term_ledger")}


def test_stored_counts_follow_every_change(tmp_path):
    path = tmp_path / "w.duckdb"
    add(path, 0, 400, seed=1, surge="ebola")
    assert_same(path)                                   # nothing stored yet: all counted
    first = store_term_cells(path, "month")
    assert first["recounted"] and first["added"] == 400 and first["gone"] == 0
    assert stored(path)["term_ledger"] == 400
    assert_same(path)
    data = term_data(path, "month", True)
    assert "ebola" in data.vocab and data.matrix.shape[0] < 400  # the tests still read few

    # Nothing changed: nothing counted, nothing written.
    again = store_term_cells(path, "month")
    assert (again["added"], again["gone"], again["cells"]) == (0, 0, 0)

    # New passages, read before and after they are stored.
    add(path, 400, 60, seed=2, surge="tram")
    assert_same(path)
    more = store_term_cells(path, "month")
    assert (more["added"], more["gone"], more["recounted"]) == (60, 0, False)
    assert_same(path)

    # Edited terms, deleted passages, a document moved to another month and another source.
    with warehouse.write(path) as con:
        con.execute("UPDATE passages SET terms = 'heat pump heat crossing' "
                    "WHERE passage_id IN ('d3:0', 'd11:0', 'd19:0')")
        con.execute("DELETE FROM passages WHERE passage_id IN ('d5:0', 'd6:0')")
        con.execute("DELETE FROM passage_topics WHERE passage_id IN ('d5:0', 'd6:0', 'd7:0')")
        con.execute("UPDATE documents SET published_at = TIMESTAMP '2024-08-02 10:00', "
                    "fetched_at = TIMESTAMP '2024-08-02 10:00', source = 'elsewhere' "
                    "WHERE doc_id = 'd9'")
    assert_same(path)
    changed = store_term_cells(path, "month")
    # 3 edited + 1 moved, in and out; 3 no longer scored (one of them still a passage).
    assert (changed["added"], changed["gone"]) == (4, 7)
    assert_same(path)
    assert stored(path)["term_ledger"] == 460 - 3

    # Another grain: the stored cells are not usable and are counted again.
    assert_same(path, "week")
    week = store_term_cells(path, "week")
    assert week["recounted"] and week["added"] == 457
    assert_same(path, "week")
    with warehouse.read(path) as con:
        assert portable.duplicate_keys(con)["term_ledger"] == 0


def test_cells_are_appended_then_compacted(tmp_path, monkeypatch):
    """A first count stores a row per passage and term; deltas are appended (signed rows
    of the same cell); once the cells have grown cells.COMPACT_FACTOR times they are
    rewritten grouped, one row per cell, none empty, and read the same."""
    monkeypatch.setattr(cells, "COMPACT_FACTOR", 1.0)
    path = tmp_path / "w.duckdb"
    add(path, 0, 300, seed=3)
    store_term_cells(path, "month")

    def counts():
        with warehouse.read(path) as con:
            return con.execute("""
                SELECT count(*), count(DISTINCT (period_start, source, h)),
                       count(*) FILTER (passages <= 0) FROM term_cells""").fetchone()

    first_rows, first_cells, _ = counts()
    assert first_rows > first_cells  # a row per passage and term: a cell's rows add up
    with warehouse.write(path) as con:  # every passage of month 2 edited: -1 and +1 rows
        con.execute("UPDATE passages SET terms = terms || ' fare' WHERE passage_id IN ("
                    "SELECT passage_id FROM passages JOIN documents USING (doc_id) "
                    "WHERE month(published_at) = 2)")
    step = store_term_cells(path, "month")
    assert step["gone"] == step["added"] > 30 and step["compacted"]
    rows, distinct, empty = counts()
    with warehouse.read(path) as con:
        state = con.execute("SELECT signature, compacted FROM term_cells_state").fetchone()
    assert rows == distinct and empty == 0 and distinct > first_cells  # 'fare' cells are new
    assert state == (term_cells.signature("month"), rows)
    assert_same(path)


@pytest.mark.parametrize("rule", [term_cells.RULE + 1])
def test_cells_of_another_term_rule_are_counted_again(tmp_path, monkeypatch, rule):
    path = tmp_path / "w.duckdb"
    add(path, 0, 120, seed=4)
    store_term_cells(path, "month")
    monkeypatch.setattr(term_cells, "RULE", rule)
    with warehouse.read(path) as con:
        assert not term_cells.stored_usable(con, "month")
    again = store_term_cells(path, "month")
    assert again["recounted"] and again["added"] == 120 and stored(path)["term_ledger"] == 120
    assert_same(path)


def test_an_erasure_takes_passages_off_at_once_leaving_no_row_of_them(tmp_path):
    """`forget` (called by `radar forget` in its own transaction) removes the passages'
    ledger rows and rewrites the cells they were counted in, so no cell keeps a term only
    they had; the counts stay those of the passages left."""
    path = tmp_path / "w.duckdb"
    add(path, 0, 200, seed=5)
    with warehouse.write(path) as con:
        con.execute("UPDATE passages SET terms = terms || ' secretword' WHERE passage_id = 'd7:0'")
    store_term_cells(path, "month")
    with warehouse.write(path) as con:
        assert con.execute("SELECT count(*) FROM term_cells WHERE h = hash('secretword')"
                           ).fetchone()[0] == 1
        sub = "SELECT passage_id FROM passages WHERE doc_id IN (?, ?)"
        assert term_cells.forget(con, sub, ["d7", "d8"]) == 2
        con.execute("DELETE FROM passage_topics WHERE passage_id IN ('d7:0', 'd8:0')")
        con.execute("DELETE FROM passages WHERE doc_id IN ('d7', 'd8')")
    with warehouse.read(path) as con:
        assert con.execute("SELECT count(*) FROM term_cells WHERE h = hash('secretword')"
                           ).fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM term_ledger WHERE passage_id IN ('d7:0', 'd8:0')"
                           ).fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM (SELECT period_start, source, h FROM term_cells "
                           "GROUP BY ALL HAVING sum(passages) = 0)").fetchone()[0] == 0
    assert_same(path)
    assert store_term_cells(path, "month")["gone"] == 0  # nothing left to take off


def test_when_most_passages_changed_everything_is_counted_again(tmp_path):
    """A delta of more than cells.RECOUNT_SHARE of the passages (a new term rule upstream, a
    re-analysis) is counted afresh: no -1 rows for every passage, the same counts."""
    path = tmp_path / "w.duckdb"
    add(path, 0, 160, seed=6)
    store_term_cells(path, "month")
    with warehouse.write(path) as con:
        con.execute("UPDATE passages SET terms = terms || ' tram' WHERE passage_id < 'd6'")
    with warehouse.read(path) as con:
        edited = con.execute("SELECT count(*) FROM passages WHERE passage_id < 'd6'").fetchone()[0]
    assert edited > 160 * cells.RECOUNT_SHARE / 2
    assert_same(path)
    again = store_term_cells(path, "month")
    assert again["recounted"] and again["gone"] == 0 and again["added"] == 160
    with warehouse.read(path) as con:
        assert con.execute("SELECT count(*) FROM term_cells WHERE passages < 0").fetchone()[0] == 0
    assert_same(path)


def test_a_store_that_runs_out_of_memory_is_rolled_back_and_run_again(tmp_path, monkeypatch, caplog):
    """Within too little of DuckDB's memory the store fails, its batch rolls back whole, and
    it runs again with more: the same counts, and a warning saying so."""
    import radar.scoring.inputs as inputs

    path = tmp_path / "w.duckdb"
    add(path, 0, 400, seed=7)
    monkeypatch.setattr(inputs, "term_memory", lambda passages: 1_000_000)
    with caplog.at_level("WARNING"):
        did = store_term_cells(path, "month")
    assert did["recounted"] and did["added"] == 400
    assert "ran out of memory" in caplog.text
    assert stored(path)["term_ledger"] == 400
    assert_same(path)

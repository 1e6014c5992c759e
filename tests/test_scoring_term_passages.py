"""The weak-signal tier's term matrix, counted in DuckDB, against scikit-learn's
CountVectorizer (what it replaced): the same vocabulary, matrix and passage indices."""

from __future__ import annotations

import random
from datetime import date

import duckdb
import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer

from radar.scoring.term_inputs import load_term_passages

WORDS = ["bus", "lane", "heat", "pump", "ça", "öffnung", "Zebra", "zebra", "library", "e",
         "tsunami", "ebola", "kosovo", "a", "straße"]
PERIODS = [date(2024, m, 1) for m in range(1, 5)]


def warehouse(n: int, seed: int = 0):
    rng = random.Random(seed)
    con = duckdb.connect()
    con.execute("CREATE TABLE documents (doc_id VARCHAR, source VARCHAR)")
    con.execute("CREATE TABLE passages (passage_id VARCHAR, terms VARCHAR)")
    con.execute("""CREATE TABLE scoring_passages (passage_id VARCHAR, doc_id VARCHAR,
                   period_start DATE, topic_id INTEGER, channel VARCHAR, author_hash VARCHAR)""")
    for i in range(n):
        doc = f"d{i // 2}"
        if i % 2 == 0:
            con.execute("INSERT INTO documents VALUES (?, ?)",
                        [doc, rng.choice(["news-a", "news-b", "forum", None])])
        words = [rng.choice(WORDS) for _ in range(rng.randrange(0, 9))]
        terms = rng.choice([" ".join(words), "  ".join(words), " " + " ".join(words) + " "])
        terms = None if i % 17 == 0 else ("" if i % 13 == 0 else terms)
        con.execute("INSERT INTO passages VALUES (?, ?)", [f"p{i:05d}", terms])
        citizen = i % 3 == 0
        con.execute("INSERT INTO scoring_passages VALUES (?, ?, ?, ?, ?, ?)",
                    [f"p{i:05d}", doc, PERIODS[i % 4], rng.choice([-1, 3, 7, 9]),
                     "citizen" if citizen else "news",
                     rng.choice(["alice", "bob", None]) if citizen else "ignored"])
    return con


def reference(con, t_index, k_index):
    """The former implementation (scikit-learn), kept here as the oracle."""
    tbl = con.execute("""
        SELECT sp.period_start, sp.topic_id, d.source, coalesce(ps.terms, '') AS terms,
               CASE WHEN sp.channel = 'citizen' THEN sp.author_hash END AS author
        FROM scoring_passages sp JOIN passages ps ON ps.passage_id = sp.passage_id
        JOIN documents d ON d.doc_id = sp.doc_id
        ORDER BY sp.passage_id""").fetchall()
    vec = CountVectorizer(ngram_range=(1, 2), binary=True, token_pattern=r"\S+", lowercase=False,
                          min_df=2 if len(tbl) >= 200 else 1, dtype=np.float32)
    matrix = vec.fit_transform([r[3] for r in tbl])
    sources = {s: i for i, s in enumerate(sorted({r[2] or "" for r in tbl}))}
    authors = {a: i for i, a in enumerate(sorted({r[4] for r in tbl if r[4] is not None}))}
    return (matrix, [str(v) for v in vec.get_feature_names_out()],
            [t_index[r[0]] for r in tbl], [k_index.get(r[1], -1) if r[1] >= 0 else -1 for r in tbl],
            [sources[r[2] or ""] for r in tbl],
            [authors.get(r[4], -1) if r[4] is not None else -1 for r in tbl])


@pytest.mark.parametrize("n", [150, 900])  # below and above the 200 passages of min_df = 2
def test_duckdb_counts_match_countvectorizer(n):
    con = warehouse(n, seed=n)
    t_index = {p: i for i, p in enumerate(PERIODS)}
    k_index = {3: 0, 7: 1}  # topic 9 is not in the series: -1, like an outlier
    got = load_term_passages(con, t_index, k_index)
    matrix, vocab, period, topic, source, author = reference(con, t_index, k_index)
    assert got.vocab == vocab
    assert "Zebra" in vocab and "zebra" in vocab and "ça" in vocab  # case and accents kept apart
    assert got.matrix.shape == matrix.shape and got.matrix.dtype == np.float32
    assert (got.matrix != matrix).nnz == 0
    assert got.matrix.max() == 1.0  # binary: a term twice in a passage counts once
    assert got.period.tolist() == period and got.topic.tolist() == topic
    assert got.source.tolist() == source and got.author.tolist() == author
    if n >= 200:
        assert (np.asarray(got.matrix.sum(axis=0)).ravel() >= 2).all()


def test_no_terms_at_all_is_none_and_no_passage_is_dropped():
    con = warehouse(40)
    con.execute("UPDATE passages SET terms = NULL WHERE passage_id > 'p00000'")
    con.execute("UPDATE passages SET terms = '  '")
    assert load_term_passages(con, {p: i for i, p in enumerate(PERIODS)}, {}) is None
    con.execute("UPDATE passages SET terms = 'only' WHERE passage_id = 'p00001'")
    got = load_term_passages(con, {p: i for i, p in enumerate(PERIODS)}, {})
    assert got.vocab == ["only"] and got.matrix.shape == (40, 1) and got.matrix.sum() == 1


def _themed_warehouse(seed: int = 1):
    """8 months, 3 topics, 6 sources; common words, words seen once or twice, and a theme
    ("ebola outbreak") that surges in the last month."""
    rng = random.Random(seed)
    months = [date(2024, m, 1) for m in range(1, 9)]
    common = [f"w{i}" for i in range(40)]
    con = duckdb.connect()
    con.execute("CREATE TABLE documents (doc_id VARCHAR, source VARCHAR)")
    con.execute("CREATE TABLE passages (passage_id VARCHAR, terms VARCHAR)")
    con.execute("""CREATE TABLE scoring_passages (passage_id VARCHAR, doc_id VARCHAR,
                   period_start DATE, topic_id INTEGER, channel VARCHAR, author_hash VARCHAR)""")
    i = 0
    for t, month in enumerate(months):
        for _ in range(120):
            words = [rng.choice(common) for _ in range(rng.randrange(4, 10))]
            words.append(f"rare{i // 2}")              # every rare word in two passages
            if t == 7 and rng.random() < 0.2:
                words += ["ebola", "outbreak"]
            con.execute("INSERT INTO documents VALUES (?, ?)", [f"d{i}", f"s{rng.randrange(6)}"])
            con.execute("INSERT INTO passages VALUES (?, ?)", [f"p{i:05d}", " ".join(words)])
            con.execute("INSERT INTO scoring_passages VALUES (?, ?, ?, ?, ?, ?)",
                        [f"p{i:05d}", f"d{i}", month, rng.randrange(3), "news", None])
            i += 1
    return con, {m: j for j, m in enumerate(months)}


def test_terms_no_test_can_use_are_left_out_and_change_no_result():
    """With the scoring's min_volume, terms in fewer passages than min(min_volume, the
    dispersion floor) are dropped; surging terms, novel passages and new themes are the
    same as with every term."""
    from radar.core.config import ScoringConfig
    from radar.scoring.novelty import MIN_DISPERSION_TRIALS, topic_novelty
    from radar.scoring.themes import new_themes

    con, t_index = _themed_warehouse()
    k_index = {0: 0, 1: 1, 2: 2}
    sc = ScoringConfig()
    full = load_term_passages(con, t_index, k_index)
    usable = load_term_passages(con, t_index, k_index, sc.min_volume)
    df = np.asarray(full.matrix.sum(axis=0)).ravel()
    keep = df >= min(sc.min_volume, MIN_DISPERSION_TRIALS)
    assert (~keep).sum() > 500                  # rare words and bigrams: no test can use them
    assert usable.vocab == [v for v, k in zip(full.vocab, keep, strict=True) if k]
    assert (usable.matrix != full.matrix[:, np.flatnonzero(keep)]).nnz == 0
    assert usable.period.tolist() == full.period.tolist()

    args = (3, 8, sc.baseline_periods, sc.fdr, sc.min_volume, sc.min_sources, 1.0 + sc.min_growth)
    a, b = topic_novelty(full, *args), topic_novelty(usable, *args)
    assert any("ebola" in terms for terms in a.terms.values())  # the test has something to keep
    assert a.terms == b.terms and a.term_sources == b.term_sources
    assert np.array_equal(a.novel, b.novel) and np.allclose(a.phi, b.phi)
    ta, tb = new_themes(full, a.tested, *args), new_themes(usable, b.tested, *args)
    assert ta.terms == tb.terms and np.array_equal(ta.present, tb.present)
    assert np.array_equal(ta.passages, tb.passages) and np.array_equal(ta.sources, tb.sources)


def _settings(sc):
    from radar.scoring.themes import term_test_settings

    return term_test_settings(sc)


@pytest.mark.parametrize("n", [150, 900])
def test_counts_grouped_in_sql_equal_the_counts_of_every_passage(n):
    """Passages and distinct sources per period and term, passages and sources per period:
    grouped in DuckDB, equal to counting the matrix of every passage (sources missing,
    empty and NULL terms included)."""
    from radar.core.config import ScoringConfig
    from radar.scoring.term_inputs import load_term_data
    from radar.scoring.termdata import term_counts

    con = warehouse(n, seed=n)
    t_index = {p: i for i, p in enumerate(PERIODS)}
    k_index = {3: 0, 7: 1}
    sc = ScoringConfig()
    full = load_term_passages(con, t_index, k_index, sc.min_volume)
    got = load_term_data(con, t_index, k_index, _settings(sc))
    want = term_counts(full, len(PERIODS))
    assert got.chosen_for == _settings(sc) and len(got.vocab) == len(full.vocab)
    # Every kept term's column (terms are grouped by hash, so columns come in another
    # order; the needed terms, named, first and by code point).
    def columns(c):
        return sorted(map(tuple, np.vstack([c.counts, c.sources]).T.tolist()))
    assert columns(got.counts) == columns(want)
    named = [v for v in got.vocab if v is not None]
    assert named == sorted(named) and got.vocab[:len(named)] == named
    assert set(got.vocab[len(named):]) <= {None}
    for j, term in enumerate(named):
        i = full.vocab.index(term)
        assert np.array_equal(got.counts.counts[:, j], want.counts[:, i]), term
        assert np.array_equal(got.counts.sources[:, j], want.sources[:, i]), term
    assert np.array_equal(got.counts.passages, want.passages)
    assert np.array_equal(got.counts.period_sources, want.period_sources)
    assert want.sources.max() >= 3 and want.passages.sum() == n  # sources and every passage
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert not {t for t in tables if t.startswith("scoring_")} - {"scoring_passages"}


def test_the_term_data_is_grouped_in_bounded_memory_and_the_limit_restored():
    """load_term_data lowers DuckDB's memory limit to `term_memory` of the scored passages
    for its queries (spilling to disk beyond it) and restores the connection's own limit
    after, a default one exactly (repeated calls do not wear it down) and a lower one
    untouched."""
    from radar.core.config import ScoringConfig
    from radar.core.warehouse import setting_bytes
    from radar.scoring import term_inputs
    from radar.scoring.term_inputs import load_term_data

    con = warehouse(300, seed=3)
    t_index = {p: i for i, p in enumerate(PERIODS)}

    def limit():
        return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]

    default, seen = limit(), []
    real = term_inputs._load_counts

    def spy(con_, T):
        seen.append(limit())
        return real(con_, T)

    term_inputs._load_counts = spy
    try:
        for _ in range(3):
            load_term_data(con, t_index, {3: 0}, _settings(ScoringConfig()))
        assert limit() == default
        con.execute("SET memory_limit = '60MB'")  # below term_memory: left as it is
        low = limit()
        load_term_data(con, t_index, {3: 0}, _settings(ScoringConfig()))
        assert limit() == low
    finally:
        term_inputs._load_counts = real
    scored = con.execute("SELECT count(*) FROM scoring_passages").fetchone()[0]
    assert setting_bytes(seen[0]) == pytest.approx(term_inputs.term_memory(scored), rel=0.01)
    assert term_inputs.term_memory(scored) < setting_bytes(default)
    assert seen[-1] == low


def test_only_the_passages_the_tests_need_are_read_and_the_results_are_the_same():
    """The tests run on SQL counts and read only the passages carrying a surging or
    confirmed term in its period: the same novel passages, surging terms, sources and new
    themes as with every passage, from a fraction of the passages."""
    from radar.core.config import ScoringConfig
    from radar.scoring.novelty import topic_novelty
    from radar.scoring.term_inputs import load_term_data
    from radar.scoring.themes import new_themes

    con, t_index = _themed_warehouse()
    k_index = {0: 0, 1: 1, 2: 2}
    sc = ScoringConfig(min_sources=2)
    full = load_term_passages(con, t_index, k_index)
    chosen = load_term_data(con, t_index, k_index, _settings(sc))
    # The ebola passages of the last month, and a few of words that surge by chance.
    assert 7 in set(chosen.period.tolist())
    assert chosen.matrix.shape[0] < full.matrix.shape[0] / 4
    args = (3, 8, *_settings(sc))
    a, b = topic_novelty(full, *args), topic_novelty(chosen, *args)
    assert any("ebola" in terms for terms in a.terms.values())
    assert a.terms == b.terms and a.term_sources == b.term_sources
    assert np.array_equal(a.novel, b.novel) and np.allclose(a.phi, b.phi)
    ta, tb = new_themes(full, a.tested, *args), new_themes(chosen, b.tested, *args)
    assert any(ta.present.ravel())
    assert ta.terms == tb.terms and np.array_equal(ta.present, tb.present)
    assert np.array_equal(ta.passages, tb.passages) and np.array_equal(ta.sources, tb.sources)
    assert np.array_equal(ta.effective_sources, tb.effective_sources)


def test_passages_chosen_for_other_settings_are_refused():
    from radar.core.config import ScoringConfig
    from radar.scoring.inputs import load_series
    from radar.scoring.signals import compute_signals

    con, _ = _themed_warehouse()
    con.execute("CREATE TABLE passage_topics AS SELECT passage_id, topic_id FROM scoring_passages")
    con.execute("ALTER TABLE documents ADD COLUMN channel VARCHAR DEFAULT 'news'")
    con.execute("ALTER TABLE documents ADD COLUMN author_hash VARCHAR")
    con.execute("ALTER TABLE documents ADD COLUMN published_at TIMESTAMP")
    con.execute("ALTER TABLE documents ADD COLUMN fetched_at TIMESTAMP")
    con.execute("CREATE TABLE document_sources (doc_id VARCHAR, source VARCHAR)")
    con.execute("ALTER TABLE passages ADD COLUMN doc_id VARCHAR")
    con.execute("ALTER TABLE passages ADD COLUMN is_expectation BOOLEAN")
    con.execute("""UPDATE passages p SET doc_id = sp.doc_id FROM scoring_passages sp
                   WHERE sp.passage_id = p.passage_id""")
    con.execute("""UPDATE documents d SET published_at = sp.period_start + INTERVAL 3 DAY,
                   fetched_at = sp.period_start + INTERVAL 3 DAY
                   FROM scoring_passages sp WHERE sp.doc_id = d.doc_id""")
    con.execute("DROP TABLE scoring_passages")
    sc = ScoringConfig()
    series = load_series(con, "month", scoring=sc)
    assert series.terms.chosen_for == _settings(sc) and len(series.periods) == 8
    rows = compute_signals(series, sc)
    # Equal to scoring with every passage's terms (floats to the last bits: the topics'
    # source mixes arrive from SQL in any order).
    every = compute_signals(load_series(con, "month"), sc)
    assert [r.keys() for r in rows] == [r.keys() for r in every]
    for got, want in zip(rows, every, strict=True):
        for key, value in want.items():
            if isinstance(value, float):
                assert got[key] == pytest.approx(value, rel=1e-12), key
            else:
                assert got[key] == value, key
    assert any(r.get("new_terms") for r in rows)
    with pytest.raises(ValueError, match="other scoring settings"):
        compute_signals(series, ScoringConfig(min_volume=sc.min_volume + 1))

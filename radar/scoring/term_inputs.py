"""The weak-signal tier's term data, read from the warehouse (see radar/scoring/termdata.py).

Terms are a passage's whitespace-separated lemmas (`passages.terms`) and the bigrams of
neighbouring lemmas, each counted once per passage. DuckDB splits, pairs, de-duplicates
and counts them; Python receives integers only.

Two ways to read them:

- `load_term_passages`: every scored passage's terms as a matrix (its memory grows with
  the corpus: about 80 million passage-term pairs at a million passages);
- `load_term_data`: what scoring reads. The terms are read once, as (passage, period,
  source, term hash) pairs in a temporary table that DuckDB spills to disk beyond
  `term_memory` (a base and a little per passage); the counts per period and term
  (passages, distinct sources) are grouped from it; the term tests run on the counts alone
  (`radar.scoring.themes.needed_terms`); then only the passages carrying a term the tests
  need in their period are read, and only those terms named. Memory follows the
  vocabulary and the surging terms, not the corpus.

Both read `scoring_passages` (radar/scoring/inputs.py) and keep a term only when at least
`floor` passages of the whole corpus carry it.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from radar.core.warehouse import within_memory
from radar.scoring.novelty import MIN_DISPERSION_TRIALS
from radar.scoring.termdata import TermCounts, TermPassages
from radar.scoring.themes import needed_terms

# The passages the weak-signal tier reads, with their source ('' when none).
_TERM_PASSAGES = """
    FROM scoring_passages sp JOIN passages ps ON ps.passage_id = sp.passage_id
    JOIN documents d ON d.doc_id = sp.doc_id"""


# The passages of the rows in scoring_hit_rows (see `_load_needed`).
_HIT_PASSAGES = """JOIN scoring_rows r ON r.passage_id = sp.passage_id
    JOIN scoring_hit_rows hr ON hr.row = r.row"""


def _terms_sql(columns: str, join: str = "") -> str:
    """Each scored passage's distinct terms as a list (no de-duplication over the whole
    corpus), with `columns` of `sp` (scoring_passages plus `source`); `join` restricts the
    passages."""
    return f"""
        SELECT {columns},
               list_distinct(list_concat(w, list_transform(
                   range(1, len(w)), i -> w[i] || ' ' || w[i + 1]))) AS terms
        FROM (SELECT sp.*, coalesce(d.source, '') AS source, list_filter(
                  string_split(coalesce(ps.terms, ''), ' '), w -> w <> '') AS w
              {_TERM_PASSAGES} {join}) sp"""


def term_floor(passages: int, min_volume: int | None) -> int:
    """Passages of the whole corpus a term needs to be read: 2 (1 below 200 passages); with
    the scoring's `min_volume`, the fewest any test can use. A term is tested only with
    `min_volume` passages in one period and enters the dispersion estimate only with
    MIN_DISPERSION_TRIALS passages in a period and its window, so terms below the smaller of
    the two change no result. That is most of a large corpus's vocabulary: bigrams seen twice."""
    min_df = 2 if passages >= 200 else 1
    return min_df if min_volume is None else max(min_df, min(int(min_volume), MIN_DISPERSION_TRIALS))


def load_term_passages(con, t_index: dict, k_index: dict,
                       min_volume: int | None = None) -> TermPassages | None:
    """Lemma unigrams and bigrams of every scored passage (binary), with its period, topic
    row, source and citizen author; None when no passage has terms (a deterministic topic
    stage). Terms below `term_floor` are left out; the vocabulary is sorted by code point.
    """
    from scipy import sparse

    meta = con.execute(f"""
        SELECT sp.period_start, sp.topic_id, coalesce(d.source, '') AS source,
               CASE WHEN sp.channel = 'citizen' THEN sp.author_hash END AS author,
               coalesce(ps.terms, '') <> '' AS has_terms
        {_TERM_PASSAGES} ORDER BY sp.passage_id""").to_arrow_table()
    n = meta.num_rows
    if n == 0 or not meta.column("has_terms").to_numpy(zero_copy_only=False).any():
        return None
    floor = term_floor(n, min_volume)
    # Read twice rather than held: once to count the vocabulary, once to pair passages with it.
    toks = _terms_sql("(row_number() OVER (ORDER BY sp.passage_id) - 1)::INTEGER AS row")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE scoring_vocab AS
        SELECT term, (row_number() OVER (ORDER BY term) - 1)::INTEGER AS col
        FROM (SELECT unnest(terms) AS term FROM ({toks}))
        GROUP BY term HAVING count(*) >= {floor}""")
    try:
        vocab = [r[0] for r in con.execute("SELECT term FROM scoring_vocab ORDER BY col").fetchall()]
        if not vocab:  # no term carried by enough passages
            return None
        pairs = con.execute(f"""
            SELECT t.row, v.col FROM (SELECT row, unnest(terms) AS term FROM ({toks})) t
            JOIN scoring_vocab v USING (term)""").fetchnumpy()
    finally:
        con.execute("DROP TABLE IF EXISTS scoring_vocab")
    rows, cols = pairs.pop("row"), pairs.pop("col")
    matrix = sparse.csr_matrix((np.ones(rows.size, dtype=np.float32), (rows, cols)),
                               shape=(n, len(vocab)))
    del rows, cols
    matrix.sort_indices()
    return _term_passages(matrix, vocab, meta, t_index, k_index)


# The term data is grouped within a base and a little per scored passage of DuckDB's memory
# (or the connection's limit when lower); the pairs of a large corpus spill to DuckDB's
# temporary directory. bench/term_counts.py, 1M passages: 951 MB peak within 150 MB, 988
# within 250 MB (1.5 s slower than within 500 MB, which peaked at 1,320 MB). The 100k
# cost-curve corpus (longer passages than the bench's) ran out within 115 MB at every +1%
# run and was counted again with more: 7.2 s and 721 MB, against 8.1 s and 533 MB within
# 200 MB; hence a base of 200 MB.
TERM_MEMORY_BASE = 200 * 10**6  # bytes
TERM_MEMORY_PER_PASSAGE = 150  # bytes
_PAIR_TABLES = ("scoring_rows", "scoring_source_codes", "scoring_term_pairs", "scoring_vocab")


def term_memory(passages: int) -> int:
    """DuckDB's memory limit for the term data of `passages` scored passages (bytes)."""
    return TERM_MEMORY_BASE + TERM_MEMORY_PER_PASSAGE * passages


def load_term_data(con, t_index: dict, k_index: dict, settings: tuple) -> TermPassages | None:
    """The term counts of every period, and the passages carrying the terms the tests need,
    for the term-test `settings` (`radar.scoring.themes.term_test_settings`); None when no
    term is carried by enough passages. Gives the tests the same results as
    `load_term_passages(con, t_index, k_index, min_volume)` (see module doc).

    Only the needed terms are named: `vocab` holds None for the others (their counts
    enter the dispersion; no passage of theirs is read). The needed terms come first in
    the columns, by code point as `load_term_passages` orders them, so ties among them
    break the same way."""
    window, q, min_volume, min_sources, min_ratio = settings
    T = len(t_index)
    _temp_table(con, "scoring_period_index", pa.table({
        "period_start": pa.array(list(t_index), pa.date32()),
        "t": pa.array(list(t_index.values()), pa.int32())}))
    passages = con.execute("SELECT count(*) FROM scoring_passages").fetchone()[0]

    def count() -> TermPassages | None:
        _pair_tables(con, min_volume)
        counts = _load_counts(con, T)
        if counts is None:
            return None
        needed = needed_terms(counts, T, window, q, min_volume, min_sources, min_ratio)
        return _load_needed(con, counts, needed, t_index, k_index, tuple(settings))

    try:
        return within_memory(con, term_memory(passages), count, "counting the terms of every period")
    finally:
        for table in ("scoring_period_index", *_PAIR_TABLES, "scoring_needed"):
            con.execute(f"DROP TABLE IF EXISTS {table}")


def _pair_tables(con, min_volume: int) -> None:
    """Temporary tables (`_PAIR_TABLES`) of the scored passages (row, period, source), their
    terms as (row, 64-bit hash) pairs, and the kept terms' hashes with a column each.

    Terms are read once and grouped by hash: DuckDB spills integers to disk, not these
    strings (two of a million terms share a hash with odds of about 3e-8)."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE scoring_rows AS
        SELECT sp.passage_id, (row_number() OVER (ORDER BY sp.passage_id) - 1)::INTEGER AS row,
               pi.t, coalesce(d.source, '') AS source
        {_TERM_PASSAGES} JOIN scoring_period_index pi USING (period_start)""")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE scoring_source_codes AS
        SELECT source, (row_number() OVER (ORDER BY source) - 1)::INTEGER AS s
        FROM (SELECT DISTINCT source FROM scoring_rows)""")
    # Each term hashed as it is made, then the passage's hashes de-duplicated (integers,
    # not strings: a third faster at 100k passages, the same pairs; `_terms_sql`'s rule).
    con.execute("""
        CREATE OR REPLACE TEMP TABLE scoring_term_pairs AS
        SELECT row, t, s, unnest(list_distinct(list_concat(list_transform(w, x -> hash(x)),
                   list_transform(range(1, len(w)), i -> hash(w[i] || ' ' || w[i + 1]))))) AS h
        FROM (SELECT r.row, r.t, c.s,
                     list_filter(string_split(coalesce(ps.terms, ''), ' '), x -> x <> '') AS w
              FROM scoring_rows r JOIN passages ps USING (passage_id)
              JOIN scoring_source_codes c USING (source))""")
    floor = term_floor(con.execute("SELECT count(*) FROM scoring_rows").fetchone()[0], min_volume)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE scoring_vocab AS
        SELECT h, (row_number() OVER (ORDER BY h) - 1)::INTEGER AS col
        FROM scoring_term_pairs GROUP BY h HAVING count(*) >= {floor}""")


def _load_counts(con, T: int) -> TermCounts | None:
    """Passages and distinct sources per period and kept term, and the passages and sources
    of each period, grouped in DuckDB (None: no term kept)."""
    V = con.execute("SELECT count(*) FROM scoring_vocab").fetchone()[0]
    if V == 0:
        return None
    passages, period_sources = np.zeros(T), np.zeros(T)
    for t, n, s in con.execute("""SELECT t, count(*), count(DISTINCT source)
                                  FROM scoring_rows GROUP BY t""").fetchall():
        passages[t], period_sources[t] = n, s
    cells = con.execute("""
        SELECT t, col, sum(n)::INTEGER AS passages, count(*)::INTEGER AS sources
        FROM (SELECT p.t, v.col, p.s, count(*) AS n
              FROM scoring_term_pairs p JOIN scoring_vocab v USING (h) GROUP BY ALL)
        GROUP BY ALL""").fetchnumpy()
    counts, sources = np.zeros((T, V)), np.zeros((T, V))
    counts[cells["t"], cells["col"]] = cells["passages"]
    sources[cells["t"], cells["col"]] = cells["sources"]
    return TermCounts(counts, sources, passages, period_sources)


def _load_needed(con, counts: TermCounts, needed: list[np.ndarray], t_index: dict,
                 k_index: dict, settings: tuple) -> TermPassages:
    """The passages of each period that carry a term needed there (`needed`: term columns
    per period), as a matrix over the whole vocabulary, with the needed terms named and
    moved first."""
    from scipy import sparse

    t_col = np.concatenate([np.full(len(c), t, dtype=np.int32) for t, c in enumerate(needed)])
    c_col = np.concatenate([np.asarray(c, dtype=np.int32) for c in needed])
    _temp_table(con, "scoring_needed", pa.table({"t": t_col, "col": c_col}))
    hits = con.execute("""
        SELECT p.row, v.col FROM scoring_term_pairs p JOIN scoring_vocab v USING (h)
        JOIN scoring_needed n ON n.t = p.t AND n.col = v.col""").fetchnumpy()
    rows, cols = hits["row"], hits["col"]
    passage_rows, row_of = np.unique(rows, return_inverse=True)
    _temp_table(con, "scoring_hit_rows", pa.table({
        "row": pa.array(passage_rows, pa.int32()),
        "hit": pa.array(np.arange(passage_rows.size), pa.int32())}))
    try:
        meta = con.execute(f"""
            SELECT sp.period_start, sp.topic_id, coalesce(d.source, '') AS source,
                   CASE WHEN sp.channel = 'citizen' THEN sp.author_hash END AS author
            {_TERM_PASSAGES} JOIN scoring_rows r ON r.passage_id = sp.passage_id
            JOIN scoring_hit_rows hr ON hr.row = r.row ORDER BY hr.hit""").to_arrow_table()
        # The needed terms' strings, from the passages that carry them only.
        named = dict(con.execute(f"""
            SELECT v.col, min(x.term)
            FROM (SELECT unnest(terms) AS term FROM ({_terms_sql('sp.passage_id', _HIT_PASSAGES)})) x
            JOIN scoring_vocab v ON v.h = hash(x.term)
            WHERE v.col IN (SELECT col FROM scoring_needed) GROUP BY v.col""").fetchall())
    finally:
        con.execute("DROP TABLE IF EXISTS scoring_hit_rows")
    V = counts.counts.shape[1]
    first = sorted(named, key=named.__getitem__)
    order = np.concatenate([np.asarray(first, dtype=np.int64),
                            np.setdiff1d(np.arange(V), first)])      # new column -> old column
    new_of = np.empty(V, dtype=np.int64)
    new_of[order] = np.arange(V)
    vocab: list[str | None] = [named[c] for c in first] + [None] * (V - len(first))
    matrix = sparse.csr_matrix((np.ones(rows.size, dtype=np.float32), (row_of, new_of[cols])),
                               shape=(passage_rows.size, V))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0   # two terms of a passage sharing a hash: still one
    matrix.sort_indices()
    tp = _term_passages(matrix, vocab, meta, t_index, k_index)
    counts.counts = counts.counts[:, order]     # one (T, V) array copied at a time
    counts.sources = counts.sources[:, order]
    tp.counts = counts
    tp.chosen_for = settings
    return tp


def _temp_table(con, name: str, table: pa.Table) -> None:
    """A temporary table `name` holding the Arrow `table`."""
    con.register(f"{name}_rows", table)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_rows")
    finally:
        con.unregister(f"{name}_rows")


def _term_passages(matrix, vocab: list[str], meta: pa.Table, t_index: dict,
                   k_index: dict) -> TermPassages:
    """A TermPassages of `matrix`'s rows, described by `meta` (period_start, topic_id,
    source, author) in the same order."""
    sources = meta.column("source").to_pylist()
    authors_seen = meta.column("author").to_pylist()
    authors = {a: i for i, a in enumerate(sorted({a for a in authors_seen if a is not None}))}
    return TermPassages(
        matrix, vocab,
        _codes(meta.column("period_start").to_pylist(), t_index.__getitem__),
        _codes(meta.column("topic_id").to_pylist(), lambda k: k_index.get(k, -1) if k >= 0 else -1),
        _codes(sources, {s: i for i, s in enumerate(sorted(set(sources)))}.__getitem__),
        _codes(authors_seen, lambda a: authors.get(a, -1)))


def _codes(values: list, code) -> np.ndarray:
    """code(v) for every value, computed once per distinct value."""
    table = {v: code(v) for v in set(values)}
    return np.fromiter((table[v] for v in values), dtype=np.int64, count=len(values))

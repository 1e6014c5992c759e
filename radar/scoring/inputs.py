"""Topic time series for scoring, read from the warehouse in a few grouped queries.

A passage's period is its document's period by the one rule of
radar.core.periods. Volume counts passages (a syndicated story is one document, so
it counts once); breadth counts every source that carried the story
(`document_sources`, plus the document's own source); voice counts distinct
pseudonymous authors of citizen passages. Only passages the topic stage has
assigned (a `passage_topics` row, outliers included) enter the denominators,
so shares are over the same passages the topics were built from. A
publication date more than a day after the fetch is not believed: such a
document counts in its fetch period, so a typo cannot put the radar in 2099.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from radar.core.config import CHANNELS
from radar.core.periods import period_start_sql
from radar.scoring.metrics import breadth, voice
from radar.scoring.novelty import MIN_DISPERSION_TRIALS, TermPassages


@dataclass
class TopicSeries:
    """Counts per topic (rows) and period (columns), plus per-period totals."""

    topic_ids: list[int]
    periods: list[date]
    passages: np.ndarray                     # (K, T)
    documents: np.ndarray                    # (K, T)
    expectation: np.ndarray                  # (K, T)
    channel_passages: dict[str, np.ndarray]  # channel -> (K, T)
    sources: np.ndarray                      # (K, T) distinct carrier sources
    effective_sources: np.ndarray            # (K, T) exp(entropy) over carriers
    authors: np.ndarray                      # (K, T) distinct citizen authors
    top_author_share: np.ndarray             # (K, T)
    total_passages: np.ndarray               # (T,)
    total_documents: np.ndarray              # (T,)
    channel_totals: dict[str, np.ndarray]    # channel -> (T,)
    first_seen: dict[int, date] = field(default_factory=dict)
    terms: TermPassages | None = None        # which terms each passage carries (novelty tests)

    @property
    def shape(self) -> tuple[int, int]:
        """(topics, periods)."""
        return len(self.topic_ids), len(self.periods)


def empty_series() -> TopicSeries:
    """A series with no topics and no periods."""
    z2, z1 = np.zeros((0, 0)), np.zeros(0)
    return TopicSeries([], [], z2, z2, z2, {c: z2 for c in CHANNELS}, z2, z2, z2, z2,
                       z1, z1, {c: z1 for c in CHANNELS})


def _base_sql(period: str) -> str:
    return f"""
        CREATE OR REPLACE TEMP VIEW scoring_passages AS
        SELECT pt.topic_id, ps.passage_id, d.doc_id, d.channel, d.author_hash,
               coalesce(ps.is_expectation, false) AS is_expectation,
               {period_start_sql(period)} AS period_start
        FROM passages ps
        JOIN passage_topics pt USING (passage_id)
        JOIN documents d USING (doc_id)
    """


def load_series(con, period: str, with_terms: bool = True,
                min_volume: int | None = None) -> TopicSeries:
    """Read the topic time series from an open warehouse connection (read-only is enough);
    `with_terms` also reads which terms each passage carries (for the novelty tests), only
    those the tests can use when given the scoring's `min_volume`."""
    con.execute(_base_sql(period))
    # Every period from the first to the last, so a silent month counts as zero.
    periods = [r[0] for r in con.execute(f"""
        SELECT CAST(unnest(generate_series(min(period_start), max(period_start),
                                           INTERVAL 1 {period})) AS DATE)
        FROM scoring_passages HAVING count(*) > 0""").fetchall()]
    topic_ids = [r[0] for r in con.execute(
        "SELECT DISTINCT topic_id FROM scoring_passages WHERE topic_id >= 0 ORDER BY 1").fetchall()]
    if not periods:
        return empty_series()
    t_index = {p: i for i, p in enumerate(periods)}
    k_index = {t: i for i, t in enumerate(topic_ids)}
    K, T = len(topic_ids), len(periods)

    def zeros() -> np.ndarray:
        return np.zeros((K, T))

    passages, documents, expectation = zeros(), zeros(), zeros()
    channel_passages = {c: zeros() for c in CHANNELS}
    for topic, p, channel, n, ndoc, nexp in con.execute("""
            SELECT topic_id, period_start, channel, count(*), count(DISTINCT doc_id),
                   count(*) FILTER (WHERE is_expectation)
            FROM scoring_passages WHERE topic_id >= 0 GROUP BY ALL""").fetchall():
        k, t = k_index[topic], t_index[p]
        passages[k, t] += n
        documents[k, t] += ndoc  # a document's passages share one channel: no double count
        expectation[k, t] += nexp
        if channel in channel_passages:
            channel_passages[channel][k, t] += n

    total_passages, total_documents = np.zeros(T), np.zeros(T)
    channel_totals = {c: np.zeros(T) for c in CHANNELS}
    for p, channel, n, ndoc in con.execute("""
            SELECT period_start, channel, count(*), count(DISTINCT doc_id)
            FROM scoring_passages GROUP BY ALL""").fetchall():
        t = t_index[p]
        total_passages[t] += n
        total_documents[t] += ndoc
        if channel in channel_totals:
            channel_totals[channel][t] += n

    carriers: dict[tuple[int, int], dict[str, float]] = defaultdict(dict)
    for topic, p, source, n in con.execute("""
            WITH carriers AS (
                SELECT doc_id, source FROM document_sources
                UNION SELECT doc_id, source FROM documents
            )
            SELECT sp.topic_id, sp.period_start, c.source, count(*)
            FROM scoring_passages sp JOIN carriers c USING (doc_id)
            WHERE sp.topic_id >= 0 GROUP BY ALL""").fetchall():
        carriers[(k_index[topic], t_index[p])][source] = n
    sources, effective = zeros(), zeros()
    for (k, t), counts in carriers.items():
        sources[k, t], effective[k, t] = breadth(counts)

    voices: dict[tuple[int, int], dict[str, float]] = defaultdict(dict)
    for topic, p, author, n in con.execute("""
            SELECT topic_id, period_start, author_hash, count(*)
            FROM scoring_passages
            WHERE topic_id >= 0 AND channel = 'citizen' AND author_hash IS NOT NULL
            GROUP BY ALL""").fetchall():
        voices[(k_index[topic], t_index[p])][author] = n
    authors, top_author = zeros(), zeros()
    for (k, t), counts in voices.items():
        authors[k, t], top_author[k, t] = voice(counts)

    return TopicSeries(
        topic_ids, periods, passages, documents, expectation, channel_passages,
        sources, effective, authors, top_author, total_passages, total_documents, channel_totals,
        terms=(load_term_passages(con, t_index, k_index, min_volume)
               if with_terms else None),
    )


# The passages the weak-signal tier reads, in one order for both queries below.
_TERM_PASSAGES = """
    FROM scoring_passages sp JOIN passages ps ON ps.passage_id = sp.passage_id
    JOIN documents d ON d.doc_id = sp.doc_id"""


def load_term_passages(con, t_index: dict, k_index: dict,
                       min_volume: int | None = None) -> TermPassages | None:
    """Lemma unigrams and bigrams of every scored passage (binary), with its period, topic
    row, source and citizen author; None when no passage has terms (a deterministic topic stage).

    The terms are split, paired into bigrams, de-duplicated per passage and counted in
    DuckDB, which hands over only (passage, term) pairs of the kept terms: no Python
    string per passage and no vocabulary of every bigram ever seen (the part that grows
    fastest with the corpus). Terms are whitespace-separated lemmas; a term is kept when
    at least 2 passages carry it (1 below 200 passages), the vocabulary sorted by code point.

    With `min_volume` (the scoring's), terms in fewer passages than any test can use
    are left out: a term is tested only with `min_volume` passages in one period, and
    enters the dispersion estimate only with MIN_DISPERSION_TRIALS passages in a period
    and its window, so terms below the smaller of the two in the whole corpus change
    no result. That is most of a large corpus's vocabulary: bigrams seen twice.
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
    min_df = 2 if n >= 200 else 1
    floor = min_df if min_volume is None else max(
        min_df, min(int(min_volume), MIN_DISPERSION_TRIALS))
    # Each passage's distinct terms as a list (no de-duplication over the whole corpus), read
    # twice rather than held: once to count the vocabulary, once to pair passages with it.
    toks = f"""
        SELECT (row_number() OVER (ORDER BY sp.passage_id) - 1)::INTEGER AS row,
               list_distinct(list_concat(w, list_transform(
                   range(1, len(w)), i -> w[i] || ' ' || w[i + 1]))) AS terms
        FROM (SELECT sp.passage_id, list_filter(
                  string_split(coalesce(ps.terms, ''), ' '), w -> w <> '') AS w
              {_TERM_PASSAGES}) sp"""
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

    authors = {a: i for i, a in enumerate(sorted(
        {a for a in meta.column("author").to_pylist() if a is not None}))}
    return TermPassages(
        matrix, vocab,
        _codes(meta.column("period_start").to_pylist(), t_index.__getitem__),
        _codes(meta.column("topic_id").to_pylist(), lambda k: k_index.get(k, -1) if k >= 0 else -1),
        _codes(meta.column("source").to_pylist(), {s: i for i, s in enumerate(sorted(
            set(meta.column("source").to_pylist())))}.__getitem__),
        _codes(meta.column("author").to_pylist(), lambda a: authors.get(a, -1)))


def _codes(values: list, code) -> np.ndarray:
    """code(v) for every value, computed once per distinct value."""
    table = {v: code(v) for v in set(values)}
    return np.fromiter((table[v] for v in values), dtype=np.int64, count=len(values))

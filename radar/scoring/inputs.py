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
from radar.scoring.term_inputs import load_term_data, load_term_passages
from radar.scoring.termdata import TermPassages
from radar.scoring.themes import term_test_settings


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


def load_series(con, period: str, with_terms: bool = True, scoring=None) -> TopicSeries:
    """Read the topic time series from an open warehouse connection (read-only is enough).

    `with_terms` also reads the weak-signal tier's term data: given the scoring settings
    (a ScoringConfig), the term counts and only the passages its tests need
    (radar/scoring/term_inputs.py), for scoring with those settings; without, every
    passage's terms."""
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
        terms=_terms(con, t_index, k_index, scoring) if with_terms else None,
    )


def load_terms(con, series: TopicSeries, period: str, scoring=None) -> TermPassages | None:
    """The weak-signal tier's term data of a series read with `with_terms=False` (see
    `load_series`), for a caller that first decides from the counts whether to score."""
    con.execute(_base_sql(period))
    return _terms(con, {p: i for i, p in enumerate(series.periods)},
                  {t: i for i, t in enumerate(series.topic_ids)}, scoring)


def _terms(con, t_index: dict, k_index: dict, scoring) -> TermPassages | None:
    if scoring is None:
        return load_term_passages(con, t_index, k_index)
    return load_term_data(con, t_index, k_index, term_test_settings(scoring))

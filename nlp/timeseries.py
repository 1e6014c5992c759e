"""Topic time series: passages, documents, sources and authors per topic, period and channel.

Rebuilt in one statement from passage_topics whenever topics or assignments
change (a GROUP BY over the passages; under a second at 100k). A passage's
period is its document's period by the project's one rule (radar.core.periods:
week = ISO week starting Monday; a wrong future date counts at its fetch). Sources count every source that
carried the document (document_sources, plus the document's own source), so a
syndicated story counts once in volume and once per outlet in breadth.
Authors count distinct pseudonymous authors of citizen posts only.
"""

from __future__ import annotations

from radar.core.periods import check_period, period_start_sql

_BASE = """
WITH pp AS (
    SELECT coalesce(pt.topic_id, -1) AS topic_id,
           {period_start} AS period_start,
           d.channel, p.passage_id, p.doc_id, p.is_expectation,
           CASE WHEN d.channel = 'citizen' THEN d.author_hash END AS author
    FROM passages p
    JOIN documents d USING (doc_id)
    LEFT JOIN passage_topics pt USING (passage_id)
),
doc_sources AS (
    SELECT doc_id, source FROM document_sources
    UNION SELECT doc_id, source FROM documents
)
"""


def rebuild_sql(period: str) -> list[str]:
    """Statements that replace topic_periods and period_totals for `period`."""
    base = _BASE.format(period_start=period_start_sql(check_period(period)))
    topic_periods = base + """
, src AS (
    SELECT topic_id, period_start, channel, count(DISTINCT s.source) AS sources
    FROM (SELECT DISTINCT topic_id, period_start, channel, doc_id FROM pp WHERE topic_id >= 0) x
    JOIN doc_sources s USING (doc_id)
    GROUP BY ALL
)
INSERT INTO topic_periods (topic_id, period_start, channel, passages, documents, sources, authors,
                           expectation_passages)
SELECT pp.topic_id, pp.period_start, pp.channel, count(*), count(DISTINCT pp.doc_id),
       coalesce(any_value(src.sources), 0), count(DISTINCT pp.author),
       count(*) FILTER (WHERE pp.is_expectation)
FROM pp LEFT JOIN src USING (topic_id, period_start, channel)
WHERE pp.topic_id >= 0
GROUP BY pp.topic_id, pp.period_start, pp.channel
"""
    totals = base + """
, src AS (
    SELECT period_start, channel, count(DISTINCT s.source) AS sources
    FROM (SELECT DISTINCT period_start, channel, doc_id FROM pp) x
    JOIN doc_sources s USING (doc_id)
    GROUP BY ALL
)
INSERT INTO period_totals (period_start, channel, passages, documents, sources, authors,
                           expectation_passages, topical_passages)
SELECT pp.period_start, pp.channel, count(*), count(DISTINCT pp.doc_id),
       coalesce(any_value(src.sources), 0), count(DISTINCT pp.author),
       count(*) FILTER (WHERE pp.is_expectation), count(*) FILTER (WHERE pp.topic_id >= 0)
FROM pp LEFT JOIN src USING (period_start, channel)
GROUP BY pp.period_start, pp.channel
"""
    return ["DELETE FROM topic_periods", topic_periods, "DELETE FROM period_totals", totals]


def rebuild(con, period: str) -> None:
    """Replace the time series inside the caller's write transaction."""
    for sql in rebuild_sql(period):
        con.execute(sql)

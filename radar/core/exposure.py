"""Service exposure: per service, the rising expectations that touch it and whose voice
carries them, read from the warehouse (the dashboard, briefs and the CLI share it).

The rows come from `service_topics` (matches not rejected, plus confirmed pairs)
joined with the latest radar; the exposure figure is `radar.core.loop.exposure`.
"""

from __future__ import annotations

import pandas as pd

from radar.core import loop, periods

_TOPICS_SQL = """
WITH latest AS (SELECT run_id, period_start FROM radar_runs ORDER BY run_id DESC LIMIT 1),
sig AS (SELECT s.* FROM signals s JOIN latest l ON s.run_id = l.run_id
        AND s.period_start = l.period_start)
SELECT st.service_id, sv.name AS service, st.topic_id, t.label, t.service_area, st.status,
       CASE WHEN st.status = 'confirmed' THEN 1.0 ELSE coalesce(st.score, 0) END AS match,
       st.similarity, st.keyword_hits, sig.ring, sig.stage, sig.score AS radar_score, sig.volume,
       sig.growth, sig.sources, sig.authors, sig.news_share, sig.policy_share, sig.citizen_share,
       sig.expectation_share, sig.expectation_growth, sig.expectation_gap,
       coalesce(sig.gap_risk, false) AS gap_risk, sig.narrow_voice, sig.reasons
FROM service_topics st
JOIN services sv ON sv.service_id = st.service_id AND sv.active
JOIN topics t ON t.topic_id = st.topic_id AND t.active
LEFT JOIN sig ON sig.topic_id = st.topic_id
ORDER BY st.service_id, match DESC
"""


def _period_sql(period: str) -> str:
    return periods.period_start_sql(periods.check_period(period))


def service_topics(con) -> pd.DataFrame:
    """Every (service, topic) pair that counts, with the topic's latest radar row."""
    return con.execute(_TOPICS_SQL).df()


def service_voice(con, period: str) -> pd.DataFrame:
    """Per service, in the latest radar period: distinct sources carrying its topics, distinct
    citizen authors, and passages per channel."""
    return con.execute(f"""
        WITH latest AS (SELECT period_start FROM radar_runs ORDER BY run_id DESC LIMIT 1),
        rows AS (
            SELECT st.service_id, d.doc_id, d.channel,
                   CASE WHEN d.channel = 'citizen' THEN d.author_hash END AS author
            FROM service_topics st
            JOIN passage_topics pt ON pt.topic_id = st.topic_id
            JOIN passages p ON p.passage_id = pt.passage_id
            JOIN documents d ON d.doc_id = p.doc_id
            WHERE {_period_sql(period)} = (SELECT period_start FROM latest)),
        carriers AS (SELECT doc_id, source FROM document_sources UNION SELECT doc_id, source FROM documents)
        SELECT r.service_id, count(DISTINCT c.source) AS sources, count(DISTINCT r.author) AS authors,
               count(*) FILTER (WHERE r.channel = 'news') AS news,
               count(*) FILTER (WHERE r.channel = 'policy') AS policy,
               count(*) FILTER (WHERE r.channel = 'citizen') AS citizen
        FROM rows r JOIN carriers c USING (doc_id)
        GROUP BY r.service_id""").df()


def rising(stage: object) -> bool:
    """Whether a stage counts as rising (weak signal or emerging)."""
    return stage in ("weak signal", "emerging")


def ranking(con, period: str) -> pd.DataFrame:
    """Every active service with its exposure, sorted most exposed first.

    Columns: service_id, name, owner, area, exposure, topics (matched), rising (topics
    rising or in Act/Prepare), gap_topics (with an expectation gap at risk), gap
    (sum of the topics' expectation gaps), top (labels of the most exposing topics),
    sources, authors, news, policy, citizen (passages this period).
    """
    services = con.execute("SELECT service_id, name, owner, owner_email, area, description, keywords "
                           "FROM services WHERE active ORDER BY name").df()
    topics = service_topics(con)
    voice = service_voice(con, period).set_index("service_id") if not services.empty else None
    rows = []
    for s in services.itertuples():
        mine = topics[topics["service_id"] == s.service_id]
        items = [loop.TopicOnRadar(int(r.topic_id), float(r.match),
                                   r.ring if isinstance(r.ring, str) else None,
                                   rising(r.stage), bool(r.gap_risk)) for r in mine.itertuples()]
        weight = {i.topic_id: loop.exposure([i]) for i in items}
        hot = [r for r in mine.itertuples() if weight.get(int(r.topic_id), 0) > 0]
        hot.sort(key=lambda r: -weight[int(r.topic_id)])
        v = voice.loc[s.service_id] if voice is not None and s.service_id in voice.index else None
        gaps = mine["expectation_gap"].dropna()
        rows.append({
            "service_id": int(s.service_id), "name": s.name, "owner": s.owner, "area": s.area,
            "exposure": loop.exposure(items), "topics": len(mine),
            "rising": sum(1 for r in mine.itertuples() if rising(r.stage) or r.ring in ("Act", "Prepare")),
            "gap_topics": int(mine["gap_risk"].sum()) if len(mine) else 0,
            "gap": float(gaps.sum()) if len(gaps) else None,
            "top": [r.label for r in hot[:3]],
            "sources": int(v["sources"]) if v is not None else 0,
            "authors": int(v["authors"]) if v is not None else 0,
            "news": int(v["news"]) if v is not None else 0,
            "policy": int(v["policy"]) if v is not None else 0,
            "citizen": int(v["citizen"]) if v is not None else 0,
        })
    out = pd.DataFrame(rows, columns=["service_id", "name", "owner", "area", "exposure", "topics",
                                      "rising", "gap_topics", "gap", "top", "sources", "authors",
                                      "news", "policy", "citizen"])
    return out.sort_values(["exposure", "rising", "name"], ascending=[False, False, True],
                           ignore_index=True)

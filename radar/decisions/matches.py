"""Which topics touch which services: embedding similarity plus keywords (docs/decisions.md).

Every analyze recomputes `service_matches` for all active services and topics:
the cosine of the topic's centroid with the service's embedding (from the nlp
stage's `catalogue_vectors`), and the service keywords found in the topic's
label and top terms, or in its representative passages. The score is
`radar.core.loop.match_score`; pairs at `[decisions] match_threshold` or above
are stored with their evidence. People's confirmations and rejections live in
`service_match_reviews` and are never overwritten by a recomputation.
"""

from __future__ import annotations

import numpy as np

from radar.core import loop
from radar.core.config import Config
from radar.core.documents import utcnow


def _vectors(column) -> np.ndarray:
    rows = [np.asarray(v, dtype=np.float32) for v in column]
    return np.vstack(rows) if rows else np.zeros((0, 0), dtype=np.float32)


def compute(con, cfg: Config) -> list[list]:
    """Every topic-service pair at `match_threshold` or above, with its evidence, as `store`
    takes them (reads only)."""
    services = con.execute(
        "SELECT s.service_id, s.keywords, v.vector FROM services s LEFT JOIN catalogue_vectors v "
        "ON v.kind = 'service' AND v.item_id = s.service_id AND v.model = ? WHERE s.active "
        "ORDER BY s.service_id", [cfg.analysis.vector_model]).fetchall()
    # Representative passages by an equality join on the unnested ids (not list_contains,
    # which would compare every topic with every passage).
    topics = con.execute("""
        WITH reps AS (SELECT t.topic_id, r.pid FROM topics t,
                      unnest(coalesce(t.representative_passages, [])) AS r(pid) WHERE t.active)
        SELECT t.topic_id, t.label, t.top_terms, t.centroid,
               list(p.passage_id ORDER BY p.passage_id) FILTER (WHERE p.passage_id IS NOT NULL),
               list(p.text ORDER BY p.passage_id) FILTER (WHERE p.passage_id IS NOT NULL)
        FROM topics t LEFT JOIN reps USING (topic_id)
        LEFT JOIN passages p ON p.passage_id = reps.pid
        WHERE t.active GROUP BY ALL ORDER BY t.topic_id""").fetchall()
    rows = []
    if services and topics:
        with_vec = [i for i, s in enumerate(services) if s[2] is not None]
        topic_vec = [j for j, t in enumerate(topics) if t[3] is not None]
        sims = np.full((len(services), len(topics)), np.nan, dtype=np.float32)
        if with_vec and topic_vec:
            block = loop.cosine_matrix(_vectors([services[i][2] for i in with_vec]),
                                       _vectors([topics[j][3] for j in topic_vec]))
            sims[np.ix_(with_vec, topic_vec)] = block
        # Each text made into words once, for every service's keywords (`loop.hits_in`).
        heads = [loop.words(" | ".join(t for t in (label, ", ".join(terms or [])) if t))
                 for _, label, terms, _, _, _ in topics]
        said = [[(pid, loop.words(text)) for pid, text in zip(pids or [], texts or [], strict=False)
                 if pid is not None] for _, _, _, _, pids, texts in topics]
        everything = [loop.words(" | ".join(t for t in texts or [] if t))
                      for _, _, _, _, _, texts in topics]
        for i, (sid, keywords, _) in enumerate(services):
            keywords = loop.prepared(keywords or [])
            for j, (tid, *_) in enumerate(topics):
                head = loop.hits_in(keywords, heads[j])
                passage_hits = [pid for pid, hay in said[j] if loop.hits_in(keywords, hay)] \
                    if keywords else []
                sim = None if np.isnan(sims[i, j]) else float(sims[i, j])
                score = loop.match_score(sim, len(head), len(passage_hits))
                if score >= cfg.decisions.match_threshold:
                    found = head + [k for k in loop.hits_in(keywords, everything[j]) if k not in head]
                    rows.append([sid, tid, score, sim, found, passage_hits])
    return rows


def store(con, rows: list[list]) -> int:
    """Replace the stored matches with `rows` (`compute`) on a write connection: every match
    is recomputed each time; returns how many pairs were stored."""
    now = utcnow()
    con.execute("DELETE FROM service_matches")
    if rows:
        con.executemany("INSERT INTO service_matches VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [r + [now] for r in rows])
    return len(rows)

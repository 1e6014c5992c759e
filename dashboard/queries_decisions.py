"""SQL for the decision-loop pages (Services, Decisions, Watch list): parameterised, read-only.

Like dashboard.queries, every function takes the warehouse path and opens one
short read. Writes (services, reviews, decisions, steps, signposts, watch
items) go through radar.core.catalogue and radar.core.decisions.
"""

from __future__ import annotations

import pandas as pd

from radar.core import exposure, warehouse

__all__ = ["catalogue_lists", "decision_detail", "decisions_overview", "service_exposure",
           "watch_overview"]


def _has_loop(con) -> bool:
    return warehouse.table_exists(con, "services")


def service_exposure(path: str, period: str) -> dict[str, pd.DataFrame]:
    """The services ranked by exposure, and every (service, topic) pair with its evidence."""
    with warehouse.read(path) as con:
        if not _has_loop(con):
            return {"ranking": pd.DataFrame(), "topics": pd.DataFrame()}
        return {"ranking": exposure.ranking(con, period), "topics": exposure.service_topics(con),
                "rejected": con.execute("""
                    SELECT r.service_id, r.topic_id, t.label, r.who, r."at"
                    FROM service_match_reviews r JOIN topics t USING (topic_id)
                    QUALIFY row_number() OVER (PARTITION BY r.service_id, r.topic_id
                                               ORDER BY r.review_id DESC) = 1
                        AND r.verdict = 'rejected'""").df()}


def catalogue_lists(path: str) -> dict[str, pd.DataFrame]:
    """Active services, watch items and topics, for pickers."""
    with warehouse.read(path) as con:
        if not _has_loop(con):
            empty = pd.DataFrame()
            return {"services": empty, "watch": empty, "topics": empty}
        return {
            "services": con.execute("SELECT service_id, name, owner, owner_email, area, description, "
                                    "keywords, origin FROM services WHERE active ORDER BY name").df(),
            "watch": con.execute("SELECT watch_id, name, description, keywords, area, origin "
                                 "FROM watch_items WHERE active ORDER BY name").df(),
            "topics": con.execute("""
                SELECT t.topic_id, t.label, r.ring FROM topics t
                LEFT JOIN radar_latest r USING (topic_id) WHERE t.active
                ORDER BY r.score DESC NULLS LAST, t.size DESC""").df(),
        }


def decisions_overview(path: str) -> dict[str, pd.DataFrame]:
    """Every decision with its current step, and the reassessment queue."""
    with warehouse.read(path) as con:
        if not _has_loop(con):
            return {"decisions": pd.DataFrame(), "queue": pd.DataFrame()}
        decisions = con.execute("""
            SELECT c.decision_id, c.title, c.owner, c.step, c.step_at, c.step_by,
                   c.decision_id IN (SELECT decision_id FROM reassessment_queue) AS reassess,
                   (SELECT string_agg(kind || ': ' || label, '; ' ORDER BY kind, ref_id)
                    FROM decision_links l WHERE l.decision_id = c.decision_id) AS about
            FROM decision_current c ORDER BY reassess DESC, c.decision_id DESC""").df()
        queue = con.execute("SELECT decision_id, title, owner, owner_email, fired_at, moved, message_id "
                            "FROM reassessment_queue ORDER BY fired_at").df()
    return {"decisions": decisions, "queue": queue}


def decision_detail(path: str, decision_id: int) -> dict[str, pd.DataFrame]:
    """One decision: its links, steps, signposts (with firings) and whether it awaits reassessment."""
    with warehouse.read(path) as con:
        p = [int(decision_id)]
        return {
            "head": con.execute("SELECT * FROM decision_current WHERE decision_id = ?", p).df(),
            "links": con.execute("SELECT kind, ref_id, label FROM decision_links WHERE decision_id = ? "
                                 "ORDER BY kind, ref_id", p).df(),
            "steps": con.execute("SELECT entry_id, step, from_step, who, \"at\", why, equity, "
                                 "sustainability, satisfaction AS \"citizen satisfaction\", trust "
                                 "FROM decision_steps WHERE decision_id = ? ORDER BY entry_id", p).df(),
            "signposts": con.execute("""
                SELECT s.signpost_id, s.kind, coalesce(t.label, w.name) AS "on", s.threshold,
                       s.created_by, s.created_at, f.fired_at, f.moved,
                       o.state AS notice
                FROM signposts s LEFT JOIN topics t ON t.topic_id = s.topic_id
                LEFT JOIN watch_items w ON w.watch_id = s.watch_id
                LEFT JOIN signpost_firings f USING (signpost_id)
                LEFT JOIN alert_outbox o ON o.message_id = f.message_id
                WHERE s.decision_id = ? ORDER BY s.signpost_id""", p).df(),
            "queued": con.execute("SELECT count(*) AS n FROM reassessment_queue WHERE decision_id = ?",
                                  p).df(),
        }


def watch_overview(path: str) -> dict[str, pd.DataFrame]:
    """The watch list, each item's trajectory per period and channel, and recent matches."""
    with warehouse.read(path) as con:
        if not _has_loop(con):
            empty = pd.DataFrame()
            return {"items": empty, "periods": empty, "matches": empty}
        return {
            "items": con.execute("""
                SELECT w.watch_id, w.name, w.description, w.keywords, w.area, w.origin,
                       coalesce(sum(p.passages), 0)::INTEGER AS passages,
                       (SELECT max(period_start) FROM watch_alerts a WHERE a.watch_id = w.watch_id)
                           AS last_alerted
                FROM watch_items w LEFT JOIN watch_periods p USING (watch_id)
                WHERE w.active GROUP BY ALL ORDER BY w.name""").df(),
            "periods": con.execute("SELECT watch_id, period_start, channel, passages, documents, "
                                   "sources, authors FROM watch_periods ORDER BY period_start").df(),
            "matches": con.execute("""
                SELECT m.watch_id, d.title, d.source, d.channel, d.url, m.similarity, m.keyword,
                       coalesce(d.published_at, d.fetched_at) AS published
                FROM watch_matches m JOIN passages p USING (passage_id) JOIN documents d USING (doc_id)
                WHERE d.channel <> 'citizen'
                QUALIFY row_number() OVER (PARTITION BY m.watch_id ORDER BY published DESC) <= 5
                """).df(),
        }

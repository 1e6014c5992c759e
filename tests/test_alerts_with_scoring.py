"""Alerts on radar runs written by the real scoring stage (radar.scoring.score.score), not by hand."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
from alerts_fixtures import write_config

from radar.alerts import send_alerts
from radar.core import warehouse
from radar.core.config import load_config
from radar.scoring.score import score

TOPICS = {0: ("Bus lane enforcement", "transport"), 1: ("Library opening hours", "libraries"),
          2: ("Heat pump grants", "environment and energy"),
          3: ("Library e-book lending", "libraries")}
SOURCES = [f"site-{i}" for i in range(6)]

# Rows whose key is already there are skipped (these tables have no key to do it).
_NEW_ONLY = {
    "documents": "WHERE doc_id NOT IN (SELECT doc_id FROM documents)",
    "document_sources": "WHERE (doc_id, source) NOT IN (SELECT (doc_id, source) FROM document_sources)",
    "passages": "WHERE passage_id NOT IN (SELECT passage_id FROM passages)",
    "passage_topics": "WHERE passage_id NOT IN (SELECT passage_id FROM passage_topics)",
}


def add_docs(path, plan: dict[tuple[int, int], int], channel: str = "news") -> None:
    """{(topic, month): n} one-passage documents in 2024 across six sources, through Arrow."""
    docs, passages, assigned, carriers = [], [], [], []
    for (topic, month), n in plan.items():
        for i in range(n):
            doc_id = f"t{topic}-m{month}-{i}"
            when = datetime(2024, month, 1 + i % 27, 12)
            docs.append((doc_id, f"https://{SOURCES[i % 6]}.example/{doc_id}",
                         f"{TOPICS[topic][0]} story {i}", f"Text about {TOPICS[topic][0]} {i}.",
                         when, when, SOURCES[i % 6], channel, f"author-{topic}-{i}", f"h-{doc_id}"))
            passages.append((f"{doc_id}:0", doc_id, 0, f"Text about {TOPICS[topic][0]} {i}.", 5))
            assigned.append((f"{doc_id}:0", topic, 0.9, "test-v1"))
            carriers.append((doc_id, SOURCES[i % 6]))
    tables = {
        "documents": (docs, ["doc_id", "url", "title", "text", "published_at", "fetched_at",
                             "source", "channel", "author_hash", "content_hash"]),
        "passages": (passages, ["passage_id", "doc_id", "seq", "text", "n_words"]),
        "passage_topics": (assigned, ["passage_id", "topic_id", "probability", "model_version"]),
        "document_sources": (carriers, ["doc_id", "source"]),
    }
    with warehouse.write(path) as con:
        for name, (rows, cols) in tables.items():
            con.register("batch", pa.table(list(zip(*rows, strict=True)), names=cols))
            con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM batch {_NEW_ONLY[name]}")
            con.unregister("batch")
        for t, (label, area) in TOPICS.items():
            reps = [r[0] for r in con.execute(
                "SELECT passage_id FROM passage_topics WHERE topic_id = ? ORDER BY passage_id DESC "
                "LIMIT 3", [t]).fetchall()]
            con.execute(
                "INSERT INTO topics (topic_id, label, top_terms, service_area, size, "
                "representative_passages, model_version) VALUES (?, ?, ?, ?, 0, ?, 'test-v1') "
                "ON CONFLICT (topic_id) DO UPDATE SET representative_passages = "
                "excluded.representative_passages", [t, label, label.lower().split(), area, reps])


def test_alerts_follow_the_scored_radar(project, server):
    write_config(project, server.port, [
        {"email": "energy@city.example", "areas": ["environment and energy"]},
        {"email": "libraries@city.example", "areas": ["libraries"]},
    ])
    cfg = load_config(project)
    steady = {(t, m): n for m in range(1, 10) for t, n in ((0, 30), (1, 20))}
    rising = {(2, m): n for m, n in [(6, 4), (7, 8), (8, 16), (9, 32)]}
    add_docs(cfg.warehouse_path, steady | rising)
    first = score(cfg)
    ring = warehouse.query(cfg.warehouse_path,
                           "SELECT ring FROM radar_latest WHERE topic_id = 2")[0][0]
    assert ring in ("Act", "Prepare")

    s = send_alerts(cfg)
    assert [m.recipient for m in s.messages] == ["energy@city.example"] and s.sent == 1
    (msg,) = server.handler.received
    text = msg.part("plain")
    assert "Heat pump grants" in text and f"{ring} ring" in text
    assert "https://radar.city.example/topic?topic=2" in text
    assert text.count("https://site-") == 3  # three evidence links from the scored topic
    assert score(cfg).run_id == first.run_id  # nothing new: no new radar run ...
    assert send_alerts(cfg).sent == 0  # ... and no mail

    # October: the e-book topic takes off; heat pumps keep rising in their ring.
    add_docs(cfg.warehouse_path, {(0, 10): 30, (1, 10): 20, (2, 10): 64, (3, 9): 4, (3, 10): 40})
    second = score(cfg)
    assert second.run_id == first.run_id + 1
    rings = dict(warehouse.query(cfg.warehouse_path, "SELECT topic_id, ring FROM radar_latest"))
    assert rings == {0: "Monitor", 1: "Monitor", 2: "Prepare", 3: "Prepare"}
    s = send_alerts(cfg)
    # The e-book topic entered; heat pumps stayed in Prepare, so energy hears nothing new.
    assert [m.recipient for m in s.messages] == ["libraries@city.example"] and s.sent == 1
    text = server.handler.to("libraries@city.example")[0].part("plain")
    assert "Library e-book lending" in text and "Library opening hours" not in text
    # It entered this subscriber's radar, but the late September documents put it on
    # September's radar already: new once (in September), so not called new again.
    moves = dict(warehouse.query(cfg.warehouse_path, "SELECT topic_id, movement FROM radar_latest"))
    september = dict(warehouse.query(cfg.warehouse_path, "SELECT topic_id, ring FROM radar_history "
                                     "WHERE period_start = DATE '2024-09-01'"))
    assert september[3] is not None and moves[3] != "new"
    assert "Prepare ring" in text and "(on your radar now)" in text

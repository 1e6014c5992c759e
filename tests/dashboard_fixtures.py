"""A small but realistic warehouse for dashboard tests, written through radar.core.warehouse.write.

The topics and signals stages are built in parallel, so this module fills their
tables (0003_topics.sql, 0004_signals.sql) directly with rows shaped like theirs:
six months of documents from news, policy and citizen sources, eight topics in
different service areas, and two radar runs so blips can be new, moved in,
moved out, unchanged or gone.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd

from radar.core import warehouse

XSS_TITLE = "<script>alert('xss')</script><img src=x onerror=alert(1)> Bus lanes"
PLANTED_PHRASE = "pneumatic waste tubes"
MONTHS = [date(2026, m, 1) for m in range(6, 12)]  # June .. November 2026
LATEST, PREVIOUS = MONTHS[-1], MONTHS[-2]

SOURCES = [
    ("city-news", "feed", "http://127.0.0.1/city.rss", "news"),
    ("regional-paper", "feed", "http://127.0.0.1/regional.rss", "news"),
    ("gov-policy", "sitemap", "http://127.0.0.1/gov/sitemap.xml", "policy"),
    ("think-tank", "listing", "http://127.0.0.1/tank/", "policy"),
    ("citizen-forum", "forum", "http://127.0.0.1/forum/", "citizen"),
    ("polis", "export", "http://127.0.0.1/polis.csv", "citizen"),
]
CHANNEL = {s[0]: s[3] for s in SOURCES}

# topic_id, label, terms, area, sentence used in its passages, ring now, ring before, stage
TOPICS = [
    (1, "Heat pump grants", ["heat pump", "grant", "insulation"], "environment and energy",
     "Households ask how the new heat pump grants work and who will fit them.",
     "Act", "Prepare", "emerging"),
    (2, "E-scooter parking", ["e-scooter", "parking", "pavement"], "transport",
     "Rental e-scooters left on pavements block wheelchairs and prams.",
     "Prepare", "Prepare", "established"),
    (3, "Library makerspaces", ["makerspace", "3d printer", "library"], "libraries",
     "The library makerspace with 3D printers is booked out every evening.",
     "Watch", None, "weak signal"),
    (4, "AI chatbots for council services", ["chatbot", "ai", "council"], "digital services",
     "The council will test an AI chatbot that answers questions about bins and permits.",
     "Act", "Watch", "emerging"),
    (5, "Four-day week trials", ["four-day week", "trial", "staff"], "economy and work",
     "Staff in the four-day week trial report less sick leave.",
     "Monitor", "Watch", "fading"),
    (6, "Short-term rentals", ["short-term rental", "housing", "tourists"], "housing",
     "Short-term rentals to tourists push up rents in the old town.",
     "Watch", "Watch", "established"),
    (7, "Loneliness among older people", ["loneliness", "older people", "visits"],
     "health and care", "Volunteers visit older people living alone to fight loneliness.",
     "Monitor", "Monitor", "weak signal"),
    (8, "Youth centre closures", ["youth centre", "closure", "funding"], "safety",
     "Closing youth centres leaves teenagers nowhere to go in the evening.",
     None, "Monitor", "fading"),
]
MOVEMENT = {1: "moved in", 2: "unchanged", 3: "new", 4: "moved in", 5: "moved out",
            6: "unchanged", 7: "unchanged", 8: "left"}


def _id(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:16]


def _documents() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    docs, copies, passages, assigned = [], [], [], []
    sources = [s[0] for s in SOURCES]
    n = 0
    for tid, label, _terms, _area, sentence, *_ in TOPICS:
        for mi, month in enumerate(MONTHS):
            # Rising topics grow month by month; fading ones shrink.
            count = 1 + (mi if tid in (1, 3, 4) else (5 - mi) if tid in (5, 8) else 2)
            for k in range(count):
                n += 1
                source = sources[(tid + mi + k) % len(sources)]
                channel = CHANNEL[source]
                doc_id = _id("doc", tid, mi, k)
                published = datetime.combine(month, datetime.min.time()) + timedelta(days=k + 1)
                url = f"http://127.0.0.1/{source}/{doc_id}"
                author = _id("author", (tid * 7 + k) % 9) if channel == "citizen" else None
                text = (f"{sentence} Report number {n} from {source}. "
                        "People expect the council to say what happens next.")
                docs.append((doc_id, url, url, f"{label}: update {n}", text, published,
                             published + timedelta(hours=2), source, channel, "en", author,
                             _id("content", text)))
                copies.append((doc_id, source, url))
                if k == 0 and channel == "news":  # syndicated to the other paper
                    other = "regional-paper" if source == "city-news" else "city-news"
                    copies.append((doc_id, other, f"http://127.0.0.1/{other}/{doc_id}"))
                pid = f"{doc_id}:0"
                expectation = k % 2 == 0 and tid in (1, 4)
                passages.append((pid, doc_id, 0, text, len(text.split()), expectation,
                                 "people expect" if expectation else None))
                assigned.append((pid, tid, 0.9 - 0.01 * k, "m1"))
    extra = [
        (_id("doc", "xss"), "http://127.0.0.1/citizen-forum/xss", "http://127.0.0.1/citizen-forum/xss",
         XSS_TITLE, "A post about bus lanes with <b>markup</b> and <script>alert(2)</script> inside.",
         datetime(2026, 11, 3), datetime(2026, 11, 3, 1), "citizen-forum", "citizen", "en",
         _id("author", "x"), _id("content", "xss")),
        (_id("doc", "planted"), "http://127.0.0.1/think-tank/tubes", "http://127.0.0.1/think-tank/tubes",
         "Underground waste collection", f"A study of {PLANTED_PHRASE} under new housing estates "
         "finds fewer bin lorries and cleaner streets.", datetime(2026, 10, 20),
         datetime(2026, 10, 21), "think-tank", "policy", "en", None, _id("content", "planted")),
    ]
    for row in extra:
        docs.append(row)
        copies.append((row[0], row[7], row[1]))
        passages.append((f"{row[0]}:0", row[0], 0, row[4], len(row[4].split()), False, None))
        assigned.append((f"{row[0]}:0", -1, None, "m1"))
    cols = ["doc_id", "url", "canonical_url", "title", "text", "published_at", "fetched_at",
            "source", "channel", "language", "author_hash", "content_hash"]
    return (pd.DataFrame(docs, columns=cols),
            pd.DataFrame(copies, columns=["doc_id", "source", "url"]),
            pd.DataFrame(passages, columns=["passage_id", "doc_id", "seq", "text", "n_words",
                                            "is_expectation", "expectation_phrase"]),
            pd.DataFrame(assigned, columns=["passage_id", "topic_id", "probability",
                                            "model_version"]))


def _signal_row(run_id: int, period: date, topic, ring: str | None, previous: str | None,
                movement: str, volume: int, sources: int) -> dict:
    tid, label, *_rest, stage = topic
    score = {"Act": 0.9, "Prepare": 0.7, "Watch": 0.5, "Monitor": 0.3, None: 0.1}[ring] + tid / 100
    return {
        "run_id": run_id, "period_start": period, "topic_id": tid, "score": score, "stage": stage,
        "ring": ring, "volume": volume, "share": volume / 60, "growth": 0.5 if tid in (1, 3, 4)
        else -0.3 if tid in (5, 8) else 0.02, "acceleration": 0.1, "burst": 2.0 if tid == 4 else 0.0,
        "dov": 0.1, "dod": 0.2, "quadrant": "weak signal", "novelty": 0.4, "sources": sources,
        "effective_sources": sources * 0.8, "news_share": 0.4, "policy_share": 0.3,
        "citizen_share": 0.3, "authors": 2 if tid == 7 else 6, "top_author_share":
        0.7 if tid == 7 else 0.2, "narrow_voice": tid == 7, "show_quotes": tid != 7,
        "expectation_share": 0.5 if tid in (1, 4) else 0.0, "expectation_growth": 0.2,
        "expectation_gap": 0.4 if tid == 4 else 0.0, "gap_risk": tid == 4,
        "previous_ring": previous, "movement": movement,
        "reasons": f"{label} is {stage}: volume grew and {sources} sources carry it.",
        # The makerspace topic's weak signal stands for a new theme inside it.
        "theme": "3d printer, evening booking" if tid == 3 and run_id == 2 else None,
    }


def build(path: str | Path) -> Path:
    """Fill the warehouse at `path` (created and migrated if needed) with the test corpus."""
    docs, copies, passages, assigned = _documents()
    with warehouse.write(path) as con:
        src = pd.DataFrame(SOURCES, columns=["name", "type", "url", "channel"])  # noqa: F841
        con.execute("INSERT INTO sources BY NAME SELECT * FROM src ON CONFLICT DO NOTHING")
        con.execute("INSERT INTO documents BY NAME SELECT * FROM docs")
        con.execute("INSERT INTO document_sources BY NAME SELECT * FROM copies")
        passage_rows = passages  # noqa: F841  (a frame named like the table would shadow it)
        con.execute("INSERT INTO passages BY NAME SELECT * FROM passage_rows")
        con.execute("INSERT INTO passage_topics BY NAME SELECT * FROM assigned")
        con.execute("INSERT INTO topic_models (model_version, kind, n_passages, n_topics) "
                    "VALUES ('m1', 'fit', ?, ?)", [len(passages), len(TOPICS)])
        for tid, label, terms, area, *_ in TOPICS:
            reps = [p for p, t in zip(assigned.passage_id, assigned.topic_id, strict=True) if t == tid][:3]
            con.execute(
                "INSERT INTO topics (topic_id, label, top_terms, service_area, first_seen, size, "
                "expectation_share, representative_passages, model_version) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'm1')",
                [tid, label, terms, area, MONTHS[0] if tid != 3 else PREVIOUS,
                 len([t for t in assigned.topic_id if t == tid]),
                 0.5 if tid in (1, 4) else 0.0, reps])
        con.execute("""
            INSERT INTO topic_periods
            SELECT pt.topic_id, date_trunc('month', coalesce(d.published_at, d.fetched_at))::DATE,
                   d.channel, count(*), count(DISTINCT d.doc_id), count(DISTINCT ds.source),
                   count(DISTINCT d.author_hash), count(*) FILTER (WHERE p.is_expectation)
            FROM passage_topics pt JOIN passages p USING (passage_id)
            JOIN documents d USING (doc_id)
            JOIN (SELECT doc_id, any_value(source) AS source FROM document_sources GROUP BY 1) ds
                USING (doc_id)
            WHERE pt.topic_id >= 0 GROUP BY ALL""")
        volumes = dict(con.execute(
            "SELECT topic_id, sum(passages) FROM topic_periods WHERE period_start = ? GROUP BY 1",
            [LATEST]).fetchall())
        rows = []
        for run_id, period in ((1, PREVIOUS), (2, LATEST)):
            con.execute("INSERT INTO radar_runs (run_id, \"at\", period, period_start, model_version) "
                        "VALUES (?, ?, 'month', ?, 'm1')",
                        [run_id, datetime.combine(period, datetime.min.time()) + timedelta(days=32),
                         period])
            for topic in TOPICS:
                tid, ring_now, ring_before = topic[0], topic[5], topic[6]
                if run_id == 1:
                    if ring_before is None:
                        continue  # topic 3 did not exist yet
                    rows.append(_signal_row(1, period, topic, ring_before, None, "unchanged", 3, 3))
                else:
                    rows.append(_signal_row(2, period, topic, ring_now, ring_before,
                                            MOVEMENT[tid], int(volumes.get(tid, 1)), 2 + tid % 4))
        sig = pd.DataFrame(rows)  # noqa: F841
        con.execute("INSERT INTO signals BY NAME SELECT * FROM sig")
        con.execute("""
            INSERT INTO crawl_runs (source, started_at, finished_at, pages, new_documents, errors, status)
            VALUES ('city-news', '2026-11-20 06:00', '2026-11-20 06:02', 40, 12, 0, 'ok'),
                   ('gov-policy', '2026-11-20 06:00', '2026-11-20 06:05', 80, 9, 2, 'partial'),
                   ('citizen-forum', '2026-11-20 06:00', NULL, 3, 0, 1, 'running')""")
        con.execute("""
            INSERT INTO fetch_errors (run_id, source, url, reason, "at")
            VALUES (2, 'gov-policy', 'http://127.0.0.1/gov/broken.pdf', 'PDF has no text layer',
                    '2026-11-20 06:03'),
                   (2, 'gov-policy', 'http://127.0.0.1/gov/404', 'HTTP 404', '2026-11-20 06:04')""")
    return Path(path)

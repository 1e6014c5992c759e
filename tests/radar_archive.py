"""A multi-period archive, as a new user imports it: many topics, most in one service area,
and one scoring run over all periods (the real scoring stage, `radar.scoring.score.score`).

Topics are written the way the topic stage writes them (topics, passages,
passage_topics), so the test needs no topic model. Trajectories: steady topics,
slow risers, late newcomers (entering in the latest period), fading ones, one
that leaves and one that leaves and comes back.
"""

from __future__ import annotations

import random
from datetime import datetime

import pyarrow as pa

from radar.core import warehouse

AREAS = ["transport", "housing", "libraries", "health and care", "digital services",
         "environment and energy", "economy and work", "safety", "culture", "education"]
SOURCES = [f"site-{i}" for i in range(8)]
YEARS = list(range(2010, 2022))  # 12 yearly periods


def topics(n: int = 75, seed: int = 3) -> list[dict]:
    """n topics: two thirds in the first area; each with a passages-per-year series."""
    rng = random.Random(seed)
    out = []
    T = len(YEARS)
    for k in range(n):
        area = AREAS[0] if k < n * 2 // 3 else AREAS[1 + k % (len(AREAS) - 1)]
        kind = k % 10
        base = rng.randint(8, 20)
        if kind in (0, 1, 2, 3):  # steady
            counts = [base + rng.randint(-2, 2) for _ in range(T)]
        elif kind in (4, 5):  # slow riser, from the fourth year
            counts = [0] * 3 + [max(1, int(3 * 1.35 ** i)) for i in range(T - 3)]
        elif kind == 6:  # fading
            counts = [max(0, base * 2 - 3 * i) for i in range(T)]
        elif kind == 7:  # quiet after the third year, leaves, comes back in the last two
            counts = [base] * 3 + [0] * (T - 5) + [base * 2, base * 3]
        else:  # steady from the middle
            counts = [0] * 5 + [base + rng.randint(-2, 2) for _ in range(T - 5)]
        out.append({"topic_id": k, "label": f"{area.split()[0]} topic {k}", "area": area,
                    "counts": counts})
    for j, k in enumerate(range(n, n + 3)):  # real newcomers: the latest period only
        out.append({"topic_id": k, "label": f"newcomer {j}", "area": AREAS[2 + j],
                    "counts": [0] * (T - 1) + [25]})
    return out


def build(path, n: int = 75, seed: int = 3) -> list[dict]:
    """Write the archive into the (migrated) warehouse at `path`; returns the topics."""
    spec = topics(n, seed)
    docs, passages, assigned, carriers = [], [], [], []
    for t in spec:
        for year, count in zip(YEARS, t["counts"], strict=True):
            for i in range(count):
                doc_id = f"a{t['topic_id']}-{year}-{i}"
                source = SOURCES[(i + t["topic_id"]) % len(SOURCES)]
                when = datetime(year, 1 + i % 12, 1 + i % 27, 12)
                channel = ("news", "policy", "citizen")[i % 3]
                docs.append((doc_id, f"{t['label']} report {i}", when, when, source, channel,
                             f"author-{(i * 7 + t['topic_id']) % 50}", f"h-{doc_id}"))
                passages.append((f"{doc_id}:0", doc_id, 0, f"{t['label']} passage {i}", 3,
                                 i % 5 == 0))
                assigned.append((f"{doc_id}:0", t["topic_id"], 0.9, "archive-v1"))
                carriers.append((doc_id, source))
    tables = {
        "documents": (docs, ["doc_id", "text", "published_at", "fetched_at", "source", "channel",
                             "author_hash", "content_hash"]),
        "passages": (passages, ["passage_id", "doc_id", "seq", "text", "n_words",
                                "is_expectation"]),
        "passage_topics": (assigned, ["passage_id", "topic_id", "probability", "model_version"]),
        "document_sources": (carriers, ["doc_id", "source"]),
    }
    with warehouse.write(path) as con:
        for name, (rows, columns) in tables.items():
            con.register("batch", pa.table(list(zip(*rows, strict=True)), names=columns))
            con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM batch")
            con.unregister("batch")
        con.execute("INSERT INTO topic_models (model_version, kind, n_passages, n_topics) "
                    "VALUES ('archive-v1', 'fit', ?, ?)", [len(passages), len(spec)])
        for t in spec:
            con.execute(
                "INSERT INTO topics (topic_id, label, top_terms, service_area, size, "
                "model_version) VALUES (?, ?, ?, ?, ?, 'archive-v1')",
                [t["topic_id"], t["label"], t["label"].split(), t["area"], sum(t["counts"])])
    return spec


def analyse(config_path):
    """Build the topic series and score every period in one run, as `radar analyze` does
    after the topic stage."""
    from radar.core.config import load_config
    from radar.scoring.score import score

    cfg = load_config(config_path)
    return score(cfg)

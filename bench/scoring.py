"""Benchmark the scoring stage: `radar.scoring.score.score` on a synthetic topic corpus.

    python bench/scoring.py [--topics 500] [--periods 52] [--passages 100000]

Builds a fresh warehouse with PASSAGES one-passage documents spread over
TOPICS topics and PERIODS weeks (a few topics rising, syndicated copies,
citizen authors), then times one full scoring run (read series, score every
period, write signals), a second run on the unchanged warehouse, which must
write nothing, and a third after one more week of documents (1/PERIODS more),
which stores only the periods whose radar changed. Prints wall time per step
and peak RSS.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa


def build(path: Path, topics: int, periods: int, passages: int, seed: int = 3,
          first_week: int = 0, prefix: str = "d") -> None:
    from radar.core import warehouse

    rng = np.random.default_rng(seed)
    weights = rng.pareto(1.5, topics) + 0.1
    topic = rng.choice(topics, size=passages, p=weights / weights.sum())
    week = rng.integers(first_week, first_week + periods, size=passages)
    rising = topic < max(topics // 50, 1)  # 2% of topics concentrate late
    week = np.where(rising, first_week + periods - 1
                    - (rng.integers(0, periods, size=passages) ** 2) // periods, week)
    start = datetime(2025, 1, 6)
    ids = [f"{prefix}{i}" for i in range(passages)]
    when = [start + timedelta(weeks=int(w), hours=int(i % 100)) for i, w in enumerate(week)]
    channel = np.array(["news", "policy", "citizen"])[rng.integers(0, 3, size=passages)]
    source = [f"{c}-{rng.integers(0, 40)}" for c in channel]
    author = [f"a{rng.integers(0, 5000)}" if c == "citizen" else None for c in channel]
    docs = pa.table({
        "doc_id": ids, "text": ["x"] * passages, "published_at": when, "fetched_at": when,
        "source": source, "channel": channel.tolist(), "author_hash": author,
        "content_hash": ids,
    })
    pas = pa.table({"passage_id": [f"{d}:0" for d in ids], "doc_id": ids, "seq": [0] * passages,
                    "text": ["x"] * passages, "n_words": [1] * passages,
                    "is_expectation": (rng.random(passages) < 0.1).tolist()})
    asg = pa.table({"passage_id": [f"{d}:0" for d in ids], "topic_id": topic.astype("int32"),
                    "probability": [1.0] * passages, "model_version": ["bench"] * passages})
    synd = rng.random(passages) < 0.1  # one story in ten carried by three more sites
    car_ids = [d for d, s in zip(ids, synd, strict=True) if s for _ in range(3)]
    car = pa.table({"doc_id": car_ids, "source": [f"mirror-{i % 3}" for i in range(len(car_ids))]})
    top = pa.table({"topic_id": np.arange(topics, dtype="int32"),
                    "label": [f"topic {t}" for t in range(topics)],
                    "top_terms": [[f"t{t}"] for t in range(topics)],
                    "service_area": ["other"] * topics, "size": [0] * topics,
                    "model_version": ["bench"] * topics})
    tables = [("documents", docs), ("passages", pas), ("passage_topics", asg),
              ("document_sources", car)] + ([("topics", top)] if first_week == 0 else [])
    with warehouse.write(path) as con:
        for name, tbl in tables:
            con.register("batch", tbl)
            con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM batch")
            con.unregister("batch")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--topics", type=int, default=500)
    ap.add_argument("--periods", type=int, default=52)
    ap.add_argument("--passages", type=int, default=100_000)
    args = ap.parse_args()
    os.environ.setdefault("RADAR_PSEUDONYM_SALT", "bench")
    from radar.core.config import parse_config
    from radar.scoring.score import score

    with tempfile.TemporaryDirectory() as tmp:
        cfg = parse_config({"warehouse": {"path": str(Path(tmp) / "bench.duckdb")},
                            "analysis": {"period": "week"}})
        t0 = time.perf_counter()
        build(cfg.warehouse_path, args.topics, args.periods, args.passages)
        built = time.perf_counter() - t0
        t0 = time.perf_counter()
        first = score(cfg)
        t_first = time.perf_counter() - t0
        t0 = time.perf_counter()
        second = score(cfg)
        t_second = time.perf_counter() - t0
        build(cfg.warehouse_path, args.topics, 1, args.passages // args.periods, seed=3,
              first_week=args.periods, prefix="w")
        t0 = time.perf_counter()
        third = score(cfg)
        t_third = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"corpus: {args.passages} passages, {args.topics} topics, {args.periods} weeks "
          f"(built in {built:.1f}s)")
    print(f"first score: {t_first:.2f}s -> {first.signals} signals, {first.topics} topics x "
          f"{first.periods} periods, rings {first.rings}")
    print(f"unchanged re-run: {t_second:.2f}s, {second.signals} signals written")
    print(f"one more week: {t_third:.2f}s, {third.periods_stored} of {third.periods} periods "
          f"stored ({third.signals} signals), rings {third.rings}")
    print(f"peak RSS: {rss:.0f} MB")


if __name__ == "__main__":
    main()

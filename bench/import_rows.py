"""Benchmark `radar import`: rows/s and peak memory for a JSONL file of N rows.

    python bench/import_rows.py [--rows 100000]

Builds a synthetic JSONL file (varied texts, a third citizen posts with authors),
imports it into a fresh warehouse, then re-imports it (which must add nothing).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import tempfile
import time
from pathlib import Path

WORDS = (
    "library makerspace opening hours bus lane cycling heat pump grant housing rent council "
    "digital identity app broadband school childcare park museum police safety waste recycling "
    "consultation budget elderly care doctor clinic train station parking scooter climate energy"
).split()


def make_file(path: Path, rows: int, seed: int = 7) -> None:
    rnd = random.Random(seed)
    channels = ["news", "policy", "citizen"]
    with path.open("w", encoding="utf-8") as fh:
        for i in range(rows):
            channel = channels[i % 3]
            text = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(20, 120)))
            fh.write(json.dumps({
                "url": f"https://bench.example/{channel}/{i}",
                "title": f"Item {i}",
                "text": f"The {text}.",
                "published_at": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00Z",
                "source": f"{channel}-{i % 20}",
                "channel": channel,
                "author": f"person {i % 5000}" if channel == "citizen" else None,
            }) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    os.environ.setdefault("RADAR_PSEUDONYM_SALT", "bench")
    from crawlers.importer import import_file

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "rows.jsonl"
        make_file(src, args.rows)
        wh = Path(tmp) / "bench.duckdb"
        t0, c0 = time.perf_counter(), time.process_time()
        first = import_file(src, wh)
        t1, c1 = time.perf_counter(), time.process_time()
        again = import_file(src, wh)
        t2, c2 = time.perf_counter(), time.process_time()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"rows                 {args.rows}")
    print(f"first import         {t1 - t0:.1f} s  ({args.rows / (t1 - t0):,.0f} rows/s), "
          f"{first.new_documents} new; {c1 - c0:.1f} CPU s")
    print(f"re-import            {t2 - t1:.1f} s, {again.new_documents} new; {c2 - c1:.1f} CPU s")
    print(f"load average         {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"peak RSS             {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()

"""Benchmark publishing the analysts' reader copy: seconds per publication for a warehouse of
N documents (the copy is published at most every `reader_copy_every` seconds during a
command, and when it ends). The documents (about 1,500 characters of varied text each) are
written with SQL: the cost of publishing depends on the file's size, not on how it filled.

    python bench/reader_copy.py [--rows 200000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

FILL = """
INSERT INTO documents (doc_id, url, canonical_url, title, text, published_at, fetched_at,
                       source, channel, language, author_hash, content_hash)
SELECT md5(i::VARCHAR), 'https://bench.example/' || i, 'https://bench.example/' || i,
       'Item ' || i,
       (SELECT string_agg(md5((i * 31 + k)::VARCHAR) || ' council plan ' || (i % 997), ' ')
        FROM range(36) t(k)),
       TIMESTAMP '2020-01-01' + to_days((i % 2000)::INTEGER), now()::TIMESTAMP,
       'bench-' || (i % 50), 'news', 'en', NULL, md5('c' || i)
FROM range(?) r(i)
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    os.environ.setdefault("RADAR_PSEUDONYM_SALT", "bench-salt")

    from radar.app.init_project import init_project
    from radar.core import readcopy, warehouse

    with tempfile.TemporaryDirectory(prefix="radar-bench-copy-") as tmp:
        folder = Path(tmp)
        init_project(folder / "radar.toml")
        wh = folder / "radar.duckdb"
        readcopy.configure(wh, -1)  # measure publishing alone, not while filling
        started = time.perf_counter()
        with warehouse.write(wh) as con:
            con.execute(FILL, [args.rows])
        filled = time.perf_counter() - started
        readcopy.configure(wh, readcopy.DEFAULT_EVERY)
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            assert readcopy.publish(wh)
            times.append(time.perf_counter() - t)
        size = wh.stat().st_size / 1e6
        print(f"{args.rows} documents, warehouse {size:.0f} MB (filled in {filled:.0f} s): "
              f"publishing the reader copy took {min(times):.2f} s best, {max(times):.2f} s worst "
              f"of {args.repeat}; {size / min(times):.0f} MB/s")


if __name__ == "__main__":
    main()

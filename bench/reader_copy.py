"""Benchmark publishing the analysts' reader copy: seconds per publication for a warehouse of
N imported documents (the copy is published at most every `reader_copy_every` seconds
during a command, and when it ends).

    python bench/reader_copy.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from import_rows import make_file


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    os.environ.setdefault("RADAR_PSEUDONYM_SALT", "bench-salt")

    from crawlers.importer import import_file
    from radar.app.init_project import init_project
    from radar.core import readcopy

    with tempfile.TemporaryDirectory(prefix="radar-bench-copy-") as tmp:
        folder = Path(tmp)
        init_project(folder / "radar.toml")
        wh = folder / "radar.duckdb"
        rows = folder / "rows.jsonl"
        make_file(rows, args.rows)
        readcopy.configure(wh, -1)  # measure publishing alone, not during the import
        started = time.perf_counter()
        import_file(rows, wh)
        imported = time.perf_counter() - started
        readcopy.configure(wh, readcopy.DEFAULT_EVERY)
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            assert readcopy.publish(wh)
            times.append(time.perf_counter() - t)
        size = wh.stat().st_size / 1e6
        print(f"{args.rows} documents, warehouse {size:.0f} MB (import {imported:.0f} s): "
              f"publishing the reader copy took {min(times):.2f} s best, {max(times):.2f} s worst "
              f"of {args.repeat}; {size / min(times):.0f} MB/s")


if __name__ == "__main__":
    main()

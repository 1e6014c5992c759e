"""Benchmark the two warehouse backends: write throughput, read latency, storage per document.

    python bench/warehouse_backends.py [--rows 20000] [--catalog postgres:dbname=... host=...]

Imports the same synthetic JSONL file (bench/import_rows.py) into the embedded DuckDB
file and, with --catalog (an empty PostgreSQL database), into DuckLake with its data in
a temporary folder; then times small write batches (one fetch_errors row each: the cost
of a commit) and small reads, and measures storage per document (the DuckDB file; the
lake's Parquet files plus its PostgreSQL database).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from import_rows import make_file  # noqa: E402  (bench/ is not a package)


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def run(label: str, wh: Path, src: Path, rows: int, storage) -> None:
    from crawlers.importer import import_file
    from radar.core import warehouse

    t0 = time.perf_counter()
    first = import_file(src, wh)
    t1 = time.perf_counter()
    n = 30
    for _ in range(n):
        with warehouse.write(wh) as con:
            con.execute("INSERT INTO fetch_errors (run_id, source, url, reason) VALUES (0, 'b', 'u', 'r')")
    t2 = time.perf_counter()
    for _ in range(n):
        warehouse.query(wh, "SELECT count(*) FROM documents WHERE channel = 'news'")
    t3 = time.perf_counter()
    size = storage()
    print(f"{label:<9} import {rows / (t1 - t0):8,.0f} docs/s ({first.new_documents} new, "
          f"{t1 - t0:.1f} s) | one-row write batch {1000 * (t2 - t1) / n:6.1f} ms | "
          f"small read {1000 * (t3 - t2) / n:6.1f} ms | storage {size / 1e6:7.1f} MB, "
          f"{size / max(first.new_documents, 1):,.0f} bytes/document")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--catalog", default="", help="postgres:dbname=... (an empty database)")
    args = parser.parse_args()
    os.environ.setdefault("RADAR_PSEUDONYM_SALT", "bench")
    from radar.core import backends

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "rows.jsonl"
        make_file(src, args.rows)
        print(f"{args.rows} synthetic documents, {src.stat().st_size / 1e6:.1f} MB of JSONL")
        wh = Path(tmp) / "bench.duckdb"
        run("duckdb", wh, src, args.rows, lambda: wh.stat().st_size)
        if args.catalog:
            import psycopg

            lake_wh = Path(tmp) / "lake.duckdb"
            spec = backends.LakeSpec(backends.parse_catalog(args.catalog), str(Path(tmp) / "lake"))
            backends.configure(lake_wh, spec)

            def storage() -> int:
                with psycopg.connect(spec.dsn()) as pg:
                    db = pg.execute("SELECT pg_database_size(current_database())").fetchone()[0]
                return db + folder_bytes(Path(spec.data_path))

            run("ducklake", lake_wh, src, args.rows, storage)


if __name__ == "__main__":
    main()

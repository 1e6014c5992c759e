"""A write batch's cost as the warehouse grows: `python bench/write_batches.py [--passages 100000 1000000]`.

`radar analyze` writes its passages, their vectors and their topic assignments in batches
(`nlp.pipeline.DOC_BATCH` documents each), one transaction and one connection each, so that
readers get in between. Every batch ends with DuckDB's checkpoint when the connection
closes. If that checkpoint costs more as the tables grow, the first analysis of a large
corpus grows faster than its size (each of its batches pays for all the rows before it),
and every incremental run pays for the whole warehouse.

This builds a warehouse (the real schema and migrations) of N passages with random 384-d
vectors, assigned to topics, whose ids look like the real ones (24 hex digits of a
document hash, `:seq`); then, in a child process per size, writes `--batch` new passages
with their vectors (`nlp.tables.write_passages`) and assigns them
(`nlp.tables.write_assignments`) `--repeat` times, and prints the median wall of each
write, split into the work and the connection's close (the checkpoint).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.batch_timing import over_sizes, time_closes  # noqa: E402


def _ids(expr: str) -> str:
    """SQL for a real-looking passage id of the integer `expr`: 24 hex digits, ':0'."""
    return f"(substr(md5(({expr})::VARCHAR), 1, 24) || ':0')"


def build(path: Path, n: int) -> None:
    from radar.core import warehouse

    with warehouse.write(path) as con:
        con.execute(f"""
            INSERT INTO passages (passage_id, doc_id, seq, text, n_words, terms, doc_content_hash)
            SELECT {_ids('i')}, substr(md5(i::VARCHAR), 1, 24), 0,
                   'paragraph ' || i || ' of the bench corpus', 6, 'paragraph bench corpus', 'h'
            FROM range({n}) t(i)""")
    with warehouse.write(path) as con:
        con.execute(f"""
            INSERT INTO passage_embeddings (passage_id, model, vector)
            SELECT {_ids('i')}, 'bench', list_transform(range(384), k -> random()::FLOAT)::FLOAT[]
            FROM range({n}) t(i)""")
    with warehouse.write(path) as con:
        con.execute(f"""
            INSERT INTO passage_topics (passage_id, topic_id, probability, model_version)
            SELECT {_ids('i')}, (i % 200)::INTEGER, 1.0, 'bench' FROM range({n}) t(i)""")


def measure(path: Path, batch: int, repeat: int, start: int) -> None:
    """Write `repeat` batches of `batch` new passages (ids from `start` on); print the timings."""
    import numpy as np

    from nlp import tables
    from radar.core import warehouse

    closes = time_closes(warehouse)
    rng = np.random.default_rng(7)
    out = {"passages": [], "passages_close": [], "assign": [], "assign_close": []}
    with warehouse.read(path) as con:
        ids_sql = f"SELECT {_ids('i')} FROM range({start}, {start + batch * repeat}) t(i)"
        new_ids = [r[0] for r in con.execute(ids_sql).fetchall()]
    for r in range(repeat):
        ids = new_ids[r * batch:(r + 1) * batch]
        rows = [{"passage_id": i, "doc_id": i[:24], "seq": 0, "text": "a new paragraph",
                 "n_words": 3, "is_expectation": False, "expectation_phrase": None,
                 "language": "en", "terms": "new paragraph", "doc_content_hash": "h"} for i in ids]
        vectors = rng.standard_normal((batch, 384)).astype(np.float32)
        closes.clear()
        t0 = time.perf_counter()
        tables.write_passages(path, rows, [i[:24] for i in ids], vectors=vectors, model="bench")
        out["passages"].append(time.perf_counter() - t0)
        out["passages_close"].append(sum(closes))
        closes.clear()
        t0 = time.perf_counter()
        tables.write_assignments(path, ids, np.arange(batch) % 200, np.ones(batch), "bench")
        out["assign"].append(time.perf_counter() - t0)
        out["assign_close"].append(sum(closes))
    print(json.dumps({k: statistics.median(v) for k, v in out.items()}))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--passages", type=int, nargs="+", default=[10_000, 100_000, 300_000, 1_000_000])
    ap.add_argument("--batch", type=int, default=2000, help="passages per write (default: 2000)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--work", type=Path, help="work folder (default: a temporary one)")
    ap.add_argument("--measure", nargs=4, help=argparse.SUPPRESS)  # child: path batch repeat start
    args = ap.parse_args(argv)
    if args.measure:
        path, batch, repeat, start = args.measure
        measure(Path(path), int(batch), int(repeat), int(start))
        return 0
    over_sizes(__file__, args.passages, args.work, "write", build,
               lambda path, n: [str(path), str(args.batch), str(args.repeat), str(n)],
               ("passages in the warehouse", "passages + vectors written: wall (close)",
                "assignments written: wall (close)"), ("passages", "assign"),
               f"batches of {args.batch:,}, median of {args.repeat}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

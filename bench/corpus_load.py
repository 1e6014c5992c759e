"""The topic fit's corpus read at scale: `python bench/corpus_load.py [--passages 300000 1000000]`.

A first fit and every refit read every embedded passage (`nlp.tables.load_corpus`). This
builds a warehouse (the real schema) of N passages with random 384-d vectors, then times
`load_corpus` in a child process per size with its peak RSS, next to the size of the
vectors it returns: the peak should exceed them by a fixed amount, not by a multiple.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build(path: Path, n: int) -> None:
    sys.path.insert(0, str(ROOT))
    from radar.core import warehouse

    with warehouse.write(path) as con:
        con.execute(f"""
            INSERT INTO passages (passage_id, doc_id, seq, text, n_words, terms)
            SELECT 'p' || lpad(i::VARCHAR, 8, '0'), 'd' || i, 0, 'x', 1, 'a b c'
            FROM range({n}) t(i)""")
        con.execute(f"""
            INSERT INTO passage_embeddings (passage_id, model, vector)
            SELECT 'p' || lpad(i::VARCHAR, 8, '0'), 'bench',
                   list_transform(range(384), k -> random()::FLOAT)::FLOAT[]
            FROM range({n}) t(i)""")


def measure(path: Path, limit_mb: int = 0) -> None:
    sys.path.insert(0, str(ROOT))
    from nlp import tables
    from nlp.tables import load_corpus

    if limit_mb:
        tables.corpus_memory = lambda rows: limit_mb * 10**6

    started = time.perf_counter()
    corpus = load_corpus(path, "bench")
    print(json.dumps({"wall": time.perf_counter() - started,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "vectors_mb": corpus.vectors.nbytes / 2**20, "rows": len(corpus.ids)}))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--passages", type=int, nargs="+", default=[300_000, 1_000_000])
    ap.add_argument("--work", type=Path, help="work folder (default: a temporary one)")
    ap.add_argument("--memory-limit", type=int, nargs="+", default=[0], metavar="MB",
                    help="DuckDB's memory limit while reading, one run each (0: the default, "
                         "nlp.tables.corpus_memory)")
    args = ap.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="radar-bench-corpus-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"{'passages':>10} {'DuckDB limit':>12} {'vectors MB':>11} {'wall s':>7} {'peak RSS MB':>12}")
    for n in args.passages:
        path = work / f"corpus-{n}.duckdb"
        if not path.exists():
            subprocess.run([sys.executable, __file__, "--build", str(path), str(n)], check=True)
        for limit in args.memory_limit:
            out = subprocess.run([sys.executable, __file__, "--measure", str(path), str(limit)],
                                 check=True, capture_output=True, text=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            shown = f"{limit} MB" if limit else "default"
            print(f"{n:>10,} {shown:>12} {r['vectors_mb']:>11,.0f} {r['wall']:>7.1f} "
                  f"{r['peak_rss_mb']:>12,.0f}", flush=True)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--build"]:
        build(Path(sys.argv[2]), int(sys.argv[3]))
    elif sys.argv[1:2] == ["--measure"]:
        measure(Path(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 0)
    else:
        sys.exit(main())

"""The weak-signal tier's term counts: `python bench/term_counts.py [--passages 100000 1000000]`.

Builds a warehouse-shaped DuckDB (scoring_passages, passages.terms, documents) of N
passages with ~40 lemmas each from a Zipf vocabulary of 50,000 words, then times
`radar.scoring.term_inputs.load_term_data` (what scoring reads: every passage's terms
hashed into a temporary table within TERM_MEMORY_LIMIT, counts per period and term grouped
from it, then only the passages of the terms the tests need, "chosen"),
`load_term_passages` (every passage's terms as a matrix) with only the terms the tests
can use ("usable", what scoring read before) and with every term ("full"), then the tests
themselves (`topic_novelty`, surging terms over 1-3 periods, and `new_themes`), against the
scikit-learn CountVectorizer path it replaced ("old"), with peak RSS measured in a
child process per run.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build(path: Path, n: int) -> None:
    import duckdb

    con = duckdb.connect(str(path))
    con.execute(f"""
        CREATE TABLE documents AS SELECT 'd' || i AS doc_id, 'source-' || (i % 300) AS source
        FROM range({n}) t(i);
        CREATE TABLE passages AS
        SELECT 'p' || lpad(i::VARCHAR, 9, '0') AS passage_id,
               array_to_string(list_transform(range(40 + i % 2),
                   k -> 'w' || (floor(50000 * pow(random(), 3)))::BIGINT), ' ') AS terms
        FROM range({n}) t(i);
        CREATE TABLE scoring_passages AS
        SELECT 'p' || lpad(i::VARCHAR, 9, '0') AS passage_id, 'd' || i AS doc_id,
               DATE '2000-01-01' + INTERVAL (i % 24) MONTH AS period_start,
               (i % 200)::INTEGER AS topic_id,
               CASE WHEN i % 3 = 0 THEN 'citizen' ELSE 'news' END AS channel,
               'a' || (i % 5000) AS author_hash
        FROM range({n}) t(i);""")
    con.close()


def measure(path: Path, mode: str) -> None:
    import duckdb

    sys.path.insert(0, str(ROOT))
    from radar.scoring.term_inputs import load_term_passages

    con = duckdb.connect(str(path), read_only=True)
    periods = [r[0] for r in con.execute(
        "SELECT DISTINCT period_start FROM scoring_passages ORDER BY 1").fetchall()]
    t_index = {p: i for i, p in enumerate(periods)}
    k_index = {k: k for k in range(200)}
    t0, c0 = time.perf_counter(), time.process_time()
    tp, tests = None, ""
    if mode == "old":
        import numpy as np
        from sklearn.feature_extraction.text import CountVectorizer

        tbl = con.execute("""
            SELECT coalesce(ps.terms, '') FROM scoring_passages sp
            JOIN passages ps USING (passage_id) JOIN documents d USING (doc_id)
            ORDER BY sp.passage_id""").fetchall()
        vec = CountVectorizer(ngram_range=(1, 2), binary=True, token_pattern=r"\S+",
                              lowercase=False, min_df=2, dtype=np.float32)
        m = vec.fit_transform([r[0] for r in tbl])
        shape, vocab = m.shape, len(vec.vocabulary_)
    else:
        from radar.core.config import ScoringConfig

        sc = ScoringConfig()
        if mode == "chosen":
            from radar.scoring.term_inputs import load_term_data
            from radar.scoring.themes import term_test_settings

            tp = load_term_data(con, t_index, k_index, term_test_settings(sc))
        else:
            usable = {"min_volume": sc.min_volume} if mode == "usable" else {}
            tp = load_term_passages(con, t_index, k_index, **usable)
        shape, vocab = tp.matrix.shape, len(tp.vocab)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    if tp is not None:
        from radar.scoring.novelty import topic_novelty
        from radar.scoring.themes import new_themes, term_test_settings

        w1, c1 = time.perf_counter(), time.process_time()
        settings = term_test_settings(sc)
        nov = topic_novelty(tp, 200, len(periods), *settings)
        themes = new_themes(tp, nov.tested, 200, len(periods), *settings)
        tests = (f"  tests {time.perf_counter() - w1:6.1f} s wall {time.process_time() - c1:6.1f} s CPU"
                 f" ({sum(len(v) for v in nov.terms.values())} surging,"
                 f" {int(themes.present.sum())} themes)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    name = {"old": "CountVectorizer (before)", "full": "DuckDB, every term",
            "usable": "DuckDB, usable terms", "chosen": "DuckDB counts + chosen"}[mode]
    print(f"{name:26s} {shape[0]:>9,} passages {vocab:>10,} terms  {wall:7.1f} s wall "
          f"{cpu:7.1f} s CPU{tests}  peak RSS {peak:6.0f} MB", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, nargs="+", default=[100_000])
    parser.add_argument("--modes", nargs="+", choices=["chosen", "usable", "full", "old"],
                        default=["chosen", "usable", "full", "old"])
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        measure(Path(args.child[0]), args.child[1])
        return 0
    print(f"term counts, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for n in args.passages:
        with tempfile.TemporaryDirectory(prefix="radar-bench-terms-") as tmp:
            path = Path(tmp) / "w.duckdb"
            t0 = time.perf_counter()
            build(path, n)
            print(f"built {n:,} passages in {time.perf_counter() - t0:.1f} s")
            for mode in args.modes:
                subprocess.run([sys.executable, __file__, "--child", str(path), mode], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The label refresh at scale: `python bench/label_refresh.py [--passages 100000 1000000]`.

Every `radar analyze` relabels the topics from every passage's terms
(`nlp.refresh.refresh_labels`). This builds a warehouse (the real schema) of N passages of
~40 lemmas drawn from a Zipf vocabulary of 50,000 words, spread over 24 months, 300
sources and 5,000 citizen authors, assigned to N / 1,000 topics (a twentieth left as
outliers), then times the refresh in a child process per run with its peak RSS:
`sql`, what a large corpus runs now (the counts grouped in DuckDB, nlp/label_counts.py),
and `memory`, the in-memory count it replaced (`nlp.terms.topic_terms` on every passage's
terms), still used below `IN_MEMORY_PASSAGES`. Both give the same terms
(tests/test_nlp_label_counts.py); the bench checks it too when both modes run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build(path: Path, n: int) -> None:
    sys.path.insert(0, str(ROOT))
    from radar.core import warehouse

    k = max(20, n // 1000)
    with warehouse.write(path) as con:
        con.execute(f"""
            INSERT INTO documents (doc_id, text, published_at, fetched_at, source, channel,
                                   author_hash, content_hash)
            SELECT 'd' || i, 'x', TIMESTAMP '2024-01-01' + INTERVAL (i % 730) DAY,
                   TIMESTAMP '2026-01-01', 'source-' || (i % 300),
                   CASE WHEN i % 3 = 0 THEN 'citizen' ELSE 'news' END,
                   CASE WHEN i % 3 = 0 THEN 'a' || (i % 5000) END, 'h' || i
            FROM range({n}) t(i);
            INSERT INTO passages (passage_id, doc_id, seq, text, n_words, terms)
            SELECT 'd' || i || ':0', 'd' || i, 0, 'x', 40,
                   array_to_string(list_transform(range(40 + i % 2),
                       k -> 'w' || (floor(50000 * pow(random(), 3)))::BIGINT), ' ')
            FROM range({n}) t(i);
            INSERT INTO passage_topics (passage_id, topic_id, probability, model_version)
            SELECT 'd' || i || ':0',
                   CASE WHEN i % 20 = 0 THEN -1 ELSE (hash(i) % {k})::INTEGER END, 1.0, 'm'
            FROM range({n}) t(i);
            INSERT INTO topics (topic_id, label, top_terms, service_area, size, model_version)
            SELECT i, 'topic ' || i, ['t' || i], 'other', 0, 'm' FROM range({k}) t(i);""")


def measure(path: Path, mode: str, out: Path, limit_mb: int = 0) -> None:
    """One refresh in this process (a child of main): its time, peak RSS and top terms.
    `limit_mb`: DuckDB's memory limit for the counting (0: `label_memory`)."""
    sys.path.insert(0, str(ROOT))
    from nlp import label_counts, refresh
    from radar.core import warehouse

    label_counts.IN_MEMORY_PASSAGES = 10**12 if mode == "memory" else 0
    if limit_mb:
        label_counts.label_memory = lambda passages: limit_mb * 10**6
    started, cpu = time.perf_counter(), time.process_time()
    changed = refresh.refresh_labels(path, [], "month")
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    terms = dict(warehouse.query(path, "SELECT topic_id, top_terms FROM topics"))
    out.write_text(json.dumps({
        "wall": wall, "cpu": cpu, "changed": len(changed),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "terms": {str(k): list(v) for k, v in terms.items()}}))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--passages", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--modes", nargs="+", choices=["sql", "memory"], default=["sql", "memory"])
    ap.add_argument("--work", type=Path, help="work folder (default: a temporary one)")
    ap.add_argument("--memory-limit", type=int, nargs="+", default=[0], metavar="MB",
                    help="DuckDB's memory limit for the sql mode, one run each (0: the default, "
                         "nlp.label_counts.label_memory)")
    args = ap.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="radar-bench-labels-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "RADAR_PSEUDONYM_SALT": os.environ.get("RADAR_PSEUDONYM_SALT", "bench")}
    print(f"{'passages':>10} {'mode':>11} {'wall s':>8} {'CPU s':>8} {'peak RSS MB':>12}  same terms")
    for n in args.passages:
        template = work / f"labels-{n}.duckdb"
        if not template.exists():
            subprocess.run([sys.executable, __file__, "--build", str(template), str(n)],
                           check=True, env=env)
        results = {}
        runs = [(m, limit) for m in args.modes
                for limit in (args.memory_limit if m == "sql" else [0])]
        for mode, limit in runs:
            name = f"{mode} {limit} MB" if limit else mode
            copy = work / f"run-{n}-{mode}.duckdb"
            shutil.copy2(template, copy)
            out = work / f"run-{n}-{mode}.json"
            subprocess.run([sys.executable, __file__, "--measure", str(copy), mode, str(out),
                            str(limit)], check=True, env=env)
            results[name] = r = json.loads(out.read_text())
            same = ("" if len(results) < 2 else
                    "yes" if r["terms"] == next(iter(results.values()))["terms"] else "NO")
            print(f"{n:>10,} {name:>11} {r['wall']:>8.1f} {r['cpu']:>8.1f} "
                  f"{r['peak_rss_mb']:>12,.0f}  {same}", flush=True)
            copy.unlink()
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--build"]:
        build(Path(sys.argv[2]), int(sys.argv[3]))
    elif sys.argv[1:2] == ["--measure"]:
        measure(Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4]),
                int(sys.argv[5]) if len(sys.argv) > 5 else 0)
    else:
        sys.exit(main())

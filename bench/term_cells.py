"""Scoring's term counts kept between runs: `python bench/term_cells.py [--passages 100000]`.

Builds a radar warehouse (migrated, real schema) of N one-passage documents with ~40
lemmas each from a Zipf vocabulary of 50,000 words over 24 months and 300 sources, then
times what a scoring run reads for the weak-signal tier (`load_term_data`):

- "count all": every passage counted, no stored counts (what every run did before);
- "first store": the first run's `store_term_cells` (every passage counted and written);
- "read stored": the read with nothing changed since;
- after +1% passages (spread over the months) and 1% of the passages edited: the read
  before they are stored ("read + delta", what `radar backtest` does), then
  `store_term_cells` and the read after it (what `radar analyze` does).

Each figure is wall seconds in this process; peak RSS of the whole process at the end.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from radar.core import warehouse  # noqa: E402
from radar.core.config import ScoringConfig  # noqa: E402
from radar.scoring.inputs import _base_sql, store_term_cells  # noqa: E402
from radar.scoring.term_inputs import load_term_data  # noqa: E402
from radar.scoring.themes import term_test_settings  # noqa: E402

PERIOD = "month"


def add(path: Path, first: int, n: int) -> None:
    """n one-passage documents numbered from `first`."""
    with warehouse.write(path) as con:
        con.execute(f"""
            CREATE TEMP TABLE gen AS SELECT i, 'd' || i AS doc_id,
                TIMESTAMP '2000-01-15 12:00' + INTERVAL (hash(i) % 24) MONTH AS ts
            FROM range({first}, {first + n}) t(i)""")
        con.execute("""
            INSERT INTO documents (doc_id, text, published_at, fetched_at, source, channel,
                                   content_hash, author_hash)
            SELECT doc_id, 't', ts, ts, 'source-' || (i % 300),
                   CASE WHEN i % 3 = 0 THEN 'citizen' ELSE 'news' END, 'h' || i, 'a' || (i % 5000)
            FROM gen""")
        con.execute("""
            INSERT INTO passages (passage_id, doc_id, seq, text, n_words, terms)
            SELECT doc_id || ':0', doc_id, 0, 't', 40,
                   array_to_string(list_transform(range(40 + i % 2),
                       k -> 'w' || (floor(50000 * pow(random(), 3)))::BIGINT), ' ')
            FROM gen""")
        con.execute("""
            INSERT INTO passage_topics (passage_id, topic_id, probability, model_version)
            SELECT doc_id || ':0', (i % 200)::INTEGER, 0.9, 'v1' FROM gen""")
        con.execute("DROP TABLE gen")


def edit(path: Path, n: int) -> None:
    """New terms for n passages (every 100th)."""
    with warehouse.write(path) as con:
        con.execute(f"""
            UPDATE passages SET terms = terms || ' edited w' || (hash(passage_id) % 50)
            WHERE passage_id IN (SELECT passage_id FROM passages ORDER BY passage_id
                                 LIMIT {n} OFFSET 0)""")


def read(path: Path, stored: bool) -> tuple[float, int]:
    settings = term_test_settings(ScoringConfig())
    started = time.perf_counter()
    with warehouse.read(path) as con:
        con.execute(_base_sql(PERIOD))
        periods = [r[0] for r in con.execute(
            "SELECT DISTINCT period_start FROM scoring_passages ORDER BY 1").fetchall()]
        t_index = {p: i for i, p in enumerate(periods)}
        tp = load_term_data(con, t_index, {k: k for k in range(200)}, settings,
                            PERIOD if stored else None)
    return time.perf_counter() - started, tp.matrix.shape[0]


def timed(fn, *args):
    started = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - started, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--passages", type=int, nargs="+", default=[100_000])
    args = ap.parse_args()
    for n in args.passages:
        with tempfile.TemporaryDirectory(prefix="term-cells-") as tmp:
            path = Path(tmp) / "radar.duckdb"
            add(path, 0, n)
            bare = path.stat().st_size / 1e6
            rows = []
            secs, read_rows = read(path, stored=False)
            rows.append(("count all (before)", secs, f"{read_rows} passages read for the tests"))
            secs, did = timed(store_term_cells, path, PERIOD)
            rows.append(("first store", secs, f"{did['cells']:,} cells"))
            secs, _ = read(path, stored=True)
            rows.append(("read stored, nothing changed", secs, ""))
            more = max(1, n // 100)
            add(path, n, more)
            edit(path, more)
            secs, _ = read(path, stored=False)
            rows.append(("+1% and 1% edited: count all (before)", secs, ""))
            secs, _ = read(path, stored=True)
            rows.append(("+1% and 1% edited: read + delta", secs, ""))
            secs, did = timed(store_term_cells, path, PERIOD)
            rows.append(("+1% and 1% edited: store", secs,
                         f"{did['added']:,} in, {did['gone']:,} out, {did['cells']:,} cells"
                         f"{', compacted' if did['compacted'] else ''}"))
            secs, _ = read(path, stored=True)
            rows.append(("+1% and 1% edited: read after store", secs, ""))
            size = path.stat().st_size / 1e6
        print(f"\n{n:,} passages (warehouse {bare:.0f} MB without the stored counts, "
              f"{size:.0f} MB at the end)")
        print("| step | wall s | |\n|---|---|---|")
        for name, secs, note in rows:
            print(f"| {name} | {secs:.2f} | {note} |")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS of the process: {peak:.0f} MB")


if __name__ == "__main__":
    main()

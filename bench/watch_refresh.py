"""The watch list's refresh as the corpus grows: `python bench/watch_refresh.py [--passages N ...]`.

Every `radar analyze` (and `radar run`, `radar serve`'s scheduled runs) refreshes the watch list after
scoring (`radar.decisions.watch.refresh`). This builds a warehouse of N passages with
384-d vectors (texts from a vocabulary of 2,000 words, so that each watch item's keywords
are in about 1% of them), adds `--items` watch items with a keyword pair and a vector
each, and times, in one process per size:

- full: every item matched against every passage (the first refresh, or after an item
  changed; before 2026-12-07 every refresh did this);
- nothing new: a refresh with no passage written since the last;
- +1%: a refresh after 1% new passages were written as `radar analyze` writes them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build(work: Path, n: int, items: int) -> Path:
    sys.path.insert(0, str(ROOT))
    from radar.app.init_project import init_project
    from radar.core import warehouse
    from radar.core.config import load_config

    config = work / "radar.toml"
    init_project(config)
    cfg = load_config(config)
    words = "list_transform(range(12), k -> 'w' || ((hash(i * 31 + k) % 2000)::INTEGER))"
    with warehouse.write(cfg.warehouse_path) as con:
        con.execute(f"""
            INSERT INTO documents (doc_id, text, published_at, fetched_at, source, channel, content_hash)
            SELECT 'd' || i, array_to_string({words}, ' '), DATE '2025-01-01' + (i % 700)::INTEGER,
                   DATE '2025-01-01', 's' || (i % 50), 'news', 'h' || i FROM range({n}) t(i)""")
        con.execute("""
            INSERT INTO passages (passage_id, doc_id, seq, text, n_words, created_at)
            SELECT doc_id || ':0', doc_id, 0, text, 12,
                   TIMESTAMP '2025-01-01' + to_minutes(substr(doc_id, 2)::BIGINT) FROM documents""")
    with warehouse.write(cfg.warehouse_path) as con:
        con.execute(f"""
            INSERT INTO passage_embeddings (passage_id, model, vector)
            SELECT 'd' || i || ':0', ?, list_transform(range(384), k -> (random() - 0.5)::FLOAT)::FLOAT[]
            FROM range({n}) t(i)""", [cfg.analysis.vector_model])
        for j in range(items):
            con.execute("INSERT INTO watch_items (watch_id, name, keywords, origin, created_at, "
                        "updated_at) VALUES (?, ?, ?, 'cli', now(), now())",
                        [j + 1, f"theme {j}", [f"w{10 * j}", f"w{10 * j + 1}"]])
            con.execute("INSERT INTO catalogue_vectors SELECT 'watch', ?, 'h', ?, "
                        "list_transform(range(384), k -> (random() - 0.5)::FLOAT)::FLOAT[]",
                        [j + 1, cfg.analysis.vector_model])
    return config


def measure(config: Path, n: int) -> None:
    sys.path.insert(0, str(ROOT))
    import numpy as np

    from nlp import tables
    from radar.core.config import load_config
    from radar.decisions import watch

    cfg = load_config(config)
    out = {}
    for name in ("full", "nothing new"):
        t0 = time.perf_counter()
        s = watch.refresh(cfg)
        out[name] = time.perf_counter() - t0
    new = max(1, n // 100)
    ids = [f"n{i}:0" for i in range(new)]
    rows = [{"passage_id": p, "doc_id": p[:-2], "seq": 0, "text": "w10 w11 new words", "n_words": 4,
             "is_expectation": False, "expectation_phrase": None, "language": "en",
             "terms": "", "doc_content_hash": "h"} for p in ids]
    vectors = np.random.default_rng(7).random((new, 384), dtype=np.float32) - 0.5
    tables.write_passages(cfg.warehouse_path, rows, [p[:-2] for p in ids], vectors=vectors,
                          model=cfg.analysis.vector_model)
    t0 = time.perf_counter()
    s = watch.refresh(cfg)
    out["+1%"] = time.perf_counter() - t0
    out["matched"] = s.matched
    print(json.dumps(out))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--passages", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--items", type=int, default=10, help="watch items (default: 10)")
    ap.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)  # child: config n
    args = ap.parse_args(argv)
    if args.measure:
        measure(Path(args.measure[0]), int(args.measure[1]))
        return 0
    print(f"| passages | full refresh ({args.items} items) | nothing new | after +1% | matches |")
    print("|---|---|---|---|---|")
    for n in args.passages:
        with tempfile.TemporaryDirectory(prefix="radar-watch-") as tmp:
            t0 = time.perf_counter()
            config = build(Path(tmp), n, args.items)
            built = time.perf_counter() - t0
            res = subprocess.run([sys.executable, __file__, "--measure", str(config), str(n)],
                                 capture_output=True, text=True, check=True, cwd=tmp)
            m = json.loads(res.stdout.strip().splitlines()[-1])
            print(f"| {n:,} | {m['full']:.2f} s | {m['nothing new']:.2f} s | {m['+1%']:.2f} s | "
                  f"{m['matched']:,} |", flush=True)
            print(f"  (built in {built:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

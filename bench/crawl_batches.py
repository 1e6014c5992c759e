"""A crawl write batch's cost as the warehouse grows: `python bench/crawl_batches.py [--documents N ...]`.

The crawler writes what it fetched in batches (`[crawl] batch_size` = 200 rows or every
5 seconds, `crawlers.writer.SharedWriter`), one transaction and one connection each
(`crawlers.batches.flush`). Every batch ends with DuckDB's checkpoint when the connection
closes, and that checkpoint rewrites the index of every key the batch added to.

This builds a warehouse (the real schema and migrations) of N crawled documents with their
sources, fingerprints and crawl state, ids and URLs like the real ones (24 hex digits of a
URL hash; `https://site-k.example.org/<path>`); then, in a child process per size, writes
`--repeat` batches of `--batch` new documents (each with its source row, fingerprint and
crawl state) and as many batches of a recrawl's state only (pages seen again, unchanged),
and prints the median wall of each, with the connection's close (the checkpoint).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.batch_timing import over_sizes, time_closes  # noqa: E402

_TEXT = ("The city council discussed the library opening hours, the new makerspace and "
         "the loan of e-readers to residents who cannot visit in person. ")


def _doc_id(expr: str) -> str:
    return f"substr(md5('d' || ({expr})::VARCHAR), 1, 24)"


def _url(expr: str) -> str:
    return f"('https://site-' || (({expr}) % 40) || '.example.org/' || md5('u' || ({expr})::VARCHAR))"


def build(path: Path, n: int) -> None:
    from radar.core import warehouse

    with warehouse.write(path) as con:
        con.execute(f"""
            INSERT INTO documents (doc_id, url, canonical_url, title, text, published_at,
                                   fetched_at, source, channel, language, content_hash)
            SELECT {_doc_id('i')}, {_url('i')}, {_url('i')}, 'Page ' || i, '{_TEXT}' || i,
                   TIMESTAMP '2025-01-01' + to_minutes(i), TIMESTAMP '2025-06-01',
                   'site-' || (i % 40), 'news', 'en', md5('c' || i::VARCHAR)
            FROM range({n}) t(i)""")
    with warehouse.write(path) as con:
        con.execute(f"""
            INSERT INTO document_sources (doc_id, source, url)
            SELECT {_doc_id('i')}, 'site-' || (i % 40), {_url('i')} FROM range({n}) t(i)""")
        con.execute(f"""
            INSERT INTO document_fingerprints (doc_id, simhash, n_words)
            SELECT {_doc_id('i')}, (hash(i) // 2)::BIGINT, 28 FROM range({n}) t(i)""")
    with warehouse.write(path) as con:
        con.execute(f"""
            INSERT INTO crawl_state (url, source, kind, content_hash, doc_id, first_seen,
                                     last_fetched)
            SELECT {_url('i')}, 'site-' || (i % 40), 'document', md5('c' || i::VARCHAR),
                   {_doc_id('i')}, TIMESTAMP '2025-06-01', TIMESTAMP '2025-06-01'
            FROM range({n}) t(i)""")


def measure(path: Path, n: int, batch: int, repeat: int) -> None:
    """Write `repeat` batches of new documents and of recrawled state; print the timings."""
    from crawlers.batches import Batch, flush
    from radar.core import warehouse

    closes = time_closes(warehouse)
    with warehouse.read(path) as con:
        new = con.execute(f"SELECT {_doc_id('i')}, {_url('i')}, 'site-' || (i % 40) "
                          f"FROM range({n}, {n + batch * repeat}) t(i)").fetchall()
        seen = con.execute("SELECT url, source, doc_id, content_hash FROM crawl_state "
                           f"USING SAMPLE {batch * repeat} ROWS (reservoir, 7)").fetchall()
    now = datetime(2026, 1, 1)
    out = {"new": [], "new_close": [], "recrawl": [], "recrawl_close": []}
    for r in range(repeat):
        b = Batch()
        for k, (doc_id, url, source) in enumerate(new[r * batch:(r + 1) * batch]):
            b.new.append({"doc_id": doc_id, "url": url, "canonical_url": url, "title": "New",
                          "text": _TEXT + str(k), "published_at": now, "fetched_at": now,
                          "source": source, "channel": "news", "language": "en",
                          "author_hash": None, "content_hash": doc_id})
            b.fingerprints.append({"doc_id": doc_id, "simhash": k, "n_words": 28})
            b.state[url] = {"url": url, "source": source, "kind": "document", "etag": None,
                            "last_modified": None, "marker": None, "content_hash": doc_id,
                            "doc_id": doc_id, "complete": True, "first_seen": now,
                            "last_fetched": now, "last_changed": None}
        closes.clear()
        t0 = time.perf_counter()
        flush(path, b)
        out["new"].append(time.perf_counter() - t0)
        out["new_close"].append(sum(closes))
        b = Batch()
        for url, source, doc_id, chash in seen[r * batch:(r + 1) * batch]:
            b.state[url] = {"url": url, "source": source, "kind": "document", "etag": '"e"',
                            "last_modified": None, "marker": None, "content_hash": chash,
                            "doc_id": doc_id, "complete": True,
                            "first_seen": now - timedelta(days=200), "last_fetched": now,
                            "last_changed": None}
        closes.clear()
        t0 = time.perf_counter()
        flush(path, b)
        out["recrawl"].append(time.perf_counter() - t0)
        out["recrawl_close"].append(sum(closes))
    print(json.dumps({k: statistics.median(v) for k, v in out.items()}))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--documents", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--batch", type=int, default=200, help="documents per write (default: 200)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--work", type=Path, help="work folder (default: a temporary one)")
    ap.add_argument("--measure", nargs=4, help=argparse.SUPPRESS)  # child: path n batch repeat
    args = ap.parse_args(argv)
    if args.measure:
        path, n, batch, repeat = args.measure
        measure(Path(path), int(n), int(batch), int(repeat))
        return 0
    over_sizes(__file__, args.documents, args.work, "crawl", build,
               lambda path, n: [str(path), str(n), str(args.batch), str(args.repeat)],
               ("documents in the warehouse", "new documents written: wall (close)",
                "recrawled state written: wall (close)"), ("new", "recrawl"),
               f"batches of {args.batch:,}, median of {args.repeat}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

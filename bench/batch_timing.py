"""What the write-batch benches share: the connection's close timed, one child per size.

`bench/write_batches.py` (passages) and `bench/crawl_batches.py` (crawled documents) each
build a warehouse of N rows, then write batches into it in a child process (a fresh
process, so the build's caches do not help) and print the median wall of each write,
with the part spent closing the connection: DuckDB's checkpoint of the batch.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def time_closes(warehouse) -> list[float]:
    """Make every connection `warehouse` opens record how long its close takes; the list
    the closes are appended to."""
    closes: list[float] = []
    real_connect = warehouse.duckdb.connect

    class Timed:  # the connection's close is DuckDB's checkpoint of the batch
        def __init__(self, con):
            self._con = con

        def __getattr__(self, name):
            return getattr(self._con, name)

        def close(self):
            t0 = time.perf_counter()
            self._con.close()
            closes.append(time.perf_counter() - t0)

    warehouse.duckdb.connect = lambda *a, **k: Timed(real_connect(*a, **k))
    return closes


def over_sizes(script: str, sizes: list[int], work: Path | None, prefix: str,
               build: Callable[[Path, int], None], child_args: Callable[[Path, int], list[str]],
               header: tuple[str, str, str], columns: tuple[str, str], note: str) -> None:
    """For each size: build the warehouse, run `script --measure <child_args>` in a child,
    and print one table row of its two medians, each with its close (`<column>_close`)."""
    with tempfile.TemporaryDirectory(prefix=f"radar-{prefix}-") as tmp:
        work = work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        print("| " + " | ".join(header) + " |")
        print("|---|---|---|")
        for n in sizes:
            path = work / f"{prefix}-{n}.duckdb"
            for leftover in work.glob(f"{prefix}-{n}.*"):
                leftover.unlink()
            t0 = time.perf_counter()
            build(path, n)
            built = time.perf_counter() - t0
            res = subprocess.run([sys.executable, script, "--measure", *child_args(path, n)],
                                 capture_output=True, text=True, check=True)
            m = json.loads(res.stdout.strip().splitlines()[-1])
            cells = [f"{m[c]:.2f} s ({m[c + '_close']:.2f})" for c in columns]
            print(f"| {n:,} | " + " | ".join(cells) + " |", flush=True)
            print(f"  (built in {built:.0f} s; {note})", file=sys.stderr)
            for leftover in work.glob(f"{prefix}-{n}.*"):
                leftover.unlink()

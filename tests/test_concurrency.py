"""One writer and several readers in separate processes at the same time.

Readers must never crash on DuckDB's file lock and never see half a batch.
"""

from __future__ import annotations

import multiprocessing as mp
import time

from radar.core import warehouse

BATCH = 250
BATCHES = 30


def _writer(path: str, ready) -> None:
    ready.wait()
    for b in range(BATCHES):
        with warehouse.write(path) as con:
            # Two statements per batch: a reader between them would see a half batch.
            con.execute(
                "INSERT INTO fetch_errors (run_id, source, url, reason) "
                "SELECT ?, 'w', 'u' || i, 'first half' FROM range(?) t(i)",
                [b, BATCH // 2 + BATCH % 2],
            )
            time.sleep(0.005)
            con.execute(
                "INSERT INTO fetch_errors (run_id, source, url, reason) "
                "SELECT ?, 'w', 'v' || i, 'second half' FROM range(?) t(i)",
                [b, BATCH // 2],
            )


def _reader(path: str, ready, out) -> None:
    ready.wait()
    seen, errors = [], []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with warehouse.read(path, timeout=30) as con:
                n = con.execute("SELECT count(*) FROM fetch_errors").fetchone()[0]
        except Exception as exc:  # any failure is what this test exists to catch
            errors.append(repr(exc))
            break
        seen.append(n)
        if n >= BATCH * BATCHES:
            break
    out.put((seen, errors))


def test_readers_and_writer_processes_at_the_same_time(tmp_path):
    path = str(tmp_path / "w.duckdb")
    with warehouse.write(path):
        pass  # schema exists before the race starts
    ctx = mp.get_context("spawn")
    ready = ctx.Event()
    out = ctx.Queue()
    writer = ctx.Process(target=_writer, args=(path, ready))
    readers = [ctx.Process(target=_reader, args=(path, ready, out)) for _ in range(3)]
    for p in [writer, *readers]:
        p.start()
    ready.set()
    results = [out.get(timeout=120) for _ in readers]
    writer.join(120)
    for p in readers:
        p.join(30)
    assert writer.exitcode == 0
    for seen, errors in results:
        assert errors == []
        assert seen, "a reader never got a read in"
        assert all(n % BATCH == 0 for n in seen), f"half a batch was visible: {seen}"
        assert seen == sorted(seen)
    # Readers really did overlap the writer: someone saw an intermediate state.
    assert any(0 < n < BATCH * BATCHES for seen, _ in results for n in seen)
    with warehouse.read(path) as con:
        assert con.execute("SELECT count(*) FROM fetch_errors").fetchone()[0] == BATCH * BATCHES

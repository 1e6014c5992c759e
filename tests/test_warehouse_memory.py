"""`warehouse.within_memory`: DuckDB's memory lowered for a step, and more when it runs out."""

from __future__ import annotations

import logging

import duckdb
import pytest

from radar.core import warehouse

MB = 10**6


def _joined(con, rows: int, seen: list[str]):
    """A string of every number below `rows`: DuckDB cannot spill it (about 3.4 MB per
    500,000 numbers held at once, with its working copies)."""
    seen.append(con.execute("SELECT current_setting('memory_limit')").fetchone()[0])
    return con.execute(f"SELECT length(string_agg(i::VARCHAR, ',')) FROM range({rows}) t(i)"
                       ).fetchone()[0]


def test_a_step_runs_within_the_lowered_limit_and_the_limit_is_restored():
    con = duckdb.connect()
    default = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    seen: list[str] = []
    assert warehouse.within_memory(con, 400 * MB, lambda: _joined(con, 1000, seen), "joining") == 3889
    assert [warehouse.setting_bytes(s) for s in seen] == [pytest.approx(400 * MB, rel=0.01)]
    assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == default


@pytest.mark.parametrize(("rows", "runs"), [(500_000, 2), (2_000_000, 3)])
def test_running_out_of_memory_runs_the_step_again_with_more(caplog, rows, runs):
    """Out of memory within 10 MB: again within 40 MB, then within the connection's own
    limit, with a warning each time; the result is the step's."""
    con = duckdb.connect()
    default = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    seen: list[str] = []
    with caplog.at_level(logging.WARNING, logger="radar.core.warehouse"):
        n = warehouse.within_memory(con, 10 * MB, lambda: _joined(con, rows, seen), "joining")
    assert n == con.execute(f"SELECT sum(length(i::VARCHAR)) + {rows - 1} FROM range({rows}) t(i)"
                            ).fetchone()[0]
    wanted = [10 * MB, 40 * MB][:runs - 1]
    assert [warehouse.setting_bytes(s) for s in seen[:runs - 1]] == [pytest.approx(w, rel=0.01)
                                                                    for w in wanted]
    assert len(seen) == runs and (runs == 2 or seen[-1] == default)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == runs - 1 and all("joining" in w and "out of memory" in w for w in warnings)
    assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == default


def test_inside_a_transaction_running_out_of_memory_is_raised():
    """An error aborts the caller's transaction: the step cannot run again in it."""
    con = duckdb.connect()
    con.begin()
    seen: list[str] = []
    with pytest.raises(duckdb.OutOfMemoryException):
        warehouse.within_memory(con, 10 * MB, lambda: _joined(con, 2_000_000, seen), "joining")
    assert len(seen) == 1
    con.rollback()


@pytest.mark.parametrize(("rows", "runs"), [(1000, 1), (500_000, 2), (2_000_000, 3)])
def test_a_write_batch_runs_within_the_limit_and_again_with_more(tmp_path, caplog, rows, runs):
    """A batch that runs out of memory is rolled back and written again with more: its
    rows are stored once, and the connection of each attempt had the limit asked for."""
    path = tmp_path / "w.duckdb"
    seen: list[str] = []

    def work(con):
        con.execute("INSERT INTO sources (name, type, url, channel) VALUES ('s', 'import', NULL, 'news')")
        return _joined(con, rows, seen)

    with caplog.at_level(logging.WARNING, logger="radar.core.warehouse"):
        warehouse.write_within_memory(path, 10 * MB, work, "writing")
    assert [warehouse.setting_bytes(s) for s in seen[:2]] == [
        pytest.approx(w, rel=0.01) for w in (10 * MB, 40 * MB)][:len(seen[:2])]
    assert len(seen) == runs and (runs < 3 or warehouse.setting_bytes(seen[-1]) > 1000 * MB)
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == runs - 1
    assert warehouse.query(path, "SELECT count(*) FROM sources WHERE name = 's'") == [(1,)]


def test_two_threads_lowering_the_limit_take_turns(tmp_path):
    """DuckDB's memory limit is the database's, shared by the connections of every thread of
    the process: one thread's block must neither run within another's limit nor have its
    limit restored under it."""
    import threading

    path = tmp_path / "w.duckdb"
    duckdb.connect(str(path)).close()
    first, second = duckdb.connect(str(path)), duckdb.connect(str(path))  # one database
    inside, release = threading.Event(), threading.Event()
    seen: list[str] = []

    def hold():
        with warehouse.memory_limit(first, 300 * MB):
            inside.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert inside.wait(10)
    other = threading.Thread(target=lambda: warehouse.within_memory(
        second, 500 * MB, lambda: _joined(second, 10, seen), "the other thread"))
    other.start()
    other.join(0.3)
    assert other.is_alive() and seen == []  # waits for the first block to end
    release.set()
    holder.join(10)
    other.join(10)
    assert [warehouse.setting_bytes(s) for s in seen] == [pytest.approx(500 * MB, rel=0.01)]
    assert warehouse.setting_bytes(
        second.execute("SELECT current_setting('memory_limit')").fetchone()[0]) > 500 * MB

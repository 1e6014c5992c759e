"""The dashboard keeps working while another process writes to the warehouse."""

from __future__ import annotations

import multiprocessing as mp
import time
from pathlib import Path

import dashboard_fixtures as fx
import streamlit as st
from streamlit.testing.v1 import AppTest

from radar.core import warehouse

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
PAGES = ["views/radar.py", "views/topic.py", "views/signals.py", "views/triage.py",
         "views/search.py", "views/sources.py", "views/warehouse.py"]


def _writer(path: str, started, stop, hold: float) -> None:
    """Like `radar crawl`: batch after batch, each holding the write lock for `hold` seconds."""
    n = 0
    while not stop.is_set():
        with warehouse.write(path) as con:
            n += 1
            con.execute("INSERT INTO fetch_errors (source, url, reason) VALUES (?, ?, ?)",
                        ["city-news", f"http://127.0.0.1/busy/{n}", "test write batch"])
            started.set()
            time.sleep(hold)
        time.sleep(0.02)


def test_pages_render_while_a_writer_holds_batches(project, warehouse_path, monkeypatch):
    fx.build(warehouse_path)
    monkeypatch.setenv("RADAR_CONFIG", str(project))
    ctx = mp.get_context("spawn")
    started, stop = ctx.Event(), ctx.Event()
    writer = ctx.Process(target=_writer, args=(str(warehouse_path), started, stop, 0.25))
    writer.start()
    try:
        assert started.wait(30), "writer did not start"
        for page in PAGES:
            st.cache_data.clear()  # every render reads the warehouse again
            at = AppTest.from_file(APP, default_timeout=60)
            if page != PAGES[0]:
                at.switch_page(page)
            if page.endswith("topic.py"):
                at.query_params["topic"] = "1"
            at.run()
            assert not at.exception, (page, [e.value for e in at.exception])
            assert not at.error, (page, [e.value for e in at.error])
            assert not at.warning, (page, [w.value for w in at.warning])
            assert at.title, page
        radar = AppTest.from_file(APP, default_timeout=60)
        st.cache_data.clear()
        radar.run()
        assert next(m.value for m in radar.metric if m.label == "Topics on the radar") == "7"
    finally:
        stop.set()
        writer.join(30)
    assert writer.exitcode == 0
    batches = warehouse.query(warehouse_path,
                              "SELECT count(*) FROM fetch_errors WHERE reason = 'test write batch'")
    assert batches[0][0] >= 5, "the writer should have written throughout the renders"

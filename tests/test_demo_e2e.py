"""`radar demo --no-dashboard` end to end: local web, real crawl, analysis, a populated radar."""

from __future__ import annotations

import subprocess
import sys

import pytest

from radar.core import warehouse


def _demo(folder) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "radar.app.cli", "demo", "--no-dashboard", "--scale", "0.15",
         "--folder", str(folder)],
        capture_output=True, text=True, timeout=600,
    )


@pytest.mark.slow
def test_demo_builds_a_populated_radar_and_a_second_run_reuses_it(tmp_path, salt):
    folder = tmp_path / "demo"
    first = _demo(folder)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "demo ready in" in first.stdout
    wh = folder / "radar.duckdb"
    assert (folder / "radar.toml").exists() and wh.exists()
    channels = dict(warehouse.query(wh, "SELECT channel, count(*) FROM documents GROUP BY 1"))
    assert channels.get("news", 0) > 100 and channels.get("policy", 0) > 10
    assert channels.get("citizen", 0) > 100
    # The timeline came through the crawl: feed, page and forum dates span the months.
    months = warehouse.query(
        wh, "SELECT channel, count(DISTINCT date_trunc('month', published_at)) FROM documents "
            "GROUP BY 1")
    assert all(n >= 18 for _, n in months), months
    authors = warehouse.query(
        wh, "SELECT count(DISTINCT author_hash) FROM documents WHERE channel = 'citizen'")[0][0]
    assert authors > 50
    pdfs = warehouse.query(wh, "SELECT count(*) FROM documents WHERE url LIKE '%.pdf'")[0][0]
    assert pdfs > 0
    assert warehouse.query(wh, "SELECT count(*) FROM topics")[0][0] >= 5
    assert warehouse.query(wh, "SELECT count(*) FROM radar_latest WHERE ring IS NOT NULL")[0][0] > 0
    crawl_runs = warehouse.query(wh, "SELECT count(*) FROM crawl_runs")[0][0]

    second = _demo(folder)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "reusing" in second.stderr and "no new crawl" in second.stderr
    assert warehouse.query(wh, "SELECT count(*) FROM crawl_runs")[0][0] == crawl_runs

"""An archive of many periods imported and analysed once: its history, everywhere it is read."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import radar_archive
from click.testing import CliRunner

from radar.app.cli import cli
from radar.core import warehouse
from radar.core.config import load_config


def test_archive_history_in_the_views_and_the_export(project, tmp_path):
    project.write_text(project.read_text().replace('period = "month"', 'period = "year"'))
    cfg = load_config(project)
    spec = radar_archive.build(cfg.warehouse_path)
    summary = radar_archive.analyse(project)
    newcomers = {t["topic_id"] for t in spec if t["label"].startswith("newcomer")}
    # One run over twelve periods: only the three real newcomers are new in the latest one.
    assert summary.movements["new"] == len(newcomers)
    latest = warehouse.query_df(cfg.warehouse_path, "SELECT * FROM radar_latest")
    on = latest[latest.ring.notna()]
    assert set(on[on.movement == "new"].topic_id) == newcomers
    assert on.previous_ring.notna().sum() == len(on) - len(newcomers)
    # Every period has its own movement: the archive's topics entered over the years.
    per_year = warehouse.query_df(cfg.warehouse_path, """
        SELECT year(period_start) AS year, count(*) FILTER (WHERE movement = 'new') AS new,
               count(*) FILTER (WHERE movement = 'back') AS back,
               count(*) FILTER (WHERE movement = 'left') AS "left"
        FROM radar_history GROUP BY 1 ORDER BY 1""").set_index("year")
    assert len(per_year) == len(radar_archive.YEARS)
    assert per_year.loc[2010, "new"] > 0 and per_year.loc[2013, "new"] > 0  # risers enter
    assert per_year["back"].sum() > 0 and per_year["left"].sum() > 0  # quiet ones left, came back
    assert per_year["new"].sum() == len(spec)  # each topic new exactly once
    # `radar export` carries the same history and the current radar.
    out = tmp_path / "export"
    result = CliRunner().invoke(cli, ["export", "--format", "parquet", str(out), "--config",
                                      str(project)])
    assert result.exit_code == 0, result.output
    exported = pq.read_table(out / "radar_latest.parquet").to_pandas()
    assert set(exported[exported.movement == "new"].topic_id) == newcomers
    history = pq.read_table(out / "radar_history.parquet").to_pandas()
    assert len(history) == warehouse.query(cfg.warehouse_path,
                                           "SELECT count(*) FROM radar_history")[0][0]


def test_the_archive_scored_in_quarters(project):
    """`period = "quarter"`: the same archive in 48 quarters, each signal on a quarter's first
    day, the newcomers new in their first quarter and nowhere before."""
    project.write_text(project.read_text().replace('period = "month"', 'period = "quarter"'))
    cfg = load_config(project)
    assert cfg.scoring.baseline_periods == 6
    spec = radar_archive.build(cfg.warehouse_path)
    summary = radar_archive.analyse(project)
    assert summary.periods == 4 * len(radar_archive.YEARS)
    starts = warehouse.query(cfg.warehouse_path, "SELECT DISTINCT period_start FROM signals")
    assert len(starts) == summary.periods
    assert all(d.day == 1 and d.month in (1, 4, 7, 10) for (d,) in starts)
    newcomers = {t["topic_id"] for t in spec if t["label"].startswith("newcomer")}
    first = dict(warehouse.query(cfg.warehouse_path, """
        SELECT topic_id, min(period_start)::VARCHAR FROM radar_history
        WHERE movement = 'new' GROUP BY 1"""))
    assert {first[k] for k in newcomers} == {"2021-01-01"}


def test_after_the_period_changes_the_history_holds_the_new_periods_only(project):
    """Scored in months, then in quarters: the history (and the periods the dashboard offers)
    are the quarters' alone; the monthly run stays in `signals` but mixes none of its months
    in (two months of one quarter would both show as that quarter)."""
    from dashboard.queries import summary

    cfg = load_config(project)
    assert cfg.analysis.period == "month"
    radar_archive.build(cfg.warehouse_path)
    monthly = radar_archive.analyse(project)
    assert monthly.periods == 12 * len(radar_archive.YEARS)
    project.write_text(project.read_text().replace('period = "month"', 'period = "quarter"'))
    quarterly = radar_archive.analyse(project)
    assert quarterly.run_id > monthly.run_id
    runs = warehouse.query(cfg.warehouse_path, "SELECT DISTINCT run_id FROM radar_history")
    assert runs == [(quarterly.run_id,)]
    periods = summary(str(cfg.warehouse_path))["periods"]
    assert len(periods) == 4 * len(radar_archive.YEARS) == quarterly.periods
    assert all(p.month in (1, 4, 7, 10) and p.day == 1 for p in periods)
    # Every quarter was stored, those starting on a month's first day too.
    stored = warehouse.query(cfg.warehouse_path, "SELECT count(DISTINCT period_start) FROM signals "
                             "WHERE run_id = ?", [quarterly.run_id])[0][0]
    assert stored == quarterly.periods
    assert warehouse.query(cfg.warehouse_path, "SELECT count(DISTINCT period_start) FROM signals "
                           "WHERE run_id = ?", [monthly.run_id])[0][0] == monthly.periods


def test_compare_page_in_quarters_after_months(project, monkeypatch):
    """The Compare periods page names quarters, one column each, after a switch from months
    (two months of one quarter once made two columns of the same name: an error)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    cfg = load_config(project)
    radar_archive.build(cfg.warehouse_path)
    radar_archive.analyse(project)
    project.write_text(project.read_text().replace('period = "month"', 'period = "quarter"'))
    radar_archive.analyse(project)
    monkeypatch.setenv("RADAR_CONFIG", str(project))
    st.cache_data.clear()
    st.cache_resource.clear()
    app = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
    at = AppTest.from_file(app, default_timeout=60)
    at.switch_page("views/compare.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    later, earlier = (next(s for s in at.selectbox if s.label == name) for name in
                      ("Later period", "Earlier period"))
    assert (str(later.value), str(earlier.value)) == ("2021-10-01", "2021-07-01")
    assert later.format_func(later.value) == "Q4 2021"

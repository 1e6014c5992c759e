"""The scoring stage on a real DuckDB warehouse: signals, no look-ahead, movement, voice."""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from radar.core import warehouse
from radar.core.config import load_config
from radar.scoring.score import score

TOPICS = {0: "bus lanes", 1: "library hours", 2: "park benches", 3: "heat pumps", 4: "forum rant"}

# Rows whose key is already there are skipped (these tables have no key to do it).
_NEW_ONLY = {
    "documents": "WHERE doc_id NOT IN (SELECT doc_id FROM documents)",
    "document_sources": "WHERE (doc_id, source) NOT IN (SELECT (doc_id, source) FROM document_sources)",
    "passages": "WHERE passage_id NOT IN (SELECT passage_id FROM passages)",
    "passage_topics": "WHERE passage_id NOT IN (SELECT passage_id FROM passage_topics)",
}


def add_topic_docs(path, topic, month, n, sources, authors=None, channel="citizen",
                   syndicated_to=(), seed=0):
    """n one-passage documents of `topic` in `month` (2024), spread over sources and authors."""
    rng = random.Random(f"{topic}-{month}-{seed}")
    docs, passages, assigned, carriers = [], [], [], []
    for i in range(n):
        doc_id = f"t{topic}-m{month}-s{seed}-{i}"
        source = sources[i % len(sources)]
        author = authors[i % len(authors)] if authors else f"author-{rng.randrange(10_000)}"
        when = datetime(2024, month, 1 + i % 27, 12)
        docs.append((doc_id, f"about {TOPICS[topic]} {i}", when, when, source, channel, author,
                     f"h-{doc_id}"))
        passages.append((f"{doc_id}:0", doc_id, 0, f"about {TOPICS[topic]}", 3, i % 4 == 0))
        assigned.append((f"{doc_id}:0", topic, 0.9, "test-v1"))
        carriers.append((doc_id, source))
        carriers.extend((doc_id, s) for s in syndicated_to)
    pending = PENDING.setdefault(str(path), ([], [], [], []))
    for buf, rows in zip(pending, (docs, passages, assigned, carriers), strict=True):
        buf.extend(rows)


PENDING: dict[str, tuple[list, list, list, list]] = {}


def run(c, **kw):
    """Write what the test added (one bulk batch), then score."""
    if str(c.warehouse_path) in PENDING:
        insert(c.warehouse_path, *PENDING.pop(str(c.warehouse_path)))
    return score(c, **kw)


def insert(path, docs, passages, assigned, carriers):
    """Bulk insert through Arrow, as the stages do (row-by-row inserts are slow in DuckDB)."""
    tables = {
        "documents": (docs, ["doc_id", "text", "published_at", "fetched_at", "source", "channel",
                             "author_hash", "content_hash"]),
        "passages": (passages, ["passage_id", "doc_id", "seq", "text", "n_words",
                                "is_expectation"]),
        "passage_topics": (assigned, ["passage_id", "topic_id", "probability", "model_version"]),
        "document_sources": (carriers, ["doc_id", "source"]),
    }
    with warehouse.write(path) as con:
        for name, (rows, columns) in tables.items():
            con.register("batch", pa.table(list(zip(*rows, strict=True)), names=columns))
            con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM batch {_NEW_ONLY[name]}")
            con.unregister("batch")
        for t, label in TOPICS.items():
            con.execute(
                "INSERT OR IGNORE INTO topics (topic_id, label, top_terms, service_area, size, "
                "model_version) VALUES (?, ?, ?, ?, 0, 'test-v1')",
                [t, label, label.split(), "transport" if t == 0 else "libraries"])


SOURCES = [f"site-{i}" for i in range(6)]


def background(path, months):
    for m in months:
        add_topic_docs(path, 0, m, 30, SOURCES)
        add_topic_docs(path, 1, m, 20, SOURCES)
        add_topic_docs(path, 2, m, 10, SOURCES, channel="news")


@pytest.fixture
def cfg(project):
    PENDING.clear()
    return load_config(project)


def signals(cfg, where="", params=()):
    return warehouse.query_df(
        cfg.warehouse_path,
        f"SELECT * FROM signals WHERE run_id = (SELECT max(run_id) FROM radar_runs) {where} "
        "ORDER BY topic_id, period_start", list(params))


def test_empty_warehouse_scores_nothing(cfg):
    summary = run(cfg)
    assert summary.signals == 0 and summary.topics == 0
    assert warehouse.query(cfg.warehouse_path, "SELECT count(*) FROM radar_runs")[0][0] == 1


def test_a_planted_rise_is_flagged_and_stable_topics_are_not(cfg):
    background(cfg.warehouse_path, range(1, 11))
    for month, n in [(7, 4), (8, 8), (9, 16), (10, 32)]:
        add_topic_docs(cfg.warehouse_path, 3, month, n, SOURCES)
    summary = run(cfg)
    assert summary.periods == 10 and summary.topics == 4
    df = signals(cfg)
    rising = df[df.topic_id == 3].set_index("period_start")
    first_flag = rising[rising.stage.isin(["weak signal", "emerging"])].index.min()
    assert first_flag <= pd.Timestamp("2024-08-01")
    assert rising.iloc[-1]["ring"] in ("Act", "Prepare")
    stable = df[df.topic_id.isin([0, 1, 2]) & (df.period_start >= "2024-03-01")]
    assert not stable.stage.isin(["weak signal", "emerging"]).any()
    latest = warehouse.query_df(cfg.warehouse_path, "SELECT * FROM radar_latest ORDER BY score DESC")
    assert latest.iloc[0]["topic_id"] == 3 and latest.iloc[0]["label"] == "heat pumps"
    assert set(latest.topic_id) == {0, 1, 2, 3}


def test_no_look_ahead_history_equals_scoring_the_past_alone(cfg, tmp_path):
    """Scoring only data up to June gives the same radar for Jan-June as scoring all of it."""
    from radar.core.config import parse_config

    early = parse_config({"warehouse": {"path": str(tmp_path / "early.duckdb")}})
    for c in (cfg, early):
        background(c.warehouse_path, range(1, 7))
        for month, n in [(4, 5), (5, 10), (6, 20)]:
            add_topic_docs(c.warehouse_path, 3, month, n, SOURCES)
    background(cfg.warehouse_path, range(7, 10))
    add_topic_docs(cfg.warehouse_path, 3, 7, 40, SOURCES)
    add_topic_docs(cfg.warehouse_path, 4, 8, 30, SOURCES)  # a new topic later must change nothing
    run(cfg)
    run(early)
    cols = ["period_start", "topic_id", "score", "stage", "ring", "growth", "burst", "quadrant",
            "novelty", "narrow_voice"]
    full = signals(cfg, "AND period_start <= DATE '2024-06-01'")[cols]
    past = signals(early)[cols]
    assert len(full) == len(past) > 0
    # Equal up to float summation order (SQL groups arrive in any order).
    pd.testing.assert_frame_equal(full.reset_index(drop=True), past.reset_index(drop=True),
                                  check_exact=False, rtol=1e-9)


def test_one_forum_is_never_a_movement_and_few_authors_hide_quotes(cfg):
    background(cfg.warehouse_path, range(1, 9))
    # One forum, three loud authors, posting more and more.
    for month, n in [(6, 6), (7, 15), (8, 40)]:
        add_topic_docs(cfg.warehouse_path, 4, month, n, ["one-forum"], authors=["a1", "a2", "a3"])
    run(cfg)
    rant = signals(cfg, "AND topic_id = 4").set_index("period_start")
    last = rant.iloc[-1]
    assert last["stage"] in ("weak signal", "emerging")  # it is rising...
    assert last["narrow_voice"] and last["ring"] == "Watch"  # ...but never above Watch
    assert last["sources"] == 1 and last["effective_sources"] == pytest.approx(1.0)
    assert last["authors"] == 3 and not last["show_quotes"]
    assert "narrow voice" in last["reasons"]
    broad = signals(cfg, "AND topic_id = 0").iloc[-1]
    assert broad["show_quotes"] and not broad["narrow_voice"]


def test_a_syndicated_story_counts_once_in_volume_and_once_per_carrier_in_breadth(cfg):
    background(cfg.warehouse_path, range(1, 4))
    add_topic_docs(cfg.warehouse_path, 3, 3, 4, ["wire"], channel="news",
                   syndicated_to=[f"paper-{i}" for i in range(9)])
    run(cfg)
    row = signals(cfg, "AND topic_id = 3").iloc[-1]
    assert row["volume"] == 4
    assert row["sources"] == 10
    assert row["effective_sources"] == pytest.approx(10.0)
    assert row["news_share"] == 1.0 and row["citizen_share"] == 0.0


def test_movement_against_the_previous_period_and_every_run_is_kept(cfg):
    background(cfg.warehouse_path, range(1, 7))
    add_topic_docs(cfg.warehouse_path, 4, 6, 10, SOURCES)  # appears in June
    first = run(cfg)
    # The first run already has a history: only the topic that entered in June is new.
    assert first.movements.get("new") == 1 and first.movements.get("unchanged") == 3
    again = run(cfg)
    assert again.signals == 0 and again.run_id == first.run_id  # unchanged warehouse: no new run
    background(cfg.warehouse_path, [7])
    for month, n in [(7, 60)]:
        add_topic_docs(cfg.warehouse_path, 3, month, n, SOURCES)
    second = run(cfg)
    assert second.run_id == first.run_id + 1
    latest = warehouse.query_df(cfg.warehouse_path, "SELECT * FROM radar_latest").set_index("topic_id")
    assert latest.loc[3, "movement"] == "new"
    assert latest.loc[0, "movement"] == "unchanged" and latest.loc[0, "previous_ring"] == "Monitor"
    # Topic 4 had nothing in July: still on the radar while its baseline remembers it.
    assert latest.loc[4, "ring"] == "Monitor" and latest.loc[4, "movement"] == "moved out"
    runs = warehouse.query(cfg.warehouse_path, "SELECT count(DISTINCT run_id) FROM signals")[0][0]
    assert runs == 2


def test_an_archive_analysed_in_one_run_has_its_whole_history(cfg):
    """Many periods imported at once: the latest radar calls only real newcomers new."""
    background(cfg.warehouse_path, range(1, 13))
    for month, n in [(6, 4), (7, 8), (8, 12), (9, 16), (10, 20), (11, 24), (12, 30)]:
        add_topic_docs(cfg.warehouse_path, 3, month, n, SOURCES)
    add_topic_docs(cfg.warehouse_path, 4, 12, 12, SOURCES)  # enters in the latest period
    summary = run(cfg)
    assert summary.periods == 12
    latest = warehouse.query_df(cfg.warehouse_path, "SELECT * FROM radar_latest").set_index("topic_id")
    assert latest.loc[latest.movement == "new"].index.tolist() == [4]
    on = latest[latest.ring.notna()]
    assert on.previous_ring.notna().sum() == len(on) - 1  # all but the newcomer had a ring
    # Every period of the history compares with the period before it, in the same view.
    history = warehouse.query_df(
        cfg.warehouse_path, "SELECT * FROM radar_history ORDER BY topic_id, period_start")
    assert history.period_start.nunique() == 12
    rings = {(r.topic_id, r.period_start): r.ring for r in history.itertuples()}
    periods = sorted(history.period_start.unique())
    for r in history.itertuples():
        i = periods.index(r.period_start)
        before = rings.get((r.topic_id, periods[i - 1])) if i else None
        assert (r.previous_ring if isinstance(r.previous_ring, str) else None) == before
        assert (r.movement == "new") == (before is None and r.ring is not None and
                                         not any(rings.get((r.topic_id, p)) for p in periods[:i]))
    # Each topic is new exactly once over the whole archive.
    assert history[history.movement == "new"].groupby("topic_id").size().eq(1).all()
    assert history.loc[history.topic_id == 3, "movement"].tolist().count("new") == 1


def test_a_topic_that_leaves_the_radar_gets_a_left_row(cfg):
    from radar.core.config import parse_config

    short = parse_config({"warehouse": {"path": cfg.warehouse.path},
                          "scoring": {"baseline_periods": 1}})
    short.path = cfg.path
    background(cfg.warehouse_path, range(1, 5))
    add_topic_docs(cfg.warehouse_path, 4, 4, 10, SOURCES)  # new in April, past the warm-up
    run(short)
    background(cfg.warehouse_path, range(5, 7))  # topic 4 silent for two months
    run(short)
    latest = warehouse.query_df(cfg.warehouse_path, "SELECT * FROM radar_latest").set_index("topic_id")
    assert latest.loc[4, "movement"] == "left" and pd.isna(latest.loc[4, "ring"])
    # Compared with May (its baseline still remembered April: Monitor), not with the
    # previous run's April radar, where it was a new weak signal.
    assert latest.loc[4, "previous_ring"] == "Monitor"
    rings = dict(warehouse.query(cfg.warehouse_path, "SELECT month(period_start), ring "
                                 "FROM radar_history WHERE topic_id = 4"))
    assert rings[4] in ("Prepare", "Watch") and rings[5] == "Monitor" and rings[6] is None


def test_expectation_gap_and_area_view(cfg):
    for m in range(1, 8):
        add_topic_docs(cfg.warehouse_path, 0, m, 20, SOURCES)
        add_topic_docs(cfg.warehouse_path, 0, m, 10, ["council"], channel="policy", seed=1)
        add_topic_docs(cfg.warehouse_path, 1, m, 10, ["council"], channel="policy", seed=2)
        add_topic_docs(cfg.warehouse_path, 1, m, 10 if m < 5 else 30, SOURCES, seed=3)
    run(cfg)
    lib = signals(cfg, "AND topic_id = 1").iloc[-1]
    bus = signals(cfg, "AND topic_id = 0").iloc[-1]
    assert lib["citizen_attention"] > bus["citizen_attention"] * 0.9
    assert lib["gap_risk"] and not bus["gap_risk"]
    assert "gap risk" in lib["reasons"]
    assert lib["expectation_gap"] == pytest.approx(lib["citizen_attention"] - lib["policy_attention"])
    areas = warehouse.query_df(
        cfg.warehouse_path,
        "SELECT * FROM area_gaps WHERE run_id = (SELECT max(run_id) FROM radar_runs) "
        "AND period_start = DATE '2024-07-01'").set_index("service_area")
    assert areas.loc["libraries", "topics_at_risk"] == 1
    assert list(areas.loc["libraries", "risk_topics"]) == ["library hours"]


def test_large_runs_are_written_in_batches_and_leftovers_of_a_crash_are_dropped(cfg, monkeypatch):
    import radar.scoring.score

    background(cfg.warehouse_path, range(1, 7))
    insert(cfg.warehouse_path, *PENDING.pop(str(cfg.warehouse_path)))
    with warehouse.write(cfg.warehouse_path) as con:
        # What an interrupted run leaves behind: signals whose run row was never written.
        con.execute("INSERT INTO signals (run_id, period_start, topic_id, score, volume) "
                    "VALUES (999, DATE '2024-01-01', 0, 1.0, 1)")
    monkeypatch.setattr(radar.scoring.score, "BATCH_ROWS", 5)
    calls = []
    summary = score(cfg, progress=lambda done, total: calls.append((done, total)))
    assert summary.signals == 18 and calls[-1] == (18, 18) and len(calls) >= 4
    counts = dict(warehouse.query(cfg.warehouse_path,
                                  "SELECT run_id, count(*) FROM signals GROUP BY 1"))
    assert counts == {summary.run_id: 18}
    runs = warehouse.query(cfg.warehouse_path, "SELECT run_id, signals FROM radar_runs ORDER BY 1")
    assert runs[-1] == (summary.run_id, 18)


def test_unchanged_warehouse_is_reported_as_such(cfg):
    background(cfg.warehouse_path, range(1, 4))
    first = run(cfg)
    again = score(cfg)
    assert not first.unchanged and again.unchanged and again.run_id == first.run_id
    changed = parse_config_with(cfg, {"scoring": {"act_score": 70.0}})
    assert not score(changed).unchanged  # new settings: a new run


def parse_config_with(cfg, data):
    from radar.core.config import parse_config

    new = parse_config({"warehouse": {"path": cfg.warehouse.path}, **data})
    new.path = cfg.path
    return new


def test_each_run_stores_its_radar_and_only_the_history_that_changed(cfg):
    background(cfg.warehouse_path, range(1, 7))
    first = run(cfg)
    assert first.periods_stored == 6 and first.signals == 18
    background(cfg.warehouse_path, [7])
    second = run(cfg)
    # July is new; June (compared with May in both runs) and January-May did not change.
    assert second.periods_stored == 1
    stored = warehouse.query(cfg.warehouse_path, "SELECT DISTINCT period_start FROM signals "
                             "WHERE run_id = ? ORDER BY 1", [second.run_id])
    assert [str(p[0]) for p in stored] == ["2024-07-01"]
    # A late document in February changes February and every baseline after it.
    add_topic_docs(cfg.warehouse_path, 2, 2, 25, SOURCES, channel="news", seed=9)
    third = run(cfg)
    assert third.periods_stored == 6
    # The history (each period's latest stored rows) is complete and current.
    history = warehouse.query_df(cfg.warehouse_path, """
        SELECT period_start, topic_id, volume FROM signals
        QUALIFY row_number() OVER (PARTITION BY period_start, topic_id ORDER BY run_id DESC) = 1
        ORDER BY topic_id, period_start""")
    assert len(history) == 21
    feb = history[(history.topic_id == 2) & (history.period_start == pd.Timestamp("2024-02-01"))]
    assert int(feb.volume.iloc[0]) == 35


def test_out_of_range_settings_are_a_clear_error(project):
    from click.testing import CliRunner

    from radar.app.cli import cli

    text = project.read_text().replace("[scoring]\n", "[scoring]\nbaseline_periods = 0\n")
    assert "baseline_periods = 0" in text
    project.write_text(text)
    events = str(Path(__file__).parent / "fixtures" / "scoring" / "events.csv")
    result = CliRunner().invoke(cli, ["backtest", events, "--config", str(project)])
    assert result.exit_code == 2
    assert "scoring.baseline_periods: must be at least 1, got 0" in result.output
    with pytest.raises(Exception, match="scoring.baseline_periods"):
        score(load_config(project))


def test_a_document_dated_in_the_future_does_not_move_the_radar_there(cfg):
    background(cfg.warehouse_path, range(1, 5))
    insert(cfg.warehouse_path, *PENDING.pop(str(cfg.warehouse_path)))
    with warehouse.write(cfg.warehouse_path) as con:
        con.execute("UPDATE documents SET published_at = TIMESTAMP '2099-01-01' "
                    "WHERE doc_id = (SELECT min(doc_id) FROM documents)")
    summary = score(cfg)
    assert str(summary.latest_period) == "2024-04-01" and summary.periods == 4


def test_a_planned_run_writes_nothing_until_stored_and_equals_score(cfg, tmp_path):
    """`plan_run` only reads (the app runs it beside the NLP stage's writes); stored, it is
    the run `score` makes of the same warehouse."""
    import shutil

    from radar.scoring.score import plan_run, store_run

    background(cfg.warehouse_path, range(1, 9))
    for month, n in [(6, 4), (7, 9), (8, 20)]:
        add_topic_docs(cfg.warehouse_path, 3, month, n, SOURCES)
    insert(cfg.warehouse_path, *PENDING.pop(str(cfg.warehouse_path)))
    twin_path = tmp_path / "twin.duckdb"
    shutil.copy(cfg.warehouse_path, twin_path)
    twin = parse_config_with(cfg, {})
    twin.warehouse.path = str(twin_path)

    def stored():
        return warehouse.query(cfg.warehouse_path, "SELECT (SELECT count(*) FROM radar_runs), "
                                                   "(SELECT count(*) FROM signals)")[0]

    plan = plan_run(cfg)
    assert stored() == (0, 0) and len(plan.rows) > 0
    summary = store_run(cfg, plan)
    expected = score(twin)
    assert (summary.signals, summary.topics, summary.periods, summary.rings, summary.movements) == (
        expected.signals, expected.topics, expected.periods, expected.rings, expected.movements)
    assert stored() == (1, summary.signals)
    mine = signals(cfg).drop(columns=["run_id"])
    theirs = warehouse.query_df(twin_path, "SELECT * FROM signals ORDER BY topic_id, period_start"
                                ).drop(columns=["run_id"])
    # Equal up to float summation order (SQL groups arrive in any order).
    pd.testing.assert_frame_equal(mine, theirs, check_exact=False, rtol=1e-9)
    # Planned again with nothing changed: the last run, nothing to store.
    again = plan_run(cfg)
    assert again.unchanged and store_run(cfg, again) is again and stored()[0] == 1

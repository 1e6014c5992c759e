"""The triage log: append-only, with who, when, from, to, owner and note."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import dashboard_fixtures as fx
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from radar.core import triage, warehouse

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")


@pytest.fixture
def corpus(warehouse_path) -> Path:
    return fx.build(warehouse_path)


def test_changes_are_appended_and_chained(corpus):
    first = triage.record(corpus, 1, "assessing", "Ana", owner="Ana", note="check grant rules")
    second = triage.record(corpus, 1, "act", "  Ben  ", owner="Climate team", note="budget bid")
    assert (first.from_status, first.to_status) == (None, "assessing")
    assert (second.from_status, second.to_status, second.who) == ("assessing", "act", "Ben")
    entries = triage.history(corpus, 1)
    assert [(e.who, e.from_status, e.to_status, e.owner, e.note) for e in entries] == [
        ("Ana", None, "assessing", "Ana", "check grant rules"),
        ("Ben", "assessing", "act", "Climate team", "budget bid"),
    ]
    assert entries[0].at <= entries[1].at
    assert triage.current_status(corpus, 1) == "act"
    assert triage.current_status(corpus, 2) == "new"
    rows = warehouse.query(corpus, "SELECT topic_id, topic_label, status FROM triage_current")
    assert rows == [(1, "Heat pump grants", "act")]


@pytest.mark.parametrize("who,status,topic,message", [
    ("", "act", 1, "name of the person"),
    ("   ", "act", 1, "name of the person"),
    ("Ana", "done", 1, "unknown status"),
    ("Ana", "act", 4242, "no topic 4242"),
])
def test_bad_changes_are_refused_and_nothing_is_written(corpus, who, status, topic, message):
    with pytest.raises(triage.TriageError, match=message):
        triage.record(corpus, topic, status, who)
    assert warehouse.query(corpus, "SELECT count(*) FROM triage_log") == [(0,)]


def test_the_schema_refuses_an_unknown_status(corpus):
    import duckdb

    with pytest.raises(duckdb.ConstraintException), warehouse.write(corpus) as con:
        con.execute("INSERT INTO triage_log (topic_id, who, to_status) VALUES (1, 'x', 'maybe')")


def _record_many(path: str, who: str, n: int) -> None:
    for i in range(n):
        triage.record(path, 1, triage.STATUSES[i % len(triage.STATUSES)], who)


def test_concurrent_triage_from_two_processes_keeps_a_consistent_chain(corpus):
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_record_many, args=(str(corpus), who, 10)) for who in ("A", "B")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    entries = triage.history(corpus, 1)
    assert len(entries) == 20
    for before, after in zip(entries, entries[1:], strict=False):
        assert after.from_status == before.to_status  # each change saw the one before it


def test_triage_page_needs_a_name_and_appends_to_the_log(project, corpus, monkeypatch):
    st.cache_data.clear()
    st.cache_resource.clear()
    monkeypatch.setenv("RADAR_CONFIG", str(project))
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("views/triage.py")
    at.run()
    assert not at.exception
    current = at.dataframe[0].value
    assert set(current["status"]) == {"new"}

    # No name: refused, nothing written.
    at.selectbox[0].select(4)
    at.selectbox[1].select("act")
    at.button[0].click().run()
    assert any("Enter your name" in e.value for e in at.error)
    assert triage.history(corpus, 4) == []

    at.text_input(key="triage_who").input("Dana Strategy").run()
    at.selectbox[0].select(4)
    at.selectbox[1].select("act")
    at.text_input[1].input("Digital team")
    at.text_area[0].input("Pilot the chatbot <b>now</b>")
    at.button[0].click().run()
    assert not at.error, [e.value for e in at.error]
    assert any("new → act by Dana Strategy" in s.value for s in at.success)
    [entry] = triage.history(corpus, 4)
    assert (entry.who, entry.from_status, entry.to_status, entry.owner, entry.note) == (
        "Dana Strategy", None, "act", "Digital team", "Pilot the chatbot <b>now</b>")
    current = at.dataframe[0].value.set_index("topic_id")
    assert current.loc[4, "status"] == "act"

    at.selectbox[0].select(4)
    at.selectbox[1].select("dismissed")
    at.button[0].click().run()
    log = at.dataframe[1].value
    mine = log[log["topic_id"] == 4]
    assert mine["to"].tolist() == ["dismissed", "act"]  # newest first
    assert mine["from"].fillna("-").tolist() == ["act", "-"]

    # The topic page shows the log.
    at.switch_page("views/topic.py")
    at.query_params["topic"] = "4"
    at.run()
    shown = at.dataframe[-1].value
    assert shown["to"].tolist() == ["act", "dismissed"]
    assert shown["who"].tolist() == ["Dana Strategy", "Dana Strategy"]


def test_a_topic_off_the_radar_can_be_triaged_from_its_page(project, corpus, monkeypatch):
    st.cache_data.clear()
    monkeypatch.setenv("RADAR_CONFIG", str(project))
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("views/triage.py")
    at.query_params["topic"] = "8"  # Youth centre closures left the radar
    at.run()
    assert at.selectbox[0].value == 8
    at.text_input(key="triage_who").input("Eli").run()
    at.selectbox[1].select("watch")
    at.button[0].click().run()
    assert [e.to_status for e in triage.history(corpus, 8)] == ["watch"]

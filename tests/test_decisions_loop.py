"""The decision loop on a real warehouse: catalogue, decisions, the decisions stage, notices
delivered by the alerts stage to a real SMTP server (aiosmtpd), and briefs as HTML and PDF.

The warehouse is the dashboard's test corpus (tests/dashboard_fixtures.py): eight topics
over six months in news, policy and citizen sources, scored in two radar runs. Matching
here runs on keywords alone (no embeddings are stored), as it does before the NLP stage
has embedded the catalogue; tests/test_decisions_e2e.py runs it with the real model.
"""

from __future__ import annotations

import hashlib
import io
from datetime import datetime

import dashboard_fixtures as fx
import pandas as pd
import pytest

from radar.alerts import send_alerts
from radar.app.pipeline import decision_loop as update
from radar.core import brief, brief_render, catalogue, decisions, warehouse
from radar.core.config import load_config

CONFIG = """
[dashboard]
base_url = "https://radar.city.example"

[smtp]
host = "127.0.0.1"
port = {port}
sender = "radar@city.example"
retry_backoff = 0

[[services]]
name = "Library makerspace"
owner = "Ann Archer"
owner_email = "ann@city.example"
area = "libraries"
description = "Makerspace and creative technology in the central library"
keywords = ["makerspace", "3d printer"]

[[services]]
name = "Home energy advice"
owner = "Bo Berg"
description = "Advice and grants for insulating homes"
keywords = ["heat pump"]

[[services]]
name = "Bus network"
description = "Bus routes and timetables"
keywords = ["tram"]

[[watch]]
name = "Drone deliveries"
keywords = ["drone delivery"]

[[watch]]
name = "Library lockers"
keywords = ["library locker"]
area = "libraries"

[[subscriptions]]
email = "strategy@city.example"
min_ring = "Act"

[[subscriptions]]
email = "transport@city.example"
areas = ["transport"]
min_ring = "Act"
"""


@pytest.fixture
def cfg(project, server):
    project.write_text(CONFIG.format(port=server.port), encoding="utf-8")
    cfg = load_config(project)
    fx.build(cfg.warehouse_path)
    catalogue.sync_config(cfg.warehouse_path, cfg)
    return cfg


def q(cfg, sql, params=None):
    return warehouse.query(cfg.warehouse_path, sql, params)


def new_run(cfg, changes: dict[int, dict], period=fx.LATEST) -> int:
    """A later radar run like the scoring stage writes: run 2's rows with `changes` applied."""
    with warehouse.write(cfg.warehouse_path) as con:
        prev = con.execute("SELECT max(run_id) FROM radar_runs").fetchone()[0]
        run_id = prev + 1
        con.execute("INSERT INTO radar_runs (run_id, \"at\", period, period_start, model_version) "
                    "VALUES (?, ?, 'month', ?, 'm1')", [run_id, datetime(2026, 12, 1), period])
        rows = con.execute("SELECT * FROM signals WHERE run_id = ? AND period_start = ?",
                           [prev, period]).df()
        rows["run_id"] = run_id
        for tid, cols in changes.items():
            for col, value in cols.items():
                rows.loc[rows["topic_id"] == tid, col] = value
        con.execute("INSERT INTO signals BY NAME SELECT * FROM rows")
    return run_id


def add_documents(cfg, texts: list[str], channel="news", source="city-news", day=10) -> None:
    """New documents with one passage each, in the latest period, like a crawl plus NLP would."""
    with warehouse.write(cfg.warehouse_path) as con:
        for i, text in enumerate(texts):
            doc = hashlib.sha256(text.encode()).hexdigest()[:16]
            when = datetime(fx.LATEST.year, fx.LATEST.month, day + i)
            con.execute("INSERT INTO documents (doc_id, url, canonical_url, title, text, published_at, "
                        "fetched_at, source, channel, language, author_hash, content_hash) VALUES "
                        "(?, ?, ?, ?, ?, ?, ?, ?, ?, 'en', ?, ?)",
                        [doc, f"http://127.0.0.1/{doc}", f"http://127.0.0.1/{doc}", f"Story {i}",
                         text, when, when, source, channel,
                         f"a{i}" if channel == "citizen" else None, doc])
            con.execute("INSERT INTO passages (passage_id, doc_id, seq, text, n_words) "
                        "VALUES (?, ?, 0, ?, ?)",
                        [f"{doc}:0", doc, text, len(text.split())])


def test_catalogue_follows_the_file_and_keeps_what_people_added(cfg):
    path = cfg.warehouse_path
    assert [s.name for s in catalogue.services(path)] == ["Bus network", "Home energy advice",
                                                          "Library makerspace"]
    added = catalogue.add_service(path, "Permit desk", owner="Cy", description="Building permits",
                                  who="Dee")
    assert added.origin == "dashboard"
    with pytest.raises(catalogue.CatalogueError, match="already a service"):
        catalogue.add_service(path, "permit desk", keywords=["permit"], who="Dee")
    with pytest.raises(catalogue.CatalogueError, match="name of the person"):
        catalogue.add_service(path, "Parks", keywords=["park"])
    with pytest.raises(catalogue.CatalogueError, match="description or keywords"):
        catalogue.add_service(path, "Parks", who="Dee")
    # The file changes: one entry edited, one removed.
    cfg.services[1].description = "Advice on heat pumps and insulation"
    del cfg.services[2]
    counts = catalogue.sync_config(path, cfg)
    assert counts == {"added": 0, "updated": 1, "deactivated": 1}
    names = {s.name: s for s in catalogue.services(path)}
    assert set(names) == {"Home energy advice", "Library makerspace", "Permit desk"}
    assert names["Home energy advice"].description == "Advice on heat pumps and insulation"
    assert catalogue.sync_config(path, cfg) == {"added": 0, "updated": 0, "deactivated": 0}


def test_matches_confirmations_and_rejections(cfg):
    summary = update(cfg)
    assert summary.matches >= 2
    rows = q(cfg, "SELECT s.name, m.topic_id, m.score, m.keyword_hits FROM service_matches m "
                  "JOIN services s USING (service_id) ORDER BY 1, 2")
    by = {(n, t): (score, hits) for n, t, score, hits in rows}
    assert by[("Library makerspace", 3)][1] == ["makerspace", "3d printer"]
    assert by[("Home energy advice", 1)][1] == ["heat pump"]
    assert not any(n == "Bus network" for n, _ in by)
    sid = {s.name: s.service_id for s in catalogue.services(cfg.warehouse_path)}
    # A person rejects one match and confirms a pair the radar did not suggest.
    catalogue.review_match(cfg.warehouse_path, sid["Home energy advice"], 1, "rejected", "Eve", "not ours")
    catalogue.review_match(cfg.warehouse_path, sid["Bus network"], 2, "confirmed", "Eve")
    with pytest.raises(catalogue.CatalogueError, match="your name"):
        catalogue.review_match(cfg.warehouse_path, sid["Bus network"], 2, "confirmed", "")
    update(cfg)  # a recomputation never undoes a review
    pairs = q(cfg, "SELECT service_id, topic_id, status FROM service_topics ORDER BY 1, 2")
    assert (sid["Bus network"], 2, "confirmed") in pairs
    assert not any(s == sid["Home energy advice"] and t == 1 for s, t, _ in pairs)
    assert q(cfg, "SELECT count(*) FROM service_match_reviews")[0][0] == 2


def test_exposure_ranks_services_by_what_rises_there(cfg):
    update(cfg)
    from radar.core import exposure

    with warehouse.read(cfg.warehouse_path) as con:
        table = exposure.ranking(con, "month")
    assert list(table["name"])[:2] == ["Home energy advice", "Library makerspace"]
    energy = table.iloc[0]
    # Topic 1 is in Act (weight 1) with a keyword match (0.4 + 0 similarity) -> 0.4.
    assert energy["exposure"] == pytest.approx(0.4)
    assert energy["top"] == ["Heat pump grants"] and energy["sources"] >= 1
    assert table.iloc[-1]["exposure"] == 0


def test_decisions_move_through_the_loop_and_are_append_only(cfg):
    path = cfg.warehouse_path
    sid = {s.name: s.service_id for s in catalogue.services(path)}
    with pytest.raises(decisions.DecisionError, match="at least one signal or service"):
        decisions.create(path, "Nothing", "Ann", "Eve", "why")
    with pytest.raises(decisions.DecisionError, match="no topic 99"):
        decisions.create(path, "Ghost", "Ann", "Eve", "why", topic_ids=[99])
    with pytest.raises(decisions.DecisionError, match="needs a reason"):
        decisions.create(path, "Makerspace", "Ann", "Eve", "  ", topic_ids=[3])
    did = decisions.create(path, "Open a makerspace", "Ann Archer", "Eve", "Residents ask for one",
                           topic_ids=[3], service_ids=[sid["Library makerspace"]])
    decisions.record_step(path, did, "ideas", "Eve", "Pilot, partner, or nothing")
    with pytest.raises(decisions.DecisionError, match="cannot move to 'choice'"):
        decisions.record_step(path, did, "choice", "Eve", "skip ahead", {"equity": "x"})
    decisions.record_step(path, did, "feasibility", "Fay", "Basement room is free")
    decisions.record_step(path, did, "feedback", "Fay", "Survey: 300 answers")
    with pytest.raises(decisions.DecisionError, match="public-value"):
        decisions.record_step(path, did, "choice", "Gus", "Pilot it")
    decisions.record_step(path, did, "choice", "Gus", "Pilot for a year",
                          {"equity": "free for under-18s", "trust": "results published"})
    steps = decisions.steps(path, did)
    assert [s.step for s in steps] == ["need", "ideas", "feasibility", "feedback", "choice"]
    assert steps[-1].from_step == "feedback" and steps[-1].values["equity"] == "free for under-18s"
    assert q(cfg, "SELECT step, step_by FROM decision_current WHERE decision_id = ?", [did]) == [
        ("choice", "Gus")]
    links = q(cfg, "SELECT kind, ref_id, label FROM decision_links ORDER BY kind")
    assert links == [("service", sid["Library makerspace"], "Library makerspace"),
                     ("topic", 3, "Library makerspaces")]


def test_a_fired_trigger_queues_the_decision_and_mails_its_owner_once(cfg, server):
    path = cfg.warehouse_path
    update(cfg)
    did = decisions.create(path, "Open a makerspace", "Ann Archer", "Eve", "Residents ask for one",
                           owner_email="ann@city.example", topic_ids=[3])
    sp = decisions.add_signpost(path, did, "authors", 10, "Eve", topic_id=3)
    quiet = decisions.add_signpost(path, did, "share", 0.9, "Eve", topic_id=3)
    with pytest.raises(decisions.DecisionError, match="fraction"):
        decisions.add_signpost(path, did, "share", 5, "Eve", topic_id=3)
    assert update(cfg).triggers.fired == []  # nothing new since the decision
    new_run(cfg, {3: {"authors": 14, "ring": "Prepare", "sources": 9}})
    fired = update(cfg).triggers
    assert fired.fired == [sp] and len(fired.notices) == 1
    again = update(cfg).triggers
    assert again.fired == [] and again.notices == []  # exactly once
    queue = q(cfg, "SELECT decision_id, signpost_id, moved FROM reassessment_queue")
    assert [(d, s) for d, s, _ in queue] == [(did, sp)]
    assert "distinct authors 6 → 14" in queue[0][2] and "ring Watch → Prepare" in queue[0][2]
    assert q(cfg, "SELECT count(*) FROM signpost_firings WHERE signpost_id = ?", [quiet])[0][0] == 0

    result = send_alerts(cfg)
    assert not result.errors
    mails = server.handler.to("ann@city.example")
    assert len(mails) == 1
    msg = mails[0]
    assert "reassess" in msg.message["Subject"] and "Library makerspaces" in msg.message["Subject"]
    text = msg.part("plain")
    assert "distinct authors 6 → 14" in text
    assert f"https://radar.city.example/decisions?decision={did}" in text
    assert q(cfg, "SELECT state, kind FROM alert_outbox WHERE recipient = 'ann@city.example'") == [
        ("sent", "decision")]
    send_alerts(cfg)
    assert len(server.handler.to("ann@city.example")) == 1

    # Reassessment is open from any step once a trigger fired; recording it empties the queue.
    decisions.record_step(path, did, "reassessment", "Ann Archer", "More voices: widen the pilot")
    assert q(cfg, "SELECT count(*) FROM reassessment_queue")[0][0] == 0


def test_watch_list_follows_small_themes_and_tells_subscribers_once(cfg, server):
    add_documents(cfg, [f"Council weighs drone delivery of library books, trial {i}." for i in range(4)])
    add_documents(cfg, ["A drone delivery hub is planned near the station."], day=20)
    summary = update(cfg)
    assert summary.watch.items == 2
    per = q(cfg, "SELECT w.name, p.period_start, p.channel, p.passages, p.sources FROM watch_periods p "
                 "JOIN watch_items w USING (watch_id)")
    assert per == [("Drone deliveries", fx.LATEST, "news", 5, 1)]
    assert summary.alerts.moved == ["Drone deliveries"]
    # The transport-only subscriber is told too (the item has no area); nobody twice.
    assert len(summary.alerts.notices) == 2
    assert update(cfg).alerts.notices == []
    send_alerts(cfg)
    mails = [m for m in server.handler.received if "watch list" in m.message["Subject"]]
    assert sorted(r for m in mails for r in m.recipients) == ["strategy@city.example",
                                                              "transport@city.example"]
    assert "5 matching passages" in mails[0].part("plain")



def test_a_loop_with_nothing_to_do_clears_what_it_kept_and_then_writes_nothing(cfg, monkeypatch):
    path = cfg.warehouse_path
    add_documents(cfg, [f"Council weighs drone delivery of library books, trial {i}." for i in range(4)])
    update(cfg)
    kept = ("SELECT (SELECT count(*) FROM service_matches) + (SELECT count(*) FROM watch_matches) "
            "+ (SELECT count(*) FROM watch_state) + (SELECT count(*) FROM watch_periods)")
    assert q(cfg, kept)[0][0] > 0
    # Every service and watch item retired: the next update still clears their rows.
    for s in catalogue.services(path):
        catalogue.set_active(path, "services", s.service_id, False)
    for w in catalogue.watch_items(path):
        catalogue.set_active(path, "watch_items", w.watch_id, False)
    update(cfg)
    assert q(cfg, kept)[0][0] == 0
    # Now the loop is idle: an update is one read, and writes nothing.
    def no_write(*args, **kwargs):
        raise AssertionError("an idle decision loop opened the warehouse to write")

    monkeypatch.setattr(warehouse, "write", no_write)
    summary = update(cfg)
    assert (summary.matches, summary.watch.items, summary.triggers.evaluated) == (0, 0, 0)
    assert summary.alerts.moved == [] and summary.triggers.fired == []

def test_watch_term_signpost(cfg):
    path = cfg.warehouse_path
    update(cfg)
    did = decisions.create(path, "Lockers", "Ann", "Eve", "Maybe lockers", topic_ids=[3])
    wid = {w.name: w.watch_id for w in catalogue.watch_items(path)}["Library lockers"]
    sp = decisions.add_signpost(path, did, "watch_term", 1, "Eve", watch_id=wid)
    add_documents(cfg, ["Pick up books from a library locker at the station."], source="citizen-forum",
                  channel="citizen")
    new_run(cfg, {})
    t = update(cfg).triggers
    assert t.fired == [sp] and t.without_address == [did] and t.notices == []
    assert q(cfg, "SELECT message_id FROM signpost_firings")[0][0] is None


def _citizen_topic(cfg) -> int:
    rows = q(cfg, """SELECT DISTINCT t.topic_id FROM topics t, unnest(t.representative_passages) r(pid)
                     JOIN passages p ON p.passage_id = r.pid JOIN documents d USING (doc_id)
                     WHERE d.channel = 'citizen' AND t.topic_id <> 7 ORDER BY 1""")
    return rows[0][0]


def test_brief_of_a_signal_hides_citizen_quotes_below_the_threshold(cfg):
    update(cfg)
    tid = _citizen_topic(cfg)
    shown = brief.gather(cfg.warehouse_path, cfg, topic_id=tid)
    assert any(e.channel == "citizen" for e in shown.evidence) and shown.withheld == 0
    with warehouse.write(cfg.warehouse_path) as con:  # the scorer found too few authors
        con.execute("UPDATE signals SET show_quotes = false, authors = 3 WHERE topic_id = ?", [tid])
    hidden = brief.gather(cfg.warehouse_path, cfg, topic_id=tid)
    assert not any(e.channel == "citizen" for e in hidden.evidence) and hidden.withheld > 0
    html = brief_render.render_html(hidden)
    assert "citizen passage(s) withheld: fewer than 5 distinct citizen authors" in html
    assert "<svg" in html and "<script" not in html
    with pytest.raises(brief.BriefError):
        brief.gather(cfg.warehouse_path, cfg, topic_id=999)


def test_brief_of_a_service_as_html_and_pdf(cfg):
    path = cfg.warehouse_path
    evil = catalogue.add_service(path, "<script>alert(1)</script> desk", keywords=["makerspace"],
                                 who="Eve")
    update(cfg)
    did = decisions.create(path, "Pilot", "Ann", "Eve", "Demand", service_ids=[evil.service_id])
    b = brief.gather(path, cfg, service_id=evil.service_id)
    assert [d["id"] for d in b.decisions] == [did]
    assert list(b.related["topic"]) == ["Library makerspaces"]
    html = brief_render.render_html(b)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; desk" in html and "<script>" not in html
    assert "Pilot" in html and "need" in html
    pdf = brief_render.render_pdf(html)
    assert pdf.startswith(b"%PDF")
    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Library makerspaces" in text and "Decisions and their history" in text


def test_trend_chart_is_drawn_from_the_series():
    trend = pd.DataFrame({"period_start": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-02-01"]),
                          "channel": ["news", "news", "citizen"], "passages": [2, 4, 3]})
    svg = brief_render.trend_svg(trend, "month")
    assert svg.count("<polyline") == 2 and "Feb 2026" in svg
    assert "No passages" in brief_render.trend_svg(trend.iloc[0:0])
    quarterly = trend.assign(period_start=pd.to_datetime(["2026-01-01", "2026-04-01", "2026-04-01"]))
    svg = brief_render.trend_svg(quarterly, "quarter")
    assert "Q1 2026" in svg and "Q2 2026" in svg

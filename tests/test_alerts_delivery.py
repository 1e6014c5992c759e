"""Alerts end to end against a real SMTP server (aiosmtpd on 127.0.0.1) and a real warehouse."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from alerts_fixtures import BASE_URL, Doc, RadarBuilder, write_config

from radar.alerts import send_alerts
from radar.core import warehouse
from radar.core.config import load_config


@pytest.fixture
def radar(warehouse_path) -> RadarBuilder:
    """Four topics in three areas with news, policy and citizen evidence."""
    b = RadarBuilder(warehouse_path)
    b.topic(1, "Library e-book lending", "libraries", ["e-book", "lending", "library"], [
        Doc("city-news", "Libraries lend record numbers of e-books", "E-book loans at the city "
            "libraries doubled this autumn as readers borrow from home."),
        Doc("gov-policy", "National e-lending licence consultation", "The ministry consults on a "
            "national licence for public library e-book lending."),
        Doc("citizen-forum", "Why is the e-book queue so long?", "I have waited six weeks for an "
            "e-book at the library, the queue never moves."),
        Doc("city-news", "E-readers for loan at branch libraries", "Branch libraries now lend "
            "e-readers preloaded with books."),
    ])
    b.topic(2, "Heat pump grants", "environment and energy", ["heat pump", "grant", "insulation"], [
        Doc("city-news", "Heat pump grant doubled", "The council doubles its heat pump grant."),
        Doc("gov-policy", "Clean heat grant guidance", "Guidance for the clean heat grant scheme."),
    ])
    b.topic(3, "Bus lane enforcement", "transport", ["bus lane", "camera", "fines"], [
        Doc("city-news", "Cameras to police bus lanes", "New cameras will fine drivers in bus lanes."),
    ])
    b.topic(4, "Library makerspaces", "libraries", ["makerspace", "3d printer", "library"], [
        Doc("citizen-forum", "Makerspace booked out", "The makerspace is booked every evening."),
    ])
    return b


SUBS = [
    {"email": "libraries@city.example", "areas": ["libraries"], "min_ring": "Prepare"},
    {"email": "all@city.example", "min_ring": "Watch"},
    {"email": "energy@city.example", "keywords": ["heat pump"], "min_ring": "Act"},
    {"email": "housing@city.example", "areas": ["housing"], "min_ring": "Monitor"},
]


def topics_in(received) -> list[str]:
    text = received.part("plain")
    return [label for label in ("Library e-book lending", "Heat pump grants",
                                "Bus lane enforcement", "Library makerspaces") if label in text]


def test_right_subscribers_get_one_message_each_with_topics_and_links(project, radar, server):
    write_config(project, server.port, SUBS)
    radar.run({1: "Prepare", 2: "Act", 3: "Watch", 4: "Monitor"})
    summary = send_alerts(load_config(project))

    h = server.handler
    assert summary.sent == 3 and summary.failed == 0 and summary.queued == 0
    assert sorted(r.recipients[0] for r in h.received) == [
        "all@city.example", "energy@city.example", "libraries@city.example"]
    assert all(len(r.recipients) == 1 for r in h.received)
    assert topics_in(h.to("libraries@city.example")[0]) == ["Library e-book lending"]
    assert topics_in(h.to("energy@city.example")[0]) == ["Heat pump grants"]
    everyone = h.to("all@city.example")[0]
    assert set(topics_in(everyone)) == {"Library e-book lending", "Heat pump grants",
                                        "Bus lane enforcement"}
    # Closest ring first.
    text = everyone.part("plain")
    assert text.index("Heat pump grants") < text.index("Library e-book lending") < text.index(
        "Bus lane enforcement")

    msg = h.to("libraries@city.example")[0]
    html, text = msg.part("html"), msg.part("plain")
    link = f"{BASE_URL}/topic?topic=1"
    assert f'href="{link}"' in html and link in text
    # Up to three evidence links, most representative first, each a document URL.
    evidence = [f"https://{s}.example/1/{i}" for i, s in
                enumerate(["city-news", "gov-policy", "citizen-forum"])]
    for url in evidence:
        assert f'href="{url}"' in html and url in text
    assert "https://city-news.example/1/3" not in html  # the fourth is left out
    assert "Prepare ring, emerging (on your radar now)" in text
    assert "24 passages this period (+150% on the period before)" in text
    assert "from 6 distinct sources in news, policy and citizen channels" in text
    m = msg.message
    assert m["From"] == "radar@city.example" and m["To"] == "libraries@city.example"
    assert m["Message-ID"] and m.is_multipart()
    assert "Library e-book lending" in m["Subject"]

    with warehouse.read(load_config(project).warehouse_path) as con:
        states = con.execute("SELECT state, count(*) FROM alert_outbox GROUP BY 1").fetchall()
        ids = {r[0] for r in con.execute("SELECT message_id FROM alert_outbox").fetchall()}
        logged = con.execute("SELECT email, topic_id, event FROM alert_log ORDER BY 1, 2").fetchall()
    assert states == [("sent", 3)]
    assert ids == {r.message["Message-ID"] for r in h.received}
    assert ("libraries@city.example", 1, "entered") in logged and len(logged) == 5


def test_no_movement_sends_nothing_and_a_new_move_sends_again(project, radar, server):
    write_config(project, server.port, SUBS)
    cfg = load_config(project)
    radar.run({1: "Prepare", 2: "Act", 3: "Watch"})
    assert send_alerts(cfg).sent == 3

    radar.run({1: "Prepare", 2: "Act", 3: "Watch"})  # nothing moved
    again = send_alerts(cfg)
    assert again.sent == 0 and not again.messages and len(server.handler.received) == 3

    radar.run({1: "Act", 2: "Act", 3: "Prepare"})  # 1 and 3 move closer
    moved = send_alerts(cfg)
    assert moved.sent == 2
    new = server.handler.received[3:]
    assert {r.recipients[0]: topics_in(r) for r in new} == {
        "libraries@city.example": ["Library e-book lending"],
        "all@city.example": ["Library e-book lending", "Bus lane enforcement"],
    }
    assert "moved closer, from Prepare" in new[0].part("plain") + new[1].part("plain")

    radar.run({1: "Act", 2: "Prepare", 3: "Prepare"})  # 2 moves away: not news
    assert send_alerts(cfg).sent == 0
    radar.run({1: "Act", 2: "Act", 3: "Prepare"})  # ... and back: it moved again
    back = send_alerts(cfg)
    assert back.sent == 2
    assert {r.recipients[0] for r in server.handler.received[5:]} == {
        "all@city.example", "energy@city.example"}
    assert send_alerts(cfg).sent == 0  # same radar run again: nothing

    radar.run({1: "Act", 2: "Act"})  # 3 leaves the radar: not news
    assert send_alerts(cfg).sent == 0
    radar.run({1: "Act", 2: "Act", 3: "Watch"})  # ... and comes back
    assert send_alerts(cfg).sent == 1
    (back,) = server.handler.received[7:]
    assert back.recipients == ["all@city.example"] and topics_in(back) == ["Bus lane enforcement"]
    assert "Watch ring, weak signal (new on the radar)" in back.part("plain")


def test_server_down_keeps_messages_queued_then_delivers_each_once(project, radar, server):
    write_config(project, server.port, SUBS)
    cfg = load_config(project)
    radar.run({1: "Prepare", 2: "Act"})
    server.stop()
    down = send_alerts(cfg)
    assert down.sent == 0 and down.retry == 3 and down.queued == 3
    assert any("cannot reach SMTP server" in e for e in down.errors)
    with warehouse.read(cfg.warehouse_path) as con:
        rows = con.execute("SELECT state, attempts, last_error FROM alert_outbox").fetchall()
    assert {(s, a) for s, a, _ in rows} == {("queued", 1)}
    assert all("cannot reach" in e for _, _, e in rows)

    still_down = send_alerts(cfg)  # no new messages composed, the old ones still wait
    assert not still_down.messages and still_down.queued == 3

    server.start()
    up = send_alerts(cfg)
    assert up.sent == 3 and up.queued == 0
    assert sorted(r.recipients[0] for r in server.handler.received) == [
        "all@city.example", "energy@city.example", "libraries@city.example"]
    assert send_alerts(cfg).sent == 0 and len(server.handler.received) == 3
    with warehouse.read(cfg.warehouse_path) as con:
        rows = con.execute("SELECT state, attempts, last_error, smtp_response "
                           "FROM alert_outbox").fetchall()
    assert all(s == "sent" and a == 3 and e is None and r.startswith("250") for s, a, e, r in rows)


def test_backoff_delays_retries(project, radar, server):
    write_config(project, server.port, SUBS[:1])
    project.write_text(project.read_text().replace("retry_backoff = 0", "retry_backoff = 600"))
    cfg = load_config(project)
    radar.run({1: "Prepare"})
    server.stop()
    from radar.core.documents import utcnow

    t0 = utcnow()
    assert send_alerts(cfg, now=t0).retry == 1
    server.start()
    assert send_alerts(cfg, now=t0.replace(microsecond=0) + _minutes(5)).sent == 0  # too early
    assert send_alerts(cfg, now=t0 + _minutes(11)).sent == 1
    assert len(server.handler.received) == 1


def _minutes(n):
    from datetime import timedelta

    return timedelta(minutes=n)


def test_permanent_refusal_fails_one_and_delivers_the_rest(project, radar, server):
    server.handler.refuse["energy@city.example"] = "550 5.1.1 no such mailbox"
    write_config(project, server.port, SUBS)
    cfg = load_config(project)
    radar.run({1: "Prepare", 2: "Act"})
    s = send_alerts(cfg)
    assert s.sent == 2 and s.failed == 1
    with warehouse.read(cfg.warehouse_path) as con:
        failed = con.execute("SELECT recipient, last_error FROM alert_outbox "
                             "WHERE state = 'failed'").fetchall()
    assert failed[0][0] == "energy@city.example" and "550" in failed[0][1]
    assert send_alerts(cfg).sent == 0  # a failed message is not retried by itself


CRASH_SCRIPT = textwrap.dedent("""
    import os, sys
    from radar.alerts import outbox, send_alerts
    from radar.core.config import load_config

    point, after = sys.argv[2], int(sys.argv[3])
    real = getattr(outbox, point)
    calls = []
    def crash(*args, **kwargs):
        # Killed on the n-th call: mark_data_started = after RCPT, before DATA (and, with an
        # earlier message accepted, before that one was marked sent); mark_sent = after the
        # server accepted the last message, before 'sent' was written.
        calls.append(1)
        if len(calls) > after:
            os._exit(3)
        return real(*args, **kwargs)
    setattr(outbox, point, crash)
    send_alerts(load_config(sys.argv[1]))
""")


def _run_and_crash(project, point: str, after: int = 0) -> int:
    proc = subprocess.run([sys.executable, "-c", CRASH_SCRIPT, str(project), point, str(after)],
                          capture_output=True, text=True, timeout=60)
    return proc.returncode


def test_crash_after_accept_before_mark_does_not_resend(project, radar, server):
    write_config(project, server.port, SUBS[:1])
    cfg = load_config(project)
    radar.run({1: "Prepare"})
    assert _run_and_crash(project, "mark_sent") == 3
    assert len(server.handler.received) == 1  # the server took it; then the process died
    with warehouse.read(cfg.warehouse_path) as con:
        state, started, mid = con.execute(
            "SELECT state, data_started_at, message_id FROM alert_outbox").fetchone()
    assert state == "sending" and started is not None
    assert server.handler.received[0].message["Message-ID"] == mid

    after = send_alerts(cfg)
    assert after.sent == 0 and after.unknown == 1
    assert len(server.handler.received) == 1
    with warehouse.read(cfg.warehouse_path) as con:
        state, error = con.execute("SELECT state, last_error FROM alert_outbox").fetchone()
    assert state == "unknown" and "may have been delivered" in error and mid in error
    assert send_alerts(cfg).sent == 0 and len(server.handler.received) == 1

    # An operator who checked the mail log can send it again, on purpose.
    from radar.alerts import outbox

    assert outbox.resend(cfg.warehouse_path, mid, after_now()) == "unknown"
    assert send_alerts(cfg).sent == 1 and len(server.handler.received) == 2


def after_now():
    from radar.core.documents import utcnow

    return utcnow()


def test_crash_before_data_requeues_and_sends_once(project, radar, server):
    write_config(project, server.port, SUBS[:1])
    cfg = load_config(project)
    radar.run({1: "Prepare"})
    assert _run_and_crash(project, "mark_data_started") == 3
    assert server.handler.received == []
    s = send_alerts(cfg)
    assert s.requeued == 1 and s.sent == 1 and len(server.handler.received) == 1


def test_crash_mid_batch_loses_nothing_and_duplicates_nothing(project, radar, server):
    write_config(project, server.port, SUBS[:3])
    cfg = load_config(project)
    radar.run({1: "Prepare", 2: "Act"})
    # Killed as the third message's DATA was about to start: the first was marked sent, the
    # second was accepted by the server but not yet marked, the third never handed over.
    assert _run_and_crash(project, "mark_data_started", after=2) == 3
    assert len(server.handler.received) == 2
    s = send_alerts(cfg)
    assert (s.sent, s.unknown, s.requeued) == (1, 1, 1)
    assert sorted(r.recipients[0] for r in server.handler.received) == [
        "all@city.example", "energy@city.example", "libraries@city.example"]
    with warehouse.read(cfg.warehouse_path) as con:
        states = sorted(r[0] for r in con.execute("SELECT state FROM alert_outbox").fetchall())
    assert states == ["sent", "sent", "unknown"]


def test_nothing_to_do_needs_no_mail_server(project, warehouse_path):
    write_config(project, 9, [])  # port 9: nothing listens; it must not be contacted
    cfg = load_config(project)
    s = send_alerts(cfg)
    assert s.errors == ["no radar run yet: run `radar analyze` first"] and s.sent == 0
    b = RadarBuilder(warehouse_path)
    b.topic(1, "Heat pump grants", "environment and energy", ["heat pump"], [
        Doc("city-news", "Grants", "Heat pump grants doubled.")])
    b.run({1: "Act"})
    s = send_alerts(cfg)
    assert (s.run_id, s.subscriptions, s.sent, s.retry, s.errors) == (1, 0, 0, 0, [])

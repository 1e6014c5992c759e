"""Outbox rules: backoff, abandoned deliveries, concurrent runs, an error between accept and mark."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from alerts_fixtures import Doc, RadarBuilder, write_config

from radar.alerts import outbox, send_alerts
from radar.core import warehouse
from radar.core.config import load_config

NOW = datetime(2026, 11, 28, 12)


def test_backoff_doubles_and_is_capped():
    assert [outbox.backoff_seconds(n, 300) for n in range(5)] == [0, 300, 600, 1200, 2400]
    assert outbox.backoff_seconds(20, 300) == outbox.MAX_BACKOFF
    assert outbox.backoff_seconds(3, 0) == 0


def test_abandoned_rows():
    me = "hostA:100:aaaa"
    fresh = NOW - timedelta(seconds=5)
    dead = lambda pid: False  # noqa: E731
    alive = lambda pid: True  # noqa: E731
    # Another live process on this host, or another host: wait for the clock.
    assert not outbox.abandoned("hostA:200:bbbb", fresh, NOW, 900, me, alive)
    assert not outbox.abandoned("hostB:200:bbbb", fresh, NOW, 900, me, dead)
    assert outbox.abandoned("hostB:200:bbbb", NOW - timedelta(seconds=901), NOW, 900, me, alive)
    # A dead process on this host: at once.
    assert outbox.abandoned("hostA:200:bbbb", fresh, NOW, 900, me, dead)
    # This process: a run still going in another thread keeps its rows; a finished one does not.
    assert not outbox.abandoned("hostA:100:cccc", fresh, NOW, 900, me, alive, live={"hostA:100:cccc"})
    assert outbox.abandoned("hostA:100:cccc", fresh, NOW, 900, me, alive, live=set())


@pytest.fixture
def radar(warehouse_path):
    b = RadarBuilder(warehouse_path)
    b.topic(1, "Library e-book lending", "libraries", ["e-book"], [
        Doc("city-news", "E-books", "E-book loans doubled.")])
    return b


def test_concurrent_runs_deliver_each_message_once(project, radar, server):
    write_config(project, server.port, [{"email": f"user{i}@city.example", "min_ring": "Watch"}
                                        for i in range(8)])
    cfg = load_config(project)
    radar.run({1: "Prepare"})
    results, errors = [], []

    def run():
        try:
            results.append(send_alerts(cfg))
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    got = sorted(r.recipients[0] for r in server.handler.received)
    assert got == sorted(f"user{i}@city.example" for i in range(8))
    assert sum(r.sent for r in results) == 8 and sum(len(r.messages) for r in results) == 8
    with warehouse.read(cfg.warehouse_path) as con:
        assert con.execute("SELECT count(*), count(DISTINCT message_id) FROM alert_outbox "
                           "WHERE state = 'sent'").fetchone() == (8, 8)


def test_error_after_accept_leaves_it_unknown_not_resent(project, radar, server, monkeypatch):
    write_config(project, server.port, [{"email": "lib@city.example"}])
    cfg = load_config(project)
    radar.run({1: "Prepare"})

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(outbox, "mark_sent", broken)
    with pytest.raises(RuntimeError):
        send_alerts(cfg)
    monkeypatch.undo()
    assert len(server.handler.received) == 1
    s = send_alerts(cfg)  # same process, new run: the broken one is over
    assert s.unknown == 1 and s.sent == 0 and len(server.handler.received) == 1


def test_out_of_attempts_is_failed_until_resent(project, radar, server):
    write_config(project, server.port, [{"email": "lib@city.example"}], max_attempts=2)
    cfg = load_config(project)
    radar.run({1: "Prepare"})
    server.stop()
    first = send_alerts(cfg)
    assert (first.retry, first.failed) == (1, 0)
    second = send_alerts(cfg)
    assert (second.retry, second.failed, second.queued) == (0, 1, 0)
    server.start()
    assert send_alerts(cfg).sent == 0  # failed stays failed
    with warehouse.read(cfg.warehouse_path) as con:
        mid, state, attempts = con.execute(
            "SELECT message_id, state, attempts FROM alert_outbox").fetchone()
    assert (state, attempts) == ("failed", 2)
    from click.testing import CliRunner

    from radar.app.cli import cli

    r = CliRunner().invoke(cli, ["alert", "--config", str(project), "--resend", mid])
    assert r.exit_code == 0, r.output
    assert f"{mid} was failed; queued again" in r.output and "delivered 1" in r.output
    assert len(server.handler.received) == 1
    r = CliRunner().invoke(cli, ["alert", "--config", str(project), "--resend", mid])
    assert r.exit_code == 2 and "is sent; only failed or unknown messages are resent" in r.output

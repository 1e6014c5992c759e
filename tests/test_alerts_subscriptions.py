"""Subscriptions: synced from radar.toml, changed from the command line; digests by frequency."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alerts_fixtures import Doc, RadarBuilder, age_digests, write_config
from click.testing import CliRunner

from radar.alerts import send_alerts
from radar.alerts import subscriptions as subs
from radar.app.cli import cli
from radar.core import warehouse
from radar.core.config import ConfigError, load_config


@pytest.fixture
def radar(warehouse_path) -> RadarBuilder:
    b = RadarBuilder(warehouse_path)
    for i, (label, area) in enumerate([("Library e-book lending", "libraries"),
                                       ("Heat pump grants", "environment and energy"),
                                       ("Bus lane enforcement", "transport")], start=1):
        b.topic(i, label, area, label.lower().split(), [Doc("city-news", label, f"{label} news.")])
    return b


def rows(cfg):
    with warehouse.read(cfg.warehouse_path) as con:
        return {s.email: s for s in subs.load(con)}


def test_sync_keeps_cli_changes_until_the_entry_is_edited(project):
    write_config(project, 2525, [{"email": "Strategy@City.example", "areas": ["libraries"]},
                                 {"email": "old@city.example"}])
    cfg = load_config(project)
    subs.sync(cfg)
    got = rows(cfg)
    assert set(got) == {"strategy@city.example", "old@city.example"}
    sid = got["strategy@city.example"].subscription_id
    assert got["strategy@city.example"].origin == "config"

    subs.change(cfg, sid, min_ring="Act")
    subs.sync(cfg)  # the entry did not change: the command-line change stays
    assert rows(cfg)["strategy@city.example"].min_ring == "Act"

    write_config(project, 2525, [{"email": "strategy@city.example", "areas": ["transport"]}])
    cfg = load_config(project)
    subs.sync(cfg)  # edited entry wins; the removed entry is deactivated, not deleted
    got = rows(cfg)
    assert got["strategy@city.example"].areas == ["transport"]
    assert got["strategy@city.example"].min_ring == "Prepare"
    assert got["strategy@city.example"].subscription_id == sid
    assert not got["old@city.example"].active


def test_bad_entries_are_clear_errors(project):
    write_config(project, 2525, [{"email": "not an address"}])
    with pytest.raises(ConfigError, match=r"subscriptions\[0\]: not a plain e-mail address"):
        subs.sync(load_config(project))
    write_config(project, 2525, [{"email": "jürgen@city.example"}])
    with pytest.raises(ConfigError, match="not a plain e-mail address"):
        subs.sync(load_config(project))
    write_config(project, 2525, [{"email": "a@city.example"}, {"email": "A@city.example"}])
    with pytest.raises(ConfigError, match="already has a immediate subscription"):
        subs.sync(load_config(project))
    write_config(project, 2525, [{"email": "a@city.example", "channels": ["tv"]}])
    with pytest.raises(ConfigError, match="unknown channel"):
        subs.sync(load_config(project))
    write_config(project, 2525, [{"email": "a@city.example", "areas": ["libary"]}])
    with pytest.raises(ConfigError, match=r"unknown area\(s\) \['libary'\] \(known: libraries, "):
        subs.sync(load_config(project))


def test_cli_add_list_set_pause(project, radar, server):
    write_config(project, server.port, [{"email": "strategy@city.example"}])
    run = CliRunner().invoke
    r = run(cli, ["subscriptions", "--config", str(project), "add", "transport@city.example",
                  "--area", "transport", "--min-ring", "Watch", "--frequency", "daily"])
    assert r.exit_code == 0, r.output
    r = run(cli, ["subscriptions", "--config", str(project)])
    assert "transport@city.example  daily  Watch+  active  from cli  areas=transport" in r.output
    assert "strategy@city.example  immediate  Prepare+  active  from config  areas=all" in r.output
    r = run(cli, ["subscriptions", "--config", str(project), "add", "transport@city.example",
                  "--frequency", "daily"])
    assert r.exit_code == 2 and "already has a daily subscription" in r.output
    r = run(cli, ["subscriptions", "--config", str(project), "add", "bad\r\nBcc: x@y.z"])
    assert r.exit_code == 2 and "not a plain e-mail address" in r.output

    cfg = load_config(project)
    sid = rows(cfg)["strategy@city.example"].subscription_id
    # --config may also follow the subcommand.
    assert run(cli, ["subscriptions", "pause", str(sid), "--config", str(project)]).exit_code == 0
    radar.run({1: "Prepare", 3: "Watch"})
    r = run(cli, ["alert", "--config", str(project)])
    assert r.exit_code == 0, r.output
    assert [m.recipients for m in server.handler.received] == [["transport@city.example"]]
    assert "to transport@city.example (daily)" in r.output and "delivered 1" in r.output

    tid = rows(cfg)["transport@city.example"].subscription_id
    r = run(cli, ["subscriptions", "--config", str(project), "set", str(tid), "--all-areas"])
    assert r.exit_code == 0 and rows(cfg)["transport@city.example"].areas == []
    r = run(cli, ["alert", "--config", str(project), "--outbox"])
    assert "sent 1" in r.output and "transport@city.example" in r.output


def test_cli_dry_run_lists_recipients(project, radar, server):
    write_config(project, server.port, [{"email": "strategy@city.example", "min_ring": "Watch"}])
    radar.run({1: "Prepare", 3: "Watch"})
    r = CliRunner().invoke(cli, ["alert", "--config", str(project), "--dry-run"])
    assert r.exit_code == 0, r.output
    assert "1 message(s) would send" in r.output
    assert "to strategy@city.example (immediate)" in r.output
    assert "- Library e-book lending" in r.output and "- Bus lane enforcement" in r.output
    assert server.handler.received == []


def test_daily_and_weekly_digests_group_what_moved_since_the_last(project, radar, server):
    write_config(project, server.port, [
        {"email": "daily@city.example", "min_ring": "Watch", "frequency": "daily"},
        {"email": "weekly@city.example", "min_ring": "Watch", "frequency": "weekly"},
        {"email": "now@city.example", "min_ring": "Watch"},
    ])
    cfg = load_config(project)
    h = server.handler
    radar.run({1: "Watch"})
    assert send_alerts(cfg).sent == 3  # first digest of each goes out at once

    radar.run({1: "Watch", 2: "Watch"})
    s = send_alerts(cfg)  # topic 2 entered: only the immediate subscriber hears now
    assert [m.recipient for m in s.messages] == ["now@city.example"]
    radar.run({1: "Prepare", 2: "Watch", 3: "Watch"})
    assert [m.recipient for m in send_alerts(cfg).messages] == ["now@city.example"]

    age_digests(cfg.warehouse_path, timedelta(hours=25))
    radar.run({1: "Prepare", 2: "Watch", 3: "Watch"})  # nothing new in this run itself
    s = send_alerts(cfg)
    assert [m.recipient for m in s.messages] == ["daily@city.example"]
    digest = h.to("daily@city.example")[-1]
    assert "daily digest: 3 topics" in digest.message["Subject"]
    assert "3 topics moved on the radar for your subscription since your last daily digest." in (
        digest.part("plain"))
    text = digest.part("plain")
    assert "Library e-book lending" in text and "moved closer, from Watch" in text
    assert "Heat pump grants" in text and "Bus lane enforcement" in text

    age_digests(cfg.warehouse_path, timedelta(days=3))  # weekly: 4 days old, not yet
    radar.run({1: "Act", 2: "Watch", 3: "Watch"})
    assert {m.recipient for m in send_alerts(cfg).messages} == {"daily@city.example",
                                                                 "now@city.example"}
    age_digests(cfg.warehouse_path, timedelta(days=4))
    radar.run({1: "Act", 2: "Watch", 3: "Watch"})
    s = send_alerts(cfg)
    assert [m.recipient for m in s.messages] == ["weekly@city.example"]
    weekly = h.to("weekly@city.example")[-1].part("plain")
    for label in ("Library e-book lending", "Heat pump grants", "Bus lane enforcement"):
        assert label in weekly
    assert "moved closer, from Watch" in weekly  # Watch at the last weekly, Act now
    assert len(h.to("weekly@city.example")) == 2 and len(h.to("daily@city.example")) == 3

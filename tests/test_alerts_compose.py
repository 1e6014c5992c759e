"""What a message may contain: escaping, header safety, whose-voice rules, previews, dry runs."""

from __future__ import annotations

import email
import email.policy

from alerts_fixtures import Doc, RadarBuilder, write_config

from radar.alerts import send_alerts
from radar.alerts.compose import header_safe, why
from radar.core import warehouse
from radar.core.config import load_config

EVIL_LABEL = ("Bus lanes\r\nBcc: victim@evil.example\r\n\r\n<script>alert(1)</script>"
              "\u2028X-Injected: yes")
EVIL_TITLE = '<img src=x onerror="alert(2)">Cameras & fines'


def test_label_with_crlf_and_html_cannot_add_headers_or_markup(project, warehouse_path, server):
    b = RadarBuilder(warehouse_path)
    b.topic(1, EVIL_LABEL, "transport", ["bus lane"], [
        Doc("city-news", EVIL_TITLE, "Cameras will fine drivers in bus lanes."),
        Doc("city-news", "Sneaky link", "A link that runs script.", url="javascript:alert(3)"),
        Doc("gov-policy", "Bus lane rules", "Rules for bus lanes <b>bold</b>."),
    ])
    b.run({1: "Act"})
    write_config(project, server.port, [{"email": "ops@city.example", "min_ring": "Act"}])
    assert send_alerts(load_config(project)).sent == 1

    (got,) = server.handler.received
    assert got.recipients == ["ops@city.example"]
    raw = got.data.decode("ascii")
    head = raw.split("\r\n\r\n", 1)[0]
    msg = email.message_from_bytes(got.data, policy=email.policy.default)
    names = {k.lower() for k in msg.keys()}
    assert names == {"from", "to", "subject", "date", "message-id", "auto-submitted",
                     "mime-version", "content-type"}
    assert "bcc" not in head.lower().split("subject")[0]
    assert msg["Subject"].startswith("Horizon Radar: 1 topic rising: Bus lanes Bcc: victim")
    assert "\n" not in msg["Subject"] and "\r" not in msg["Subject"]

    html = got.part("html")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html and "&lt;img src=x onerror=" in html
    assert "Cameras &amp; fines" in html
    assert "javascript:" not in html and "javascript:" not in got.part("plain")
    assert "&lt;b&gt;bold&lt;/b&gt;" in html  # crawled quote text escaped too
    # The plain part shows the label as text, on one line.
    assert "Bus lanes Bcc: victim@evil.example <script>alert(1)</script> X-Injected: yes" in (
        got.part("plain"))


def test_no_citizen_quotes_when_show_quotes_is_false(project, warehouse_path, server):
    b = RadarBuilder(warehouse_path)
    citizen = Doc("citizen-forum", "My street is full of scooters",
                  "My neighbour at number 12 leaves his scooter on the pavement every night.")
    b.topic(1, "E-scooter parking", "transport", ["e-scooter", "parking"], [
        citizen, Doc("city-news", "Scooter rules", "The council sets scooter parking bays.")])
    b.topic(2, "Allotment waiting lists", "environment and energy", ["allotment"], [citizen])
    b.run({1: ("Act", 4.0, {"show_quotes": False, "narrow_voice": True}),
           2: ("Act", 3.9, {"show_quotes": True})})
    write_config(project, server.port, [{"email": "ops@city.example", "min_ring": "Act"}])
    send_alerts(load_config(project))
    (got,) = server.handler.received
    text, html = got.part("plain"), got.part("html")
    first, second = text.split("2. Allotment waiting lists")
    assert "neighbour at number 12" not in first and "My street is full" not in first
    assert "citizen-forum.example/1/" not in text + html
    assert "https://city-news.example/1/1" in first
    assert "narrow set of voices" in first
    # Where enough distinct authors carry it, the citizen post may be quoted.
    assert "neighbour at number 12" in second and "https://citizen-forum.example/2/0" in second


def test_dry_run_and_preview_write_and_send_nothing(project, warehouse_path, server, tmp_path):
    b = RadarBuilder(warehouse_path)
    b.topic(1, "Library e-book lending", "libraries", ["e-book"], [
        Doc("city-news", "E-books", "E-book loans doubled.")])
    b.run({1: "Prepare"})
    write_config(project, server.port, [{"email": "lib@city.example"},
                                        {"email": "act@city.example", "min_ring": "Act"}])
    cfg = load_config(project)
    dry = send_alerts(cfg, dry_run=True)
    assert dry.dry_run and [m.recipient for m in dry.messages] == ["lib@city.example"]
    assert dry.messages[0].topics == ["Library e-book lending"]

    out = tmp_path / "preview"
    prev = send_alerts(cfg, preview_dir=out)
    files = sorted(p.name for p in out.iterdir())
    assert files == ["01-lib-city-example-immediate.eml", "01-lib-city-example-immediate.html",
                     "01-lib-city-example-immediate.txt"]
    assert "Library e-book lending" in (out / files[1]).read_text()
    assert (out / files[1]).read_text().lstrip().startswith("<!DOCTYPE html>")
    assert prev.messages[0].preview

    assert server.handler.received == []
    with warehouse.read(cfg.warehouse_path) as con:
        assert con.execute("SELECT count(*) FROM alert_outbox").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM alert_log").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM subscriptions").fetchone()[0] == 0
    # The real run afterwards still sends it.
    assert send_alerts(cfg).sent == 1


def test_header_safe_and_why_sentence():
    assert header_safe("a\r\nb\nc\rd\x00e\u2028f\x85g") == "a b c d e f g"
    assert why({"volume": 1, "growth": -0.25, "sources": 1, "news_share": 1.0}) == (
        "1 passage this period (-25% on the period before), from 1 distinct source in news channel.")
    assert why({}) == "Scored onto the radar."

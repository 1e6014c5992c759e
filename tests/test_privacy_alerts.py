"""The k-threshold exit in alert e-mails: no citizen text for a topic under k authors,
even when the scorer's show_quotes flag says yes."""

from __future__ import annotations

from alerts_fixtures import Doc, RadarBuilder, write_config

from radar.alerts import send_alerts
from radar.core.config import load_config


def test_alert_quotes_no_citizen_under_k_authors(project, warehouse_path, server):
    b = RadarBuilder(warehouse_path)
    post = Doc("citizen-forum", "Our bins overflow", "The bins on our corner overflow every weekend.")
    b.topic(1, "Overflowing bins", "environment and energy", ["bins"], [
        post, Doc("city-news", "Bin rounds", "The council adds a Saturday bin round.")])
    b.topic(2, "Bench repairs", "transport", ["bench"], [
        Doc("citizen-forum", "Broken bench", "The bench by the pond has been broken for months.")])
    b.run({1: ("Act", 4.0, {"show_quotes": True, "authors": 3}),
           2: ("Act", 3.9, {"show_quotes": True, "authors": 5})})
    write_config(project, server.port, [{"email": "ops@city.example", "min_ring": "Act"}])
    send_alerts(load_config(project))  # k = scoring.min_authors = 5 by default
    (got,) = server.handler.received
    text, html = got.part("plain"), got.part("html")
    first, second = text.split("2. Bench repairs")
    assert "overflow every weekend" not in text + html and "Our bins overflow" not in text + html
    assert "Saturday bin round" in first  # news evidence still goes
    assert "bench by the pond" in second  # exactly k authors: may be quoted

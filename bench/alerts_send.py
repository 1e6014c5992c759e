"""Benchmark `radar alert`: composing and delivering to many subscribers through a local SMTP server.

    python bench/alerts_send.py [--subscribers 300] [--topics 60]

Builds a fresh warehouse with TOPICS topics (three evidence documents each) and
one radar run, SUBSCRIBERS subscriptions with varied filters, starts aiosmtpd on
127.0.0.1, then times one alert run (plan + compose + record, then delivery),
and a second run with no movement (which must send nothing).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from alerts_fixtures import Doc, RadarBuilder, SmtpServer, write_config  # noqa: E402

from radar.alerts import send_alerts  # noqa: E402
from radar.app.init_project import init_project  # noqa: E402
from radar.core import warehouse  # noqa: E402
from radar.core.config import DEFAULT_AREAS, load_config  # noqa: E402

RINGS = ["Act", "Prepare", "Watch", "Monitor"]


def build(folder: Path, topics: int, subscribers: int, port: int):
    config = folder / "radar.toml"
    init_project(config)
    areas = [a for a, _ in DEFAULT_AREAS]
    subs = []
    for i in range(subscribers):
        s = {"email": f"user{i}@city.example", "min_ring": RINGS[i % 3]}
        if i % 2:
            s["areas"] = [areas[i % len(areas)]]
        if i % 5 == 0:
            s["keywords"] = [f"term{i % topics}"]
        subs.append(s)
    write_config(config, port, subs)
    cfg = load_config(config)
    b = RadarBuilder(cfg.warehouse_path)
    for t in range(1, topics + 1):
        b.topic(t, f"Topic {t} about term{t}", areas[t % len(areas)], [f"term{t}", "city"], [
            Doc(src, f"Story {t}.{j}", f"A passage about term{t} from {src}, number {j}.")
            for j, src in enumerate(["city-news", "gov-policy", "citizen-forum"])])
    b.run({t: RINGS[t % 4] for t in range(1, topics + 1)})
    return cfg


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subscribers", type=int, default=300)
    ap.add_argument("--topics", type=int, default=60)
    args = ap.parse_args()
    server = SmtpServer().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = build(Path(tmp), args.topics, args.subscribers, server.port)
            t0 = time.perf_counter()
            send_alerts(cfg, dry_run=True)
            plan = time.perf_counter() - t0
            t0 = time.perf_counter()
            first = send_alerts(cfg)
            total = time.perf_counter() - t0
            with warehouse.read(cfg.warehouse_path) as con:
                span = con.execute("SELECT min(data_started_at), max(sent_at) "
                                   "FROM alert_outbox").fetchone()
            delivery = (span[1] - span[0]).total_seconds()
            t1 = time.perf_counter()
            second = send_alerts(cfg)
            quiet = time.perf_counter() - t1
    finally:
        server.stop()
    assert len(server.handler.received) == first.sent and second.sent == 0
    topics = sum(len(m.topics) for m in first.messages)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.subscribers} subscribers, {args.topics} topics: {first.sent} messages "
          f"({topics} topic entries) in {total:.1f} s")
    print(f"  plan + compose (dry run): {plan:.1f} s")
    print(f"  plan + compose + record, before the first DATA: {total - delivery:.1f} s")
    print(f"  delivery: {delivery:.1f} s ({first.sent / delivery:.0f} messages/s)")
    print(f"second run, no movement: {second.sent} messages in {quiet:.2f} s")
    print(f"peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()

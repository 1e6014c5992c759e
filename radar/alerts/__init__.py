"""E-mail alerts: tell subscribers when a topic enters the radar or comes closer.

`send_alerts(cfg)` is one alert run:

1. sync `[[subscriptions]]` from radar.toml into the `subscriptions` table;
2. read the latest radar and, per due subscription, find the topics that
   entered, moved closer or crossed its threshold since its baseline run
   (triggers.py), minus those cooling down;
3. compose one message per subscriber (compose.py) and record it in the outbox
   together with the alert log and the new baseline, in one transaction;
4. deliver the outbox over SMTP (deliver.py, outbox.py): exactly once, with
   retries and backoff, never holding the warehouse lock during SMTP I/O.

A dry run or a preview does steps 2-3 in memory only: nothing is written or sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from radar.alerts import outbox, reads
from radar.alerts import subscriptions as subs_mod
from radar.alerts.compose import Composed, compose, items_for, text_safe
from radar.alerts.deliver import deliver
from radar.alerts.subscriptions import Subscription
from radar.alerts.triggers import Trigger, digest_due, triggers_for
from radar.core import warehouse
from radar.core.config import Config
from radar.core.documents import utcnow

__all__ = ["AlertSummary", "PlannedMessage", "send_alerts"]


@dataclass
class PlannedMessage:
    """A message composed in this run (or that would be, in a dry run)."""

    subscription_id: int | None
    recipient: str
    kind: str
    subject: str
    topics: list[str]
    message_id: str
    preview: list[Path] = field(default_factory=list)


@dataclass
class AlertSummary:
    """What an alert run did."""

    run_id: int | None = None
    subscriptions: int = 0
    due: int = 0
    messages: list[PlannedMessage] = field(default_factory=list)
    sent: int = 0
    retry: int = 0
    failed: int = 0
    unknown: int = 0
    requeued: int = 0
    queued: int = 0  # waiting in the outbox after this run (or to be tried, in a dry run)
    errors: list[str] = field(default_factory=list)
    dry_run: bool = False


@dataclass
class _Plan:
    sub: Subscription
    triggers: list[Trigger]
    composed: Composed | None


def send_alerts(cfg: Config, dry_run: bool = False, preview_dir: str | Path | None = None,
                *, now: datetime | None = None) -> AlertSummary:
    """Run alerts: compose what is due, record it, deliver the outbox.

    `dry_run` or `preview_dir` write and send nothing; a preview also writes each
    message's text, HTML and full .eml to files in `preview_dir`.
    """
    clock_given = now is not None
    now = now or utcnow()
    rehearsal = dry_run or preview_dir is not None
    active = subs_mod.effective(cfg) if rehearsal else _synced(cfg)
    summary = AlertSummary(subscriptions=len(active), dry_run=rehearsal)
    with warehouse.read(cfg.warehouse_path) as con:
        radar = reads.latest_radar(con)
        plans = _plan(con, cfg, radar, active, now) if radar.run_id is not None else []
    summary.run_id = radar.run_id
    summary.due = len(plans)
    if radar.run_id is None:
        summary.errors.append("no radar run yet: run `radar analyze` first")
    for p in plans:
        if p.composed:
            summary.messages.append(PlannedMessage(
                p.sub.subscription_id, p.composed.recipient, p.composed.kind, p.composed.subject,
                [text_safe(radar.topics[t.topic_id].state.label) for t in p.triggers],
                p.composed.message_id))
    if rehearsal:
        if preview_dir is not None:
            _write_previews(Path(preview_dir), plans, summary.messages)
        summary.queued = len(outbox.due(cfg.warehouse_path, now)) + len(summary.messages)
        return summary
    queued = _record(cfg, radar, plans, now)
    summary.messages = [m for m in summary.messages if m.message_id in queued]
    result = deliver(cfg, now=now if clock_given else None)
    summary.sent, summary.retry, summary.failed = len(result.sent), len(result.retry), len(result.failed)
    summary.unknown, summary.requeued = len(result.unknown), len(result.requeued)
    summary.errors += result.errors
    summary.queued = outbox.counts(cfg.warehouse_path)["queued"]
    return summary


def _synced(cfg: Config) -> list[Subscription]:
    subs_mod.sync(cfg)
    with warehouse.read(cfg.warehouse_path) as con:
        return [s for s in subs_mod.load(con) if s.active]


def _plan(con, cfg: Config, radar: reads.Radar, active: list[Subscription],
          now: datetime) -> list[_Plan]:
    """Triggers and composed messages for every due subscription (reads only)."""
    due = [s for s in active if digest_due(s.frequency, s.last_message_at, now)
           and s.last_run_id != radar.run_id]
    if not due:
        return []
    alerted = reads.last_alerts(con)
    since = [a.run_id for s in due for a in alerted.get(s.subscription_id, {}).values()]
    hist = reads.history(con, min(since) if since else radar.run_id)
    baselines: dict[int | None, dict] = {}
    plans = []
    for sub in due:
        if sub.last_run_id not in baselines:
            baselines[sub.last_run_id] = reads.positions(con, sub.last_run_id)
        found = triggers_for(sub.filters, (t.state for t in radar.topics.values()),
                             baselines[sub.last_run_id], alerted.get(sub.subscription_id, {}), hist)
        plans.append(_Plan(sub, found, None))
    wanted = {t.topic_id for p in plans for t in p.triggers}
    evidence = reads.evidence(con, [radar.topics[t] for t in wanted], k=cfg.scoring.min_authors)
    for p in plans:
        if p.triggers:
            items = items_for(p.triggers, radar.topics, evidence, cfg.dashboard.base_url,
                              fresh=p.sub.last_run_id is None)
            p.composed = compose(sender=cfg.smtp.sender, recipient=p.sub.email,
                                 kind=p.sub.frequency, items=items, filters=p.sub.filters,
                                 run_id=radar.run_id, period_start=radar.period_start, now=now)
    return plans


def _record(cfg: Config, radar: reads.Radar, plans: list[_Plan], now: datetime) -> set[str]:
    """Queue the messages, log the alerts and move each baseline, in one transaction.

    A subscription whose baseline changed since we read it was handled by a
    concurrent run: skipped, so nobody gets the same news twice. Returns the
    Message-IDs queued.
    """
    if not plans:
        return set()
    queued: list[tuple[Composed, int, list[Trigger]]] = []
    moved: list[int] = []
    with warehouse.write(cfg.warehouse_path) as con:
        current = dict(con.execute("SELECT subscription_id, last_run_id FROM subscriptions").fetchall())
        for p in plans:
            sid = p.sub.subscription_id
            if sid not in current or current[sid] != p.sub.last_run_id:
                continue
            if p.composed:
                queued.append((p.composed, sid, p.triggers))
            else:
                moved.append(sid)
        outbox.enqueue(con, queued, radar.run_id, radar.period_start, now)
        if queued:
            con.execute("UPDATE subscriptions SET last_run_id = ?, last_message_at = ? "
                        "WHERE subscription_id IN (SELECT unnest(?::BIGINT[]))",
                        [radar.run_id, now, [sid for _, sid, _ in queued]])
        if moved:
            con.execute("UPDATE subscriptions SET last_run_id = ? "
                        "WHERE subscription_id IN (SELECT unnest(?::BIGINT[]))", [radar.run_id, moved])
    return {c.message_id for c, _, _ in queued}


def _write_previews(folder: Path, plans: list[_Plan], messages: list[PlannedMessage]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    composed = [p.composed for p in plans if p.composed]
    for i, (c, planned) in enumerate(zip(composed, messages, strict=True), start=1):
        stem = f"{i:02d}-{re.sub(r'[^a-z0-9]+', '-', c.recipient.lower()).strip('-')}-{c.kind}"
        for ext, body in (("txt", c.text), ("html", c.html), ("eml", c.raw)):
            target = folder / f"{stem}.{ext}"
            target.write_text(body, encoding="utf-8", newline="" if ext == "eml" else None)
            planned.preview.append(target)

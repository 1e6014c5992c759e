"""Signposts and triggers: after every analyze, each decision's indicators are checked.

A signpost that has not fired is evaluated against the latest radar run
(`radar.core.loop.evaluate_signpost`): on a run newer than its baseline, when
the indicator reaches its threshold, it fires. Firing writes, in one
transaction, a `signpost_firings` row (its primary key is the signpost, so a
signpost fires once) and, when the decision's owner has an address, a notice in
the alerts outbox saying what moved since the decision. The decision then
stands in the `reassessment_queue` view until a reassessment step is recorded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from radar.core import loop
from radar.core.config import Config
from radar.core.decisions import topic_indicators, watch_indicators
from radar.core.documents import utcnow
from radar.decisions import notices


@dataclass
class TriggerSummary:
    """What one evaluation did."""

    evaluated: int = 0
    fired: list[int] = field(default_factory=list)      # signpost ids
    notices: list[str] = field(default_factory=list)    # message ids queued
    without_address: list[int] = field(default_factory=list)  # decisions whose owner has none


def evaluate_on(con, cfg: Config, now=None) -> TriggerSummary:
    """Evaluate every armed signpost against the latest radar and fire those that crossed (on
    a write connection, inside the caller's transaction)."""
    out = TriggerSummary()
    now = now or utcnow()
    base_url = cfg.dashboard.base_url.rstrip("/")
    armed = con.execute(
        "SELECT s.signpost_id, s.decision_id, s.kind, s.topic_id, s.watch_id, s.threshold, "
        "s.baseline, d.title, d.owner, d.owner_email, t.label, w.name "
        "FROM signposts s JOIN decisions d USING (decision_id) "
        "LEFT JOIN topics t ON t.topic_id = s.topic_id "
        "LEFT JOIN watch_items w ON w.watch_id = s.watch_id "
        "WHERE s.signpost_id NOT IN (SELECT signpost_id FROM signpost_firings) "
        "ORDER BY s.signpost_id").fetchall()
    for sid, did, kind, topic_id, watch_id, threshold, baseline, title, owner, email, label, \
            wname in armed:
        out.evaluated += 1
        base = loop.Indicators.from_baseline(json.loads(baseline))
        current = (watch_indicators(con, watch_id) if kind == "watch_term"
                   else topic_indicators(con, topic_id))
        fired = loop.evaluate_signpost(kind, threshold, base, current)
        if fired is None:
            continue
        message_id = None
        subject_of = label if kind != "watch_term" else f"watch list: {wname}"
        if email:
            n = notices.compose(
                sender=cfg.smtp.sender, recipient=email, kind="decision",
                subject=f"Horizon Radar: reassess “{title}”: {subject_of} moved",
                heading=f"Time to reassess: {title}",
                lines=[f"Decision #{did} “{title}” (owner {owner}) has a signpost on "
                       f"{subject_of} that fired on the radar of {current.period_start}.",
                       fired.moved,
                       "The decision is in the reassessment queue until a reassessment "
                       "step is recorded."],
                link=f"{base_url}/decisions?decision={did}",
                topic_ids=[int(topic_id)] if topic_id is not None else [], now=now,
                idstring=f"decision{did}.signpost{sid}")
            notices.enqueue(con, n, notices.OWNER_SUBSCRIPTION, current.run_id, now)
            message_id = n.message_id
            out.notices.append(message_id)
        else:
            out.without_address.append(did)
        con.execute("INSERT INTO signpost_firings VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [sid, did, current.run_id, current.period_start, now, fired.value,
                     fired.moved, message_id])
        out.fired.append(sid)
    return out

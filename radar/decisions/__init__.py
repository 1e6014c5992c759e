"""The decisions stage: after scoring, bring the decision loop up to date.

`update(cfg)`: recompute topic-service matches (matches.py), rebuild the watch
list's trajectories and alert subscribers about items that moved (watch.py),
then evaluate every decision's signposts and notify owners of fired triggers
(triggers.py). It reads the warehouse (topics, signals, embeddings, the
catalogue) and writes only its own tables plus queued messages in the alerts
outbox, which `radar alert` delivers. It never loads a model: the nlp stage
embeds the catalogue (nlp/catalogue.py). See docs/decisions.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from radar.core import warehouse
from radar.core.config import Config
from radar.decisions import matches, triggers, watch


@dataclass
class LoopSummary:
    """What one update did."""

    matches: int
    watch: watch.WatchSummary
    alerts: watch.WatchSummary
    triggers: triggers.TriggerSummary

    def line(self) -> str:
        """One line for the pipeline summary."""
        t = self.triggers
        text = (f"{self.matches} topic-service matches; watch list: {self.watch.items} items, "
                f"{len(self.alerts.moved)} moving ({len(self.alerts.notices)} notices); "
                f"signposts: {t.evaluated} checked, {len(t.fired)} fired ({len(t.notices)} notices)")
        if t.without_address:
            text += f"; owners without an address: decisions {sorted(set(t.without_address))}"
        return text


# What the loop reads or keeps: with none of it, an update would change nothing.
_LOOP_ROWS = """
    SELECT (SELECT count(*) FROM services WHERE active) + (SELECT count(*) FROM service_matches)
         + (SELECT count(*) FROM watch_items WHERE active) + (SELECT count(*) FROM watch_matches)
         + (SELECT count(*) FROM watch_state) + (SELECT count(*) FROM watch_periods)
         + (SELECT count(*) FROM signposts
            WHERE signpost_id NOT IN (SELECT signpost_id FROM signpost_firings))"""


def idle(con) -> bool:
    """True when the loop has nothing to do: no active service, watch item or armed signpost,
    and no matches or watch rows of its own to clear (a project without a catalogue, a watch
    list or decisions)."""
    return con.execute(_LOOP_ROWS).fetchone()[0] == 0


def update(cfg: Config, now=None) -> LoopSummary:
    """Matches, watch list and triggers, in that order (triggers read the watch list): the
    matches worked out on a read connection, then everything written in one transaction, so a
    reader sees the loop as one run left it. Nothing when the loop is `idle` (one read)."""
    with warehouse.read(cfg.warehouse_path) as con:
        if idle(con):
            return LoopSummary(0, watch.WatchSummary(), watch.WatchSummary(),
                               triggers.TriggerSummary())
        pairs = matches.compute(con, cfg)
    with warehouse.write(cfg.warehouse_path) as con:
        m = matches.store(con, pairs)
        w = watch.refresh_on(con, cfg)
        a = watch.alert_moves_on(con, cfg, now=now)
        t = triggers.evaluate_on(con, cfg, now=now)
    return LoopSummary(m, w, a, t)

"""Decision records: decisions on the loop, their steps and their signposts.

A decision links signals (topics) and services and moves through seven steps
(need, ideas, feasibility, feedback, choice, implementation, reassessment), each
recorded with who, when, why and the public-value considerations weighed. Like
the triage log, nothing is updated or deleted: a decision's state is its latest
step. A signpost is an indicator with a threshold; it stores the indicators of
the moment it was set (its baseline), so a fired trigger can say what moved.
The rules (which step may follow which, when a signpost fires) are pure
functions in radar.core.loop.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime

from radar.core import loop, warehouse
from radar.core.catalogue import EMAIL
from radar.core.documents import utcnow

MAX_TEXT = 4000
MAX_NAME = 200


class DecisionError(ValueError):
    """A decision, step or signpost that cannot be recorded, with the reason."""


@dataclass(frozen=True)
class Step:
    """One recorded step."""

    entry_id: int
    decision_id: int
    step: str
    from_step: str | None
    who: str
    at: datetime
    why: str
    values: dict[str, str | None]


def _clean(value: str | None, limit: int) -> str:
    return (value or "").strip()[:limit]


def _values(values: dict[str, str | None] | None) -> dict[str, str | None]:
    return {k: (_clean(v, MAX_TEXT) or None) for k, v in (values or {}).items()}


def latest_run(con) -> tuple[int | None, object]:
    """The newest radar run and its period (None, None before any scoring)."""
    row = con.execute("SELECT run_id, period_start FROM radar_runs ORDER BY run_id DESC LIMIT 1"
                      ).fetchone()
    return (row[0], row[1]) if row else (None, None)


def topic_indicators(con, topic_id: int) -> loop.Indicators:
    """A topic's indicators on the latest radar (share, growth, authors, sources, ring,
    passages per channel in that period)."""
    run_id, period = latest_run(con)
    if run_id is None:
        return loop.Indicators()
    row = con.execute("SELECT share, growth, authors, sources, ring FROM signals "
                      "WHERE run_id = ? AND period_start = ? AND topic_id = ?",
                      [run_id, period, int(topic_id)]).fetchone()
    channels = dict(con.execute(
        "SELECT channel, sum(passages)::INTEGER FROM topic_periods WHERE topic_id = ? "
        "AND period_start = ? GROUP BY channel", [int(topic_id), period]).fetchall())
    share, growth, authors, sources, ring = row if row else (None, None, None, None, None)
    return loop.Indicators(run_id, str(period), share, growth, authors, sources, ring, channels)


def topic_channels_so_far(con, topic_id: int, period) -> dict[str, int]:
    """Passages per channel of a topic in every period up to `period`: where it has been."""
    return dict(con.execute(
        "SELECT channel, sum(passages)::INTEGER FROM topic_periods WHERE topic_id = ? "
        "AND (?::DATE IS NULL OR period_start <= ?::DATE) GROUP BY channel",
        [int(topic_id), period, period]).fetchall())


def watch_indicators(con, watch_id: int) -> loop.Indicators:
    """A watch item's passages in the latest radar period."""
    run_id, period = latest_run(con)
    if run_id is None:
        return loop.Indicators()
    n = con.execute("SELECT coalesce(sum(passages), 0)::INTEGER FROM watch_periods "
                    "WHERE watch_id = ? AND period_start = ?", [int(watch_id), period]).fetchone()[0]
    return loop.Indicators(run_id, str(period), watch_passages=n)


def create(path: str | os.PathLike, title: str, owner: str, who: str, why: str, *,
           owner_email: str = "", topic_ids=(), service_ids=(),
           values: dict[str, str | None] | None = None) -> int:
    """Record a new decision with its first step (need); returns its id.

    It must link at least one signal (topic) or service that exists.
    """
    title, owner, who = _clean(title, MAX_NAME), _clean(owner, MAX_NAME), _clean(who, MAX_NAME)
    email = _clean(owner_email, MAX_NAME)
    if not title:
        raise DecisionError("a decision needs a title")
    if not owner:
        raise DecisionError("a decision needs an owner (who answers for it)")
    if email and not EMAIL.match(email):
        raise DecisionError(f"{email!r} is not a plain e-mail address")
    topic_ids = sorted({int(t) for t in topic_ids})
    service_ids = sorted({int(s) for s in service_ids})
    if not topic_ids and not service_ids:
        raise DecisionError("a decision links at least one signal or service")
    vals = _values(values)
    try:
        loop.validate_step(None, "need", who, why, vals)
    except loop.StepError as exc:
        raise DecisionError(str(exc)) from None
    now = utcnow()
    with warehouse.write(path) as con:
        links = []
        for tid in topic_ids:
            row = con.execute("SELECT label FROM topics WHERE topic_id = ?", [tid]).fetchone()
            if row is None:
                raise DecisionError(f"no topic {tid} in the warehouse")
            links.append(("topic", tid, row[0]))
        for sid in service_ids:
            row = con.execute("SELECT name FROM services WHERE service_id = ?", [sid]).fetchone()
            if row is None:
                raise DecisionError(f"no service {sid} in the catalogue")
            links.append(("service", sid, row[0]))
        did = warehouse.insert_with_id(con, "decisions", "decision_id", "decision_seq",
                                       ("title", "owner", "owner_email", "created_by", "created_at"),
                                       [title, owner, email or None, who, now])
        con.executemany("INSERT INTO decision_links VALUES (?, ?, ?, ?)",
                        [[did, k, ref, label] for k, ref, label in links])
        _insert_step(con, did, "need", None, who, now, why, vals)
    return did


def _insert_step(con, did: int, step: str, from_step: str | None, who: str, at: datetime, why: str,
                 vals: dict[str, str | None]) -> int:
    return warehouse.insert_with_id(
        con, "decision_steps", "entry_id", "decision_step_seq",
        ("decision_id", "step", "from_step", "who", '"at"', "why", "equity", "sustainability",
         "satisfaction", "trust"),
        [did, step, from_step, _clean(who, MAX_NAME), at, _clean(why, MAX_TEXT),
         *(vals.get(v) for v in loop.VALUES)])


def record_step(path: str | os.PathLike, decision_id: int, step: str, who: str, why: str,
                values: dict[str, str | None] | None = None) -> Step:
    """Append a step to a decision (checked against the loop's order); returns it.

    The current step is read inside the write transaction, so two people
    recording at once still give a consistent chain.
    """
    vals = _values(values)
    with warehouse.write(path) as con:
        if not con.execute("SELECT 1 FROM decisions WHERE decision_id = ?", [int(decision_id)]
                           ).fetchone():
            raise DecisionError(f"no decision {decision_id}")
        row = con.execute("SELECT step FROM decision_steps WHERE decision_id = ? "
                          "ORDER BY entry_id DESC LIMIT 1", [int(decision_id)]).fetchone()
        current = row[0] if row else None
        pending = con.execute("SELECT count(*) FROM reassessment_queue WHERE decision_id = ?",
                              [int(decision_id)]).fetchone()[0] > 0
        try:
            loop.validate_step(current, step, who, why, vals, trigger_pending=pending)
        except loop.StepError as exc:
            raise DecisionError(str(exc)) from None
        now = utcnow()
        eid = _insert_step(con, int(decision_id), step, current, who, now, why, vals)
    return Step(eid, int(decision_id), step, current, _clean(who, MAX_NAME), now, _clean(why, MAX_TEXT),
                vals)


def add_signpost(path: str | os.PathLike, decision_id: int, kind: str, threshold: float, who: str,
                 *, topic_id: int | None = None, watch_id: int | None = None, note: str = "") -> int:
    """Give a decision an indicator with a threshold; returns the signpost id.

    The topic's (or watch item's) indicators now are stored as its baseline: it
    fires on a later radar run whose value reaches the threshold.
    """
    who = _clean(who, MAX_NAME)
    if not who:
        raise DecisionError("setting a signpost needs your name")
    if kind not in loop.SIGNPOST_KINDS:
        raise DecisionError(f"unknown signpost {kind!r} (expected one of: "
                            f"{', '.join(loop.SIGNPOST_KINDS)})")
    try:
        threshold = float(threshold)
    except (TypeError, ValueError):
        raise DecisionError(f"threshold must be a number, not {threshold!r}") from None
    if threshold < 0 or (kind == "share" and threshold > 1):
        raise DecisionError("a share threshold is a fraction between 0 and 1 (0.05 = 5%)"
                            if kind == "share" else "a threshold cannot be negative")
    if kind == "watch_term" and watch_id is None:
        raise DecisionError("a watch-term signpost needs a watch-list item")
    if kind != "watch_term" and topic_id is None:
        raise DecisionError(f"a {kind} signpost needs a topic")
    with warehouse.write(path) as con:
        if not con.execute("SELECT 1 FROM decisions WHERE decision_id = ?", [int(decision_id)]
                           ).fetchone():
            raise DecisionError(f"no decision {decision_id}")
        if kind == "watch_term":
            if not con.execute("SELECT 1 FROM watch_items WHERE watch_id = ?", [int(watch_id)]
                               ).fetchone():
                raise DecisionError(f"no watch-list item {watch_id}")
            base = watch_indicators(con, int(watch_id))
        else:
            if not con.execute("SELECT 1 FROM topics WHERE topic_id = ?", [int(topic_id)]).fetchone():
                raise DecisionError(f"no topic {topic_id} in the warehouse")
            now = topic_indicators(con, int(topic_id))
            base = loop.Indicators(now.run_id, now.period_start, now.share, now.growth, now.authors,
                                   now.sources, now.ring,
                                   topic_channels_so_far(con, int(topic_id), now.period_start))
        return warehouse.insert_with_id(
            con, "signposts", "signpost_id", "signpost_seq",
            ("decision_id", "kind", "topic_id", "watch_id", "threshold", "baseline", "created_by",
             "created_at", "note"),
            [int(decision_id), kind, None if topic_id is None else int(topic_id),
             None if watch_id is None else int(watch_id), threshold, json.dumps(base.as_baseline()),
             who, utcnow(), _clean(note, MAX_TEXT) or None])


def steps(path: str | os.PathLike, decision_id: int) -> list[Step]:
    """A decision's steps, oldest first."""
    rows = warehouse.query(
        path, "SELECT entry_id, decision_id, step, from_step, who, \"at\", why, equity, sustainability, "
              "satisfaction, trust FROM decision_steps WHERE decision_id = ? ORDER BY entry_id",
        [int(decision_id)])
    return [Step(*r[:7], dict(zip(loop.VALUES, r[7:], strict=True))) for r in rows]

"""Trigger rules and cool-down as pure functions (no database)."""

from __future__ import annotations

from datetime import datetime, timedelta

from radar.alerts.triggers import (
    Filters,
    History,
    LastAlert,
    Position,
    TopicState,
    digest_due,
    event,
    matches,
    triggers_for,
)


def topic(ring, score=3.0, **kw) -> TopicState:
    base = dict(topic_id=1, label="Library e-book lending", ring=ring, score=score,
                service_area="libraries", top_terms=("e-book", "lending"), channels=("news",))
    base.update(kw)
    return TopicState(**base)


def test_events_enter_move_closer_cross_threshold():
    assert event(topic("Watch"), None, None) == "entered"
    assert event(topic("Watch"), Position(None, 0.5), None) == "entered"  # was off the radar
    assert event(topic("Prepare"), Position("Watch", 2.0), None) == "moved closer"
    assert event(topic("Watch"), Position("Prepare", 3.0), None) is None  # moved away
    assert event(topic("Watch"), Position("Watch", 2.0), None) is None
    assert event(topic("Watch", 2.6), Position("Watch", 2.4), 2.5) == "crossed threshold"
    assert event(topic("Watch", 2.6), Position("Watch", 2.5), 2.5) is None  # already above
    assert event(topic(None), None, None) is None  # off the radar now


def test_filters_area_keywords_channels_ring():
    t = topic("Prepare")
    assert matches(Filters(min_ring="Prepare"), t)
    assert not matches(Filters(min_ring="Act"), t)
    assert matches(Filters(min_ring="Monitor"), t)
    assert matches(Filters(areas=("Libraries",)), t)
    assert not matches(Filters(areas=("housing",)), t)
    assert matches(Filters(keywords=("e-book",)), t)
    assert matches(Filters(keywords=("housing", "LENDING")), t)
    assert not matches(Filters(keywords=("lend",)), t)  # whole words, not fragments
    assert not matches(Filters(keywords=("e-book lending club",)), t)
    assert matches(Filters(channels=("news", "citizen")), t)
    assert not matches(Filters(channels=("citizen",)), t)


def test_cool_down_until_it_moves_again():
    f = Filters(min_ring="Watch", score_threshold=2.5)
    t = topic("Watch", 2.6)
    alerted = {1: LastAlert(run_id=1, ring="Watch")}
    steady = History(run_ids=[1, 2, 3], rings={(1, 1): "Watch", (2, 1): "Watch", (3, 1): "Watch"})
    # Score dipped below the threshold and came back: same ring since the alert, stay quiet.
    assert triggers_for(f, [t], {1: Position("Watch", 2.4)}, alerted, steady) == []
    # A reset baseline (new filters) does not repeat what the subscriber already knows.
    assert triggers_for(f, [t], {}, alerted, steady) == []
    # It left the ring in between: that is a move, tell them again.
    moved = History(run_ids=[1, 2, 3], rings={(1, 1): "Watch", (2, 1): "Monitor", (3, 1): "Watch"})
    found = triggers_for(f, [t], {1: Position("Monitor", 1.0)}, alerted, moved)
    assert [(x.event, x.previous_ring) for x in found] == [("moved closer", "Monitor")]


def test_order_closest_ring_then_score():
    ts = [topic("Watch", 2.0, topic_id=1), topic("Act", 4.0, topic_id=2),
          topic("Watch", 2.9, topic_id=3)]
    found = triggers_for(Filters(min_ring="Monitor"), ts, {}, {}, History())
    assert [x.topic_id for x in found] == [2, 3, 1]


def test_digest_due():
    now = datetime(2026, 11, 28, 12)
    assert digest_due("immediate", now, now)
    assert digest_due("daily", None, now)
    assert not digest_due("daily", now - timedelta(hours=23), now)
    assert digest_due("daily", now - timedelta(hours=24), now)
    assert not digest_due("weekly", now - timedelta(days=6), now)
    assert digest_due("weekly", now - timedelta(days=7), now)

"""When a topic is worth an e-mail: pure functions, testable without a database.

A subscriber is told about a topic when, compared with the radar they last
had evaluated for them (their *baseline* run), the topic

- entered the radar (it was not on it at the baseline),
- moved to a closer ring (Monitor -> Watch -> Prepare -> Act), or
- crossed the subscription's score threshold (below it at the baseline, at or
  above it now),

and the topic now passes the subscription's filters (area, keywords,
channels, at least `min_ring`).

Cool-down: once a topic was alerted to a subscriber at a ring, it is not
alerted again while it stays in that ring; it must move again (leave it,
or come closer) first. So a score wobbling around the threshold, or a
subscription whose baseline was reset, does not repeat old news.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

RINGS: tuple[str, ...] = ("Act", "Prepare", "Watch", "Monitor")
DIGEST_PERIODS = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}
CHANNEL_SHARES = (("news", "news_share"), ("policy", "policy_share"), ("citizen", "citizen_share"))


def ring_rank(ring: str | None) -> int | None:
    """0 for Act (closest) to 3 for Monitor; None when off the radar or unknown."""
    try:
        return RINGS.index(ring) if ring else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Filters:
    """What a subscription wants to hear about."""

    areas: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    min_ring: str = "Prepare"
    score_threshold: float | None = None


@dataclass(frozen=True)
class TopicState:
    """A topic on the current radar, as far as triggers and filters need it."""

    topic_id: int
    label: str
    ring: str | None
    score: float
    service_area: str = ""
    top_terms: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()  # channels with a non-zero share of its passages


@dataclass(frozen=True)
class Position:
    """Where a topic stood in an earlier run: its ring (None = off the radar) and score."""

    ring: str | None
    score: float | None = None


@dataclass(frozen=True)
class LastAlert:
    """The last time this subscriber was told about the topic."""

    run_id: int
    ring: str


@dataclass(frozen=True)
class Trigger:
    """One topic to tell one subscriber about, and why."""

    topic_id: int
    event: str  # entered | moved closer | crossed threshold
    ring: str
    previous_ring: str | None
    score: float


@dataclass
class History:
    """Each topic's ring in every radar run from some run on (absent = off the radar)."""

    run_ids: list[int] = field(default_factory=list)
    rings: dict[tuple[int, int], str | None] = field(default_factory=dict)  # (run, topic) -> ring

    def ring(self, run_id: int, topic_id: int) -> str | None:
        """The topic's ring in that run."""
        return self.rings.get((run_id, topic_id))

    def rings_after(self, run_id: int, topic_id: int) -> list[str | None]:
        """The topic's ring in every run after `run_id`, oldest first."""
        return [self.rings.get((r, topic_id)) for r in self.run_ids if r > run_id]


def topic_channels(shares: dict[str, float | None]) -> tuple[str, ...]:
    """Channels carrying a topic, from its `news_share`/`policy_share`/`citizen_share`."""
    return tuple(ch for ch, col in CHANNEL_SHARES if (shares.get(col) or 0) > 0)


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.casefold()))


def matches(filters: Filters, topic: TopicState) -> bool:
    """Whether the topic passes a subscription's area, keyword, channel and ring filters."""
    rank, limit = ring_rank(topic.ring), ring_rank(filters.min_ring)
    if rank is None or limit is None or rank > limit:
        return False
    if filters.areas and topic.service_area.casefold() not in {a.casefold() for a in filters.areas}:
        return False
    if filters.channels and not set(filters.channels) & set(topic.channels):
        return False
    if filters.keywords:
        haystack = _words(topic.label) | _words(" ".join(topic.top_terms))
        # A keyword of several words matches when all its words occur.
        if not any(_words(k) and _words(k) <= haystack for k in filters.keywords):
            return False
    return True


def event(now: TopicState, before: Position | None, threshold: float | None) -> str | None:
    """What happened to the topic since the baseline, or None when nothing worth saying."""
    rank = ring_rank(now.ring)
    if rank is None:
        return None
    before_rank = ring_rank(before.ring) if before else None
    if before_rank is None:
        return "entered"
    if rank < before_rank:
        return "moved closer"
    if threshold is not None and now.score >= threshold:
        if before is not None and before.score is not None and before.score < threshold:
            return "crossed threshold"
    return None


def cooling_down(topic: TopicState, last: LastAlert | None, rings_since: Sequence[str | None]) -> bool:
    """True when the subscriber was told about this topic at this ring and it has not moved since."""
    if last is None or last.ring != topic.ring:
        return False
    return all(r == last.ring for r in rings_since)


def triggers_for(
    filters: Filters,
    topics: Iterable[TopicState],
    baseline: dict[int, Position],
    last_alerts: dict[int, LastAlert],
    history: History,
) -> list[Trigger]:
    """The topics to alert one subscriber about, closest ring and highest score first.

    `baseline` holds each topic's position in the subscriber's baseline run
    (empty for a new subscriber: everything on their radar counts as entered).
    """
    found = []
    for t in topics:
        if not matches(filters, t):
            continue
        before = baseline.get(t.topic_id)
        what = event(t, before, filters.score_threshold)
        if what is None:
            continue
        last = last_alerts.get(t.topic_id)
        since = history.rings_after(last.run_id, t.topic_id) if last else []
        if cooling_down(t, last, since):
            continue
        found.append(Trigger(t.topic_id, what, t.ring or "", before.ring if before else None, t.score))
    found.sort(key=lambda tr: (ring_rank(tr.ring), -tr.score, tr.topic_id))
    return found


def digest_due(frequency: str, last_message_at: datetime | None, now: datetime) -> bool:
    """Immediate subscriptions are always due; digests when the last one is a day/week old."""
    period = DIGEST_PERIODS.get(frequency)
    if period is None or last_message_at is None:
        return True
    return now - last_message_at >= period

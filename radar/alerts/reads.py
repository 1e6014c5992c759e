"""Reading what alerts need from the warehouse: the radar, its history, evidence, past alerts.

Everything here runs inside one read transaction the caller opens; nothing writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from radar.alerts.triggers import History, LastAlert, Position, TopicState, topic_channels
from radar.core import disclosure

# Signal columns carried into the message (see docs/warehouse.md, `signals`).
SIGNAL_COLUMNS = ("score", "stage", "ring", "volume", "growth", "sources", "news_share",
                  "policy_share", "citizen_share", "authors", "narrow_voice", "show_quotes",
                  "reasons", "movement")


@dataclass
class RadarTopic:
    """A topic on the current radar with the signal facts a message shows."""

    state: TopicState
    signal: dict = field(default_factory=dict)
    representative_passages: list[str] = field(default_factory=list)


@dataclass
class Radar:
    """The latest radar run and its topics."""

    run_id: int | None = None
    period_start: date | None = None
    topics: dict[int, RadarTopic] = field(default_factory=dict)


@dataclass(frozen=True)
class Evidence:
    """One evidence item: a document behind a topic, with an optional short quote."""

    title: str
    url: str
    source: str
    channel: str
    quote: str = ""


def latest_radar(con) -> Radar:
    """The newest radar run's topics for its period (like the `radar_latest` view)."""
    run = con.execute(
        "SELECT run_id, period_start FROM radar_runs ORDER BY run_id DESC LIMIT 1"
    ).fetchone()
    if run is None:
        return Radar()
    cols = ", ".join(f"s.{c}" for c in SIGNAL_COLUMNS)
    rows = con.execute(
        f"SELECT s.topic_id, t.label, t.service_area, t.top_terms, t.representative_passages, "
        f"{cols} FROM signals s JOIN topics t USING (topic_id) "
        f"WHERE s.run_id = ? AND s.period_start IS NOT DISTINCT FROM ?",
        [run[0], run[1]],
    ).fetchall()
    radar = Radar(run_id=run[0], period_start=run[1])
    for topic_id, label, area, terms, reps, *values in rows:
        signal = dict(zip(SIGNAL_COLUMNS, values, strict=True))
        state = TopicState(
            topic_id=topic_id, label=label or f"topic {topic_id}", ring=signal["ring"],
            score=float(signal["score"]), service_area=area or "",
            top_terms=tuple(terms or ()), channels=topic_channels(signal),
        )
        radar.topics[topic_id] = RadarTopic(state, signal, list(reps or []))
    return radar


def positions(con, run_id: int | None) -> dict[int, Position]:
    """Each topic's ring and score in one run (for its own period); {} for no run."""
    if run_id is None:
        return {}
    rows = con.execute(
        "SELECT s.topic_id, s.ring, s.score FROM signals s JOIN radar_runs r "
        "ON s.run_id = r.run_id AND s.period_start IS NOT DISTINCT FROM r.period_start "
        "WHERE s.run_id = ?",
        [run_id],
    ).fetchall()
    return {t: Position(ring, score) for t, ring, score in rows}


def history(con, since_run: int | None) -> History:
    """Every topic's ring in each run after `since_run` (all runs when None)."""
    floor = -1 if since_run is None else since_run
    runs = [r[0] for r in con.execute(
        "SELECT run_id FROM radar_runs WHERE run_id > ? ORDER BY run_id", [floor]).fetchall()]
    rows = con.execute(
        "SELECT s.run_id, s.topic_id, s.ring FROM signals s JOIN radar_runs r "
        "ON s.run_id = r.run_id AND s.period_start IS NOT DISTINCT FROM r.period_start "
        "WHERE s.run_id > ?",
        [floor],
    ).fetchall()
    return History(run_ids=runs, rings={(r, t): ring for r, t, ring in rows})


def last_alerts(con) -> dict[int, dict[int, LastAlert]]:
    """For each subscription, the last alert per topic: {subscription_id: {topic_id: LastAlert}}."""
    rows = con.execute(
        "SELECT subscription_id, topic_id, arg_max(run_id, logged_at), arg_max(ring, logged_at) "
        "FROM alert_log GROUP BY ALL"
    ).fetchall()
    out: dict[int, dict[int, LastAlert]] = {}
    for sub_id, topic_id, run_id, ring in rows:
        out.setdefault(sub_id, {})[topic_id] = LastAlert(run_id, ring)
    return out


def evidence(con, topics: Iterable[RadarTopic], limit: int = 3, *,
             k: int = 5) -> dict[int, list[Evidence]]:
    """Up to `limit` evidence documents per topic from its representative passages.

    Distinct documents with an http(s) URL, most typical passage first. Citizen
    posts pass the one small-group rule (`radar.core.disclosure`): left out when the
    topic has fewer than k distinct authors in the scored period (or the scorer did
    not allow quotes), so no one is singled out; otherwise they come with a short
    quote like the others.
    """
    wanted = {t.state.topic_id: t for t in topics}
    ids = [p for t in wanted.values() for p in t.representative_passages]
    if not ids:
        return {t: [] for t in wanted}
    rows = con.execute(
        "SELECT p.passage_id, p.text, d.doc_id, coalesce(d.title, ''), d.url, d.source, d.channel "
        "FROM passages p JOIN documents d USING (doc_id) WHERE p.passage_id IN "
        "(SELECT unnest(?::VARCHAR[]))",
        [ids],
    ).fetchall()
    by_passage = {r[0]: r[1:] for r in rows}
    out: dict[int, list[Evidence]] = {}
    for topic_id, topic in wanted.items():
        items, docs = [], set()
        allow_citizen = bool(topic.signal.get("show_quotes")) and disclosure.allow(
            channel="citizen", authors=topic.signal.get("authors"), k=k)
        for pid in topic.representative_passages:
            row = by_passage.get(pid)
            if row is None:
                continue
            text, doc_id, title, url, source, channel = row
            if doc_id in docs or not _safe_url(url):
                continue
            if channel == "citizen" and not allow_citizen:
                continue
            docs.add(doc_id)
            items.append(Evidence(title=title or url, url=url, source=source, channel=channel,
                                  quote=_excerpt(text)))
            if len(items) == limit:
                break
        out[topic_id] = items
    return out


def _safe_url(url: str | None) -> bool:
    # Only web links: a crawled "javascript:" or "data:" URL never becomes a link.
    return bool(url) and url.lower().startswith(("http://", "https://")) and not any(
        c in url for c in "\r\n\t <>\"")


def _excerpt(text: str, words: int = 40) -> str:
    parts = " ".join((text or "").split()).split(" ")
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")

"""Test support for alerts: a warehouse of topics and successive radar runs, and a real SMTP server.

The topics and scoring stages are built in parallel, so `RadarBuilder` writes
rows shaped like theirs (0003_topics.sql, 0004_signals.sql) through
radar.core.warehouse.write: documents with passages from news, policy and citizen
sources, topics with representative passages, and radar runs in which topics
enter, move closer, stay or leave.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from radar.core import warehouse

PERIOD = date(2026, 11, 1)
BASE_URL = "https://radar.city.example"
CHANNELS = {"city-news": "news", "gov-policy": "policy", "citizen-forum": "citizen"}


@dataclass
class Doc:
    """A document behind a topic: one passage of it is representative."""

    source: str
    title: str
    text: str
    url: str | None = None


class RadarBuilder:
    """Fills topics, documents, passages, radar_runs and signals like the real stages do."""

    def __init__(self, path: Path):
        self.path = path
        self.topic_ids: list[int] = []
        with warehouse.write(path) as con:
            for name, channel in CHANNELS.items():
                con.execute("INSERT INTO sources (name, type, url, channel) VALUES (?, 'feed', ?, ?) "
                            "ON CONFLICT DO NOTHING", [name, f"http://127.0.0.1/{name}", channel])

    def topic(self, topic_id: int, label: str, area: str, terms: list[str], docs: list[Doc]) -> None:
        """A topic with documents; each document's first passage is representative."""
        passages = []
        with warehouse.write(self.path) as con:
            for i, d in enumerate(docs):
                doc_id = hashlib.sha256(f"{topic_id}:{i}:{d.title}".encode()).hexdigest()[:16]
                url = d.url if d.url is not None else f"https://{d.source}.example/{topic_id}/{i}"
                con.execute(
                    "INSERT INTO documents (doc_id, url, canonical_url, title, text, published_at, "
                    "fetched_at, source, channel, language, author_hash, content_hash) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'en', ?, ?)",
                    [doc_id, url, url, d.title, d.text, datetime(2026, 11, 3 + i),
                     datetime(2026, 11, 4 + i), d.source, CHANNELS[d.source],
                     f"author{i}" if CHANNELS[d.source] == "citizen" else None,
                     hashlib.sha256(d.text.encode()).hexdigest()],
                )
                con.execute("INSERT INTO document_sources (doc_id, source, url) VALUES (?, ?, ?)",
                            [doc_id, d.source, url])
                pid = f"{doc_id}:0"
                con.execute(
                    "INSERT INTO passages (passage_id, doc_id, seq, text, n_words) VALUES (?, ?, 0, ?, ?)",
                    [pid, doc_id, d.text, len(d.text.split())])
                passages.append(pid)
            con.execute(
                "INSERT INTO topics (topic_id, label, top_terms, service_area, area_similarity, "
                "first_seen, size, representative_passages, model_version) "
                "VALUES (?, ?, ?, ?, 0.6, ?, ?, ?, 'test-model')",
                [topic_id, label, terms, area, PERIOD, 10 * len(docs), passages])
        self.topic_ids.append(topic_id)

    def run(self, rings: dict[int, str | tuple], period: date = PERIOD,
            at: datetime | None = None) -> int:
        """A radar run: {topic_id: ring | (ring, score) | (ring, score, {column: value})}.

        Topics left out are scored off the radar (ring NULL). Returns the run_id.
        """
        with warehouse.write(self.path) as con:
            prev = con.execute("SELECT max(run_id) FROM radar_runs").fetchone()[0]
            run_id = con.execute(
                "INSERT INTO radar_runs (\"at\", period, period_start, model_version) "
                "VALUES (?, 'month', ?, 'test-model') RETURNING run_id",
                [at or datetime(2026, 11, 20), period]).fetchone()[0]
            before = dict(con.execute(
                "SELECT topic_id, ring FROM signals WHERE run_id = ?", [prev]).fetchall()) if prev else {}
            for topic_id in self.topic_ids:
                spec = rings.get(topic_id)
                ring, score, extra = None, 0.2, {}
                if isinstance(spec, str):
                    ring, score = spec, _score(spec)
                elif isinstance(spec, tuple):
                    ring, score = spec[0], spec[1]
                    extra = spec[2] if len(spec) > 2 else {}
                row = signal_row(run_id, period, topic_id, ring, score, before.get(topic_id), extra)
                cols = ", ".join(row)
                con.execute(f"INSERT INTO signals ({cols}) VALUES ({', '.join('?' * len(row))})",
                            list(row.values()))
        return run_id


def _score(ring: str) -> float:
    return {"Act": 4.0, "Prepare": 3.0, "Watch": 2.0, "Monitor": 1.0}[ring]


def signal_row(run_id, period, topic_id, ring, score, previous_ring, extra) -> dict:
    """One `signals` row with plausible values for every column."""
    if ring is None and previous_ring is None:
        movement = "unchanged"
    elif previous_ring is None:
        movement = "new"
    elif ring is None:
        movement = "left"
    else:
        movement = "unchanged" if ring == previous_ring else "moved in"
    row = {
        "run_id": run_id, "period_start": period, "topic_id": topic_id, "score": score,
        "stage": "emerging" if ring in ("Act", "Prepare") else "weak signal", "ring": ring,
        "volume": 24, "share": 0.03, "growth": 1.5, "acceleration": 0.4, "burst": 1.0,
        "dov": 0.8, "dod": 0.9, "quadrant": "weak signal", "novelty": 0.7, "sources": 6,
        "effective_sources": 4.5, "news_share": 0.5, "policy_share": 0.25, "citizen_share": 0.25,
        "authors": 12, "top_author_share": 0.1, "narrow_voice": False, "show_quotes": True,
        "expectation_share": 0.1, "expectation_growth": 0.2, "expectation_gap": 0.0,
        "gap_risk": False, "previous_ring": previous_ring, "movement": movement,
        "reasons": f"{ring or 'off the radar'}: growing fast across channels",
    }
    row.update(extra)
    return row


# --- a real SMTP server ---------------------------------------------------------------


@dataclass
class Received:
    """One message the test server accepted."""

    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> email.message.EmailMessage:
        """The parsed message."""
        return email.message_from_bytes(self.data, policy=email.policy.default)

    def part(self, subtype: str) -> str:
        """The decoded text/plain or text/html body."""
        return self.message.get_body(preferencelist=(subtype,)).get_content()


@dataclass
class Handler:
    """aiosmtpd handler keeping every accepted message; can refuse or fail on demand."""

    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)  # recipient -> SMTP reply
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                          envelope.original_content or envelope.content))
        return f"250 OK queued as q{len(self.received)}"

    def to(self, address: str) -> list[Received]:
        """Messages for one recipient."""
        return [r for r in self.received if address in r.recipients]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpServer:
    """A real SMTP server on 127.0.0.1 that can be stopped and started on the same port."""

    def __init__(self, handler: Handler | None = None, **kwargs):
        self.handler = handler or Handler()
        self.port = free_port()
        self.kwargs = kwargs
        self.controller: Controller | None = None

    def start(self) -> SmtpServer:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port,
                                     **self.kwargs)
        deadline = time.monotonic() + 5
        while True:
            try:
                self.controller.start()
                return self
            except OSError:  # the port may linger for a moment after a stop
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def accept_user(user: str, password: str):
    """An aiosmtpd authenticator accepting one user and password."""

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login.decode() == user and auth_data.password.decode() == password
        return AuthResult(success=ok, handled=False)

    return authenticator


def age_digests(path: Path, by: timedelta) -> None:
    """Pretend every subscription's last message went out `by` earlier."""
    with warehouse.write(path) as con:
        con.execute("UPDATE subscriptions SET last_message_at = last_message_at - ?::INTERVAL "
                    "WHERE last_message_at IS NOT NULL", [f"{int(by.total_seconds())} seconds"])


def write_config(project, port: int, subs: list[dict], **smtp) -> None:
    """radar.toml with the test server, a dashboard URL and the given subscriptions."""
    lines = ["[dashboard]", f'base_url = "{BASE_URL}"', "", "[smtp]", 'host = "127.0.0.1"',
             f"port = {port}", 'sender = "radar@city.example"', "retry_backoff = 0"]
    lines += [f"{k} = {v!r}".replace("'", '"') for k, v in smtp.items()]
    for s in subs:
        lines += ["", "[[subscriptions]]"]
        for k, v in s.items():
            lines.append(f"{k} = {v!r}".replace("'", '"'))
    project.write_text("\n".join(lines) + "\n", encoding="utf-8")

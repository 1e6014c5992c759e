"""The outbox: every message is recorded before it is sent, and sent at most once.

States of an `alert_outbox` row:

    queued --claim--> sending --DATA accepted--> sent
      ^                  |  \\--refused (4xx), no connection--> queued (retry later, backoff)
      |                  |   \\-refused (5xx) or out of attempts--> failed
      |                  \\--connection broke during DATA--> unknown
      +-- recovery of a 'sending' row whose process is gone, if DATA never began

Exactly once. Each step is its own short write transaction, and none is open
during SMTP I/O. The order is:

1. claim: the due `queued` rows -> `sending`, stamped with this run
   (host:pid:nonce), attempts + 1, in one transaction. A concurrent run
   cannot claim them too.
2. per message: SMTP MAIL FROM and RCPT TO;
3. `data_started_at` is written: from here on the server may take the message;
4. SMTP DATA; the server answers 250 with its queue id;
5. `sent`, with the server's reply. To keep one write per message, this is
   written in the same transaction as the next message's step 3 (or alone
   after the last message, or when the next one fails before DATA).

A crash between 4 and 5 leaves a `sending` row with `data_started_at` set. The
next run cannot ask the server whether it took that Message-ID (SMTP has no
such command), so it never resends it: it settles the row as `unknown`
("may have been delivered") and says so. An operator who checked the mail
server's log can send it again with `radar alert --resend MESSAGE_ID`.
A `sending` row without `data_started_at` went no further than RCPT, so the
server cannot have it: it goes back to `queued`.

A `sending` row counts as abandoned when its process is known dead (same host,
pid gone, or this very pid in an earlier run) or its claim is older than
`[smtp] stale_after` seconds; a live concurrent run keeps its rows.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from radar.alerts.compose import Composed
from radar.alerts.triggers import Trigger
from radar.core import warehouse
from radar.core.config import SmtpConfig

STATES = ("queued", "sending", "sent", "failed", "unknown")
MAX_BACKOFF = 86_400.0
# Tokens of the delivery runs alive in this process (threads may run several).
_LIVE: set[str] = set()


class LostClaim(RuntimeError):
    """Another process settled or took this message: do not send it."""


@dataclass(frozen=True)
class Pending:
    """A message claimed for delivery."""

    message_id: str
    recipient: str
    raw: str
    attempts: int


@dataclass
class Recovered:
    """What recovery did with abandoned `sending` rows."""

    requeued: list[str]
    unknown: list[str]


def process_token() -> str:
    """host:pid:run-nonce identifying a delivery run; live until `end_run(token)`."""
    token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
    _LIVE.add(token)
    return token


def end_run(token: str) -> None:
    """The delivery run is over: rows it left in 'sending' are abandoned from now on."""
    _LIVE.discard(token)


def backoff_seconds(attempts: int, base: float, cap: float = MAX_BACKOFF) -> float:
    """Wait before the next try after `attempts` tries: base, 2*base, 4*base ... capped."""
    if attempts <= 0 or base <= 0:
        return 0.0
    return min(base * 2 ** (attempts - 1), cap)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def abandoned(claimed_by: str | None, claimed_at: datetime | None, now: datetime,
              stale_after: float, my_token: str, pid_alive=_pid_alive,
              live: set[str] | None = None) -> bool:
    """Whether a `sending` row's delivering run is gone (pure but for `pid_alive` and `live`)."""
    if claimed_at is None or (now - claimed_at).total_seconds() >= stale_after:
        return True
    host, _, rest = (claimed_by or "").partition(":")
    pid_text = rest.partition(":")[0]
    my_host, _, my_rest = my_token.partition(":")
    my_pid = my_rest.partition(":")[0]
    if host != my_host or not pid_text.isdigit():
        return False  # another machine: only the clock can tell
    if pid_text == my_pid:
        # This process: a run still going (another thread) or one that broke off.
        return claimed_by not in (_LIVE if live is None else live)
    return not pid_alive(int(pid_text))


def enqueue(con, messages: list[tuple[Composed, int, list[Trigger]]], run_id: int | None,
            period_start, now: datetime) -> None:
    """Record messages (composed, subscription_id, triggers) and their alert log rows.

    Runs inside the caller's transaction; two batch inserts through Arrow.
    """
    if not messages:
        return
    box = pa.table({
        "message_id": [c.message_id for c, _, _ in messages],
        "subscription_id": pa.array([s for _, s, _ in messages], pa.int64()),
        "recipient": [c.recipient for c, _, _ in messages],
        "subject": [c.subject for c, _, _ in messages],
        "kind": [c.kind for c, _, _ in messages],
        "topic_ids": pa.array([c.topic_ids for c, _, _ in messages], pa.list_(pa.int32())),
        "message": [c.raw for c, _, _ in messages],
    })
    con.register("alert_box", box)
    con.execute(
        "INSERT INTO alert_outbox (message_id, subscription_id, recipient, subject, kind, run_id, "
        "topic_ids, message, state, attempts, created_at, next_attempt_at) "
        "SELECT message_id, subscription_id, recipient, subject, kind, ?, topic_ids, message, "
        "'queued', 0, ?, ? FROM alert_box", [run_id, now, now])
    con.unregister("alert_box")
    rows = [(c.message_id, s, c.recipient, t) for c, s, ts in messages for t in ts]
    log = pa.table({
        "message_id": [r[0] for r in rows],
        "subscription_id": pa.array([r[1] for r in rows], pa.int64()),
        "email": [r[2] for r in rows],
        "topic_id": pa.array([r[3].topic_id for r in rows], pa.int32()),
        "ring": [r[3].ring for r in rows],
        "previous_ring": pa.array([r[3].previous_ring for r in rows], pa.string()),
        "score": pa.array([r[3].score for r in rows], pa.float64()),
        "event": [r[3].event for r in rows],
    })
    con.register("alert_log_rows", log)
    con.execute(
        "INSERT INTO alert_log (message_id, subscription_id, email, topic_id, run_id, period_start, "
        "ring, previous_ring, score, event, logged_at) SELECT message_id, subscription_id, email, "
        "topic_id, ?, ?, ring, previous_ring, score, event, ? FROM alert_log_rows",
        [run_id, period_start, now])
    con.unregister("alert_log_rows")


def recover(path: Path, now: datetime, stale_after: float, token: str) -> Recovered:
    """Settle `sending` rows left by processes that are gone (see the module docstring)."""
    out = Recovered([], [])
    with warehouse.read(path) as con:  # the usual case, nothing to settle, needs no write lock
        if not con.execute("SELECT count(*) FROM alert_outbox WHERE state = 'sending'").fetchone()[0]:
            return out
    with warehouse.write(path) as con:
        rows = con.execute(
            "SELECT message_id, claimed_by, claimed_at, data_started_at FROM alert_outbox "
            "WHERE state = 'sending'"
        ).fetchall()
        for message_id, claimed_by, claimed_at, data_started in rows:
            if not abandoned(claimed_by, claimed_at, now, stale_after, token):
                continue
            if data_started is None:
                con.execute(
                    "UPDATE alert_outbox SET state = 'queued', claimed_by = NULL, claimed_at = NULL, "
                    "last_error = 'delivery interrupted before the message was handed over; "
                    "requeued' WHERE message_id = ?", [message_id])
                out.requeued.append(message_id)
            else:
                con.execute(
                    "UPDATE alert_outbox SET state = 'unknown', last_error = ? WHERE message_id = ?",
                    [f"delivery interrupted after the message was handed to the server at "
                     f"{data_started:%Y-%m-%d %H:%M:%S} UTC; it may have been delivered, so it is "
                     f"not sent again automatically (check the mail log for {message_id}; "
                     f"`radar alert --resend` sends it again)", message_id])
                out.unknown.append(message_id)
    return out


def due(path: Path, now: datetime) -> list[str]:
    """Message ids waiting to be sent now, oldest first."""
    with warehouse.read(path) as con:
        return [r[0] for r in con.execute(
            "SELECT message_id FROM alert_outbox WHERE state = 'queued' AND next_attempt_at <= ? "
            "ORDER BY created_at, message_id", [now]).fetchall()]


def claim(path: Path, message_ids: list[str], token: str, now: datetime) -> list[Pending]:
    """Take queued messages for delivery (one attempt each), in the order given.

    Messages another run took meanwhile are left out.
    """
    if not message_ids:
        return []
    with warehouse.write(path) as con:
        rows = warehouse.update_returning(
            con, "alert_outbox", "message_id",
            "state = 'sending', claimed_by = $token, claimed_at = $now, "
            "data_started_at = NULL, attempts = attempts + 1",
            "message_id IN (SELECT unnest($ids::VARCHAR[])) AND state = 'queued'",
            "message_id, recipient, message, attempts",
            {"token": token, "now": now, "ids": message_ids})
    got = {r[0]: Pending(*r) for r in rows}
    return [got[m] for m in message_ids if m in got]


def mark_data_started(path: Path, message_id: str, token: str, now: datetime,
                      sent: tuple[str, str] | None = None) -> None:
    """Record that DATA is about to begin; raises LostClaim if the row is no longer ours.

    `sent` (message_id, server reply) marks the previous message of the session
    sent in the same transaction: one write per message instead of two.
    """
    with warehouse.write(path) as con:
        if sent is not None:
            _set_sent(con, sent[0], sent[1], now)
        row = warehouse.update_returning(
            con, "alert_outbox", "message_id", "data_started_at = $now",
            "message_id = $id AND state = 'sending' AND claimed_by = $token", "message_id",
            {"now": now, "id": message_id, "token": token})
    if not row:
        raise LostClaim(f"{message_id} is no longer claimed by this run")


def mark_sent(path: Path, message_id: str, response: str, now: datetime) -> None:
    """The server accepted the message."""
    with warehouse.write(path) as con:
        _set_sent(con, message_id, response, now)


def _set_sent(con, message_id: str, response: str, now: datetime) -> None:
    con.execute(
        "UPDATE alert_outbox SET state = 'sent', sent_at = ?, smtp_response = ?, "
        "last_error = NULL WHERE message_id = ?", [now, response, message_id])


def mark_unknown(path: Path, message_id: str, error: str) -> None:
    """The outcome cannot be known: never resent automatically."""
    with warehouse.write(path) as con:
        con.execute("UPDATE alert_outbox SET state = 'unknown', last_error = ? "
                    "WHERE message_id = ? AND state = 'sending'", [error, message_id])


def mark_retry(path: Path, message_ids: list[str], error: str, now: datetime, smtp: SmtpConfig,
               permanent: bool = False, token: str | None = None) -> tuple[list[str], list[str]]:
    """Put messages back in the queue with backoff, or fail them; returns (requeued, failed).

    With `token`, the messages are ones this run claimed (their attempt is
    counted already); without, queued messages that could not be tried: an
    attempt is added. Rows in any other state (sent, or taken by a concurrent
    run meanwhile) are left alone. The wait is `backoff_seconds`, in SQL.
    """
    if not message_ids:
        return [], []
    mine = "state = 'sending' AND claimed_by = $token" if token else "state = 'queued'"
    give_up = "($permanent OR attempts + $inc >= $max_attempts)"
    rows = []
    with warehouse.write(path) as con:
        params = ({"token": token, "permanent": permanent, "inc": 0 if token else 1,
                   "max_attempts": smtp.max_attempts, "base": float(smtp.retry_backoff),
                   "cap": MAX_BACKOFF, "now": now, "error": error, "ids": message_ids}
                  if token else
                  {"permanent": permanent, "inc": 1, "max_attempts": smtp.max_attempts,
                   "base": float(smtp.retry_backoff), "cap": MAX_BACKOFF, "now": now, "error": error,
                   "ids": message_ids})
        rows = warehouse.update_returning(
            con, "alert_outbox", "message_id",
            f"state = CASE WHEN {give_up} THEN 'failed' ELSE 'queued' END, "
            f"next_attempt_at = CASE WHEN {give_up} OR $base <= 0 THEN $now ELSE $now + "
            f"to_microseconds(CAST(least($base * pow(2, attempts + $inc - 1), $cap) * 1e6 "
            f"AS BIGINT)) END, "
            f"attempts = attempts + $inc, last_error = $error, claimed_by = NULL, "
            f"claimed_at = NULL, data_started_at = NULL",
            f"message_id IN (SELECT unnest($ids::VARCHAR[])) AND {mine}", "message_id, state", params)
    state = dict(rows)
    return ([m for m in message_ids if state.get(m) == "queued"],
            [m for m in message_ids if state.get(m) == "failed"])


def resend(path: Path, message_id: str, now: datetime) -> str:
    """Operator action: queue a failed or unknown message again; returns its old state."""
    with warehouse.write(path) as con:
        row = con.execute("SELECT state FROM alert_outbox WHERE message_id = ?",
                          [message_id]).fetchone()
        if row is None:
            raise KeyError(f"no message {message_id} in the outbox")
        if row[0] not in ("failed", "unknown"):
            raise ValueError(f"{message_id} is {row[0]}; only failed or unknown messages are resent")
        con.execute(
            "UPDATE alert_outbox SET state = 'queued', next_attempt_at = ?, claimed_by = NULL, "
            "claimed_at = NULL, data_started_at = NULL WHERE message_id = ?", [now, message_id])
    return row[0]


def counts(path: Path) -> dict[str, int]:
    """Messages per state."""
    with warehouse.read(path) as con:
        rows = con.execute("SELECT state, count(*) FROM alert_outbox GROUP BY state").fetchall()
    return {state: dict(rows).get(state, 0) for state in STATES}


def recent(path: Path, limit: int = 20) -> list[tuple]:
    """The newest messages: created_at, recipient, subject, state, attempts, last_error, id."""
    with warehouse.read(path) as con:
        return con.execute(
            "SELECT created_at, recipient, subject, state, attempts, last_error, message_id "
            "FROM alert_outbox ORDER BY created_at DESC, message_id LIMIT ?", [limit]).fetchall()
